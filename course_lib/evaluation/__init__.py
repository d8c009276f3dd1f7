"""Evaluation: predictions with probabilities, metrics from scikit-learn, a per-class report.

Introduced in chapter 2 (``book/chapters/ch02_first_cnn.ipynb``); chapter 6 shows why plain
accuracy misleads on imbalanced data and why the macro averages are the ones to watch.

The seed chapter reported only *weighted* precision, recall and F1: averages weighted by class
frequency, which let a frequent class hide a minority class that is never recognised.
:func:`classification_metrics` reports accuracy, **balanced accuracy**, **macro** and weighted
averages, and every class on its own.

One module per job: :mod:`~course_lib.evaluation.predictions` (:func:`predict`, the time per clip),
:mod:`~course_lib.evaluation.metrics` (:func:`classification_metrics`, :func:`evaluate`) and
:mod:`~course_lib.evaluation.mistakes` (the most frequent confusions, the most confident errors).
Every name is importable from ``course_lib.evaluation``.
"""

from __future__ import annotations

from .metrics import EvaluationResult, classification_metrics, confusion, evaluate, per_class_report
from .mistakes import Mistake, confident_mistakes, describe_confusions, top_confusions
from .predictions import Predictions, inference_time_per_clip, predict

__all__ = [
    "Predictions",
    "EvaluationResult",
    "predict",
    "classification_metrics",
    "per_class_report",
    "confusion",
    "evaluate",
    "inference_time_per_clip",
    "top_confusions",
    "describe_confusions",
    "Mistake",
    "confident_mistakes",
]

