"""The official ESC-50 cross-validation drawn from a real fold assignment (chapter 7)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ._style import _FONT, _TITLE_FONT, _check_width

__all__ = [
    "cv_folds_diagram",
    "ROLE_COLOURS",
]

#: The colour of each part of a split: training, validation (early stopping), test.
ROLE_COLOURS: dict[str, str] = {"train": "#8fb3d9", "val": "#f4a259", "test": "#c8475a"}

#: The parts of a split, in the order of their codes (0, 1, 2).
_ROLES = ("train", "val", "test")

# Above this many source recordings in one fold the boxes get no outlines (they would be only outline).
_MAX_OUTLINED = 80


def _indices(part, who: str, name: str, n: int) -> np.ndarray:
    values = np.asarray(part.tolist() if isinstance(part, torch.Tensor) else list(part), dtype=np.int64).reshape(-1)
    if values.size and (values.min() < 0 or values.max() >= n):
        raise ValueError(f"{who}: {name} holds clip indices outside 0 … {n - 1}; pass the splits made from these folds.")
    return values


def cv_folds_diagram(
    folds: Sequence[int] | torch.Tensor,
    groups: Sequence[object],
    splits: Sequence,
    *,
    run_folds: Sequence[int] | None = None,
    width: float = 10.0,
) -> Figure:
    """Draw the cross-validation folds and, for every run, which clips train, validate and test.

    The top row shows the folds as they are in the data: each fold a bar of boxes, one box per
    source recording (``groups``, ESC-50's ``src_file``) as wide as its clips, so a reader sees that
    the takes of one recording sit in one fold. Below it, one row per split (one run of the
    cross-validation): the same boxes coloured by the part of the split each clip is in —
    training, validation (carved out of the training folds by source, for early stopping) or test.
    Everything is read from the arguments: the counts, which fold is tested, which sources went to
    validation.

    Args:
        folds: ``(N,)`` fold number of each clip (ESC-50: 1–5).
        groups: ``(N,)`` source recording of each clip (ESC-50's ``src_file``).
        splits: one ``(train, val, test)`` split of clip indices per fold, in fold order, as made by
            :func:`course_lib.data.splits.esc50_cv_folds` (each split's test set must be its fold).
        run_folds: the test folds the run actually trains on (e.g. ``CaseStudyConfig.test_folds``);
            the other rows are drawn faded and marked "not run". Default: all folds.
        width: figure width, inches.

    Returns:
        The figure. Boxes carry gids ``"fold-<k>"`` (top row, one per source), ``"run-<k>-<role>"``
        (``role`` in ``train``, ``val``, ``test``; one per source) and ``"run-<k>-label"``.

    Raises:
        ValueError: lengths differ, a source spans two folds, a split's test set is not its fold,
            the parts of a split overlap or miss a clip, or ``run_folds`` names a fold not in the data.

    Introduced in chapter 7.
    """
    who = "cv_folds_diagram"
    width = _check_width(width, who)
    fold_of = np.asarray(folds.tolist() if isinstance(folds, torch.Tensor) else list(folds), dtype=np.int64).reshape(-1)
    n = fold_of.size
    if n == 0:
        raise ValueError(f"{who}: folds is empty; pass the fold number of every clip (ESC50Features.folds).")
    groups = list(groups)
    if len(groups) != n:
        raise ValueError(f"{who}: groups has {len(groups)} entries but folds has {n}; pass one source per clip.")
    values = sorted(set(fold_of.tolist()))
    splits = list(splits)
    if len(splits) != len(values):
        raise ValueError(
            f"{who}: {len(splits)} splits for {len(values)} folds {values}; pass one split per fold "
            "(course_lib.data.splits.esc50_cv_folds(folds, groups=...))."
        )
    run_folds = values if run_folds is None else sorted({int(k) for k in run_folds})
    unknown = sorted(set(run_folds) - set(values))
    if unknown:
        raise ValueError(f"{who}: run_folds {unknown} are not folds of the data {values}.")

    # Sources in order of first appearance within each fold; one fold per source.
    sources: dict[int, list[object]] = {k: [] for k in values}
    home: dict[object, int] = {}
    clips_of: dict[object, list[int]] = {}
    for i, (k, g) in enumerate(zip(fold_of.tolist(), groups)):
        if g in home and home[g] != k:
            raise ValueError(
                f"{who}: source {g!r} has clips in folds {home[g]} and {k}; the official protocol keeps every "
                "source recording in one fold. Fix: use the dataset's own folds, never a reshuffle."
            )
        if g not in home:
            home[g] = k
            sources[k].append(g)
            clips_of[g] = []
        clips_of[g].append(i)

    roles: list[np.ndarray] = []  # per split: 0 train, 1 val, 2 test for every clip
    for k, split in zip(values, splits):
        try:
            train, val, test = split
        except (TypeError, ValueError):
            raise TypeError(f"{who}: each split must be (train, val, test) index tensors, got {type(split).__name__}.") from None
        role = np.full(n, -1)
        for code, (name, part) in enumerate((("train", train), ("val", val), ("test", test))):
            idx = _indices(part, who, f"split {k}'s {name}", n)
            if (role[idx] != -1).any() or len(np.unique(idx)) != idx.size:
                raise ValueError(f"{who}: in split {k} a clip is in two parts (or twice in {name}); the parts must be disjoint.")
            role[idx] = code
        if (role == -1).any():
            raise ValueError(f"{who}: split {k} leaves {(role == -1).sum()} clips out; train, val and test must cover every clip.")
        if not np.array_equal(np.flatnonzero(role == 2), np.flatnonzero(fold_of == k)):
            raise ValueError(f"{who}: split {k}'s test set is not fold {k}; pass the splits in fold order, one per fold.")
        roles.append(role)

    label_w, gap, margin = 2.75, 0.12, 0.1
    fold_w = (width - label_w - margin - gap * (len(values) - 1)) / len(values)
    row_h, bar_h = 0.62, 0.4
    n_rows = 1 + len(values)
    height = 0.35 + row_h * n_rows + 0.55
    fig, ax = plt.subplots(figsize=(width, height))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")

    def draw_row(y: float, colour_of, gid_of, alpha: float = 1.0) -> None:
        for c, k in enumerate(values):
            x = label_w + c * (fold_w + gap)
            total = int((fold_of == k).sum())
            outline = len(sources[k]) <= _MAX_OUTLINED
            for g in sources[k]:
                w = fold_w * len(clips_of[g]) / total
                ax.add_patch(Rectangle((x, y), w, bar_h, facecolor=colour_of(g), alpha=alpha, gid=gid_of(k, g),
                                       edgecolor="white" if outline else "none", linewidth=0.8))
                x += w

    # Top row: the folds as the data has them.
    y = height - 0.35 - row_h
    ax.text(0.05, y + bar_h / 2, "the data\n(box = one source)", ha="left", va="center", fontsize=_FONT,
            fontweight="bold", gid="data-label")
    draw_row(y, lambda g: "#d9d9d9", lambda k, g: f"fold-{k}")
    for c, k in enumerate(values):
        x = label_w + c * (fold_w + gap)
        ax.text(x + fold_w / 2, y + bar_h + 0.05, f"fold {k}", ha="center", va="bottom", fontsize=_TITLE_FONT,
                fontweight="bold", gid=f"fold-{k}-title")
        ax.text(x + fold_w / 2, y + bar_h / 2, f"{int((fold_of == k).sum())} clips\n{len(sources[k])} sources",
                ha="center", va="center", fontsize=_FONT, linespacing=1.0, gid=f"fold-{k}-text")

    # One row per run.
    for r, (k, role) in enumerate(zip(values, roles)):
        y = height - 0.35 - row_h * (r + 2)
        ran = k in run_folds
        draw_row(y, lambda g, role=role: ROLE_COLOURS[_ROLES[role[clips_of[g][0]]]],
                 lambda kk, g, k=k, role=role: f"run-{k}-{_ROLES[role[clips_of[g][0]]]}", alpha=1.0 if ran else 0.3)
        counts = [int((role == code).sum()) for code in range(3)]
        title = f"test fold {k}" + ("" if ran else " (not run)")
        ax.text(0.05, y + bar_h / 2, f"{title}\ntrain {counts[0]} · val {counts[1]} · test {counts[2]}", ha="left",
                va="center", fontsize=_FONT, linespacing=1.1, color="#222222" if ran else "#888888", gid=f"run-{k}-label")
        x = label_w + values.index(k) * (fold_w + gap)
        ax.text(x + fold_w / 2, y + bar_h / 2, "test", ha="center", va="center", fontsize=_FONT, fontweight="bold",
                color="white", alpha=1.0 if ran else 0.6)

    handles = [Rectangle((0, 0), 1, 1, facecolor=ROLE_COLOURS[r], edgecolor="white") for r in ("train", "val", "test")]
    ax.legend(handles, ["train", "validation (early stopping; sources from the training folds)", "test"],
              loc="lower center", ncol=3, fontsize=_FONT, frameon=False, bbox_to_anchor=(0.5, -0.02),
              handlelength=1.4, columnspacing=1.2)
    fig.subplots_adjust(left=0.005, right=0.995, top=0.99, bottom=0.02)
    return fig
