"""Evaluation: predictions with probabilities, metrics from scikit-learn, a per-class report.

Introduced in chapter 2 (``book/chapters/ch02_first_cnn.ipynb``); chapter 6 shows why plain
accuracy misleads on imbalanced data and why the macro averages are the ones to watch.

The seed chapter reported only *weighted* precision, recall and F1: averages weighted by class
frequency, which let a frequent class hide a minority class that is never recognised.
:func:`classification_metrics` reports accuracy, **balanced accuracy**, **macro** and weighted
averages, and every class on its own.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

from .runtime import select_device

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


@dataclass
class Predictions:
    """A model's outputs on a set of clips (NumPy arrays, on the CPU).

    Attributes:
        labels: ``(N,)`` true classes (``None`` when the data had no labels).
        predictions: ``(N,)`` predicted classes (``argmax`` of the probabilities).
        probabilities: ``(N, n_classes)`` softmax probabilities; each row sums to 1.
    """

    labels: np.ndarray | None
    predictions: np.ndarray
    probabilities: np.ndarray

    def __len__(self) -> int:
        return len(self.predictions)

    @property
    def confidence(self) -> np.ndarray:
        """``(N,)`` probability of the predicted class."""
        return self.probabilities.max(axis=1)


def _loader(data: Any, batch_size: int) -> DataLoader:
    if isinstance(data, DataLoader):
        return data
    if isinstance(data, torch.Tensor):
        data = TensorDataset(data)
    elif isinstance(data, tuple) and len(data) == 2 and all(isinstance(d, torch.Tensor) for d in data):
        data = TensorDataset(data[0], torch.as_tensor(data[1]))
    if not isinstance(data, Dataset):
        raise TypeError(
            f"expected a Dataset, a DataLoader, a features tensor or a (features, labels) pair, got {type(data).__name__}."
        )
    if len(data) == 0:  # type: ignore[arg-type]
        raise ValueError("nothing to evaluate: the dataset is empty.")
    return DataLoader(data, batch_size=batch_size, shuffle=False)


def _model_device(model: nn.Module) -> torch.device:
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


@torch.no_grad()
def predict(
    model: nn.Module,
    data: Dataset | DataLoader | torch.Tensor | tuple[torch.Tensor, torch.Tensor],
    *,
    batch_size: int = 64,
    device: str | torch.device | None = None,
) -> Predictions:
    """Run ``model`` in eval mode over ``data`` and collect labels, predictions and probabilities.

    Args:
        model: returns logits ``(batch, n_classes)`` from ``forward(x)``.
        data: a dataset of ``(input, label)`` pairs, a loader over one, a tensor of inputs
            ``(N, 1, n_mels, frames)``, or an ``(inputs, labels)`` pair.
        batch_size: when a loader has to be made.
        device: where to run (default: where the model is). The model stays there afterwards.

    Returns:
        :class:`Predictions`. The model's train/eval mode is restored afterwards.

    Introduced in chapter 2.
    """
    loader = _loader(data, batch_size)
    device = _model_device(model) if device is None else select_device(device)
    model.to(device)
    was_training = model.training
    model.eval()
    labels, probabilities = [], []
    has_labels = True
    try:
        for batch in loader:
            inputs = batch[0] if isinstance(batch, (list, tuple)) else batch
            if isinstance(batch, (list, tuple)) and len(batch) > 1:
                labels.append(torch.as_tensor(batch[1]).cpu())
            else:
                has_labels = False
            logits = model(inputs.to(device))
            if not isinstance(logits, torch.Tensor):
                raise TypeError(
                    f"{type(model).__name__}.forward returned {type(logits).__name__}; predict needs logits "
                    "(batch, n_classes). Attention models return attention only with return_attention=True."
                )
            probabilities.append(torch.softmax(logits.float(), dim=1).cpu())
    finally:
        model.train(was_training)
    probs = torch.cat(probabilities).numpy()
    return Predictions(
        labels=torch.cat(labels).numpy().astype(np.int64) if has_labels and labels else None,
        predictions=probs.argmax(axis=1).astype(np.int64),
        probabilities=probs,
    )


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


@torch.no_grad()
def inference_time_per_clip(
    model: nn.Module, inputs: torch.Tensor, *, batch_size: int = 1, repeats: int = 3, warmup: int = 1
) -> float:
    """Median wall-clock seconds to classify one clip, feeding ``inputs`` in batches of ``batch_size``.

    Args:
        model: the classifier (run in eval mode, where it is).
        inputs: ``(N, 1, n_mels, frames)`` features.
        batch_size: clips per forward pass (1 measures the latency of one clip at a time).
        repeats: timed passes over ``inputs``; the median is reported.
        warmup: untimed passes first (the first call allocates memory and picks kernels).

    Returns:
        Seconds per clip. Timings depend on the machine and on its load: compare models measured
        in the same run, not across machines.

    Introduced in chapter 4.
    """
    if not isinstance(inputs, torch.Tensor) or inputs.ndim != 4 or inputs.shape[0] == 0:
        raise ValueError(f"inputs must be a non-empty (N, 1, n_mels, frames) tensor, got {getattr(inputs, 'shape', type(inputs))}.")
    if repeats < 1 or batch_size < 1:
        raise ValueError("repeats and batch_size must be >= 1.")
    device = _model_device(model)
    was_training = model.training
    model.eval()
    inputs = inputs.to(device)
    times = []
    try:
        for i in range(warmup + repeats):
            start = time.perf_counter()
            for s in range(0, inputs.shape[0], batch_size):
                model(inputs[s : s + batch_size])
            if device.type == "cuda":
                torch.cuda.synchronize()
            if i >= warmup:
                times.append((time.perf_counter() - start) / inputs.shape[0])
    finally:
        model.train(was_training)
    return float(np.median(times))


def top_confusions(matrix, class_names: Sequence[str], *, k: int | None = None) -> list[tuple[str, str, int]]:
    """The off-diagonal cells of a confusion matrix, largest first.

    Args:
        matrix: ``(n_classes, n_classes)`` counts, rows are true classes, columns predictions.
        class_names: one name per class.
        k: keep the ``k`` largest (``None``: all non-zero cells).

    Returns:
        ``[(true class, predicted class, count), ...]`` for the non-zero off-diagonal cells, sorted
        by count (largest first), then by true and predicted class index.

    Introduced in chapter 2, where the prose under the confusion matrix is generated from it.
    """
    counts = np.asarray(matrix)
    n = len(class_names)
    if counts.ndim != 2 or counts.shape != (n, n):
        raise ValueError(f"top_confusions: matrix of shape {counts.shape} does not match {n} class names.")
    if (counts < 0).any():
        raise ValueError("top_confusions: a confusion matrix holds counts, but this one has negative values.")
    if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
        raise ValueError(f"k must be a positive integer or None, got {k!r}.")
    cells = [(int(counts[i, j]), i, j) for i in range(n) for j in range(n) if i != j and counts[i, j] > 0]
    cells.sort(key=lambda c: (-c[0], c[1], c[2]))
    return [(str(class_names[i]), str(class_names[j]), c) for c, i, j in cells[:k]]


def describe_confusions(matrix, class_names: Sequence[str], *, k: int = 3, unit: str = "clip") -> str:
    """One sentence naming the largest confusions of a matrix, for a page's prose.

    >>> describe_confusions([[3, 1], [0, 4]], ["dog", "cat"])
    'dog taken for cat (1 clip)'

    Returns:
        ``"a taken for b (2 clips), c taken for d (1 clip)"`` for the ``k`` largest off-diagonal
        cells (ties broken by class order), with ``"; N more clips in M other cells"`` when others remain,
        or ``"no confusion: every clip was classified correctly"``.
    """
    cells = top_confusions(matrix, class_names)
    if not cells:
        return f"no confusion: every {unit} was classified correctly"

    def count(n: int) -> str:
        return f"{n} {unit}{'' if n == 1 else 's'}"

    shown = cells[:k]
    text = ", ".join(f"{true} taken for {pred} ({count(n)})" for true, pred, n in shown)
    rest = sum(n for _, _, n in cells[k:])
    if rest:
        text += f"; {rest} more {unit}{'' if rest == 1 else 's'} in {len(cells) - k} other cell{'' if len(cells) - k == 1 else 's'}"
    return text


@dataclass(frozen=True)
class Mistake:
    """One misclassified clip (see :func:`confident_mistakes`).

    Attributes:
        index: position of the clip in the evaluated set (the order of ``Predictions``).
        true: its true class index.
        predicted: the class the model gave it.
        confidence: the probability the model gave ``predicted`` (0–1).
    """

    index: int
    true: int
    predicted: int
    confidence: float


def confident_mistakes(predictions: Predictions, *, k: int | None = None) -> list[Mistake]:
    """The misclassified clips worth listening to: the most confident mistake of each confused pair.

    For every (true class, predicted class) pair that occurs among the mistakes, the clip the model
    was surest about is kept; pairs are then ordered by that confidence, highest first (ties: by the
    clip's index), so the list is deterministic and no pair appears twice.

    Args:
        predictions: from :func:`predict` or ``evaluate(...).predictions``, with labels.
        k: keep the first ``k`` (``None``: one per confused pair).

    Returns:
        A list of :class:`Mistake`, empty when every clip is right.

    Introduced in chapter 2, where the mistakes are heard (``course_lib.plots.mistakes_grid``).
    """
    if not isinstance(predictions, Predictions):
        raise TypeError(f"confident_mistakes expects Predictions (from predict or evaluate), got {type(predictions).__name__}.")
    if predictions.labels is None:
        raise ValueError("confident_mistakes needs labelled predictions: predict on (input, label) pairs.")
    if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
        raise ValueError(f"k must be a positive integer or None, got {k!r}.")
    best: dict[tuple[int, int], Mistake] = {}
    for i in np.flatnonzero(predictions.labels != predictions.predictions).tolist():
        m = Mistake(index=i, true=int(predictions.labels[i]), predicted=int(predictions.predictions[i]),
                    confidence=float(predictions.probabilities[i, predictions.predictions[i]]))
        kept = best.get((m.true, m.predicted))
        if kept is None or m.confidence > kept.confidence:  # equal confidence: the lower index stays
            best[(m.true, m.predicted)] = m
    ordered = sorted(best.values(), key=lambda m: (-m.confidence, m.index))
    return ordered[:k]
