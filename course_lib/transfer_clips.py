"""Clips for the transfer experiments, encoded once: the task, the cached encoder outputs, the top blocks that learn.

Introduced in chapter 5 (``book/chapters/ch05_pretrained_models.ipynb``); the experiments that use
them are in :mod:`course_lib.transfer_experiments`, which re-exports every name.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ._checks import check_int
from .pretrained.heads import ClassificationHead
from .runtime import atomic_write, module_device

__all__ = [
    "ClipTask",
    "real_or_synthetic_task",
    "EncodedClips",
    "encode_clips",
    "TopBlocks",
    "TopBlocksClassifier",
]


logger = logging.getLogger("course_lib.transfer_experiments")  # where the messages were logged from
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
    (:mod:`course_lib.data.synthetic`, ``synthetic_per_class`` per class) then count as one recording each.
    """
    from . import sonicpi

    if sonicpi.available_or_note(what):
        task = sonicpi.load_task(sample_rate, window_s)
        return ClipTask(task.waveforms, task.labels, task.groups, tuple(task.classes), int(sample_rate), "real",
                        sonicpi.CREDIT)
    from .data.synthetic import SyntheticConfig, make_synthetic_dataset

    data = make_synthetic_dataset(synthetic_per_class, config=SyntheticConfig(sample_rate=sample_rate, duration_s=window_s),
                                  seed=seed)
    n = len(data.labels)
    return ClipTask(data.waveforms[:, 0].contiguous(), data.labels.long(), torch.arange(n), tuple(data.class_names),
                    int(sample_rate), "synthetic", f"Synthetic clips (course_lib.data.synthetic, seed {seed}): not real recordings.")


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
    from .data.download import data_dir

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
    from .pretrained.aisfx import (
        AISFX_SAMPLE_RATE,
        AisfxEncoder,
        load_aisfx_encoder,
        spectrogram_blocks,
        weights_digest,
    )

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

    def train(self, mode: bool = True) -> TopBlocks:
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
