"""Chapter 6's tools: its recipe and model, per-class scores, augmented training views.

Used by :mod:`course_lib.chapters.ch06_pitfalls`: every experiment trains the ``simple_cnn`` of
:data:`EXPERIMENT_MODEL` with :data:`EXPERIMENT_RECIPE` through
:func:`course_lib.runs.train_and_evaluate`, and returns one :class:`course_lib.runs.RunResult` per
arm. The other names are reusable pieces that belong lower in the library once their modules'
owners take them: :func:`classification_scores` next to :mod:`course_lib.evaluation`,
:class:`AugmentedViews` and :func:`augmented_views` next to :mod:`course_lib.augment`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from .._checks import check_int
from ..augment import WaveformAugment
from ..evaluation import classification_metrics, evaluate
from ..features import compute_features
from ..models import build_model
from ..recipe import RECOMMENDED, Recipe
from ..runs import RunResult, train_and_evaluate
from ..train import TrainConfig

__all__ = [
    "EXPERIMENT_RECIPE",
    "EXPERIMENT_MODEL",
    "SMALL_CHANNELS",
    "experiment_model",
    "classification_scores",
    "scores_from_metrics",
    "AugmentedViews",
    "augmented_views",
    "class_names",
    "train_arm",
    "run_accuracy",
]

#: The recommended recipe made cheaper for the chapter's many small runs: 32 mel bands, 20 ms hop.
EXPERIMENT_RECIPE: Recipe = RECOMMENDED.replace(n_mels=32, hop_s=0.02)


#: Channel widths of the experiments' CNN (the course's SimpleCNN, narrow).
SMALL_CHANNELS: tuple[int, ...] = (8, 16, 32, 64)

#: The registered model every pitfall experiment trains (a name for :func:`course_lib.runs.train_and_evaluate`).
EXPERIMENT_MODEL = "simple_cnn"


def experiment_model(n_classes: int, n_mels: int, *, dropout: float = 0.0, seed: int = 0) -> nn.Module:
    """The CNN every pitfall experiment trains: ``simple_cnn`` with :data:`SMALL_CHANNELS`.

    Weights are initialised from ``seed`` (:func:`course_lib.models.build_model`), so two arms of
    an experiment start from the same model and differ only in what the experiment changes; the
    experiments build it by name through :func:`course_lib.runs.train_and_evaluate`, with the same
    arguments.

    Shape: ``(batch, 1, n_mels, frames)`` → ``(batch, n_classes)`` logits.
    """
    return build_model(EXPERIMENT_MODEL, n_classes, n_mels, seed=seed, channels=SMALL_CHANNELS, dropout=dropout)


def scores_from_metrics(metrics: Mapping[str, Any]) -> dict:
    """The scores chapter 6 tabulates, read from :func:`course_lib.evaluation.classification_metrics`.

    Returns:
        ``{"accuracy": float, "balanced_accuracy": float, "macro_f1": float,
        "per_class_recall": np.ndarray (n_classes,)}``, fractions; a class absent from the scored
        labels gets recall NaN (there is nothing to recall).
    """
    per_class = list(metrics["per_class"].values())
    recall = np.array([c["recall"] if c["support"] > 0 else np.nan for c in per_class], dtype=float)
    return {
        "accuracy": float(metrics["accuracy"]),
        "balanced_accuracy": float(metrics["balanced_accuracy"]),
        "macro_f1": float(metrics["macro_f1"]),
        "per_class_recall": recall,
    }


def classification_scores(y_true: Sequence[int] | torch.Tensor, y_pred: Sequence[int] | torch.Tensor, n_classes: int) -> dict:
    """:func:`scores_from_metrics` of labels and predictions (scikit-learn, through
    :func:`course_lib.evaluation.classification_metrics`)."""
    y_true = np.asarray(torch.as_tensor(y_true).cpu())
    y_pred = np.asarray(torch.as_tensor(y_pred).cpu())
    return scores_from_metrics(classification_metrics(y_true, y_pred, n_classes=n_classes))



class AugmentedViews(Dataset):
    """A training set with several precomputed *views* of every clip, one drawn at random per read.

    Waveform augmentation (time shift, noise) has to happen before the features; recomputing the
    features every epoch is what made the seed chapter's pipeline slow. Precomputing ``n_views``
    augmented versions of each clip once and drawing one of them at every read keeps the feature
    cache and still shows the network a different version of a clip in different epochs.

    Args:
        views: ``(n_views, N, 1, n_mels, frames)`` features; view 0 is usually the clean clip.
        labels: ``(N,)`` class indices.
        transform: applied after the view is drawn (e.g. :class:`~course_lib.augment.SpecAugment`).

    ``dataset[i]`` is ``(transform(views[v, i]), labels[i])`` with ``v`` drawn from PyTorch's global
    random state (seeded by :func:`~course_lib.train.fit`). Introduced in chapter 6.
    """

    def __init__(self, views: torch.Tensor, labels: torch.Tensor, transform=None) -> None:
        if not isinstance(views, torch.Tensor) or views.ndim != 5:
            raise ValueError(f"views must be (n_views, N, 1, n_mels, frames), got {getattr(views, 'shape', type(views))}.")
        labels = torch.as_tensor(labels).long()
        if labels.shape != (views.shape[1],):
            raise ValueError(f"labels must be ({views.shape[1]},) for {views.shape[1]} clips, got {tuple(labels.shape)}.")
        self.views = views
        self.labels = labels
        self.transform = transform

    def __len__(self) -> int:
        return int(self.views.shape[1])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        v = int(torch.randint(self.views.shape[0], (1,)))
        x = self.views[v, index]
        if self.transform is not None:
            x = self.transform(x)
        return x, self.labels[index]


def augmented_views(
    waveforms: torch.Tensor,
    feature: nn.Module,
    *,
    sample_rate: int,
    n_views: int = 4,
    max_shift_s: float = 0.15,
    snr_db: tuple[float, float] = (5.0, 20.0),
    seed: int = 0,
) -> torch.Tensor:
    """Features of the clean clips plus ``n_views - 1`` waveform-augmented versions of them.

    Each augmented view runs :class:`~course_lib.augment.WaveformAugment` (random time shift of up to
    ``max_shift_s`` seconds, white noise at an SNR drawn from ``snr_db`` dB; each with probability
    0.8) on the waveforms, then :func:`~course_lib.features.compute_features` (standardised log-mel).

    Args:
        waveforms: ``(N, 1, samples)``.
        feature: the feature module (e.g. ``EXPERIMENT_RECIPE.feature_extractor()``).
        sample_rate: Hz, of the waveforms.
        n_views: views per clip, the clean one included (>= 1).
        seed: seed of the augmentation's random generator.

    Returns:
        ``(n_views, N, 1, n_mels, frames)`` for :class:`AugmentedViews`.
    """
    check_int(n_views, "n_views", minimum=1)
    augment = WaveformAugment(sample_rate, max_shift_s=max_shift_s, snr_db=snr_db, gain_db=None, p=0.8).train()
    generator = torch.Generator().manual_seed(int(seed))
    views = [compute_features(waveforms, feature)]
    for _ in range(n_views - 1):
        views.append(compute_features(augment(waveforms, generator), feature))
    return torch.stack(views)


def class_names(n_classes: int) -> list[str]:
    """``["class 0", ..., "class n-1"]``: the names the experiments' reports use."""
    return [f"class {c}" for c in range(n_classes)]


