"""course_lib.chapters.ch01_explorer: the resolution table is measured, the figure and the widget build."""

from __future__ import annotations

import pytest
import torch

from course_lib.chapters.ch01_explorer import (
    STFTSetting,
    compare_settings,
    demo_clip,
    resolution_table,
    spectrogram_explorer,
)
from course_lib.features import WINDOWS, LogMelSpectrogram


def test_demo_clip_is_deterministic_and_in_range():
    a, b = demo_clip(16000), demo_clip(16000)
    assert a.shape == (1, 32000) and torch.equal(a, b)
    assert a.abs().max() < 1.0
    with pytest.raises(ValueError, match="8000"):
        demo_clip(4000)


def test_resolution_table_reports_measured_shapes_and_units():
    clip = demo_clip(16000)
    rows = resolution_table(clip, 16000, [STFTSetting(256, 64), STFTSetting(1024, 256, n_mels=64)])
    assert rows[0]["shape"] == (1, 129, 1 + 32000 // 64)
    assert rows[1]["shape"] == (1, 64, 1 + 32000 // 256)
    assert rows[0]["bin_hz"] == pytest.approx(62.5) and rows[1]["hop_ms"] == pytest.approx(16.0)


def test_compare_settings_draws_one_panel_per_setting():
    fig = compare_settings(demo_clip(16000), 16000, [STFTSetting(256, 64), STFTSetting(512, 128), STFTSetting(1024, 256, 32)])
    assert sum(1 for ax in fig.axes if ax.images) == 3


def test_explorer_widget_has_every_control():
    widget = spectrogram_explorer(demo_clip(16000), 16000)
    names = {child.description for child in widget.children if hasattr(child, "description")}
    assert {"n_fft", "hop", "n_mels", "window", "dB range"} <= names


@pytest.mark.parametrize("window", sorted(WINDOWS))
def test_every_window_works(window):
    assert LogMelSpectrogram(sample_rate=16000, window=window)(torch.randn(4096)).shape == (128, 9)


def test_unknown_window_is_refused():
    with pytest.raises(ValueError, match="window"):
        LogMelSpectrogram(window="kaiser-bessel")
