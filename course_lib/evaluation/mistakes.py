"""The mistakes a model makes: the most frequent confusions, and its most confident errors.

Part of :mod:`course_lib.evaluation` (introduced in chapter 2; chapter 7 listens to the mistakes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .._checks import check_int
from .predictions import Predictions

__all__ = ["top_confusions", "describe_confusions", "Mistake", "confident_mistakes"]


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
    if k is not None:
        check_int(k, "k", minimum=1, owner="top_confusions", fix="pass a whole number >= 1, or None for every cell")
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
    if k is not None:
        check_int(k, "k", minimum=1, owner="confident_mistakes", fix="pass a whole number >= 1, or None for every pair")
    best: dict[tuple[int, int], Mistake] = {}
    for i in np.flatnonzero(predictions.labels != predictions.predictions).tolist():
        m = Mistake(index=i, true=int(predictions.labels[i]), predicted=int(predictions.predictions[i]),
                    confidence=float(predictions.probabilities[i, predictions.predictions[i]]))
        kept = best.get((m.true, m.predicted))
        if kept is None or m.confidence > kept.confidence:  # equal confidence: the lower index stays
            best[(m.true, m.predicted)] = m
    ordered = sorted(best.values(), key=lambda m: (-m.confidence, m.index))
    return ordered[:k]
