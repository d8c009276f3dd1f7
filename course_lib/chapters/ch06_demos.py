"""Chapter 6's runs with its own settings, and how the chapter reads its numbers and shows its code.

Used by ``book/chapters/ch06_pitfalls.ipynb``; ``tests/test_experiments.py`` checks, at a fixed
seed, that every fix does what the chapter says it does. The experiments themselves are in
:mod:`course_lib.chapters.ch06_pitfalls`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import torch

from ..data.esc50 import ESC50Dataset, esc50_config, write_esc50_layout
from ..data.splits import make_imbalanced_indices
from ..data.synthetic import CLASS_NAMES, SyntheticConfig, make_synthetic_dataset
from ..features import compute_features
from ..showcode import code_without_docstring
from .ch06_pitfalls import run_imbalance, run_leakage, run_overfitting, run_statistics_leak
from .ch06_tools import EXPERIMENT_RECIPE, RunResult

__all__ = [
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



