"""course_lib.plots and course_lib.seeding."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_lib.features import LogMelSpectrogram, LogSpectrogram
from course_lib.plots import audio_player, mel_band_centers_hz, plot_spectrogram, plot_waveform
from course_lib.seeding import seed_everything


def test_plot_waveform_axes_are_in_seconds():
    ax = plot_waveform(torch.randn(2, 16000), 16000, title="stereo")
    assert ax.get_xlabel() == "time (s)"
    assert ax.get_xlim()[1] == pytest.approx(15999 / 16000)
    assert len(ax.lines) == 2


def test_plot_spectrogram_mel_and_linear_extents():
    mel = LogMelSpectrogram(sample_rate=16000, n_fft=512, hop_length=160, n_mels=64)(torch.randn(16000))
    ax = plot_spectrogram(mel, 16000, 160, kind="mel")
    assert ax.get_ylabel() == "mel band centre (Hz)"
    lin = LogSpectrogram(n_fft=512, hop_length=160)(torch.randn(1, 16000))
    ax = plot_spectrogram(lin, 16000, 160, kind="linear")
    assert ax.images[0].get_extent()[3] == 8000
    with pytest.raises(ValueError):
        plot_spectrogram(torch.zeros(2, 3, 4), 16000, 160)


def test_mel_band_centres_are_increasing_and_inside_the_band():
    centres = mel_band_centers_hz(64, 16000)
    assert np.all(np.diff(centres) > 0)
    assert 0 < centres[0] < centres[-1] < 8000


def test_audio_player_embeds_a_wav():
    player = audio_player(torch.randn(1, 8000) * 0.1, 8000)
    assert player.data[:4] == b"RIFF"
    with pytest.raises(ValueError, match="NaN"):
        audio_player(torch.full((100,), float("nan")), 8000)


def test_seed_everything_makes_runs_repeat():
    g = seed_everything(7)
    a = (torch.rand(3), np.random.rand(3), torch.rand(2, generator=g))
    g = seed_everything(7)
    b = (torch.rand(3), np.random.rand(3), torch.rand(2, generator=g))
    assert torch.equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and torch.equal(a[2], b[2])
    with pytest.raises(ValueError):
        seed_everything(-1)
