"""What every diagram shares: fonts, colours, boxes, arrows, argument checks."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from .._checks import check_number

#: Smallest font size (points) any diagram uses: 10 px where a 10-inch figure is shown in the
#: book's 684-pixel column (measured at a 1280-pixel window).
MIN_FONT_PT = 10.5
_FONT = 11.0
_TITLE_FONT = 12.5
_LEARNS = "#f4a259"  # orange: weights that learn
_FROZEN = "#9db4c8"  # grey-blue: weights that do not
_STAGE_COLOURS = ("#dbe9f6", "#fde7c8")


def _check_width(width: float, who: str) -> float:
    """A figure width in inches that fits the book's column (about 10 inches)."""
    return check_number(width, "width", minimum=6.0, maximum=16.0, owner=who, expected="between 6 and 16 inches",
                        fix="the book's column is about 10 inches wide")


def _mono_numpy(waveform: torch.Tensor | np.ndarray, who: str) -> np.ndarray:
    data = waveform.detach().cpu().double().numpy() if isinstance(waveform, torch.Tensor) else np.asarray(waveform, dtype=np.float64)
    if data.ndim == 2 and data.shape[0] == 1:
        data = data[0]
    if data.ndim != 1:
        raise ValueError(
            f"{who} draws one channel: expected a waveform shaped (samples,) or (1, samples), got {tuple(data.shape)}. "
            "Fix: mix it down first with course_lib.audio_io.to_mono."
        )
    if not np.isfinite(data).all():
        raise ValueError(f"{who}: the waveform holds NaN or infinite samples; fix the audio before drawing it.")
    return data


def _box(ax, x: float, y: float, w: float, h: float, text: str, *, colour: str, gid: str, fontsize: float = _FONT,
         edge: str = "#444444") -> FancyBboxPatch:
    """A rounded box: the first line of ``text`` bold at the top, the others centred below it.

    Coordinates are in the axes' data units (the diagrams use inches).
    """
    patch = FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.0,rounding_size=0.08", facecolor=colour,
                           edgecolor=edge, linewidth=1.0, gid=gid)
    ax.add_patch(patch)
    title, *rest = text.split("\n")
    line = fontsize / 72 * 1.25  # one line of text, inches
    if rest:
        ax.text(x + w / 2, y + h - 0.07, title, ha="center", va="top", fontsize=fontsize, fontweight="bold",
                gid=gid + "-title")
        ax.text(x + w / 2, y + (h - 0.07 - line) / 2, "\n".join(rest), ha="center", va="center", fontsize=fontsize,
                linespacing=1.15, gid=gid + "-text")
    else:
        ax.text(x + w / 2, y + h / 2, title, ha="center", va="center", fontsize=fontsize, fontweight="bold",
                gid=gid + "-title")
    return patch


def _arrow(ax, start: tuple[float, float], end: tuple[float, float], *, gid: str | None = None,
           colour: str = "#333333", style: str = "-|>", lw: float = 1.3, connection: str = "arc3") -> FancyArrowPatch:
    arrow = FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=12, color=colour, linewidth=lw,
                            connectionstyle=connection, gid=gid, shrinkA=0, shrinkB=0)
    ax.add_patch(arrow)
    return arrow


def _shape(shape: Sequence[int]) -> str:
    return "(" + ", ".join(str(int(s)) for s in shape) + ")"
