"""Compatibility module: seeded synthetic sound events now live in :mod:`course_lib.data.synthetic`.

``course_lib.synthetic`` re-exports its public names so that existing imports keep working; new code
imports from :mod:`course_lib.data.synthetic`.
"""

from __future__ import annotations

from .data.synthetic import *  # noqa: F403 - the whole public interface, as before
from .data.synthetic import __all__  # noqa: F401
