"""Where the takes of each recording land: a leaky split beside a split by source (chapter 6).

The diagram is drawn from a real split (index tensors and the source of every clip), so the takes it
places on either side are where the page's experiment put them. Below the clips it draws the second
leak chapter 6 measures: normalisation statistics computed over every clip, test clips included,
beside statistics from the training clips alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .._checks import check_int
from ._style import _FONT, _STAGE_COLOURS, _TITLE_FONT, _arrow, _box, _check_width

__all__ = [
    "split_diagram",
    "LEAK_COLOUR",
]

#: Colour of everything that leaks (the dashed links, the leaky statistics).
LEAK_COLOUR = "#c0392b"
_OK_COLOUR = "#2e7d32"
# one colour per drawn recording (colour-blind friendly, light enough for black letters)
_SOURCE_COLOURS = ("#8ecae6", "#ffb703", "#b5e48c", "#f4acb7", "#cdb4db", "#ffd6a5", "#a0c4ff", "#d8e2dc")
_PARTS = ("train", "val", "test")
_PART_LABELS = {"train": "train", "val": "validation", "test": "test"}


def _indices(split: object, part: str, n_clips: int, who: str) -> list[int]:
    value = getattr(split, part, None)
    if value is None:
        raise TypeError(
            f"{who}: a split needs train, val and test index tensors (course_lib.data.splits.Split), "
            f"got {type(split).__name__} without {part!r}."
        )
    indices = torch.as_tensor(value).long().flatten().tolist()
    bad = [i for i in indices if not 0 <= i < n_clips]
    if bad:
        raise ValueError(f"{who}: split.{part} holds indices {bad[:3]} outside the {n_clips} clips of groups.")
    return indices


def _placement(split: object, n_clips: int, who: str) -> dict[int, str]:
    """Clip index → the part (``"train"``, ``"val"``, ``"test"``) it is in."""
    where: dict[int, str] = {}
    for part in _PARTS:
        for i in _indices(split, part, n_clips, who):
            if i in where:
                raise ValueError(f"{who}: clip {i} is in both {where[i]} and {part}; a split's parts must be disjoint.")
            where[i] = part
    if not any(part == "test" for part in where.values()):
        raise ValueError(f"{who}: the split has no test clips; there is nothing to leak into.")
    return where


def _leaking_sources(groups: list[object], where: dict[int, str]) -> list[object]:
    parts: dict[object, set[str]] = {}
    for i, part in where.items():
        parts.setdefault(groups[i], set()).add(part)
    return [g for g, p in parts.items() if len(p) > 1]


def _choose_sources(groups: list[object], leaky_where: dict[int, str], n_sources: int) -> list[object]:
    """Recordings to draw: up to half of them straddle the leaky split, the rest do not (in order of appearance)."""
    takes: dict[object, int] = {}
    for g in groups:
        takes[g] = takes.get(g, 0) + 1
    several = [g for g in takes if takes[g] > 1 and any(groups[i] == g for i in leaky_where)]
    leaking = set(_leaking_sources(groups, leaky_where))
    straddle = [g for g in several if g in leaking]
    clean = [g for g in several if g not in leaking]
    n_leak = min(len(straddle), (n_sources + 1) // 2)
    chosen = straddle[:n_leak] + clean[: n_sources - n_leak]
    chosen += [g for g in straddle[n_leak:]][: n_sources - len(chosen)]
    return sorted(chosen, key=list(takes).index)


def _share_in_training(groups: list[object], where: dict[int, str]) -> float:
    seen = {groups[i] for i, part in where.items() if part == "train"}
    test = [groups[i] for i, part in where.items() if part == "test"]
    return sum(g in seen for g in test) / len(test)


def split_diagram(
    groups: Sequence[object],
    leaky: object,
    grouped: object,
    *,
    n_sources: int = 6,
    titles: tuple[str, str] = ("leaky: random clips", "fixed: grouped by source"),
    show_statistics: bool = True,
    width: float = 10.0,
) -> Figure:
    """Draw where the takes of a few source recordings land in a leaky split and in a grouped one.

    Left panel: the ``leaky`` split (e.g. :func:`course_lib.data.splits.stratified_split` over
    clips); right panel: the ``grouped`` split (:func:`~course_lib.data.splits.grouped_split`, or
    ESC-50's official folds). Each row is one source recording, each square one of its takes
    (lettered A, B, C… in the order of ``groups``), placed in the column of the part it is in. A
    recording with takes on both sides of a split is linked by a red dashed line: the model can be
    tested on a recording it trained on. The drawn recordings are chosen from those with two or
    more takes (up to half of them straddling the leaky split); the caption under each panel counts
    over **all** clips. With ``show_statistics`` a strip below shows where the normalisation
    statistics come from: every clip (leaky) or the training clips only (fixed).

    Args:
        groups: ``(N,)`` source recording of every clip (ESC-50's ``src_file``; an artist).
        leaky, grouped: splits of those ``N`` clips, each with ``train``, ``val`` and ``test`` index
            tensors (:class:`course_lib.data.splits.Split`; ``val`` may be empty, and then no
            validation column is drawn).
        n_sources: recordings drawn per panel (2 … 8).
        titles: the two panels' titles.
        show_statistics: draw the normalisation-statistics strip.
        width: figure width, inches (the book's column is about 10).

    Returns:
        The figure. Gids: ``"panel-0"`` / ``"panel-1"``; ``"part-<p>-<part>"`` (column regions);
        ``"take-<p>-<row>-<k>"`` (squares); ``"leak-<p>-<row>"`` (the dashed links);
        ``"caption-<p>"``; ``"stats-<p>"`` (the statistics box).

    Raises:
        TypeError: a split without ``train`` / ``val`` / ``test``.
        ValueError: indices outside ``groups``, a clip in two parts, a split without test clips,
            ``n_sources`` outside 2 … 8, no recording with two takes, a bad ``width``.

    Introduced in chapter 6.
    """
    who = "split_diagram"
    groups = list(groups)
    if not groups:
        raise ValueError(f"{who}: groups is empty; pass the source recording of every clip.")
    n_sources = check_int(n_sources, "n_sources", minimum=2, maximum=len(_SOURCE_COLOURS), owner=who, allow_numpy=True)
    width = _check_width(width, who)
    placements = [_placement(split, len(groups), who) for split in (leaky, grouped)]
    sources = _choose_sources(groups, placements[0], n_sources)
    if not sources:
        raise ValueError(f"{who}: no source recording has two or more takes in the split, so none can leak. "
                         "Fix: pass the groups of a dataset with several takes per recording (ESC-50's src_file).")
    colours = {g: _SOURCE_COLOURS[k] for k, g in enumerate(sources)}
    takes = {g: [i for i, h in enumerate(groups) if h == g] for g in sources}
    max_takes = min(max(len(v) for v in takes.values()), 5)

    row_h, square = 0.42, 0.32
    top_band = 0.95  # panel title + column headers
    rows_h = row_h * len(sources)
    stats_h = 1.0 if show_statistics else 0.0
    caption_h = 0.62
    height = top_band + rows_h + 0.1 + stats_h + caption_h + 0.12
    fig, ax = plt.subplots(figsize=(width, height))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")

    panel_gap, margin = 0.25, 0.05
    panel_w = (width - 2 * margin - panel_gap) / 2
    label_w = 1.2  # the "recording k" labels
    rows_top = height - top_band
    columns_bottom = rows_top - rows_h - 0.08
    for p, (split, where, title) in enumerate(zip((leaky, grouped), placements, titles, strict=True)):
        x0 = margin + p * (panel_w + panel_gap)
        share = _share_in_training(groups, where)
        ax.add_patch(Rectangle((x0, 0.03), panel_w, height - 0.06, facecolor="#f7f7f7", edgecolor="#bbbbbb",
                               linewidth=0.8, gid=f"panel-{p}"))
        ax.text(x0 + panel_w / 2, height - 0.27, title, ha="center", va="center", fontsize=_TITLE_FONT,
                fontweight="bold", color=LEAK_COLOUR if share > 0 else _OK_COLOUR, gid=f"title-{p}")
        parts = [part for part in _PARTS if part != "val" or len(_indices(split, "val", len(groups), who))]
        col_gap = 0.12
        col_w = (panel_w - label_w - 0.1 - col_gap * (len(parts) - 1)) / len(parts)
        col_x = {}
        for k, part in enumerate(parts):
            cx = x0 + label_w + k * (col_w + col_gap)
            col_x[part] = cx
            ax.add_patch(Rectangle((cx, columns_bottom), col_w, rows_h + 0.16,
                                   facecolor=_STAGE_COLOURS[0] if part != "test" else _STAGE_COLOURS[1],
                                   edgecolor="#999999", linewidth=0.8, gid=f"part-{p}-{part}"))
            ax.text(cx + col_w / 2, rows_top + 0.22, _PART_LABELS[part], ha="center", va="center", fontsize=_FONT,
                    fontweight="bold")
        for row, g in enumerate(sources):
            y = rows_top - (row + 0.5) * row_h
            ax.text(x0 + 0.1, y, f"recording {row + 1}", ha="left", va="center", fontsize=_FONT)
            placed: dict[str, list[float]] = {}
            for k, i in enumerate(takes[g][:max_takes]):
                part = where.get(i)
                if part is None:  # a clip the split does not use
                    continue
                slot = len(placed.setdefault(part, []))
                sx = col_x[part] + 0.08 + slot * (square + 0.06)
                _box(ax, sx, y - square / 2, square, square, chr(ord("A") + k), colour=colours[g],
                     gid=f"take-{p}-{row}-{k}", fontsize=_FONT)
                placed[part].append(sx)
            used = [part for part in parts if part in placed]
            if len(used) > 1:  # one recording on both sides: the leak
                start, end = placed[used[0]][-1] + square, placed[used[-1]][0]
                link = _arrow(ax, (start, y), (end, y), colour=LEAK_COLOUR, style="-", lw=1.8, gid=f"leak-{p}-{row}")
                link.set_linestyle((0, (3, 2)))
        if show_statistics:
            box_h = 0.62
            by = columns_bottom - 0.3 - box_h
            if share > 0:
                text, colour, feeds = "normalisation statistics\nmean, std of every clip, test included", "#f6d5d1", parts
            else:
                text, colour, feeds = "normalisation statistics\nmean, std of the training clips only", "#d8efd9", ["train"]
            _box(ax, x0 + 0.2, by, panel_w - 0.4, box_h, text, colour=colour, gid=f"stats-{p}", fontsize=_FONT)
            for part in feeds:
                cx = col_x[part] + col_w / 2
                _arrow(ax, (cx, columns_bottom), (cx, by + box_h), gid=f"stats-from-{p}-{part}",
                       colour=LEAK_COLOUR if part != "train" else "#333333")
            caption_top = by - 0.08
        else:
            caption_top = columns_bottom - 0.1
        n_straddle = len(_leaking_sources(groups, where))
        n_groups = len({groups[i] for i in where})
        caption = (f"{round(100 * share)} % of the test clips have a take of\n"
                   f"their recording in training ({n_straddle} of {n_groups} recordings split)")
        ax.text(x0 + panel_w / 2, caption_top, caption, ha="center", va="top", fontsize=_FONT,
                color=LEAK_COLOUR if share > 0 else _OK_COLOUR, gid=f"caption-{p}")
    fig.subplots_adjust(left=0.0, right=1.0, top=1.0, bottom=0.0)
    return fig
