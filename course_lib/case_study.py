"""Compatibility module: the ESC-50 case study of chapter 7 now lives in the chapter layer.

``course_lib.case_study`` re-exports the names it used to define, so existing imports keep working:
the cross-validation protocol, its settings and the published references are in
:mod:`course_lib.chapters.ch07_case_study`; the transfer recipe on the same folds is in
:mod:`course_lib.chapters.ch07_transfer`. New code imports from those modules.
"""

from __future__ import annotations

from .chapters import ch07_case_study, ch07_transfer
from .chapters.ch07_case_study import *  # noqa: F403 - the whole public interface, as before
from .chapters.ch07_transfer import *  # noqa: F403

__all__ = [*ch07_case_study.__all__, *ch07_transfer.__all__]
