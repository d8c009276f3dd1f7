"""The transfer recipe of chapter 5 on the ESC-50 case study of chapter 7: a head on frozen embeddings.

Used by chapter 7 (``book/chapters/ch07_esc50_case_study.ipynb``). :func:`load_esc50_embeddings`
embeds every clip once with the pretrained aiSFX encoder (cached like the features), and
:func:`cross_validate_transfer` trains a linear head on the embeddings on the same official folds as
:func:`course_lib.chapters.ch07_case_study.cross_validate`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch.utils.data import TensorDataset

from ..data.cache import FeatureCache
from ..data.download import data_dir
from ..data.esc50 import ESC50Dataset
from ..data.splits import esc50_cv_folds
from ..runs import train_and_evaluate
from .ch07_case_study import FAST, CaseStudyConfig, CrossValidationResult, ESC50Source, FoldResult

__all__ = ["ESC50Embeddings", "load_esc50_embeddings", "cross_validate_transfer"]


@dataclass
class ESC50Embeddings:
    """Pretrained aiSFX embeddings of one ESC-50 folder, with what cross-validation needs.

    Attributes:
        embeddings: ``(N, 512)`` float32, one per clip. labels: ``(N,)`` int64.
        folds, groups, class_names, source, seconds: as in :class:`ESC50Features`.
        embed_seconds: how much of each clip (its centre) was embedded.
    """

    embeddings: torch.Tensor
    labels: torch.Tensor
    folds: list[int]
    groups: list[str]
    class_names: tuple[str, ...]
    source: ESC50Source
    seconds: float
    embed_seconds: float


def load_esc50_embeddings(
    source: ESC50Source, config: CaseStudyConfig, *, encoder=None, cache: bool = True, progress: bool = False
) -> ESC50Embeddings:
    """Embed every clip once with the pretrained aiSFX encoder (chapter 5), cached like the features.

    Each clip is decoded at 44.1 kHz, its centre ``config.embed_seconds`` kept, and embedded
    (:func:`course_lib.pretrained.cached_embeddings`; stored in ``$COURSE_DATA_DIR/feature_cache``,
    keyed by file, length and weights), so a second run reads the cache.

    Raises:
        ImportError: the ``aisfx`` package is not installed (the message says what to run).
    """
    from ..pretrained import load_aisfx_encoder
    from ..pretrained.aisfx import AISFX_SAMPLE_RATE, cached_embeddings

    start = time.perf_counter()
    dataset = ESC50Dataset(source.root, sample_rate=AISFX_SAMPLE_RATE, duration_s=5.0)
    encoder = load_aisfx_encoder() if encoder is None else encoder
    store = FeatureCache(data_dir() / "feature_cache") if cache else None
    embeddings, kept = cached_embeddings(
        dataset.files, duration_s=config.embed_seconds, encoder=encoder, cache=store, crop="center", progress=progress
    )
    return ESC50Embeddings(
        embeddings, torch.tensor([dataset.labels[i] for i in kept], dtype=torch.long), [dataset.folds[i] for i in kept],
        [dataset.groups[i] for i in kept], dataset.class_names, source, time.perf_counter() - start, config.embed_seconds,
    )


def cross_validate_transfer(
    data: ESC50Embeddings, config: CaseStudyConfig = FAST, *, seed: int = 0, hidden_features: int | None = None
) -> CrossValidationResult:
    """The transfer recipe on the official ESC-50 folds: a head on frozen aiSFX embeddings.

    Same protocol as :func:`cross_validate` (test on each fold of ``config.test_folds``, train on the
    others, early stopping on a validation set carved out of the training folds by source), with a
    :class:`~course_lib.pretrained.ClassificationHead` (linear by default) in place of the CNN and
    the embeddings in place of the spectrograms.

    Returns:
        :class:`CrossValidationResult` named ``"aiSFX frozen + linear head"`` (or ``"+ MLP head"``);
        ``seconds`` per fold is the head's training time (the embeddings' cost is ``data.seconds``).
    """
    from ..pretrained import ClassificationHead
    from ..train import TrainConfig

    available = sorted(set(data.folds))
    missing = sorted(set(config.test_folds) - set(available))
    if missing:
        raise ValueError(f"test_folds {missing} are not in the data (folds {available}).")
    splits = esc50_cv_folds(data.folds, groups=data.groups, val_fraction=config.val_fraction, seed=seed)
    n_classes = len(data.class_names)
    name = "aiSFX frozen + " + ("linear head" if hidden_features is None else f"MLP head ({hidden_features})")
    train_config = TrainConfig(epochs=config.head_epochs, batch_size=32, lr=3e-3, seed=seed, progress=False,
                               early_stopping_patience=max(5, config.head_epochs // 4))
    results: list[FoldResult] = []
    n_parameters = 0
    for k, split in zip(available, splits):
        if k not in config.test_folds:
            continue
        train_set = TensorDataset(data.embeddings[split.train], data.labels[split.train])
        val_set = TensorDataset(data.embeddings[split.val], data.labels[split.val]) if len(split.val) else None
        run = train_and_evaluate(  # seed -> build the head -> fit -> predict -> metrics
            lambda: ClassificationHead(data.embeddings.shape[1], n_classes, hidden_features=hidden_features, dropout=0.2),
            train_set, val_set, (data.embeddings[split.test], data.labels[split.test]), train_config,
            class_names=data.class_names, seed=seed,
        )
        n_parameters = run.n_parameters
        results.append(FoldResult(
            k, run.metrics, run.history, len(split.train), len(split.val), len(split.test), run.train_time_s, run.model,
        ))
    return CrossValidationResult(name, config.name, results, n_parameters)

