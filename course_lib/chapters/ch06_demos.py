"""Chapter 6's runs with its own settings, over several seeds, and how the chapter reads its numbers.

Used by ``book/chapters/ch06_pitfalls.ipynb``: every experiment runs once per seed of
:data:`CHAPTER_SEEDS` (:func:`over_seeds`; the seed changes the initial weights, the batches and
the augmentation, while the data and its split stay fixed unless the split is the lesson), and the
page reports every arm as mean ± spread over the seeds (:class:`Spread`) and compares arms seed by
seed (:func:`compare`). ``tests/test_experiments.py`` checks that every claim the chapter makes
holds over the same seeds. The experiments themselves are in
:mod:`course_lib.chapters.ch06_pitfalls`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..data.esc50 import ESC50Dataset, esc50_config, write_esc50_layout
from ..data.splits import make_imbalanced_indices
from ..data.synthetic import CLASS_NAMES, SyntheticConfig, make_synthetic_dataset
from ..features import compute_features
from ..runs import RunResult
from ..showcode import code_without_docstring
from .ch06_pitfalls import run_imbalance, run_leakage, run_overfitting, run_statistics_leak
from .ch06_tools import EXPERIMENT_RECIPE

__all__ = [
    "CHAPTER_SEEDS",
    "over_seeds",
    "Spread",
    "spread_of",
    "scores_over_seeds",
    "Comparison",
    "compare",
    "plot_over_seeds",
    "PitfallPool",
    "make_pitfall_pool",
    "MINORITY_CLASSES",
    "overfitting_demo",
    "imbalance_demo",
    "leakage_layout_config",
    "LeakageData",
    "load_leakage_data",
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


def imbalance_demo(
    pool: PitfallPool, *, seed: int = 0, data_seed: int = 0
) -> tuple[dict[str, RunResult], dict[str, torch.Tensor]]:
    """Chapter 6's imbalance runs: 30 clips of each majority class, 3 of each minority class (10:1).

    Test sets: ``"balanced"`` (10 clips of every class) and ``"imbalanced"`` (the same clips, but
    only 1 of each minority class: the training set's 10:1 ratio). ``data_seed`` picks the three
    minority clips kept (the same for every training ``seed``).

    Returns:
        ``(results, indices)`` with ``indices`` holding ``"train"``, ``"balanced"`` and ``"imbalanced"``.
    """
    first = pool.per_class(0, 30)
    chosen = make_imbalanced_indices(pool.labels[first], minority_classes=MINORITY_CLASSES, n_majority=30, ratio=10,
                                     seed=data_seed)
    train = first[chosen]
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


@dataclass
class LeakageData:
    """Chapter 6's synthetic ESC-50 layout, read once and turned into features.

    Attributes:
        dataset: the :class:`~course_lib.data.esc50.ESC50Dataset` read from the layout.
        features: ``(N, 1, n_mels, frames)`` standardised log-mel (``EXPERIMENT_RECIPE``).
        labels: ``(N,)``.
        groups: ``(N,)`` source recording (``src_file``) of every clip.
        folds: ``(N,)`` official fold of every clip.
    """

    dataset: ESC50Dataset
    features: torch.Tensor
    labels: torch.Tensor
    groups: list[object]
    folds: list[int]


def load_leakage_data(root: str | Path, *, data_seed: int = 0) -> LeakageData:
    """Write chapter 6's synthetic ESC-50 layout to ``root`` (10 sources per class, up to 3 takes;
    kept if already there) and compute its features once, for every seed of :func:`leakage_demo`."""
    root = Path(root)
    if not (root / "meta" / "esc50.csv").exists():
        write_esc50_layout(root, sources_per_class=10, max_takes=3, config=leakage_layout_config(), seed=data_seed)
    dataset = ESC50Dataset(root, sample_rate=EXPERIMENT_RECIPE.sample_rate, duration_s=1.0)
    features, kept = dataset.to_features(EXPERIMENT_RECIPE.feature_extractor())
    return LeakageData(dataset, features.features, features.labels, [dataset.groups[i] for i in kept],
                       [dataset.folds[i] for i in kept])


def leakage_demo(data: LeakageData, *, seed: int = 0) -> dict[str, RunResult]:
    """Chapter 6's leakage runs on :func:`load_leakage_data`'s clips.

    The grouped split tests on official fold 1 (the same for every seed); the leaky split tests on
    as many random clips, drawn with ``seed`` (the split is this lesson's subject, so it changes
    with the seed together with the initial weights and the batches).
    """
    return run_leakage(
        data.features, data.labels, data.groups, folds=data.folds, test_fold=1,
        n_classes=len(data.dataset.class_names), epochs=15, seed=seed,
    )


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





# --------------------------------------------------------------------------------------------
# Several seeds: mean, spread, and comparisons seed by seed

#: The seeds every chapter-6 experiment runs with (initial weights, batches, augmentation).
CHAPTER_SEEDS: tuple[int, ...] = (0, 1, 2)


def over_seeds(demo: Callable[..., Any], *args: Any, seeds: Sequence[int] = CHAPTER_SEEDS, **kwargs: Any) -> dict[int, Any]:
    """``{seed: demo(*args, seed=seed, **kwargs)}`` for every seed, in order (the data stays the same)."""
    seeds = [int(s) for s in seeds]
    if len(seeds) < 1 or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct and at least one, got {seeds}.")
    return {seed: demo(*args, seed=seed, **kwargs) for seed in seeds}


@dataclass(frozen=True)
class Spread:
    """One score measured once per seed.

    Attributes:
        values: the score of every seed, in the order of the seeds (fractions for accuracies).

    ``mean``, ``std`` (sample standard deviation over the seeds, ``ddof=1``; 0 for one seed),
    ``low`` and ``high`` (the smallest and largest seed).
    """

    values: tuple[float, ...]

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    @property
    def std(self) -> float:
        return float(np.std(self.values, ddof=1)) if len(self.values) > 1 else 0.0

    @property
    def low(self) -> float:
        return float(min(self.values))

    @property
    def high(self) -> float:
        return float(max(self.values))

    def text(self, *, scale: float = 100.0, decimals: int = 1, unit: str = " %") -> str:
        """``"mean ± std unit"`` (``percent`` rounding; ``scale=100`` turns fractions into percent)."""
        mean = percent(self.mean * scale / 100, decimals)
        std = percent(self.std * scale / 100, decimals)
        return f"{mean:.{decimals}f} ± {std:.{decimals}f}{unit}"


def spread_of(values: Sequence[float]) -> Spread:
    """A :class:`Spread` of finite values (one per seed)."""
    values = tuple(float(v) for v in values)
    if not values or not all(math.isfinite(v) for v in values):
        raise ValueError(f"spread_of needs at least one finite value per seed, got {values}.")
    return Spread(values)


def scores_over_seeds(runs: Mapping[int, Mapping[str, RunResult]], key: str) -> dict[str, Spread]:
    """``{arm: Spread}`` of ``RunResult.scores[key]`` over the seeds of :func:`over_seeds`."""
    if not runs:
        raise ValueError("runs is empty: pass {seed: {arm: RunResult}} from over_seeds.")
    arms = list(next(iter(runs.values())))
    return {arm: spread_of([by_arm[arm].scores[key] for by_arm in runs.values()]) for arm in arms}


@dataclass(frozen=True)
class Comparison:
    """Arm ``a`` minus arm ``b``, seed by seed (both arms of one seed share weights and batches).

    Attributes:
        differences: ``a - b`` for every seed (fractions for accuracies).
    """

    differences: tuple[float, ...]

    @property
    def higher(self) -> int:
        """Seeds on which ``a`` is higher."""
        return sum(d > 1e-9 for d in self.differences)

    @property
    def lower(self) -> int:
        """Seeds on which ``a`` is lower."""
        return sum(d < -1e-9 for d in self.differences)

    @property
    def consistent(self) -> bool:
        """``a`` is higher on every seed, or lower on every seed."""
        n = len(self.differences)
        return self.higher == n or self.lower == n

    @property
    def mean(self) -> float:
        return float(np.mean(self.differences))

    def text(self, *, higher: str = "higher", lower: str = "lower", scale: float = 100.0, unit: str = "points") -> str:
        """What the seeds support, in words: the same sign on every seed (with the smallest and largest
        difference), or how the seeds split (with the mean difference).

        >>> compare(spread_of([0.8, 0.7, 0.95]), spread_of([0.7, 0.6, 0.8])).text()
        'higher on all 3 seeds (by 10.0 to 15.0 points)'
        >>> compare(spread_of([0.8, 0.6, 0.7]), spread_of([0.7, 0.7, 0.7])).text()
        'higher on 1 of 3 seeds, lower on 1, equal on 1: not the same on every seed (mean difference 0.0 points)'
        """
        n = len(self.differences)

        def points(value: float) -> str:
            return f"{percent(value * scale / 100, 1):.1f}"

        if self.consistent:
            word = higher if self.higher == n else lower
            small, large = sorted((min(abs(d) for d in self.differences), max(abs(d) for d in self.differences)))
            size = points(small) if points(small) == points(large) else f"{points(small)} to {points(large)}"
            return f"{word} on all {n} seeds (by {size} {unit})"
        parts = [f"{higher} on {self.higher} of {n} seeds"]
        if self.lower:
            parts.append(f"{lower} on {self.lower}")
        equal = n - self.higher - self.lower
        if equal:
            parts.append(f"equal on {equal}")
        mean = points(self.mean)
        mean = mean if mean.startswith("-") or mean == "0.0" else "+" + mean
        return ", ".join(parts) + f": not the same on every seed (mean difference {mean} {unit})"


def compare(a: Spread, b: Spread) -> Comparison:
    """Arm ``a`` against arm ``b``, seed by seed (the two spreads must come from the same seeds)."""
    if len(a.values) != len(b.values):
        raise ValueError(f"compare needs one value per seed on both sides, got {len(a.values)} and {len(b.values)}.")
    return Comparison(tuple(x - y for x, y in zip(a.values, b.values, strict=True)))


def plot_over_seeds(ax, spreads: Mapping[str, Spread], *, ylabel: str, scale: float = 100.0, colours=None,
                    offset: float = 0.0, width: float = 0.6, label: str | None = None) -> None:
    """Bars at the mean over seeds, a black line for ± one std, and every seed's value as a dot.

    ``spreads``: ``{x label: Spread}``, drawn at x = 0, 1, 2… (shifted by ``offset`` for grouped bars).
    """
    x = np.arange(len(spreads)) + offset
    means = [scale * s.mean for s in spreads.values()]
    stds = [scale * s.std for s in spreads.values()]
    ax.bar(x, means, width, color=colours, alpha=0.75, label=label, zorder=1)
    ax.errorbar(x, means, yerr=stds, fmt="none", ecolor="black", capsize=4, linewidth=1.2, zorder=3)
    for xi, s in zip(x, spreads.values(), strict=True):
        n = len(s.values)
        jitter = np.linspace(-width / 4, width / 4, n) if n > 1 else np.zeros(1)
        ax.scatter(xi + jitter, [scale * v for v in s.values], s=18, color="black", zorder=4)
    ax.set_ylabel(ylabel)
