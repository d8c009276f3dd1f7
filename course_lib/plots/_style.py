"""The book's figure sizes: how big a figure's text is on the page (introduced in chapter 1).

Shared by every figure module of :mod:`course_lib.plots`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

# The book's text column is about 700 px wide at a 1280 px browser window (the browser test measures
# pages at that size). A figure wider than that is scaled down to it, and its fonts with it: a figure
# W inches wide shows a font of F points at F / 72 * COLUMN_WIDTH_PX / W px (capped at the figure's
# natural size, 100 px per inch). Figures here are at most 9.6 inches wide, so that their smallest
# text (10 pt) stays at 10 px or more on the page.
COLUMN_WIDTH_PX = 700
FIGURE_DPI = 100  # matplotlib's default, which the book's PNGs use
FULL_WIDTH_IN = 9.0  # a figure filling the column: 900 px, shown at 700 px


def rendered_px(fig: plt.Figure, font_pt: float) -> float:
    """How tall a font of ``font_pt`` points in ``fig`` is on the book's page, in CSS pixels.

    A figure wider than the column (:data:`COLUMN_WIDTH_PX`) is scaled down to fit it; a narrower one
    is shown at its natural size (:data:`FIGURE_DPI` pixels per inch).
    """
    width_px = fig.get_figwidth() * FIGURE_DPI
    scale = min(1.0, COLUMN_WIDTH_PX / width_px)
    return font_pt / 72.0 * FIGURE_DPI * scale


def _to_numpy(x: torch.Tensor | np.ndarray) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().float().numpy()
    return np.asarray(x, dtype=np.float32)
