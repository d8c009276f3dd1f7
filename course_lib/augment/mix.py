"""Mixup: mix every example of a batch with another, and their labels too (chapter 3)."""

from __future__ import annotations

import numpy as np
import torch

from .._checks import check_int
from ._validate import _check_positive_finite


def mixup(
    inputs: torch.Tensor,
    labels: torch.Tensor,
    n_classes: int,
    *,
    alpha: float = 0.4,
    lam: float | None = None,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mixup (Zhang et al., 2018): mix every example with another one of the batch, and its label too.

    Example ``i`` becomes ``lam_i * x_i + (1 - lam_i) * x_j`` and its target
    ``lam_i * y_i + (1 - lam_i) * y_j``, with ``lam_i ~ Beta(alpha, alpha)`` drawn per example and
    the partners ``j`` a random cycle through the batch (no example is paired with itself).
    Small ``alpha`` (0.2–0.4) keeps most mixes close to one of the two examples. Train on the
    soft targets with ``torch.nn.functional.cross_entropy(logits, targets)``, which accepts class
    probabilities. Works on waveforms (two sounds heard at once) or on features.

    Args:
        inputs: ``(batch, ...)`` float, e.g. ``(batch, channels, samples)`` or
            ``(batch, 1, n_mels, frames)``.
        labels: ``(batch,)`` class indices, or ``(batch, n_classes)`` class probabilities.
        n_classes: number of classes.
        alpha: the Beta distribution's parameter, > 0.
        lam: one fixed weight in [0, 1] for every example instead of the Beta draws (to hear
            or test one mix); the partners are still drawn.
        generator: random source (the Beta draws use a NumPy generator seeded from it).

    Returns:
        ``(mixed, targets)``: ``mixed`` the shape of ``inputs``; ``targets`` ``(batch, n_classes)``,
        every row summing to 1. Introduced in chapter 3.
    """
    if not isinstance(inputs, torch.Tensor) or not torch.is_floating_point(inputs):
        raise TypeError(f"mixup expects float inputs (batch, ...), got {type(inputs).__name__}.")
    if inputs.ndim < 2:
        raise ValueError(
            f"mixup expects inputs (batch, ...), got shape {tuple(inputs.shape)}. "
            "Fix: stack the examples along a first axis."
        )
    batch = inputs.shape[0]
    if batch < 2:
        raise ValueError(f"mixup needs a batch of at least 2 examples to mix, got {batch}.")
    check_int(n_classes, "n_classes", minimum=2)
    alpha = _check_positive_finite(alpha, "alpha", "use e.g. 0.2-0.4.")
    if lam is not None and not (isinstance(lam, (int, float)) and 0.0 <= lam <= 1.0):
        raise ValueError(f"lam must be a weight in [0, 1] or None (draw it), got {lam!r}.")
    if not isinstance(labels, torch.Tensor):
        raise TypeError(f"labels must be a tensor, got {type(labels).__name__}.")
    if labels.shape == (batch,) and not torch.is_floating_point(labels):
        if labels.min() < 0 or labels.max() >= n_classes:
            raise ValueError(
                f"labels must be class indices in [0, {n_classes}), got values from "
                f"{int(labels.min())} to {int(labels.max())}. Fix: pass the right n_classes."
            )
        targets = torch.nn.functional.one_hot(labels.long(), n_classes).to(inputs.dtype)
    elif labels.shape == (batch, n_classes) and torch.is_floating_point(labels):
        targets = labels.to(inputs.dtype)
    else:
        raise ValueError(
            f"labels must be ({batch},) class indices or ({batch}, {n_classes}) probabilities, "
            f"got {labels.dtype} of shape {tuple(labels.shape)}."
        )
    order = torch.randperm(batch, generator=generator)
    partner = torch.empty_like(order)
    partner[order] = order.roll(-1)  # order[k] is mixed with order[k + 1]: one cycle, no self-pairs
    seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    if lam is None:
        weights = torch.from_numpy(np.random.default_rng(seed).beta(alpha, alpha, size=batch))
    else:
        weights = torch.full((batch,), float(lam))
    lam = weights.to(device=inputs.device, dtype=inputs.dtype)
    partner = partner.to(inputs.device)
    lam_x = lam.view(batch, *([1] * (inputs.ndim - 1)))
    mixed = lam_x * inputs + (1 - lam_x) * inputs[partner]
    targets = targets.to(inputs.device)
    lam_y = lam.view(batch, 1)
    return mixed, lam_y * targets + (1 - lam_y) * targets[partner]