def train_arm(
    train_data: Dataset,
    val_data: Dataset | None,
    test_data: tuple[torch.Tensor, torch.Tensor] | None,
    config: TrainConfig,
    *,
    n_classes: int,
    n_mels: int,
    dropout: float,
    seed: int,
    sampler: torch.utils.data.Sampler | None = None,
    evaluate_val: bool = False,
) -> RunResult:
    """One arm of an experiment: :func:`course_lib.runs.train_and_evaluate` of the chapter's CNN."""
    return train_and_evaluate(
        EXPERIMENT_MODEL, train_data, val_data, test_data, config, class_names=class_names(n_classes), n_mels=n_mels,
        model_kwargs={"channels": SMALL_CHANNELS, "dropout": dropout}, seed=seed, sampler=sampler,
        evaluate_val=evaluate_val, batch_size=256,
    )


def run_accuracy(run: RunResult, features: torch.Tensor, labels: torch.Tensor) -> float:
    """Accuracy (0-1) of the run's model on ``features`` ``(clips, n_mels, frames)`` and ``labels`` ``(clips,)``."""
    n_classes = len(run.val.class_names if run.val is not None else run.test.class_names)
    return evaluate(run.model, (features, torch.as_tensor(labels).long()), class_names(n_classes), batch_size=256).accuracy
