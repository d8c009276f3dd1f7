"""Metrics from scikit-learn: accuracy, balanced accuracy, macro and weighted averages, every class.

Part of :mod:`course_lib.evaluation` (introduced in chapter 2); :func:`evaluate` predicts on a
labelled set (:func:`course_lib.evaluation.predictions.predict`) and computes them.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from .predictions import Predictions, predict

__all__ = ["classification_metrics", "per_class_report", "confusion", "EvaluationResult", "evaluate"]


def _check_pair(y_true: Sequence[int], y_pred: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true).astype(np.int64).ravel()
    y_pred = np.asarray(y_pred).astype(np.int64).ravel()
    if y_true.shape != y_pred.shape or y_true.size == 0:
        raise ValueError(f"y_true and y_pred must be non-empty and of equal length, got {y_true.size} and {y_pred.size}.")
    return y_true, y_pred


def _names(n_classes: int | None, class_names: Sequence[str] | None, y_true: np.ndarray, y_pred: np.ndarray) -> list[str]:
    if class_names is not None:
        names = [str(c) for c in class_names]
    else:
        n = n_classes if n_classes is not None else int(max(y_true.max(), y_pred.max())) + 1
        names = [str(i) for i in range(n)]
    top = int(max(y_true.max(), y_pred.max()))
    if top >= len(names) or min(y_true.min(), y_pred.min()) < 0:
        raise ValueError(f"labels must lie in [0, {len(names) - 1}] for {len(names)} classes; found {top}.")
    return names


def confusion(
    y_true: Sequence[int], y_pred: Sequence[int], n_classes: int, *, normalize: str | None = None
) -> np.ndarray:
    """Confusion matrix ``(n_classes, n_classes)``: row = true class, column = predicted class.

    ``normalize="true"`` divides each row by its count (rows sum to 1: the diagonal is per-class
    recall); ``None`` gives counts. Every class has a row, even one absent from ``y_true``.
    """
    from sklearn.metrics import confusion_matrix

    y_true, y_pred = _check_pair(y_true, y_pred)
    if normalize not in (None, "true", "pred", "all"):
        raise ValueError(f"normalize must be None, 'true', 'pred' or 'all', got {normalize!r}.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        matrix = confusion_matrix(y_true, y_pred, labels=np.arange(n_classes), normalize=normalize)
    return np.nan_to_num(matrix)


def classification_metrics(
    y_true: Sequence[int],
    y_pred: Sequence[int],
    *,
    n_classes: int | None = None,
    class_names: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Accuracy, balanced accuracy, macro and weighted precision / recall / F1, per-class scores.

    Averages are taken over the classes that occur in ``y_true`` or ``y_pred`` (a class that is
    neither in the test set nor ever predicted has no precision or recall to average).

    * **macro**: every class counts the same — a class the model never gets right pulls it down;
    * **weighted**: classes weighted by their support — dominated by the frequent classes;
    * **balanced accuracy**: the mean of per-class recall (the macro recall).

    Returns:
        A JSON-ready dict: ``accuracy``, ``balanced_accuracy``, ``macro_precision``,
        ``macro_recall``, ``macro_f1``, ``weighted_precision``, ``weighted_recall``, ``weighted_f1``,
        ``n_examples``, ``per_class`` (``{name: {precision, recall, f1, support}}``) and
        ``confusion_matrix`` (counts, a list of rows).

    Introduced in chapter 2.
    """
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, precision_recall_fscore_support

    y_true, y_pred = _check_pair(y_true, y_pred)
    names = _names(n_classes, class_names, y_true, y_pred)
    present = np.union1d(y_true, y_pred)
    result: dict[str, Any] = {"n_examples": int(y_true.size), "accuracy": float(accuracy_score(y_true, y_pred))}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "y_pred contains classes not in y_true"
        result["balanced_accuracy"] = float(balanced_accuracy_score(y_true, y_pred))
    for average in ("macro", "weighted"):
        p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, labels=present, average=average, zero_division=0)
        result[f"{average}_precision"], result[f"{average}_recall"], result[f"{average}_f1"] = float(p), float(r), float(f)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=np.arange(len(names)), average=None, zero_division=0)
    result["per_class"] = {
        name: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
        for i, name in enumerate(names)
    }
    result["confusion_matrix"] = confusion(y_true, y_pred, len(names)).astype(int).tolist()
    return result


def per_class_report(
    y_true: Sequence[int], y_pred: Sequence[int], class_names: Sequence[str], *, digits: int = 3
) -> str:
    """scikit-learn's text ``classification_report``: precision, recall, F1 and support per class,
    then the macro and weighted averages. Introduced in chapter 2."""
    from sklearn.metrics import classification_report

    y_true, y_pred = _check_pair(y_true, y_pred)
    names = _names(None, class_names, y_true, y_pred)
    return classification_report(
        y_true, y_pred, labels=np.arange(len(names)), target_names=names, digits=digits, zero_division=0
    )


@dataclass
class EvaluationResult:
    """Metrics and predictions of one model on one labelled set (see :func:`evaluate`)."""

    metrics: dict[str, Any]
    predictions: Predictions
    class_names: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.metrics["accuracy"]

    @property
    def macro_f1(self) -> float:
        return self.metrics["macro_f1"]

    @property
    def confusion_matrix(self) -> np.ndarray:
        return np.asarray(self.metrics["confusion_matrix"])

    def report(self) -> str:
        """The per-class text report."""
        return per_class_report(self.predictions.labels, self.predictions.predictions, self.class_names)


def evaluate(
    model: nn.Module,
    data: Dataset | DataLoader | tuple[torch.Tensor, torch.Tensor],
    class_names: Sequence[str],
    *,
    batch_size: int = 64,
    device: str | torch.device | None = None,
) -> EvaluationResult:
    """Predict on a labelled set and compute :func:`classification_metrics`. Introduced in chapter 2."""
    predictions = predict(model, data, batch_size=batch_size, device=device)
    if predictions.labels is None:
        raise ValueError("evaluate needs labelled data ((input, label) pairs); use predict for unlabelled inputs.")
    metrics = classification_metrics(predictions.labels, predictions.predictions, class_names=class_names)
    return EvaluationResult(metrics=metrics, predictions=predictions, class_names=[str(c) for c in class_names])


