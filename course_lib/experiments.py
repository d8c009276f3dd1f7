"""The pitfalls of chapter 6, as experiments that measure them (and the fixes that remove them).

Introduced in chapter 6 (``book/chapters/ch06_pitfalls.ipynb``); ``tests/test_experiments.py``
checks, at a fixed seed, that every fix does what the chapter says it does.

The seed chapter answered "overfitting" and "class imbalance" with dictionaries of advice. Here each
pitfall is a function that trains real models on the same data with and without the fix and
returns the numbers:

* :func:`run_overfitting` – a small training set, trained without any regularisation, then with
  dropout and weight decay, then with waveform and SpecAugment augmentation plus early stopping;
  returns the histories and the measured train–validation gap of each run;
* :func:`make_imbalanced_indices` and :func:`run_imbalance` – a training set with a 10:1 class
  imbalance; no correction, a class-weighted loss, and a :class:`~torch.utils.data.WeightedRandomSampler`,
  compared on accuracy, balanced accuracy, macro-F1 and per-class recall;
* :func:`run_leakage` – the same model trained on a split that puts takes of one source recording
  on both sides, and on a split grouped by source: the inflated score is the difference;
* :func:`seed_standardize`, :func:`band_statistics` and :func:`run_statistics_leak` – the seed
  chapter's per-example standardisation of a silent clip (NaN), and normalisation statistics
  taken from the test set.

Every experiment is deterministic for its ``seed`` and small enough to run in seconds on a laptop
CPU: the models are the course's own (:func:`course_lib.models.build_model`) with narrow layers,
trained with :func:`course_lib.training.fit`.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import math
import textwrap
from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from .augment import WaveformAugment
from .evaluation import classification_metrics, predict
from .models import build_model
from .pipeline import FeatureDataset, compute_features
from .recipe import RECOMMENDED, Recipe
from .splits import Split, grouped_split, stratified_split
from .training import History, TrainConfig, fit, make_weighted_sampler

__all__ = [
    "EXPERIMENT_RECIPE",
    "SMALL_CHANNELS",
    "experiment_model",
    "predict_labels",
    "classification_scores",
    "AugmentedViews",
    "augmented_views",
    "RunResult",
    "run_overfitting",
    "make_imbalanced_indices",
    "run_imbalance",
    "run_leakage",
    "group_overlap",
    "seed_standardize",
    "band_statistics",
    "apply_band_statistics",
    "run_statistics_leak",
    "PitfallPool",
    "make_pitfall_pool",
    "MINORITY_CLASSES",
    "overfitting_demo",
    "imbalance_demo",
    "leakage_layout_config",
    "leakage_demo",
    "statistics_demo",
    "percent",
    "sampling_error",
    "code_without_docstring",
]

#: The recommended recipe made cheaper for the chapter's many small runs: 32 mel bands, 20 ms hop.
EXPERIMENT_RECIPE: Recipe = RECOMMENDED.replace(n_mels=32, hop_s=0.02)

#: Channel widths of the experiments' CNN (the course's SimpleAudioClassifier, narrow).
SMALL_CHANNELS: tuple[int, ...] = (8, 16, 32, 64)


def experiment_model(n_classes: int, n_mels: int, *, dropout: float = 0.0, seed: int = 0) -> nn.Module:
    """The CNN every pitfall experiment trains: ``simple_cnn`` with :data:`SMALL_CHANNELS`.

    Weights are initialised from ``seed`` so that two arms of an experiment start from the same
    model and differ only in what the experiment changes.

    Shape: ``(batch, 1, n_mels, frames)`` → ``(batch, n_classes)`` logits.
    """
    torch.manual_seed(seed)
    return build_model("simple_cnn", n_classes=n_classes, n_mels=n_mels, channels=SMALL_CHANNELS, dropout=dropout)


# --------------------------------------------------------------------------------------------
# Predictions and scores


def predict_labels(model: nn.Module, features: torch.Tensor) -> torch.Tensor:
    """Predicted class of each example (:func:`course_lib.evaluation.predict`): ``(N, 1, n_mels, frames)`` → ``(N,)``."""
    if not isinstance(features, torch.Tensor) or features.ndim != 4:
        raise ValueError(f"features must be (N, 1, n_mels, frames), got {getattr(features, 'shape', type(features))}.")
    return torch.as_tensor(predict(model, features, batch_size=256).predictions)


def classification_scores(y_true: Sequence[int] | torch.Tensor, y_pred: Sequence[int] | torch.Tensor, n_classes: int) -> dict:
    """The scores chapter 6 tabulates, from :func:`course_lib.evaluation.classification_metrics` (scikit-learn).

    Returns:
        ``{"accuracy": float, "balanced_accuracy": float, "macro_f1": float,
        "per_class_recall": np.ndarray (n_classes,)}``, fractions; a class absent from ``y_true``
        gets recall NaN (there is nothing to recall).
    """
    y_true = np.asarray(torch.as_tensor(y_true).cpu())
    y_pred = np.asarray(torch.as_tensor(y_pred).cpu())
    metrics = classification_metrics(y_true, y_pred, n_classes=n_classes)
    per_class = list(metrics["per_class"].values())
    recall = np.array([c["recall"] if c["support"] > 0 else np.nan for c in per_class], dtype=float)
    return {
        "accuracy": metrics["accuracy"],
        "balanced_accuracy": metrics["balanced_accuracy"],
        "macro_f1": metrics["macro_f1"],
        "per_class_recall": recall,
    }


@dataclass
class RunResult:
    """One trained arm of an experiment.

    Attributes:
        name: the arm (e.g. ``"no regularisation"``).
        history: the :class:`~course_lib.training.History` of :func:`~course_lib.training.fit`.
        scores: named scores (fractions), e.g. ``train_accuracy``, ``val_accuracy``, ``gap``.
        extra: anything else the experiment measured (per-class recall, ...).
        model: the trained model (eval mode).
    """

    name: str
    history: History
    scores: dict[str, float]
    extra: dict = field(default_factory=dict)
    model: nn.Module | None = None


# --------------------------------------------------------------------------------------------
# Overfitting


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
    random state (seeded by :func:`~course_lib.training.fit`). Introduced in chapter 6.
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
    0.8) on the waveforms, then :func:`~course_lib.pipeline.compute_features` (standardised log-mel).

    Args:
        waveforms: ``(N, 1, samples)``.
        feature: the feature module (e.g. ``EXPERIMENT_RECIPE.feature_extractor()``).
        sample_rate: Hz, of the waveforms.
        n_views: views per clip, the clean one included (>= 1).
        seed: seed of the augmentation's random generator.

    Returns:
        ``(n_views, N, 1, n_mels, frames)`` for :class:`AugmentedViews`.
    """
    if isinstance(n_views, bool) or not isinstance(n_views, int) or n_views < 1:
        raise ValueError(f"n_views must be a positive integer, got {n_views!r}.")
    augment = WaveformAugment(sample_rate, max_shift_s=max_shift_s, snr_db=snr_db, gain_db=None, p=0.8).train()
    generator = torch.Generator().manual_seed(int(seed))
    views = [compute_features(waveforms, feature)]
    for _ in range(n_views - 1):
        views.append(compute_features(augment(waveforms, generator), feature))
    return torch.stack(views)


