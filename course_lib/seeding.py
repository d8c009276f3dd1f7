"""Reproducibility: one call that seeds every random number generator the course uses.

Introduced in chapter 1; every chapter starts with ``seed_everything(...)``.

The code now lives in :mod:`course_lib.runtime` (with the device choice and atomic file writing);
this module re-exports :func:`~course_lib.runtime.seed_everything` so that ``from course_lib.seeding
import seed_everything`` keeps working.
"""

from __future__ import annotations

from .runtime import seed_everything

__all__ = ["seed_everything"]
