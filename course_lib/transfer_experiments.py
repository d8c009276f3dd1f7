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
"""

from __future__ import annotations

import copy
import hashlib
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from ._checks import check_int
from .runtime import atomic_write, module_device
from .evaluation import classification_metrics, predict
from .pretrained.heads import ClassificationHead
from .training import TrainConfig, fit

__all__ = [
    "ClipTask",
    "real_or_synthetic_task",
    "EncodedClips",
    "encode_clips",
    "TopBlocks",
    "TopBlocksClassifier",
    "fit_and_score",
    "recordings_per_class",
    "learning_curve",
    "summarise_curve",
    "plot_learning_curve",
]

logger = logging.getLogger(__name__)
_CACHE_FORMAT = 1


@dataclass
class ClipTask:
    """Fixed-length clips with labels and recordings: the real task, or its synthetic stand-in.

    Attributes:
        waveforms: ``(N, samples)`` float32 mono at ``sample_rate`` Hz.
        labels: ``(N,)`` int64 class index. groups: ``(N,)`` int64 recording each clip was cut from.
        classes: class names. sample_rate: Hz.
        kind: ``"real"`` (Sonic Pi's recordings, :mod:`course_lib.sonicpi`) or ``"synthetic"``.
        credit: the line to print: the recordings' credit, or what the synthetic data is.
    """

    waveforms: torch.Tensor
    labels: torch.Tensor
    groups: torch.Tensor
    classes: tuple[str, ...]
    sample_rate: int
    kind: str
    credit: str

    def __repr__(self) -> str:
        return (f"ClipTask({self.kind}: {len(self.labels)} clips of {self.waveforms.shape[1] / self.sample_rate:g} s at "
                f"{self.sample_rate} Hz from {len(set(self.groups.tolist()))} recordings, {len(self.classes)} classes)")


def real_or_synthetic_task(sample_rate: int = 44100, window_s: float = 1.0, *, what: str = "This page",
                           synthetic_per_class: int = 12, seed: int = 0) -> ClipTask:
    """The real recordings task (:func:`course_lib.sonicpi.load_task`), or synthetic clips when the library is missing.

    Without the library, :func:`course_lib.sonicpi.available_or_note` shows the page's visible
    fallback note (and raises instead when ``COURSE_REQUIRE_REAL_AUDIO=1``); the synthetic clips
    (:mod:`course_lib.synthetic`, ``synthetic_per_class`` per class) then count as one recording each.
    """
    from . import sonicpi

    if sonicpi.available_or_note(what):
        task = sonicpi.load_task(sample_rate, window_s)
        return ClipTask(task.waveforms, task.labels, task.groups, tuple(task.classes), int(sample_rate), "real",
                        sonicpi.CREDIT)
    from .synthetic import SyntheticConfig, make_synthetic_dataset

    data = make_synthetic_dataset(synthetic_per_class, config=SyntheticConfig(sample_rate=sample_rate, duration_s=window_s),
                                  seed=seed)
    n = len(data.labels)
    return ClipTask(data.waveforms[:, 0].contiguous(), data.labels.long(), torch.arange(n), tuple(data.class_names),
                    int(sample_rate), "synthetic", f"Synthetic clips (course_lib.synthetic, seed {seed}): not real recordings.")


@dataclass
class EncodedClips:
    """What :func:`encode_clips` computed for ``N`` clips.

    Attributes:
        embeddings: ``(N, 512)`` float32: each clip's embedding (network output averaged over its blocks).
        top_inputs: ``(N, n_blocks, channels, time, freq)`` float32: the input of the top ``n_top``
            network blocks for every block of every clip (``None`` when ``n_top == 0``).
        n_top: how many top blocks ``top_inputs`` feeds.
        seconds: wall-clock seconds the call took (encoding, or reading the cache).
        from_cache: whether the result was read from the cache.
    """

    embeddings: torch.Tensor
    top_inputs: torch.Tensor | None
    n_top: int
    seconds: float
    from_cache: bool


def _default_cache_dir() -> Path:
    from .download import data_dir

    return data_dir() / "cache" / "aisfx"


def _check_waveforms(waveforms: torch.Tensor) -> torch.Tensor:
    if not isinstance(waveforms, torch.Tensor) or not torch.is_floating_point(waveforms):
        raise TypeError(f"waveforms must be a float tensor (N, samples), got {type(waveforms).__name__}.")
    if waveforms.ndim == 3 and waveforms.shape[1] == 1:
        waveforms = waveforms[:, 0]
    if waveforms.ndim != 2 or waveforms.shape[0] == 0 or waveforms.shape[1] == 0:
        raise ValueError(
            f"waveforms must be (N, samples) or (N, 1, samples) with N, samples > 0, got {tuple(waveforms.shape)}. "
            "Fix: cut the clips to one length first (course_lib.sonicpi.load_task does)."
        )
    if not bool(torch.isfinite(waveforms).all()):
        bad = (~torch.isfinite(waveforms)).any(dim=1).nonzero().flatten().tolist()
        raise ValueError(f"waveforms hold NaN or infinite samples in clip(s) {bad[:10]}; fix or drop those clips.")
    return waveforms.float().contiguous()


def _cache_key(waveforms: torch.Tensor, sample_rate: int, weights: str, n_top: int) -> str:
    digest = hashlib.sha256()
    digest.update(f"format={_CACHE_FORMAT};sr={sample_rate};n_top={n_top};weights={weights};"
                  f"shape={tuple(waveforms.shape)}".encode())
    digest.update(waveforms.numpy().tobytes())
    return digest.hexdigest()[:24]


def encode_clips(
    waveforms: torch.Tensor,
    *,
    sample_rate: int = 44100,
    encoder=None,
    n_top: int = 1,
    cache: bool = True,
    cache_dir: str | os.PathLike | None = None,
    batch_size: int = 16,
) -> EncodedClips:
    """aiSFX embeddings of fixed-length clips, and the input of the network's top ``n_top`` blocks.

    One pass through the frozen encoder (front end, blocks, pooling as in
    :class:`course_lib.pretrained.aisfx.AisfxEncoder`); every block of every clip counts (the clips
    all have one length, so no block is padding). The result is cached in
    ``$COURSE_DATA_DIR/cache/aisfx`` under a hash of the audio, the rate, the weights and ``n_top``:
    a second call (another chapter, the exercise) reads it.

    Args:
        waveforms: ``(N, samples)`` or ``(N, 1, samples)`` float audio at ``sample_rate`` Hz.
        sample_rate: Hz (resampled to 44.1 kHz when different).
        encoder: an :class:`~course_lib.pretrained.aisfx.AisfxEncoder` (default: the pretrained one).
        n_top: how many top blocks will be fine-tuned (0 to 4): ``top_inputs`` is their input.
        cache, cache_dir: read and write the cache, and where (default ``$COURSE_DATA_DIR/cache/aisfx``).
        batch_size: clips per forward pass.

    Returns:
        :class:`EncodedClips`.

    Raises:
        ImportError: ``aisfx`` is not installed (the message says what to run).
        ValueError, TypeError: waveforms of the wrong shape or type, NaN samples, a bad ``n_top``.
    """
    from .audio_io import resample
    from .pretrained.aisfx import AISFX_SAMPLE_RATE, AisfxEncoder, load_aisfx_encoder, spectrogram_blocks, weights_digest

    start = time.perf_counter()
    waveforms = _check_waveforms(waveforms)
    check_int(sample_rate, "sample_rate", minimum=1000, unit="Hz")
    check_int(batch_size, "batch_size", minimum=1)
    encoder = load_aisfx_encoder() if encoder is None else encoder
    if not isinstance(encoder, AisfxEncoder):
        raise TypeError(f"encoder must be an AisfxEncoder (course_lib.pretrained.load_aisfx_encoder), got {type(encoder).__name__}.")
    total = len(encoder.network.blocks)
    check_int(n_top, "n_top", minimum=0, maximum=total)

    path = None
    if cache:
        root = Path(cache_dir) if cache_dir is not None else _default_cache_dir()
        path = root / f"encoded-{_cache_key(waveforms, sample_rate, weights_digest(encoder.network), n_top)}.pt"
        if path.is_file():
            try:
                stored = torch.load(path, map_location="cpu", weights_only=True)
                return EncodedClips(stored["embeddings"], stored["top_inputs"], n_top, time.perf_counter() - start, True)
            except Exception as err:  # a truncated or foreign file: recompute it
                logger.warning("%s: unreadable cache entry (%s); recomputing it.", path, err)

    network = encoder.network
    split = total - n_top
    device = module_device(network)
    was_training = encoder.training
    encoder.eval()
    embeddings, top_inputs = [], []
    try:
        with torch.no_grad():
            for i in range(0, waveforms.shape[0], batch_size):
                chunk = waveforms[i : i + batch_size]
                if sample_rate != AISFX_SAMPLE_RATE:
                    chunk = resample(chunk, sample_rate, AISFX_SAMPLE_RATE)
                blocks = spectrogram_blocks(encoder.front_end(chunk.to(device)))  # (batch, n_blocks, 100, 96)
                batch, count = blocks.shape[:2]
                x = blocks.reshape(batch * count, 1, *blocks.shape[2:])
                for block in network.blocks[:split]:
                    x = block(x)
                if n_top:
                    top_inputs.append(x.reshape(batch, count, *x.shape[1:]).cpu())
                for block in network.blocks[split:]:
                    x = block(x)
                embeddings.append(x.mean(dim=3).amax(dim=2).reshape(batch, count, -1).mean(dim=1).cpu())
    finally:
        encoder.train(was_training)
    result = EncodedClips(torch.cat(embeddings), torch.cat(top_inputs) if n_top else None, n_top,
                          time.perf_counter() - start, False)
    if path is not None:
        try:
            atomic_write(path, lambda tmp: torch.save({"embeddings": result.embeddings, "top_inputs": result.top_inputs}, tmp))
        except OSError as err:  # a read-only or full disk: the result is still returned
            logger.warning("could not cache the encoded clips in %s (%s).", path, err)
    return result


class TopBlocks(nn.Module):
    """The top blocks of the aiSFX network and its pooling: ``(batch, n_blocks, C, T, F)`` → ``(batch, 512)``.

    Copies of the network's last ``n_top`` blocks (pretrained weights included), then the network's
    own pooling (mean over frequency, maximum over time) and the average over a clip's blocks.
    Batch norm keeps the pretrained statistics in training mode too (as ``AisfxEncoder`` does): a few
    small batches would give noisy statistics the later layers were not trained for.

    Attributes:
        blocks: ``nn.ModuleList`` of the copied blocks, bottom to top.
    """

    def __init__(self, network: nn.Module, n_top: int = 1) -> None:
        super().__init__()
        total = len(network.blocks)
        check_int(n_top, "n_top", minimum=1, maximum=total)
        self.blocks = nn.ModuleList(copy.deepcopy(b) for b in network.blocks[total - n_top :])
        self.output_dim = int(network.output_dim)

    def train(self, mode: bool = True) -> "TopBlocks":
        super().train(mode)
        for m in self.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.eval()
        return self

    def forward(self, top_inputs: torch.Tensor) -> torch.Tensor:
        if top_inputs.ndim != 5:
            raise ValueError(
                f"TopBlocks expects (batch, n_blocks, channels, time, freq) from encode_clips(...).top_inputs, got "
                f"{tuple(top_inputs.shape)}."
            )
        batch, count = top_inputs.shape[:2]
        x = top_inputs.reshape(batch * count, *top_inputs.shape[2:])
        for block in self.blocks:
            x = block(x)
        return x.mean(dim=3).amax(dim=2).reshape(batch, count, -1).mean(dim=1)


class TopBlocksClassifier(nn.Module):
    """The aiSFX encoder's top blocks and a classification head, trained on cached inputs.

    ``model(top_inputs)`` gives the same logits as the whole encoder followed by ``model.head`` on
    the waveforms (the lower blocks' output is what :func:`encode_clips` cached). The encoder part
    starts **frozen**; unfreeze blocks with ``requires_grad_`` (exercise 3 writes ``set_trainable``).

    Args:
        network: the pretrained :class:`~course_lib.pretrained.aisfx.AisfxNetwork` (``encoder.network``).
        n_classes: number of classes.
        n_top: how many top blocks (as given to :func:`encode_clips`).
        hidden_features, dropout: the head (:class:`~course_lib.pretrained.heads.ClassificationHead`;
            ``None``: a linear head).

    Attributes:
        encoder: :class:`TopBlocks` (its ``blocks``); head: the head.
    """

    def __init__(self, network: nn.Module, n_classes: int, *, n_top: int = 1, hidden_features: int | None = None,
                 dropout: float = 0.1) -> None:
        super().__init__()
        self.encoder = TopBlocks(network, n_top)
        self.head = ClassificationHead(self.encoder.output_dim, n_classes, hidden_features, dropout)
        self.n_classes = n_classes
        self.encoder.requires_grad_(False)

    def forward(self, top_inputs: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(top_inputs))


def fit_and_score(model: nn.Module, train_data: Dataset, test_inputs: torch.Tensor, test_labels: torch.Tensor,
                  config: TrainConfig, **fit_kwargs) -> float:
    """Train with :func:`course_lib.training.fit` (no validation set) and return the test accuracy in ``[0, 1]``."""
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
    (:func:`course_lib.splits.stratified_grouped_split`, ``test_fraction`` of each class's recordings
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

    from .splits import stratified_grouped_split

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
