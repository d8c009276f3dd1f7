"""The pitfalls of chapter 6, as experiments that measure them (and the fixes that remove them).

Used by chapter 6 (``book/chapters/ch06_pitfalls.ipynb``), which runs every experiment over several
seeds (:mod:`course_lib.chapters.ch06_demos`); ``tests/test_experiments.py`` checks, over the
chapter's seeds, that every fix does what the chapter says it does.

The seed chapter answered "overfitting" and "class imbalance" with dictionaries of advice. Here each
pitfall is a function that trains real models on the same data with and without the fix and
returns the numbers:

* :func:`run_overfitting` – a small training set, trained without any regularisation, then with
  dropout and weight decay, then with waveform and SpecAugment augmentation plus early stopping;
  returns the histories and the measured train–validation gap of each run;
* :func:`run_imbalance` – a training set with a 10:1 class imbalance
  (:func:`course_lib.data.splits.make_imbalanced_indices`); no correction, a class-weighted loss,
  and a :class:`~torch.utils.data.WeightedRandomSampler`,
  compared on accuracy, balanced accuracy, macro-F1 and per-class recall;
* :func:`run_leakage` – the same model trained on a split that puts takes of one source recording
  on both sides, and on a split grouped by source: the inflated score is the difference;
* :func:`seed_standardize` and :func:`run_statistics_leak` – the seed chapter's per-example
  standardisation of a silent clip (NaN), and normalisation statistics
  (:func:`course_lib.features.band_statistics`) taken from the test set.

Every experiment is deterministic for its ``seed`` (the initial weights, the batches, the
augmentation) and small enough to run in seconds on a laptop CPU: every arm is one
:func:`course_lib.runs.train_and_evaluate` call (seed → build → fit → predict → metrics) of the
course's own CNN with narrow layers, and returns its :class:`course_lib.runs.RunResult` with the
arm's scores in ``RunResult.scores``.

The chapter's own settings and demo runs are in :mod:`course_lib.chapters.ch06_demos`; its
recipe, model and measuring tools in :mod:`course_lib.chapters.ch06_tools`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import torch

from ..data.loader import FeatureDataset
from ..data.splits import Split, group_overlap, grouped_split, stratified_split
from ..evaluation import evaluate
from ..features import apply_band_statistics, band_statistics
from ..recipe import Recipe
from ..runs import RunResult
from ..train import TrainConfig, make_weighted_sampler
from .ch06_tools import (
    EXPERIMENT_RECIPE,
    AugmentedViews,
    augmented_views,
    class_names,
    run_accuracy,
    scores_from_metrics,
    train_arm,
)

__all__ = [
    "run_overfitting",
    "run_imbalance",
    "run_leakage",
    "seed_standardize",
    "run_statistics_leak",
]


# --------------------------------------------------------------------------------------------
# Overfitting


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
        ``{arm: RunResult}`` (``RunResult.val``: the validation predictions and metrics) with
        ``scores`` ``train_accuracy``, ``val_accuracy``, ``gap`` (train − val, fractions),
        ``best_epoch``, ``epochs_run`` and ``n_val`` (validation clips).
    """
    if sample_rate != recipe.sample_rate:
        raise ValueError(f"sample_rate={sample_rate} Hz but recipe.sample_rate={recipe.sample_rate} Hz; resample the clips first.")
    feature = recipe.feature_extractor()
    views = augmented_views(train_waveforms, feature, sample_rate=sample_rate, n_views=n_views, seed=seed)
    clean = views[0]
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
            AugmentedViews(views, train_labels, transform=recipe.augmentation()), 0.3,
            recipe.train_config(**base, early_stopping_patience=max(3, epochs // 4), restore_best=True),
        ),
    }
    val_set = FeatureDataset(val_features, val_labels)
    results: dict[str, RunResult] = {}
    for name, (train_set, dropout, config) in arms.items():
        run = train_arm(train_set, val_set, None, config, n_classes=n_classes, n_mels=recipe.n_mels, dropout=dropout,
                         seed=seed, evaluate_val=True)
        train_acc = run_accuracy(run, clean, train_labels)
        val_acc = run.val.accuracy
        run.scores.update({
            "train_accuracy": train_acc, "val_accuracy": val_acc, "gap": train_acc - val_acc,
            "best_epoch": float(run.history.best_epoch or 0), "epochs_run": float(run.history.epochs_run),
            "n_val": float(len(val_labels)),
        })
        results[name] = run
    return results



