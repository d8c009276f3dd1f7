"""Transfer learning, measured: cached encoder outputs, top-block fine-tuning and learning curves.

Introduced in chapter 5 (``book/chapters/ch05_pretrained_models.ipynb``); exercise 3 uses it too.
(:mod:`course_lib.transfer` holds the recipe the command line runs on audio files.)

Fine-tuning a pretrained CNN on a CPU is slow because every step runs the whole network. When only
the top block(s) learn, everything below them gives the same output in every epoch, so it is computed
**once** and kept:

* :func:`encode_clips` runs the aiSFX encoder (:mod:`course_lib.pretrained.aisfx`) over fixed-length
  clips once and returns their embeddings ``(N, 512)`` *and* the input of the top ``n_top`` blocks,
  cached on disk (keyed by the audio, its sample rate, the weights and ``n_top``);
* :class:`TopBlocksClassifier` is those top blocks (copied, with the pretrained weights), the
  encoder's pooling and a classification head: on the cached inputs it computes exactly what the
  whole encoder and the head compute on the waveforms, at a fraction of the cost;
* :func:`learning_curve` trains several methods on 1, 2, 4, ... training recordings per class over
  several seeds, on splits grouped by recording, and :func:`plot_learning_curve` draws the mean and
  the spread over seeds.

The clips and their encoding are in :mod:`course_lib.transfer_clips`; every name is importable from here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from . import transfer_clips
from ._checks import check_int
from .evaluation import classification_metrics, predict
from .train import TrainConfig, fit
from .transfer_clips import (  # noqa: F401 (re-exported)
    ClipTask,
    EncodedClips,
    TopBlocks,
    TopBlocksClassifier,
    encode_clips,
    real_or_synthetic_task,
)

__all__ = [
    *transfer_clips.__all__,
    "fit_and_score",
    "recordings_per_class",
    "learning_curve",
    "summarise_curve",
    "plot_learning_curve",
]


def fit_and_score(model: nn.Module, train_data: Dataset, test_inputs: torch.Tensor, test_labels: torch.Tensor,
                  config: TrainConfig, **fit_kwargs) -> float:
    """Train with :func:`course_lib.train.fit` (no validation set) and return the test accuracy in ``[0, 1]``."""
    fit(model, train_data, None, config, **fit_kwargs)
    result = predict(model, (test_inputs, test_labels))
    return float(classification_metrics(result.labels, result.predictions)["accuracy"])


def recordings_per_class(labels: torch.Tensor, groups: torch.Tensor, candidates: torch.Tensor, n: int | None,
                         seed: int) -> torch.Tensor:
    """Indices of every clip of ``n`` recordings per class, drawn (seeded) from the clips ``candidates``.

    A class with fewer than ``n`` recordings among the candidates keeps all of them; ``n=None`` keeps
    every candidate.

    Args:
        labels: ``(N,)`` class of each clip. groups: ``(N,)`` recording of each clip.
        candidates: indices the recordings are drawn from (the training part of a split).
        n: recordings per class (>= 1), or ``None`` for all.
        seed: seed of the draw.

    Returns:
        sorted ``int64`` indices into ``labels``.
    """
    candidates = torch.as_tensor(candidates, dtype=torch.long)
    if n is None:
        return candidates.sort().values
    check_int(n, "n", minimum=1, fix="pass a whole number >= 1, or None for all")
    rng = np.random.default_rng(seed)
    chosen: list[int] = []
    cand_labels, cand_groups = labels[candidates].tolist(), groups[candidates].tolist()
    for cls in sorted(set(cand_labels)):
        recs = sorted({g for g, y in zip(cand_groups, cand_labels) if y == cls})
        keep = {recs[i] for i in rng.permutation(len(recs))[:n].tolist()}
        chosen += [int(i) for i, g, y in zip(candidates.tolist(), cand_groups, cand_labels) if y == cls and g in keep]
    return torch.tensor(sorted(chosen), dtype=torch.long)


Method = Callable[[torch.Tensor, torch.Tensor, int], float]


def learning_curve(
    methods: Mapping[str, Method],
    labels: torch.Tensor,
    groups: torch.Tensor,
    *,
    sizes: Sequence[int | None] = (1, 2, 4, 8, None),
    seeds: Sequence[int] = (0, 1, 2),
    test_fraction: float = 0.3,
    only_sizes: Mapping[str, Sequence[int | None]] | None = None,
):
    """Accuracy of each method against the number of training recordings per class, over several seeds.

    For every seed: a split grouped by recording and stratified by class
    (:func:`course_lib.data.splits.stratified_grouped_split`, ``test_fraction`` of each class's recordings
    to test); for every size, :func:`recordings_per_class` draws the training recordings; every
    method is called as ``method(train_idx, test_idx, seed) -> accuracy`` on the same indices.

    Args:
        methods: name → callable.
        labels, groups: ``(N,)`` class and recording of each clip.
        sizes: training recordings per class; ``None`` means all of the split's training part.
        seeds: one split and one draw per seed (three or more to see a spread).
        test_fraction: share of each class's recordings in the test set.
        only_sizes: for some methods, the sizes to run (e.g. an expensive one on small sizes only).

    Returns:
        ``pandas.DataFrame`` with one row per (seed, size, method): ``seed``, ``size`` (``"all"`` for
        ``None``), ``n_train_recordings``, ``n_train_clips``, ``recordings_per_class`` (mean over the
        classes), ``method``, ``accuracy``, ``seconds``.
    """
    import pandas as pd

    from .data.splits import stratified_grouped_split

    if not methods:
        raise ValueError("learning_curve needs at least one method.")
    if len(seeds) < 1:
        raise ValueError("learning_curve needs at least one seed (three or more to show a spread).")
    only_sizes = dict(only_sizes or {})
    unknown = sorted(set(only_sizes) - set(methods))
    if unknown:
        raise ValueError(f"only_sizes names methods that are not in methods: {unknown}.")
    labels, groups = torch.as_tensor(labels, dtype=torch.long), torch.as_tensor(groups)
    rows = []
    for seed in seeds:
        split = stratified_grouped_split(labels, groups, val_fraction=0.0, test_fraction=test_fraction, seed=seed)
        for size in sizes:
            train = recordings_per_class(labels, groups, split.train, size, seed)
            n_recordings = len(set(groups[train].tolist()))
            for name, method in methods.items():
                if name in only_sizes and size not in only_sizes[name]:
                    continue
                start = time.perf_counter()
                accuracy = float(method(train, split.test, seed))
                rows.append({
                    "seed": seed, "size": "all" if size is None else size,
                    "n_train_recordings": n_recordings, "n_train_clips": len(train),
                    "recordings_per_class": n_recordings / len(set(labels[train].tolist())),
                    "method": name, "accuracy": accuracy, "seconds": time.perf_counter() - start,
                })
    return pd.DataFrame(rows)


def summarise_curve(curve):
    """Per method and size: mean, population standard deviation, minimum and maximum accuracy over the seeds.

    Returns:
        ``pandas.DataFrame`` indexed by ``(method, size)`` with ``mean``, ``std``, ``min``, ``max``,
        ``seeds`` and the mean ``recordings_per_class``.
    """
    grouped = curve.groupby(["method", "size"], sort=False)
    out = grouped["accuracy"].agg(["mean", "min", "max", "count"]).rename(columns={"count": "seeds"})
    out.insert(1, "std", grouped["accuracy"].std(ddof=0))
    out["recordings_per_class"] = grouped["recordings_per_class"].mean()
    return out


def plot_learning_curve(curve, ax=None, *, chance: float | None = None, markers: str = "osD^v*"):
    """Mean accuracy (line) and the range over seeds (shaded, min to max) of each method against size.

    Args:
        curve: from :func:`learning_curve`.
        ax: a matplotlib axis (default: a new figure).
        chance: draw this accuracy (a fraction) as a dotted line.
        markers: one marker per method, in order.

    Returns:
        The axis. The x axis is logarithmic; ``"all"`` sits at the mean number of recordings per
        class it meant (or to the right of the largest size when that is close).
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    summary = summarise_curve(curve).reset_index()
    sizes = list(dict.fromkeys(curve["size"].tolist()))
    numeric = [s for s in sizes if s != "all"]
    position = {s: float(s) for s in numeric}
    if "all" in sizes:
        all_x = float(curve.loc[curve["size"] == "all", "recordings_per_class"].mean())
        if numeric and all_x <= max(numeric) * 1.2:
            all_x = max(numeric) * 1.5
        position["all"] = all_x
    for k, (method, part) in enumerate(summary.groupby("method", sort=False)):
        x = [position[s] for s in part["size"]]
        line, = ax.plot(x, 100 * part["mean"], marker=markers[k % len(markers)], label=method)
        ax.fill_between(x, 100 * part["min"], 100 * part["max"], color=line.get_color(), alpha=0.15, linewidth=0)
    if chance is not None:
        ax.axhline(100 * chance, color="grey", linestyle=":", label="chance")
    ax.set_xscale("log", base=2)
    names = {v: (f"all (≈{v:.0f})" if s == "all" else str(s)) for s, v in position.items()}
    ticks = sorted(names)
    ax.set_xticks(ticks, [names[t] for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel("training recordings per class")
    ax.set_ylabel("test accuracy (%)")
    ax.set_ylim(0, 100)
    ax.legend(fontsize="small", loc="lower right")
    return ax
