"""Compatibility module: the ESC-50 case study of chapter 7 now lives in the chapter layer.

``course_lib.case_study`` re-exports the names it used to define, so existing imports keep working:
the cross-validation protocol, its settings and the published references are in
:mod:`course_lib.chapters.ch07_case_study`; the transfer recipe on the same folds is in
:mod:`course_lib.chapters.ch07_transfer`. New code imports from those modules.
"""

from __future__ import annotations

from .chapters.ch07_case_study import (
    FAST,
    FULL,
    PUBLISHED_RESULTS,
    SYNTHETIC_FOLDER,
    CaseStudyConfig,
    CrossValidationResult,
    Esc50Features,
    Esc50Source,
    FoldResult,
    PublishedResult,
    attention_maps,
    cross_validate,
    load_esc50_features,
    locate_esc50,
)
from .chapters.ch07_transfer import Esc50Embeddings, cross_validate_transfer, load_esc50_embeddings

__all__ = [
    "Esc50Source",
    "locate_esc50",
    "SYNTHETIC_FOLDER",
    "Esc50Features",
    "load_esc50_features",
    "CaseStudyConfig",
    "FAST",
    "FULL",
    "FoldResult",
    "CrossValidationResult",
    "cross_validate",
    "attention_maps",
    "Esc50Embeddings",
    "load_esc50_embeddings",
    "cross_validate_transfer",
    "PublishedResult",
    "PUBLISHED_RESULTS",
]
