"""Compatibility module: chapter 6's experiments now live in the chapter layer and the library.

``course_lib.experiments`` re-exports the names it used to define, so existing imports keep working:

* the experiments — :mod:`course_lib.chapters.ch06_pitfalls` (``run_overfitting``,
  ``run_imbalance``, ``run_leakage``, ``run_statistics_leak``, ``seed_standardize``);
* the chapter's settings, demo runs and number formatting — :mod:`course_lib.chapters.ch06_demos`;
* its recipe, model and measuring tools — :mod:`course_lib.chapters.ch06_tools`
  (``EXPERIMENT_RECIPE``, ``experiment_model``, ``RunResult``, ``predict_labels``,
  ``classification_scores``, ``AugmentedViews``, ``augmented_views``);
* band statistics — :mod:`course_lib.features`; ``make_imbalanced_indices`` and
  ``group_overlap`` — :mod:`course_lib.data.splits`.

New code imports from those modules.
"""

from __future__ import annotations

from .chapters.ch06_demos import (
    MINORITY_CLASSES,
    PitfallPool,
    code_without_docstring,
    imbalance_demo,
    leakage_demo,
    leakage_layout_config,
    make_pitfall_pool,
    overfitting_demo,
    percent,
    sampling_error,
    statistics_demo,
)
from .chapters.ch06_pitfalls import run_imbalance, run_leakage, run_overfitting, run_statistics_leak, seed_standardize
from .chapters.ch06_tools import (
    EXPERIMENT_RECIPE,
    SMALL_CHANNELS,
    AugmentedViews,
    RunResult,
    augmented_views,
    classification_scores,
    experiment_model,
    predict_labels,
)
from .data.splits import group_overlap, make_imbalanced_indices
from .features import apply_band_statistics, band_statistics

__all__ = [
    "EXPERIMENT_RECIPE",
    "SMALL_CHANNELS",
    "experiment_model",
    "predict_labels",
    "classification_scores",
    "AugmentedViews",
    "augmented_views",
    "RunResult",
    "run_overfitting",
    "make_imbalanced_indices",
    "run_imbalance",
    "run_leakage",
    "group_overlap",
    "seed_standardize",
    "band_statistics",
    "apply_band_statistics",
    "run_statistics_leak",
    "PitfallPool",
    "make_pitfall_pool",
    "MINORITY_CLASSES",
    "overfitting_demo",
    "imbalance_demo",
    "leakage_layout_config",
    "leakage_demo",
    "statistics_demo",
    "percent",
    "sampling_error",
    "code_without_docstring",
]
