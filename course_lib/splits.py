"""Compatibility module: the dataset splits now live in :mod:`course_lib.data.splits`.

``course_lib.splits`` re-exports its public names so that existing imports keep working; new code
imports from :mod:`course_lib.data.splits`.
"""

from __future__ import annotations

from .data.splits import Split, esc50_cv_folds, grouped_split, stratified_grouped_split, stratified_split

__all__ = [
    "Split",
    "stratified_split",
    "grouped_split",
    "stratified_grouped_split",
    "esc50_cv_folds",
]
