"""Compatibility module: the dataset downloads now live in :mod:`course_lib.data.download`.

``course_lib.download`` re-exports its public names so that existing imports keep working; new code
imports from :mod:`course_lib.data.download`.
"""

from __future__ import annotations

from .data.download import *  # noqa: F403 - the whole public interface, as before
from .data.download import __all__  # noqa: F401
