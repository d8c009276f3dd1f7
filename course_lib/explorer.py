"""Compatibility module: the STFT explorer of chapter 1 now lives in :mod:`course_lib.chapters.ch01_explorer`.

``course_lib.explorer`` re-exports its names so that existing imports keep working; new code
imports from :mod:`course_lib.chapters.ch01_explorer`.
"""

from __future__ import annotations

from .chapters.ch01_explorer import STFTSetting, compare_settings, demo_clip, resolution_table, spectrogram_explorer

__all__ = ["demo_clip", "STFTSetting", "resolution_table", "compare_settings", "spectrogram_explorer"]
