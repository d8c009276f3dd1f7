"""Predictions with probabilities, and the time a model takes per clip.

Part of :mod:`course_lib.evaluation` (introduced in chapter 2; :func:`inference_time_per_clip` in
chapter 4). :func:`predict` runs a model in eval mode over a labelled or unlabelled set and keeps
the probabilities, so the metrics (:mod:`course_lib.evaluation.metrics`) and the mistakes
(:mod:`course_lib.evaluation.mistakes`) are computed from one pass.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

from ..runtime import module_device, select_device

__all__ = ["Predictions", "predict", "inference_time_per_clip"]


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
    device = module_device(model) if device is None else select_device(device)
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
    device = module_device(model)
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
