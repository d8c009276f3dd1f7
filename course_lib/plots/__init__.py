"""Figures and players for audio: waveform, spectrogram, audio player, training figures.

Introduced in chapter 1. Axes are always labelled in physical units (seconds, Hz, dB) so that a
reader never has to convert frame or bin indices in their head. One module per job:
``spectrogram`` (waveform, spectrogram, Hz ticks of a mel axis, the representations grid),
``training`` (loss / accuracy curves, confusion matrix), ``listening`` (players, listening and
mistakes grids, log-mel thumbnails) and ``_style`` (the book's figure sizes).
"""

from __future__ import annotations

# The figures live in one module per job; this package re-exports them, so
# ``from course_lib.plots import ...`` works as before (``X as X``: re-exported, not in __all__).
from ._style import COLUMN_WIDTH_PX, rendered_px
from ._style import FIGURE_DPI as FIGURE_DPI
from ._style import FULL_WIDTH_IN as FULL_WIDTH_IN
from .listening import _thumbnail_png as _thumbnail_png
from .listening import audio_player, listening_grid, mistakes_grid
from .spectrogram import (
    hz_label,
    mel_axis_position,
    mel_band_centers_hz,
    plot_representations,
    plot_spectrogram,
    plot_waveform,
)
from .training import plot_confusion_matrix, plot_history

__all__ = [
    "plot_waveform",
    "plot_spectrogram",
    "mel_band_centers_hz",
    "mel_axis_position",
    "hz_label",
    "COLUMN_WIDTH_PX",
    "rendered_px",
    "audio_player",
    "listening_grid",
    "mistakes_grid",
    "plot_representations",
    "plot_history",
    "plot_confusion_matrix",
]
