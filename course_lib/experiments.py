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

from .chapters import ch06_demos, ch06_pitfalls, ch06_tools
from .chapters.ch06_demos import *  # noqa: F403 - the whole public interface, as before
from .chapters.ch06_pitfalls import *  # noqa: F403
from .chapters.ch06_tools import *  # noqa: F403
from .data.splits import group_overlap, make_imbalanced_indices
from .features import apply_band_statistics, band_statistics

__all__ = [
    *ch06_tools.__all__,
    *ch06_pitfalls.__all__,
    *ch06_demos.__all__,
    "make_imbalanced_indices",
    "group_overlap",
    "band_statistics",
    "apply_band_statistics",
]