# --------------------------------------------------------------------------------------------
# Class imbalance


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
      weighted by ``N / (n_classes * count)`` (:func:`~course_lib.train.compute_class_weights`);
    * ``"weighted sampler"``: batches drawn with :func:`~course_lib.train.make_weighted_sampler`,
      so every class is seen about equally often (rare clips repeat).

    No validation set and no early stopping: every arm trains ``epochs`` epochs, so only the
    correction differs.

    Args:
        features: ``(N, 1, n_mels, frames)`` pool of features.
        labels: ``(N,)``.
        train_indices: the imbalanced training subset (:func:`make_imbalanced_indices`).
        test_sets: name → indices of each test set (e.g. a balanced one and one with the training
            set's imbalance); ``RunResult.test`` holds the first one's predictions and metrics.
        n_classes: number of classes.
        minority_classes: the rare classes (their mean recall is reported as ``minority_recall``).
        strategies: which of the three to run.
        epochs, batch_size: training length.
        config: base training settings (default: the experiment recipe's, without label smoothing);
            ``class_weights`` is set by the strategy.
        seed: seeds weights and batches.

    Returns:
        ``{strategy: RunResult}``; ``RunResult.scores`` has ``"{test}/accuracy"``, ``"{test}/balanced_accuracy"``,
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
    tests = {name: torch.as_tensor(idx).long() for name, idx in test_sets.items()}
    first = next(iter(tests.values()), None)
    results: dict[str, RunResult] = {}
    for name in strategies:
        sampler = None
        cfg = dataclasses.replace(config, **base, class_weights="balanced" if name == "class-weighted loss" else None)
        if name == "weighted sampler":
            sampler = make_weighted_sampler(train_set.labels, n_classes=n_classes, seed=seed)
        run = train_arm(train_set, None, None if first is None else (features[first], labels[first]), cfg,
                         n_classes=n_classes, n_mels=features.shape[2], dropout=0.3, seed=seed, sampler=sampler)
        for k, (test_name, idx) in enumerate(tests.items()):
            result = run.test if k == 0 else evaluate(run.model, (features[idx], labels[idx]), class_names(n_classes),
                                                      batch_size=256)
            s = scores_from_metrics(result.metrics)
            for key in ("accuracy", "balanced_accuracy", "macro_f1"):
                run.scores[f"{test_name}/{key}"] = s[key]
            run.scores[f"{test_name}/minority_recall"] = float(np.nanmean(s["per_class_recall"][minority]))
            run.extra[f"{test_name}/per_class_recall"] = s["per_class_recall"]
        results[name] = run
    return results



# --------------------------------------------------------------------------------------------
# Leakage


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
      :func:`~course_lib.data.splits.grouped_split` — every source entirely in training or in test;
    * ``"leaky (random clips)"``: a :func:`~course_lib.data.splits.stratified_split` over clips with a test
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
        ``{split: RunResult}`` (``RunResult.test``: the test predictions and metrics) with
        ``scores`` ``test_accuracy``, ``macro_f1``, ``overlap`` (share of test clips whose source
        is in training) and ``n_test``; ``extra["split"]`` holds the :class:`Split`.
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
        run = train_arm(FeatureDataset(features[split.train], labels[split.train]), None,
                         (features[split.test], labels[split.test]), cfg, n_classes=n_classes,
                         n_mels=features.shape[2], dropout=0.3, seed=seed)
        overlap = group_overlap([groups[i] for i in split.train.tolist()], [groups[i] for i in split.test.tolist()])
        run.scores.update({"test_accuracy": run.test.accuracy, "macro_f1": run.test.macro_f1, "overlap": overlap,
                           "n_test": float(len(split.test))})
        run.extra["split"] = split
        results[name] = run
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
        {name: float}, "test_accuracy": {name: float}, "run": RunResult}`` (the one trained model;
        ``run.test``: the test set with training statistics) where ``name`` is ``"train only"``,
        ``"train + test"``, ``"test only"``, and the differences are measured against
        ``"train only"`` (dB, largest over the mel bands).
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
    train_norm = apply_band_statistics(train_features, stats["train only"])
    test_labels = torch.as_tensor(test_labels).long()
    run = train_arm(FeatureDataset(train_norm, train_labels), None,
                     (apply_band_statistics(test_features, stats["train only"]), test_labels), cfg,
                     n_classes=n_classes, n_mels=train_features.shape[2], dropout=0.3, seed=seed)
    accuracy = {name: run_accuracy(run, apply_band_statistics(test_features, st), test_labels) for name, st in stats.items()}
    ref_mean, ref_std = stats["train only"]
    return {
        "stats": stats,
        "max_mean_diff_db": {name: float((m - ref_mean).abs().max()) for name, (m, _) in stats.items()},
        "max_std_diff_db": {name: float((s - ref_std).abs().max()) for name, (_, s) in stats.items()},
        "test_accuracy": accuracy,
        "run": run,
    }