def _eval_accuracy(model: nn.Module, features: torch.Tensor, labels: torch.Tensor) -> float:
    return float((predict_labels(model, features) == labels).float().mean())


def run_overfitting(
    train_waveforms: torch.Tensor,
    train_labels: torch.Tensor,
    val_features: torch.Tensor,
    val_labels: torch.Tensor,
    *,
    n_classes: int,
    sample_rate: int,
    recipe: Recipe = EXPERIMENT_RECIPE,
    epochs: int = 30,
    batch_size: int = 16,
    n_views: int = 4,
    seed: int = 0,
) -> dict[str, RunResult]:
    """Train the same CNN three times on a small training set and measure the train–validation gap.

    Arms (identical data, initial weights, optimiser and learning-rate schedule):

    1. ``"no regularisation"``: dropout 0, weight decay 0, no augmentation, no early stopping;
       the last epoch's weights are kept;
    2. ``"dropout + weight decay"``: dropout 0.3 and the recipe's weight decay;
    3. ``"+ augmentation + early stopping"``: arm 2 plus waveform augmentation
       (:func:`augmented_views`) and the recipe's SpecAugment, with early stopping on the validation
       loss and the best epoch restored.

    The gap is measured after training, in eval mode and on the clean training clips, so dropout
    and augmentation do not lower the training accuracy artificially.

    Args:
        train_waveforms: ``(N, 1, samples)`` training clips at ``sample_rate`` Hz.
        train_labels: ``(N,)``.
        val_features: ``(M, 1, n_mels, frames)`` standardised features of the validation clips,
            computed with ``recipe.feature_extractor()``.
        val_labels: ``(M,)``.
        n_classes: number of classes.
        sample_rate: Hz; must equal ``recipe.sample_rate``.
        recipe: the features, SpecAugment and training settings.
        epochs: epochs per arm (early stopping may end arm 3 sooner).
        batch_size: examples per batch.
        n_views: views per clip for the augmentation arm.
        seed: seeds the weights, the shuffling and the augmentation.

    Returns:
        ``{arm: RunResult}`` with scores ``train_accuracy``, ``val_accuracy``, ``gap`` (train − val,
        fractions), ``best_epoch``, ``epochs_run`` and ``n_val`` (validation clips).
    """
    if sample_rate != recipe.sample_rate:
        raise ValueError(f"sample_rate={sample_rate} Hz but recipe.sample_rate={recipe.sample_rate} Hz; resample the clips first.")
    feature = recipe.feature_extractor()
    views = augmented_views(train_waveforms, feature, sample_rate=sample_rate, n_views=n_views, seed=seed)
    clean = views[0]
    n_frames = clean.shape[-1]
    base = dict(epochs=epochs, batch_size=batch_size, progress=False, seed=seed, label_smoothing=0.0)
    arms = {
        "no regularisation": (
            FeatureDataset(clean, train_labels), 0.0,
            recipe.train_config(**base, weight_decay=0.0, early_stopping_patience=None, restore_best=False),
        ),
        "dropout + weight decay": (
            FeatureDataset(clean, train_labels), 0.3,
            recipe.train_config(**base, early_stopping_patience=None, restore_best=False),
        ),
        "+ augmentation + early stopping": (
            AugmentedViews(views, train_labels, transform=recipe.augmentation(n_frames)), 0.3,
            recipe.train_config(**base, early_stopping_patience=max(3, epochs // 4), restore_best=True),
        ),
    }
    val_set = FeatureDataset(val_features, val_labels)
    results: dict[str, RunResult] = {}
    for name, (train_set, dropout, config) in arms.items():
        model = experiment_model(n_classes, recipe.n_mels, dropout=dropout, seed=seed)
        history = fit(model, train_set, val_set, config)
        train_acc = _eval_accuracy(model, clean, train_labels)
        val_acc = _eval_accuracy(model, val_features, val_labels)
        results[name] = RunResult(
            name, history,
            {"train_accuracy": train_acc, "val_accuracy": val_acc, "gap": train_acc - val_acc,
             "best_epoch": float(history.best_epoch or 0), "epochs_run": float(history.epochs_run),
             "n_val": float(len(val_labels))},
            model=model,
        )
    return results


# --------------------------------------------------------------------------------------------
# Class imbalance


def make_imbalanced_indices(
    labels: Sequence[int] | torch.Tensor,
    *,
    minority_classes: Sequence[int],
    n_majority: int,
    ratio: float = 10.0,
    seed: int = 0,
) -> torch.Tensor:
    """Pick a class-imbalanced subset of a balanced pool.

    Every class keeps ``n_majority`` examples, except ``minority_classes``, which keep
    ``max(1, round(n_majority / ratio))``. Which examples are kept is drawn with ``seed``.

    Args:
        labels: ``(N,)`` labels of the pool.
        minority_classes: the rare classes.
        n_majority: examples kept of every other class (each class must have that many).
        ratio: majority : minority ratio (10 means 10:1).
        seed: seed of the draw.

    Returns:
        Sorted ``(M,)`` indices into the pool.
    """
    labels = torch.as_tensor(labels).long()
    if ratio < 1:
        raise ValueError(f"ratio must be >= 1 (majority : minority), got {ratio}.")
    classes = torch.unique(labels).tolist()
    unknown = sorted(set(minority_classes) - set(classes))
    if unknown:
        raise ValueError(f"minority_classes {unknown} are not among the labels {classes}.")
    n_minority = max(1, round(n_majority / ratio))
    generator = torch.Generator().manual_seed(int(seed))
    chosen = []
    for c in classes:
        idx = (labels == c).nonzero().flatten()
        want = n_minority if c in set(minority_classes) else n_majority
        if len(idx) < want:
            raise ValueError(f"class {c} has {len(idx)} examples in the pool, fewer than the {want} asked for.")
        chosen.append(idx[torch.randperm(len(idx), generator=generator)[:want]])
    return torch.sort(torch.cat(chosen))[0]


def run_imbalance(
    features: torch.Tensor,
    labels: torch.Tensor,
    train_indices: torch.Tensor,
    test_sets: dict[str, torch.Tensor],
    *,
    n_classes: int,
    minority_classes: Sequence[int],
    strategies: Sequence[str] = ("no correction", "class-weighted loss", "weighted sampler"),
    epochs: int = 15,
    batch_size: int = 16,
    config: TrainConfig | None = None,
    seed: int = 0,
) -> dict[str, RunResult]:
    """Train on an imbalanced training set with each correction and score every test set.

    Strategies:

    * ``"no correction"``: plain cross-entropy, shuffled batches;
    * ``"class-weighted loss"``: ``TrainConfig(class_weights="balanced")`` — each class's loss
      weighted by ``N / (n_classes * count)`` (:func:`~course_lib.training.compute_class_weights`);
    * ``"weighted sampler"``: batches drawn with :func:`~course_lib.training.make_weighted_sampler`,
      so every class is seen about equally often (rare clips repeat).

    No validation set and no early stopping: every arm trains ``epochs`` epochs, so only the
    correction differs.

    Args:
        features: ``(N, 1, n_mels, frames)`` pool of features.
        labels: ``(N,)``.
        train_indices: the imbalanced training subset (:func:`make_imbalanced_indices`).
        test_sets: name → indices of each test set (e.g. a balanced one and one with the training
            set's imbalance).
        n_classes: number of classes.
        minority_classes: the rare classes (their mean recall is reported as ``minority_recall``).
        strategies: which of the three to run.
        epochs, batch_size: training length.
        config: base training settings (default: the experiment recipe's, without label smoothing);
            ``class_weights`` is set by the strategy.
        seed: seeds weights and batches.

    Returns:
        ``{strategy: RunResult}``; ``scores`` has ``"{test}/accuracy"``, ``"{test}/balanced_accuracy"``,
        ``"{test}/macro_f1"`` and ``"{test}/minority_recall"`` for each test set, and ``extra``
        has ``"{test}/per_class_recall"`` arrays.
    """
    known = ("no correction", "class-weighted loss", "weighted sampler")
    bad = [s for s in strategies if s not in known]
    if bad:
        raise ValueError(f"unknown strategies {bad}; choose from {known}.")
    train_indices = torch.as_tensor(train_indices).long()
    overlap = [name for name, idx in test_sets.items() if set(torch.as_tensor(idx).tolist()) & set(train_indices.tolist())]
    if overlap:
        raise ValueError(f"test set(s) {overlap} share examples with the training set; pass disjoint indices.")
    if config is None:
        config = EXPERIMENT_RECIPE.train_config(label_smoothing=0.0)
    base = dict(epochs=epochs, batch_size=batch_size, progress=False, seed=seed, early_stopping_patience=None, restore_best=False)
    train_set = FeatureDataset(features[train_indices], labels[train_indices])
    minority = list(minority_classes)
    results: dict[str, RunResult] = {}
    for name in strategies:
        sampler = None
        cfg = dataclasses.replace(config, **base, class_weights="balanced" if name == "class-weighted loss" else None)
        if name == "weighted sampler":
            sampler = make_weighted_sampler(train_set.labels, n_classes=n_classes, seed=seed)
        model = experiment_model(n_classes, features.shape[2], dropout=0.3, seed=seed)
        history = fit(model, train_set, None, cfg, sampler=sampler)
        scores: dict[str, float] = {}
        extra: dict = {}
        for test_name, idx in test_sets.items():
            idx = torch.as_tensor(idx).long()
            s = classification_scores(labels[idx], predict_labels(model, features[idx]), n_classes)
            for key in ("accuracy", "balanced_accuracy", "macro_f1"):
                scores[f"{test_name}/{key}"] = s[key]
            scores[f"{test_name}/minority_recall"] = float(np.nanmean(s["per_class_recall"][minority]))
            extra[f"{test_name}/per_class_recall"] = s["per_class_recall"]
        results[name] = RunResult(name, history, scores, extra, model)
    return results


# --------------------------------------------------------------------------------------------
# Leakage


def group_overlap(train_groups: Sequence[object], test_groups: Sequence[object]) -> float:
    """Share of the test items whose group (source recording, artist) also occurs in training (0–1)."""
    if len(test_groups) == 0:
        raise ValueError("test_groups is empty.")
    seen = set(train_groups)
    return sum(g in seen for g in test_groups) / len(test_groups)


def run_leakage(
    features: torch.Tensor,
    labels: torch.Tensor,
    groups: Sequence[object],
    *,
    n_classes: int,
    folds: Sequence[int] | None = None,
    test_fold: int = 1,
    test_fraction: float = 0.3,
    epochs: int = 15,
    batch_size: int = 16,
    config: TrainConfig | None = None,
    seed: int = 0,
) -> dict[str, RunResult]:
    """Train the same CNN on a leaky split and on a split grouped by source, and score the test sets.

    * ``"grouped by source"``: with ``folds`` (ESC-50's official folds, which keep all takes of a
      source in one fold) the test set is fold ``test_fold``; without, a
      :func:`~course_lib.splits.grouped_split` — every source entirely in training or in test;
    * ``"leaky (random clips)"``: a :func:`~course_lib.splits.stratified_split` over clips with a test
      set of the same size — takes of one source recording (ESC-50 ``src_file``; a GTZAN artist)
      land on both sides.

    Models, epochs and seeds are the same for both; only the split differs.

    Args:
        features: ``(N, 1, n_mels, frames)``.
        labels: ``(N,)``.
        groups: ``(N,)`` source of each clip.
        n_classes: number of classes.
        folds: ``(N,)`` fold of each clip, or ``None``.
        test_fold: the fold held out when ``folds`` is given.
        test_fraction: share of clips held out when ``folds`` is ``None``.
        epochs, batch_size, config, seed: training settings (no validation, no early stopping).

    Returns:
        ``{split: RunResult}`` with scores ``test_accuracy``, ``macro_f1``, ``overlap`` (share of
        test clips whose source is in training) and ``n_test``; ``extra["split"]`` holds the indices.
    """
    groups = list(groups)
    labels = torch.as_tensor(labels).long()
    if len(groups) != len(labels) or len(features) != len(labels):
        raise ValueError(f"features, labels and groups must have one entry per clip: {len(features)}, {len(labels)}, {len(groups)}.")
    if folds is not None:
        folds_t = torch.as_tensor(list(folds)).long()
        if folds_t.shape != labels.shape:
            raise ValueError(f"folds must have one entry per clip ({len(labels)}), got {tuple(folds_t.shape)}.")
        if not bool((folds_t == test_fold).any()):
            raise ValueError(f"test_fold={test_fold} does not occur in folds {sorted(set(folds_t.tolist()))}.")
        test = (folds_t == test_fold).nonzero().flatten()
        grouped = Split((folds_t != test_fold).nonzero().flatten(), torch.zeros(0, dtype=torch.long), test)
        test_fraction = len(test) / len(labels)
    else:
        grouped = grouped_split(groups, val_fraction=0.0, test_fraction=test_fraction, seed=seed)
    if config is None:
        config = EXPERIMENT_RECIPE.train_config(label_smoothing=0.0)
    base = dict(epochs=epochs, batch_size=batch_size, progress=False, seed=seed, early_stopping_patience=None, restore_best=False)
    cfg = dataclasses.replace(config, **base)
    splits = {
        "leaky (random clips)": stratified_split(labels, val_fraction=0.0, test_fraction=test_fraction, seed=seed),
        "grouped by source": grouped,
    }
    results: dict[str, RunResult] = {}
    for name, split in splits.items():
        model = experiment_model(n_classes, features.shape[2], dropout=0.3, seed=seed)
        history = fit(model, FeatureDataset(features[split.train], labels[split.train]), None, cfg)
        s = classification_scores(labels[split.test], predict_labels(model, features[split.test]), n_classes)
        overlap = group_overlap([groups[i] for i in split.train.tolist()], [groups[i] for i in split.test.tolist()])
        results[name] = RunResult(
            name, history,
            {"test_accuracy": s["accuracy"], "macro_f1": s["macro_f1"], "overlap": overlap, "n_test": float(len(split.test))},
            {"split": split}, model,
        )
    return results


# --------------------------------------------------------------------------------------------
# Normalisation


def seed_standardize(features: torch.Tensor) -> torch.Tensor:
    """The seed chapter's per-example normalisation, ``(x - x.mean()) / x.std()`` — kept to show its defect.

    A constant example (a silent clip: every log-mel bin at the floor) has ``std() == 0`` and
    becomes ``0 / 0 = NaN`` everywhere. Use :func:`course_lib.features.standardize` instead, which
    adds a small ``eps`` to the variance and maps a constant example to zeros.

    Shape: ``(n_mels, frames)`` or ``(1, n_mels, frames)`` → same. Introduced in chapter 6.
    """
    if not isinstance(features, torch.Tensor) or not torch.is_floating_point(features):
        raise TypeError(f"seed_standardize expects a float tensor, got {type(features).__name__}.")
    return (features - features.mean()) / features.std()


def band_statistics(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-mel-band mean and standard deviation over a set of examples and all their frames.

    Dataset-level normalisation (the alternative to per-example standardisation) subtracts these
    and divides by them. They must come from the **training** set only.

    Args:
        features: ``(N, 1, n_mels, frames)`` (e.g. unstandardised log-mel in dB).

    Returns:
        ``(mean, std)``, each ``(1, n_mels, 1)`` (broadcasts against one example). Introduced in chapter 6.
    """
    if not isinstance(features, torch.Tensor) or features.ndim != 4 or features.shape[0] == 0:
        raise ValueError(f"features must be a non-empty (N, 1, n_mels, frames) tensor, got {getattr(features, 'shape', type(features))}.")
    mean = features.mean(dim=(0, 3)).unsqueeze(-1)
    std = features.std(dim=(0, 3)).unsqueeze(-1)
    return mean, std


def apply_band_statistics(features: torch.Tensor, stats: tuple[torch.Tensor, torch.Tensor], *, eps: float = 1e-5) -> torch.Tensor:
    """``(features - mean) / (std + eps)`` with ``stats`` from :func:`band_statistics`; same shape as ``features``."""
    mean, std = stats
    return (features - mean) / (std + eps)


def run_statistics_leak(
    train_features: torch.Tensor,
    train_labels: torch.Tensor,
    test_features: torch.Tensor,
    test_labels: torch.Tensor,
    *,
    n_classes: int,
    epochs: int = 15,
    batch_size: int = 16,
    config: TrainConfig | None = None,
    seed: int = 0,
) -> dict:
    """Dataset-level normalisation with statistics from the training set vs. from the test set.

    One model is trained on training features normalised with the training set's per-band
    statistics. The test set is then normalised three ways and scored: with the training
    statistics (the honest pipeline: at deployment clips arrive one at a time and no test set
    exists), with statistics of training + test (the "fit the scaler on everything" mistake) and
    with the test set's own statistics.

    Args:
        train_features, test_features: ``(N, 1, n_mels, frames)`` log-mel in dB, **not** standardised.
        train_labels, test_labels: ``(N,)``.
        n_classes, epochs, batch_size, config, seed: training settings.

    Returns:
        ``{"stats": {name: (mean, std)}, "max_mean_diff_db": {name: float}, "max_std_diff_db":
        {name: float}, "test_accuracy": {name: float}, "history": History, "model": nn.Module}``
        where ``name`` is ``"train only"``, ``"train + test"``, ``"test only"``, and the differences
        are measured against ``"train only"`` (dB, largest over the mel bands).
    """
    if config is None:
        config = EXPERIMENT_RECIPE.train_config(label_smoothing=0.0)
    base = dict(epochs=epochs, batch_size=batch_size, progress=False, seed=seed, early_stopping_patience=None, restore_best=False)
    cfg = dataclasses.replace(config, **base)
    stats = {
        "train only": band_statistics(train_features),
        "train + test": band_statistics(torch.cat([train_features, test_features])),
        "test only": band_statistics(test_features),
    }
    model = experiment_model(n_classes, train_features.shape[2], dropout=0.3, seed=seed)
    train_norm = apply_band_statistics(train_features, stats["train only"])
    history = fit(model, FeatureDataset(train_norm, train_labels), None, cfg)
    accuracy = {name: _eval_accuracy(model, apply_band_statistics(test_features, st), torch.as_tensor(test_labels)) for name, st in stats.items()}
    ref_mean, ref_std = stats["train only"]
    return {
        "stats": stats,
        "max_mean_diff_db": {name: float((m - ref_mean).abs().max()) for name, (m, _) in stats.items()},
        "max_std_diff_db": {name: float((s - ref_std).abs().max()) for name, (_, s) in stats.items()},
        "test_accuracy": accuracy,
        "history": history,
        "model": model,
    }


# --------------------------------------------------------------------------------------------
# The chapter's settings, in one place: the notebook runs these, and the tests check their claims.


@dataclass
class PitfallPool:
    """The synthetic pool chapter 6 draws its training and test sets from.

    Attributes:
        waveforms: ``(N, 1, samples)`` at ``EXPERIMENT_RECIPE.sample_rate`` Hz.
        labels: ``(N,)``; ``n_per_class`` clips of each of ``class_names``, class by class.
        features: ``(N, 1, n_mels, frames)`` standardised log-mel (``EXPERIMENT_RECIPE``).
        class_names: label ``i`` is ``class_names[i]``.
    """

    waveforms: torch.Tensor
    labels: torch.Tensor
    features: torch.Tensor
    class_names: tuple[str, ...]

    def per_class(self, start: int, stop: int) -> torch.Tensor:
        """Indices of clips ``start..stop-1`` of every class (the pool is ordered class by class)."""
        return torch.cat([(self.labels == c).nonzero().flatten()[start:stop] for c in range(len(self.class_names))])


def make_pitfall_pool(n_per_class: int = 40, n_classes: int = 8, *, seed: int = 0) -> PitfallPool:
    """``n_per_class`` synthetic clips of the first ``n_classes`` classes, with their features."""
    from .synthetic import CLASS_NAMES, SyntheticConfig, make_synthetic_dataset

    if not 2 <= n_classes <= len(CLASS_NAMES):
        raise ValueError(f"n_classes must be in [2, {len(CLASS_NAMES)}], got {n_classes}.")
    config = SyntheticConfig(sample_rate=EXPERIMENT_RECIPE.sample_rate, class_names=CLASS_NAMES[:n_classes])
    data = make_synthetic_dataset(n_per_class, config=config, seed=seed)
    features = compute_features(data.waveforms, EXPERIMENT_RECIPE.feature_extractor())
    return PitfallPool(data.waveforms, data.labels, features, data.class_names)


#: Chapter 6's minority classes (``am_tone`` and ``low_noise_burst`` of the synthetic set).
MINORITY_CLASSES: tuple[int, ...] = (3, 6)


def overfitting_demo(pool: PitfallPool, *, seed: int = 0) -> dict[str, RunResult]:
    """Chapter 6's overfitting runs: 6 training clips per class, 10 validation clips per class, 40 epochs."""
    train, val = pool.per_class(0, 6), pool.per_class(30, 40)
    return run_overfitting(
        pool.waveforms[train], pool.labels[train], pool.features[val], pool.labels[val],
        n_classes=len(pool.class_names), sample_rate=EXPERIMENT_RECIPE.sample_rate, epochs=40, n_views=6, seed=seed,
    )


def imbalance_demo(pool: PitfallPool, *, seed: int = 0) -> tuple[dict[str, RunResult], dict[str, torch.Tensor]]:
    """Chapter 6's imbalance runs: 30 clips of each majority class, 3 of each minority class (10:1).

    Test sets: ``"balanced"`` (10 clips of every class) and ``"imbalanced"`` (the same clips, but
    only 1 of each minority class: the training set's 10:1 ratio).

    Returns:
        ``(results, indices)`` with ``indices`` holding ``"train"``, ``"balanced"`` and ``"imbalanced"``.
    """
    first = pool.per_class(0, 30)
    train = first[make_imbalanced_indices(pool.labels[first], minority_classes=MINORITY_CLASSES, n_majority=30, ratio=10, seed=seed)]
    balanced = pool.per_class(30, 40)
    imbalanced = torch.cat([
        balanced[pool.labels[balanced] == c][: 1 if c in MINORITY_CLASSES else None] for c in range(len(pool.class_names))
    ])
    tests = {"balanced": balanced, "imbalanced": imbalanced}
    results = run_imbalance(
        pool.features, pool.labels, train, tests, n_classes=len(pool.class_names), minority_classes=MINORITY_CLASSES,
        epochs=15, seed=seed,
    )
    return results, {"train": train, **tests}


def leakage_layout_config():
    """The synthetic ESC-50 layout of chapter 6's leakage run: 1 s clips at 16 kHz, 8 classes."""
    from .layouts import esc50_config
    from .synthetic import CLASS_NAMES

    return esc50_config(
        sample_rate=EXPERIMENT_RECIPE.sample_rate, duration_s=1.0, event_duration_s=(0.25, 0.6), n_distractors=2,
        class_names=CLASS_NAMES[:8],
    )


def leakage_demo(root, *, seed: int = 0) -> tuple[dict[str, RunResult], object]:
    """Chapter 6's leakage runs on a synthetic ESC-50 layout written to ``root`` (10 sources per class, up to 3 takes).

    The grouped split tests on official fold 1; the leaky split tests on as many random clips.

    Returns:
        ``(results, dataset)`` with the :class:`~course_lib.datasets.ESC50Dataset` read from ``root``.
    """
    from pathlib import Path

    from .datasets import ESC50Dataset
    from .layouts import write_esc50_layout

    root = Path(root)
    if not (root / "meta" / "esc50.csv").exists():
        write_esc50_layout(root, sources_per_class=10, max_takes=3, config=leakage_layout_config(), seed=seed)
    dataset = ESC50Dataset(root, sample_rate=EXPERIMENT_RECIPE.sample_rate, duration_s=1.0)
    features, kept = dataset.to_features(EXPERIMENT_RECIPE.feature_extractor())
    groups = [dataset.groups[i] for i in kept]
    folds = [dataset.folds[i] for i in kept]
    results = run_leakage(
        features.features, features.labels, groups, folds=folds, test_fold=1, n_classes=len(dataset.class_names),
        epochs=15, seed=seed,
    )
    return results, dataset


def statistics_demo(pool: PitfallPool, *, test_gain_db: float = -12.0, seed: int = 0) -> dict:
    """Chapter 6's normalisation-statistics run: 15 training clips per class; the test clips
    (10 per class) recorded ``test_gain_db`` dB quieter. Features are log-mel in dB, not standardised."""
    feature = EXPERIMENT_RECIPE.feature_extractor()
    train, test = pool.per_class(0, 15), pool.per_class(30, 40)
    train_features = compute_features(pool.waveforms[train], feature, standardize=False)
    test_features = compute_features(pool.waveforms[test] * 10 ** (test_gain_db / 20), feature, standardize=False)
    return run_statistics_leak(
        train_features, pool.labels[train], test_features, pool.labels[test], n_classes=len(pool.class_names),
        epochs=15, seed=seed,
    )


# --------------------------------------------------------------------------------------------
# Reading the numbers honestly


def percent(fraction: float, decimals: int = 1) -> float:
    """``100 * fraction`` rounded half up to ``decimals`` places: one rounding rule for tables and prose.

    ``round()``, f-strings and pandas round the *binary* value half to even, so on one page
    ``0.6125`` can print as 61.3 (its product with 100 is 61.250000000000007) and ``0.7125`` as
    71.2. Accuracies are counts over a test set: six decimals hold them exactly (for fewer than a
    million examples) and drop float32 noise (``57 / 80`` in float32 is 0.71249998), so the
    fraction is read to six decimals and then rounded half up.

    >>> percent(0.6125), percent(0.7125), percent(0.7124999761581421), percent(1 / 3)
    (61.3, 71.3, 71.3, 33.3)
    """
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float, np.floating)) or not math.isfinite(fraction):
        raise ValueError(f"percent needs a finite number (a fraction such as 0.75), got {fraction!r}.")
    value = Decimal(f"{float(fraction):.6f}") * 100
    return float(value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def sampling_error(fraction: float, n: int) -> float:
    """Binomial standard error of an accuracy measured on ``n`` examples, as a fraction: ``sqrt(p (1 - p) / n)``.

    What the test set's size alone makes uncertain, before any other seed or split is tried.

    >>> round(sampling_error(0.75, 80), 4)
    0.0484
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive number of examples, got {n!r}.")
    if not 0.0 <= float(fraction) <= 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {fraction!r}.")
    return math.sqrt(float(fraction) * (1.0 - float(fraction)) / int(n))


def _wrap_line(line: str, width: int) -> list[str]:
    """Break a long code line after ``", "`` (inside brackets), continuation indented 4 more spaces."""
    indent = " " * (len(line) - len(line.lstrip()) + 4)
    out: list[str] = []
    while len(line) > width:
        cuts = [i for i in range(len(indent), width) if line.startswith(", ", i)
                and line[:i].count('"') % 2 == 0 and line[:i].count("'") % 2 == 0]  # never inside a string
        if not cuts:
            break
        cut = cuts[-1]
        out.append(line[: cut + 1])
        line = indent + line[cut + 2 :]
    return out + [line]


def code_without_docstring(function: Callable, *, checks: bool = False, width: int = 88) -> str:
    """The source of ``function`` without its docstring (and its input checks): the lines that do the work.

    Chapter 6 prints the code it discusses; the docstring (shapes, arguments) is in the reference,
    and the boundary checks (``if <bad input>: raise ...`` at the top of the body) teach nothing
    about the pitfall, so they are replaced by one comment unless ``checks=True``. Lines longer than
    ``width`` characters are broken after a comma, so the page never scrolls sideways.
    """
    source = textwrap.dedent(inspect.getsource(function))
    node = ast.parse(source).body[0]
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        raise TypeError(f"code_without_docstring expects a function or class, got {type(function).__name__}.")
    lines = source.splitlines()
    drop: list[tuple[int, int]] = []
    body = list(node.body)
    if ast.get_docstring(node) is not None:
        drop.append((body[0].lineno, body[0].end_lineno))
        body = body[1:]
    n_checks = 0
    if not checks:
        for statement in body:
            if isinstance(statement, ast.If) and not statement.orelse and all(isinstance(b, ast.Raise) for b in statement.body):
                drop.append((statement.lineno, statement.end_lineno))
                n_checks += 1
    first_check = min((a for a, _ in drop[-n_checks:]), default=None) if n_checks else None
    kept: list[str] = []
    for number, line in enumerate(lines, start=1):
        if any(a <= number <= b for a, b in drop):
            if number == first_check:
                kept.append(" " * body[0].col_offset + f"# ... {n_checks} input check{'s' if n_checks > 1 else ''} left out ...")
            continue
        kept.extend(_wrap_line(line, width))
    return "\n".join(kept).rstrip() + "\n"
