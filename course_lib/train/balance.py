"""Class balance for imbalanced data: loss weights per class and a sampler that draws classes equally.

Part of :mod:`course_lib.train`; introduced in chapter 6 (``book/chapters/ch06_pitfalls.ipynb``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import WeightedRandomSampler

from .._checks import check_int

__all__ = ["compute_class_weights", "make_weighted_sampler"]


def _labels_tensor(labels: Sequence[int] | torch.Tensor | np.ndarray) -> torch.Tensor:
    labels = torch.as_tensor(np.asarray(labels) if not isinstance(labels, torch.Tensor) else labels)
    if labels.ndim != 1 or labels.numel() == 0 or labels.dtype.is_floating_point or labels.dtype == torch.bool:
        raise ValueError(f"labels must be a non-empty 1-D sequence of integer class indices, got shape {tuple(labels.shape)}, {labels.dtype}.")
    if int(labels.min()) < 0:
        raise ValueError(f"labels must be >= 0, got a minimum of {int(labels.min())}.")
    return labels.long()


def compute_class_weights(labels: Sequence[int] | torch.Tensor, n_classes: int | None = None) -> torch.Tensor:
    """Loss weights that balance the classes: ``n_examples / (n_classes * count[c])`` per class ``c``.

    Computed with scikit-learn's ``compute_class_weight("balanced")``. A rare class gets a large
    weight, a frequent one a small weight; with balanced classes every weight is 1.

    Args:
        labels: ``(N,)`` training labels.
        n_classes: number of classes (default ``max(labels) + 1``). Every class must occur.

    Returns:
        ``(n_classes,)`` float32 tensor, for ``nn.CrossEntropyLoss(weight=...)`` or ``TrainConfig.class_weights``.

    Introduced in chapter 6.
    """
    from sklearn.utils.class_weight import compute_class_weight

    labels = _labels_tensor(labels)
    n_classes = int(labels.max()) + 1 if n_classes is None else n_classes
    counts = torch.bincount(labels, minlength=n_classes)
    if len(counts) > n_classes:
        raise ValueError(f"labels go up to {int(labels.max())} but n_classes={n_classes}.")
    missing = (counts == 0).nonzero().flatten().tolist()
    if missing:
        raise ValueError(
            f"class(es) {missing} have no training examples, so no weight can balance them. "
            "Fix: check the split (every class needs examples in the training set) or drop the class."
        )
    weights = compute_class_weight("balanced", classes=np.arange(n_classes), y=labels.numpy())
    return torch.as_tensor(weights, dtype=torch.float32)


def make_weighted_sampler(
    labels: Sequence[int] | torch.Tensor,
    *,
    n_classes: int | None = None,
    num_samples: int | None = None,
    seed: int = 0,
) -> WeightedRandomSampler:
    """A sampler that draws every class equally often (with replacement): oversampling of rare classes.

    Each example's weight is its class's balanced weight (:func:`compute_class_weights`), so one
    epoch of ``num_samples`` draws (default: the dataset size) holds about as many examples of each
    class. Pass it to a loader with ``shuffle=False`` (e.g. ``make_loader(..., sampler=...)``) or to
    :func:`fit` as ``sampler=``.

    Introduced in chapter 6.
    """
    labels = _labels_tensor(labels)
    class_weights = compute_class_weights(labels, n_classes)
    sample_weights = class_weights[labels].double()
    num_samples = len(labels) if num_samples is None else num_samples
    check_int(num_samples, "num_samples", minimum=1)
    generator = torch.Generator().manual_seed(int(seed))
    return WeightedRandomSampler(sample_weights, num_samples=num_samples, replacement=True, generator=generator)
