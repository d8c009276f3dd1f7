"""The transfer-learning recipe on audio files: a pretrained encoder, a head, optional fine-tuning.

Introduced in chapter 5 (``book/chapters/ch05_pretrained_models.ipynb``); used by
``python -m course_lib train --encoder aisfx`` (:mod:`course_lib.cli`) and ``benchmarks/pretrained.py``.

The recipe, in two stages:

1. **Frozen encoder + head.** Every file is embedded once by the pretrained aiSFX encoder
   (:func:`course_lib.pretrained.cached_embeddings`: one 512-value vector per clip, kept in the feature
   cache), and a small head (linear, or one hidden layer) learns on those vectors. Training the head
   takes a second; the embeddings are the cost, and they are paid once.
2. **Fine-tuning** (optional). The top ``n_unfrozen`` convolution blocks of the encoder are unfrozen
   and trained together with the head from stage 1, at a lower learning rate (``lr × lr_factor``),
   on the waveforms: the pretrained weights are adjusted, not overwritten. Early stopping on the
   validation loss keeps the best epoch; the head-only result is kept in the metrics, so a run shows
   whether fine-tuning helped.

:func:`train_transfer` runs both stages on lists of files and returns the metrics and the model;
:func:`load_transfer_model` rebuilds a trained model from its checkpoint.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import TensorDataset

from ._checks import check_choice, check_fraction, check_int
from .pretrained.aisfx import (
    AISFX_EMBEDDING_DIM,
    AISFX_SAMPLE_RATE,
    CREDIT,
    AisfxClassifier,
    AisfxEncoder,
    cached_embeddings,
    load_aisfx_encoder,
)
from .pretrained.heads import ClassificationHead
from .runtime import seed_everything, select_device
from .train import History, TrainConfig, fit, load_checkpoint

__all__ = ["ENCODERS", "TransferResult", "train_transfer", "load_transfer_model", "embed_files"]

#: Encoders the recipe knows: name → what it is.
ENCODERS: dict[str, str] = {"aisfx": "aiSFX sound-event CNN (Ma & Lerch, ISMIR 2022), 512-dim embeddings, 44.1 kHz"}


@dataclass
class TransferResult:
    """What :func:`train_transfer` produced.

    Attributes:
        model: the trained classifier: a :class:`~course_lib.pretrained.heads.ClassificationHead` on
            embeddings (frozen encoder) or an :class:`~course_lib.pretrained.AisfxClassifier` on
            waveforms (fine-tuned).
        head: the trained head (``model`` itself, or ``model.head``).
        encoder: the encoder whose embeddings ``head`` reads (fine-tuned in place after stage 2).
        head_history, fine_tune_history: the :class:`~course_lib.train.History` of each stage
            (``fine_tune_history`` is ``None`` without fine-tuning).
        kept: per part (``"train"``, ``"val"``, ``"test"``), the indices of the files that could be
            decoded (the others were skipped with a warning).
        labels: per part, ``(len(kept),)`` labels.
        embeddings: per part, ``(len(kept), 512)`` embeddings of the *pretrained* encoder (stage 1's input).
        final_embeddings: per part, the embeddings ``head`` reads: those of the final encoder (the same
            as ``embeddings`` without fine-tuning). ``evaluate(head, (final_embeddings[p], labels[p]), ...)``
            scores the model on part ``p``.
        head_only_accuracy: per part with files, the accuracy of the stage-1 head on the frozen
            encoder's embeddings (before any fine-tuning): what fine-tuning is to beat.
        embed_time_s, head_time_s, fine_tune_time_s: wall-clock seconds of each step.
        info: the ``"encoder"`` entry of ``metrics.json`` (name, package, credit, head, fine-tuning).
    """

    model: nn.Module
    head: ClassificationHead
    encoder: AisfxEncoder
    head_history: History
    fine_tune_history: History | None
    kept: dict[str, list[int]]
    labels: dict[str, torch.Tensor]
    embeddings: dict[str, torch.Tensor]
    final_embeddings: dict[str, torch.Tensor]
    head_only_accuracy: dict[str, float]
    embed_time_s: float
    head_time_s: float
    fine_tune_time_s: float
    info: dict[str, Any]


def embed_files(
    files: Sequence[str | os.PathLike],
    *,
    duration_s: float,
    encoder: AisfxEncoder,
    cache: str | os.PathLike | None = None,
    progress: bool = False,
) -> tuple[torch.Tensor, list[int]]:
    """Clip embeddings ``(len(kept), 512)`` of ``files`` (centre-cropped / zero-padded to ``duration_s``), cached.

    Undecodable files are skipped with one warning; ``kept`` lists the indices used.
    """
    return cached_embeddings(files, duration_s=duration_s, encoder=encoder, cache=cache, progress=progress)


def train_transfer(
    parts: dict[str, tuple[Sequence[Path], Sequence[int]]],
    class_names: Sequence[str],
    *,
    duration_s: float,
    encoder_name: str = "aisfx",
    hidden_features: int | None = None,
    dropout: float = 0.1,
    config: TrainConfig | None = None,
    fine_tune: bool = False,
    n_unfrozen: int = 1,
    fine_tune_epochs: int = 10,
    fine_tune_lr_factor: float = 0.1,
    fine_tune_batch_size: int = 8,
    cache: str | os.PathLike | None = None,
    checkpoint_path: str | os.PathLike | None = None,
    checkpoint_metadata: dict[str, Any] | None = None,
    encoder: AisfxEncoder | None = None,
) -> TransferResult:
    """Train the transfer recipe (see the module docstring) on files.

    Args:
        parts: ``{"train": (files, labels), "val": (files, labels), "test": ...}``; ``"val"`` may be
            empty (no early stopping then) and ``"test"`` is only embedded, never trained on.
        class_names: label ``i`` is ``class_names[i]``.
        duration_s: every file is centre-cropped or zero-padded to this length, seconds.
        encoder_name: ``"aisfx"`` (:data:`ENCODERS`).
        hidden_features: ``None`` for a linear head, else the width of its hidden layer.
        dropout: the head's dropout.
        config: the head's :class:`~course_lib.train.TrainConfig` (epochs, lr, patience, seed, device).
        fine_tune: run stage 2.
        n_unfrozen: encoder blocks (from the top, 1–4) that learn in stage 2.
        fine_tune_epochs: most epochs of stage 2 (early stopping on the validation loss).
        fine_tune_lr_factor: stage 2's peak learning rate is ``config.lr × fine_tune_lr_factor``.
        fine_tune_batch_size: clips per batch in stage 2 (waveforms: memory grows with it).
        cache: folder of the embedding cache (``None``: in memory only).
        checkpoint_path: write the best weights here (``course_lib.train.save_checkpoint`` format).
        checkpoint_metadata: plain values stored with them (class names, settings).
        encoder: an already loaded encoder (default: :func:`~course_lib.pretrained.load_aisfx_encoder`
            on ``config.device``); with ``fine_tune`` it is trained in place.

    Returns:
        :class:`TransferResult`.

    Raises:
        ValueError: an unknown encoder, no usable training file, bad stage-2 settings.
        ImportError: the encoder's package is not installed (the message says what to run).
    """
    check_choice(encoder_name, "encoder_name", sorted(ENCODERS))
    config = TrainConfig() if config is None else config
    check_int(n_unfrozen, "n_unfrozen", minimum=1, maximum=4, fix="pass how many of the encoder's 4 blocks learn")
    check_fraction(fine_tune_lr_factor, "fine_tune_lr_factor", include_zero=False, include_one=True)

    device = select_device(config.device)
    if encoder is None:
        encoder = load_aisfx_encoder(device)
    n_classes = len(class_names)

    start = time.perf_counter()
    embeddings: dict[str, torch.Tensor] = {}
    labels: dict[str, torch.Tensor] = {}
    kept: dict[str, list[int]] = {}
    for name, (files, part_labels) in parts.items():
        if not files:
            embeddings[name] = torch.empty(0, AISFX_EMBEDDING_DIM)
            labels[name], kept[name] = torch.empty(0, dtype=torch.long), []
            continue
        try:
            emb, used = embed_files(files, duration_s=duration_s, encoder=encoder, cache=cache, progress=config.progress)
        except ValueError as err:
            if name == "train":
                raise ValueError(f"no usable training file: {err}") from None
            emb, used = torch.empty(0, AISFX_EMBEDDING_DIM), []
        embeddings[name], kept[name] = emb, used
        labels[name] = torch.tensor([int(part_labels[i]) for i in used], dtype=torch.long)
    embed_time = time.perf_counter() - start
    if len(labels["train"]) == 0:
        raise ValueError("no usable training file: every training file was skipped.")

    def dataset(name: str) -> TensorDataset | None:
        return TensorDataset(embeddings[name], labels[name]) if name in embeddings and len(labels[name]) else None

    seed_everything(config.seed)  # the head's initial weights: a run is repeatable
    head = ClassificationHead(AISFX_EMBEDDING_DIM, n_classes, hidden_features, dropout)
    metadata = dict(checkpoint_metadata or {})
    info: dict[str, Any] = {
        "name": encoder_name,
        "description": ENCODERS[encoder_name],
        "package": "aisfx==0.1.2",
        "credit": CREDIT,
        "sample_rate": AISFX_SAMPLE_RATE,
        "embedding_dim": AISFX_EMBEDDING_DIM,
        "pooling": "mean",
        "head": {"hidden_features": hidden_features, "dropout": dropout},
        "fine_tune": bool(fine_tune),
        "unfrozen_blocks": [],
    }
    start = time.perf_counter()
    head_history = fit(
        head, dataset("train"), dataset("val"), config,
        checkpoint_path=None if fine_tune else checkpoint_path,
        checkpoint_metadata={**metadata, "encoder": info},
    )
    head_time = time.perf_counter() - start
    from .evaluation import predict

    head_only = {
        name: float((torch.as_tensor(predict(head, embeddings[name]).predictions) == labels[name]).float().mean())
        for name in embeddings if len(labels[name])
    }
    model: nn.Module = head
    final = dict(embeddings)
    fine_history: History | None = None
    fine_time = 0.0
    if fine_tune:
        from .data.decode import load_clips

        classifier = AisfxClassifier(encoder, n_classes, mode="partial", n_unfrozen=n_unfrozen,
                                     hidden_features=hidden_features, dropout=dropout)
        classifier.head.load_state_dict(head.state_dict())
        info["unfrozen_blocks"] = classifier.encoder.trainable_block_names()
        info["fine_tune_settings"] = {"epochs": fine_tune_epochs, "lr": config.lr * fine_tune_lr_factor,
                                      "lr_factor": fine_tune_lr_factor, "batch_size": fine_tune_batch_size}

        def waveforms(name: str) -> TensorDataset | None:
            files = parts[name][0] if name in parts else []
            if not kept.get(name):
                return None
            clips, used = load_clips([files[i] for i in kept[name]], sample_rate=AISFX_SAMPLE_RATE, duration_s=duration_s)
            return TensorDataset(clips, labels[name][used])

        start = time.perf_counter()
        fine_config = dataclasses.replace(config, epochs=fine_tune_epochs, lr=config.lr * fine_tune_lr_factor,
                                          batch_size=fine_tune_batch_size)
        fine_history = fit(
            classifier, waveforms("train"), waveforms("val"), fine_config,
            checkpoint_path=checkpoint_path, checkpoint_metadata={**metadata, "encoder": info},
        )
        fine_time = time.perf_counter() - start
        model = classifier
        classifier.set_train_mode("frozen")
        # The head now reads the fine-tuned encoder's embeddings: recompute them (not cached: these
        # weights belong to this run only).
        for name, (files, _) in parts.items():
            if kept.get(name):
                emb, used = embed_files([files[i] for i in kept[name]], duration_s=duration_s, encoder=encoder)
                if len(used) != len(kept[name]):
                    raise RuntimeError(f"{name}: a file decoded in stage 1 failed in stage 2; rerun.")
                final[name] = emb
        head = classifier.head
    return TransferResult(
        model=model, head=head, encoder=encoder, head_history=head_history, fine_tune_history=fine_history, kept=kept,
        labels=labels, embeddings=embeddings, final_embeddings=final, head_only_accuracy=head_only, embed_time_s=embed_time, head_time_s=head_time,
        fine_tune_time_s=fine_time, info=info,
    )


def load_transfer_model(
    checkpoint_path: str | os.PathLike, *, device: str | torch.device = "cpu"
) -> tuple[ClassificationHead, AisfxEncoder, dict[str, Any]]:
    """Rebuild a model trained by :func:`train_transfer` from its checkpoint.

    Returns:
        ``(head, encoder, checkpoint)``: the head, the encoder whose embeddings it reads (the
        pretrained one, or the fine-tuned one stored in the checkpoint), both in eval mode on
        ``device``, and the checkpoint dict (its ``metadata`` holds ``class_names`` and ``encoder``).
    """
    checkpoint = load_checkpoint(checkpoint_path)
    meta = checkpoint.get("metadata", {})
    info = meta.get("encoder")
    if not isinstance(info, dict) or "name" not in info:
        raise ValueError(f"{checkpoint_path}: not a transfer-learning checkpoint (no encoder in its metadata).")
    check_choice(info["name"], "encoder", sorted(ENCODERS))
    n_classes = len(meta["class_names"])
    hidden, dropout = info["head"]["hidden_features"], info["head"]["dropout"]
    encoder = load_aisfx_encoder(device)
    if checkpoint["model_class"] == "AisfxClassifier":
        model = AisfxClassifier(encoder, n_classes, hidden_features=hidden, dropout=dropout)
        load_checkpoint(checkpoint_path, model)
        model.set_train_mode("frozen")
        head = model.head
    else:
        head = ClassificationHead(AISFX_EMBEDDING_DIM, n_classes, hidden, dropout)
        load_checkpoint(checkpoint_path, head)
    return head.to(device).eval(), encoder.eval(), checkpoint
