"""Compatibility module: the dataset splits now live in :mod:`course_lib.data.splits`.

``course_lib.splits`` re-exports its public names so that existing imports keep working; new code
imports from :mod:`course_lib.data.splits`.
"""

from __future__ import annotations

from .data.splits import *  # noqa: F403 - the whole public interface, as before
from .data.splits import __all__  # noqa: F401
