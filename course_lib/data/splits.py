"""Train / validation / test splits that do not lie: stratified, grouped, and ESC-50's official folds.

Introduced in chapter 2 (``book/chapters/ch02_first_cnn.ipynb``; chapter 3 explains the grouped and
ESC-50 splits); chapter 6 measures what a leaky
split does, and chapter 7 runs the official ESC-50 cross-validation.

* :func:`stratified_split` – a seeded split that keeps every class's share in every part;
* :func:`grouped_split` – a split in which a *group* (an ESC-50 ``src_file``, a GTZAN artist) never
  sits on both sides, so recordings of the same source cannot leak from training into testing;
* :func:`esc50_cv_folds` – the official 5-fold cross-validation of ESC-50 (train on four folds,
  test on the fifth, five times), with validation carved out of the training folds by group.

All of them return index tensors into the dataset and are deterministic for a given ``seed``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

__all__ = [
    "Split",
    "stratified_split",
    "grouped_split",
    "stratified_grouped_split",
    "esc50_cv_folds",
    "make_imbalanced_indices",
    "group_overlap",
]


@dataclass
class Split:
    """Index tensors (``int64``) of one split into a dataset."""

    train: torch.Tensor
    val: torch.Tensor
    test: torch.Tensor

    def __iter__(self):
        return iter((self.train, self.val, self.test))


def _check_fraction(value: float, name: str) -> None:
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be a fraction in [0, 1), got {value!r}.")


def _as_labels(labels: Sequence[int] | torch.Tensor) -> torch.Tensor:
    labels = torch.as_tensor(labels)
    if labels.ndim != 1 or labels.dtype.is_floating_point:
        raise ValueError(f"labels must be a 1-D sequence of integer class indices, got shape {tuple(labels.shape)}, {labels.dtype}.")
    return labels.long()


def _part_sizes(n: int, val_fraction: float, test_fraction: float) -> tuple[int, int]:
    """How many of a class's ``n`` items (or groups) go to test and to validation.

    Rounded shares of ``n``; a class of three or more gets at least one in each non-zero part; the
    test part is cut first, so validation never takes more than what is left.
    """
    n_test = int(round(n * test_fraction))
    n_val = int(round(n * val_fraction))
    if n >= 3:
        n_test = max(n_test, 1) if test_fraction > 0 else 0
        n_val = max(n_val, 1) if val_fraction > 0 else 0
    n_test = min(n_test, n)
    return n_test, min(n_val, n - n_test)


def stratified_split(
    labels: Sequence[int] | torch.Tensor,
    *,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    seed: int = 0,
) -> Split:
    """Split indices so that each class keeps the same share in train, validation and test.

    Within each class the indices are shuffled (seeded) and cut at ``test_fraction`` and
    ``val_fraction`` of its size (rounded, at least one example per non-zero part when the class has
    three or more). The returned indices are sorted.

    Args:
        labels: ``(N,)`` class indices.
        val_fraction, test_fraction: shares of each class, in ``[0, 1)``; their sum below 1.
        seed: seed of the shuffle.

    Returns:
        :class:`Split` of index tensors, pairwise disjoint and covering ``range(N)``.
    """
    labels = _as_labels(labels)
    _check_fraction(val_fraction, "val_fraction")
    _check_fraction(test_fraction, "test_fraction")
    if val_fraction + test_fraction >= 1.0:
        raise ValueError(f"val_fraction + test_fraction must be < 1, got {val_fraction} + {test_fraction}.")
    generator = torch.Generator().manual_seed(int(seed))
    parts: dict[str, list[torch.Tensor]] = {"train": [], "val": [], "test": []}
    for cls in torch.unique(labels).tolist():
        idx = (labels == cls).nonzero().flatten()
        idx = idx[torch.randperm(len(idx), generator=generator)]
        n_test, n_val = _part_sizes(len(idx), val_fraction, test_fraction)
        parts["test"].append(idx[:n_test])
        parts["val"].append(idx[n_test : n_test + n_val])
        parts["train"].append(idx[n_test + n_val :])
    out = {k: torch.sort(torch.cat(v))[0] if v else torch.zeros(0, dtype=torch.long) for k, v in parts.items()}
    return Split(out["train"], out["val"], out["test"])


def grouped_split(
    groups: Sequence[object],
    *,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    seed: int = 0,
) -> Split:
    """Split indices so that all items of one group land in the same part.

    Groups (e.g. ESC-50 ``src_file`` or GTZAN artists) are shuffled (seeded) and assigned whole to
    test, validation and train until each part holds about its share of *items*.

    Args:
        groups: ``(N,)`` group identifiers (any hashable values).
        val_fraction, test_fraction: approximate shares of the items.
        seed: seed of the shuffle.

    Returns:
        :class:`Split`; no group appears in two parts.
    """
    _check_fraction(val_fraction, "val_fraction")
    _check_fraction(test_fraction, "test_fraction")
    if val_fraction + test_fraction >= 1.0:
        raise ValueError(f"val_fraction + test_fraction must be < 1, got {val_fraction} + {test_fraction}.")
    groups = list(groups)
    if not groups:
        raise ValueError("grouped_split got no items.")
    members: dict[object, list[int]] = {}
    for i, g in enumerate(groups):
        members.setdefault(g, []).append(i)
    keys = list(members)
    order = torch.randperm(len(keys), generator=torch.Generator().manual_seed(int(seed))).tolist()
    n = len(groups)
    targets = {"test": test_fraction * n, "val": val_fraction * n}
    parts: dict[str, list[int]] = {"train": [], "val": [], "test": []}
    for k in order:
        items = members[keys[k]]
        for part in ("test", "val"):
            if len(parts[part]) + len(items) / 2 <= targets[part]:
                parts[part].extend(items)
                break
        else:
            parts["train"].extend(items)
    out = {k: torch.tensor(sorted(v), dtype=torch.long) for k, v in parts.items()}
    return Split(out["train"], out["val"], out["test"])


def esc50_cv_folds(
    folds: Sequence[int] | torch.Tensor,
    *,
    groups: Sequence[object] | None = None,
    val_fraction: float = 0.0,
    seed: int = 0,
) -> list[Split]:
    """The official ESC-50 cross-validation: for each fold ``k``, test on fold ``k``, train on the rest.

    ESC-50's folds were made so that takes of one source recording (``src_file``) share a fold;
    never shuffle clips across folds. Results are reported as mean ± standard deviation over the
    five test folds.

    Args:
        folds: ``(N,)`` fold number (1–5) of each clip.
        groups: ``(N,)`` ``src_file`` of each clip; with ``val_fraction > 0`` the validation set is
            carved out of the training folds by group, so no source spans train and validation.
        val_fraction: share of the training clips held out for validation (early stopping).
        seed: seed of the validation carve-out.

    Returns:
        One :class:`Split` per fold, in fold order; each clip is in exactly one test set.
    """
    folds = torch.as_tensor(folds).long()
    if folds.ndim != 1 or folds.numel() == 0:
        raise ValueError("folds must be a non-empty 1-D sequence of fold numbers.")
    values = sorted(torch.unique(folds).tolist())
    if len(values) < 2:
        raise ValueError(f"cross-validation needs at least 2 folds, found {values}.")
    if groups is not None and len(groups) != len(folds):
        raise ValueError(f"groups has {len(groups)} entries but folds has {len(folds)}.")
    splits: list[Split] = []
    for k in values:
        test = (folds == k).nonzero().flatten()
        train = (folds != k).nonzero().flatten()
        val = torch.zeros(0, dtype=torch.long)
        if val_fraction > 0:
            train_groups = [groups[i] for i in train.tolist()] if groups is not None else train.tolist()
            inner = grouped_split(train_groups, val_fraction=val_fraction, test_fraction=0.0, seed=seed + k)
            val = train[inner.val]
            train = train[inner.train]
        splits.append(Split(train, val, test))
    return splits


def stratified_grouped_split(
    labels: Sequence[int] | torch.Tensor,
    groups: Sequence[object] | torch.Tensor,
    *,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    seed: int = 0,
) -> Split:
    """A split that is grouped (a group never sits in two parts) *and* stratified by class.

    For data where each group has one class — the windows cut from one recording, the takes of one
    ESC-50 source — the groups of each class are shuffled (seeded) and dealt whole: about
    ``test_fraction`` of the class's *groups* to test, ``val_fraction`` to validation, the rest to
    training; a class with three or more groups gets at least one in each non-zero part. Unlike
    :func:`grouped_split`, no class can be missing from the test set by chance.

    Args:
        labels: ``(N,)`` class index of each item.
        groups: ``(N,)`` group of each item (any hashable values).
        val_fraction, test_fraction: shares of each class's groups, in ``[0, 1)``; sum below 1.
        seed: seed of the shuffle.

    Returns:
        :class:`Split` of sorted index tensors; no group appears in two parts.

    Raises:
        ValueError: lengths differ, or a group holds items of two classes (name the group).
    """
    labels = _as_labels(labels)
    _check_fraction(val_fraction, "val_fraction")
    _check_fraction(test_fraction, "test_fraction")
    if val_fraction + test_fraction >= 1.0:
        raise ValueError(f"val_fraction + test_fraction must be < 1, got {val_fraction} + {test_fraction}.")
    groups = groups.tolist() if isinstance(groups, torch.Tensor) else list(groups)
    if len(groups) != len(labels):
        raise ValueError(f"got {len(labels)} labels but {len(groups)} groups.")
    if not groups:
        raise ValueError("stratified_grouped_split got no items.")
    members: dict[object, list[int]] = {}
    label_of: dict[object, int] = {}
    for i, (g, y) in enumerate(zip(groups, labels.tolist())):
        if label_of.setdefault(g, y) != y:
            raise ValueError(f"group {g!r} holds items of classes {label_of[g]} and {y}; each group must have one class.")
        members.setdefault(g, []).append(i)
    generator = torch.Generator().manual_seed(int(seed))
    parts: dict[str, list[int]] = {"train": [], "val": [], "test": []}
    for cls in sorted(set(label_of.values())):
        keys = [g for g in members if label_of[g] == cls]
        keys = [keys[i] for i in torch.randperm(len(keys), generator=generator).tolist()]
        n_test, n_val = _part_sizes(len(keys), val_fraction, test_fraction)
        for part, chosen in (("test", keys[:n_test]), ("val", keys[n_test : n_test + n_val]), ("train", keys[n_test + n_val :])):
            for g in chosen:
                parts[part].extend(members[g])
    out = {k: torch.tensor(sorted(v), dtype=torch.long) for k, v in parts.items()}
    return Split(out["train"], out["val"], out["test"])


# --------------------------------------------------------------------------------------------
# Subsets and checks of a split (chapter 6: class imbalance, leakage between groups).


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


def group_overlap(train_groups: Sequence[object], test_groups: Sequence[object]) -> float:
    """Share of the test items whose group (source recording, artist) also occurs in training (0–1)."""
    if len(test_groups) == 0:
        raise ValueError("test_groups is empty.")
    seen = set(train_groups)
    return sum(g in seen for g in test_groups) / len(test_groups)

