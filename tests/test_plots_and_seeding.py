"""course_lib.plots and course_lib.runtime."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_lib.features import LogMelSpectrogram, LogSpectrogram
from course_lib.plots import audio_player, mel_band_centers_hz, plot_spectrogram, plot_waveform
from course_lib.runtime import seed_everything


def test_plot_waveform_axes_are_in_seconds():
    ax = plot_waveform(torch.randn(2, 16000), 16000, title="stereo")
    assert ax.get_xlabel() == "time (s)"
    assert ax.get_xlim()[1] == pytest.approx(15999 / 16000)
    assert len(ax.lines) == 2


def test_plot_spectrogram_mel_and_linear_extents():
    mel = LogMelSpectrogram(sample_rate=16000, n_fft=512, hop_length=160, n_mels=64)(torch.randn(16000))
    ax = plot_spectrogram(mel, 16000, 160, kind="mel")
    assert ax.get_ylabel() == "frequency (Hz, mel scale)"
    lin = LogSpectrogram(n_fft=512, hop_length=160)(torch.randn(1, 16000))
    ax = plot_spectrogram(lin, 16000, 160, kind="linear")
    assert ax.images[0].get_extent()[3] == 8000
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "2k", "4k", "6k", "8k"]
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
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a silent clip (ESC-50 has some) plays silence, no warning
        silent = audio_player(torch.zeros(1, 800), 8000)
    assert silent.data[:4] == b"RIFF" and set(silent.data[44:]) == {0}


def test_seed_everything_makes_runs_repeat():
    g = seed_everything(7)
    a = (torch.rand(3), np.random.rand(3), torch.rand(2, generator=g))
    g = seed_everything(7)
    b = (torch.rand(3), np.random.rand(3), torch.rand(2, generator=g))
    assert torch.equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and torch.equal(a[2], b[2])
    with pytest.raises(ValueError):
        seed_everything(-1)


def test_mel_axis_ticks_are_frequencies_in_hz_at_their_mel_positions():
    from course_lib.plots import mel_axis_position

    n_mels, rate = 64, 16000
    centres = mel_band_centers_hz(n_mels, rate)
    # the centre of band i is drawn at the middle of its pixel row, i + 0.5
    assert np.allclose(mel_axis_position(centres, n_mels, rate), np.arange(n_mels) + 0.5)
    mel = LogMelSpectrogram(sample_rate=rate, n_fft=512, hop_length=160, n_mels=n_mels)(torch.randn(rate))
    ax = plot_spectrogram(mel, rate, 160, kind="mel")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["0", "500", "1k", "2k", "4k", "8k"]
    expected = np.clip(mel_axis_position([0, 500, 1000, 2000, 4000, 8000], n_mels, rate), 0, n_mels)
    assert np.allclose(ax.get_yticks(), expected)
    assert 20 < ax.get_yticks()[2] < 30  # 1 kHz lies between the centres of bands 20 (880 Hz) and 30
    assert ax.get_ylabel() == "frequency (Hz, mel scale)"
    # a mel bank from 20 Hz to 4 kHz (22.05 kHz audio): ticks stay inside the bank, positions follow it
    ax = plot_spectrogram(mel, 22050, 512, kind="mel", f_min_hz=20, f_max_hz=4000)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["500", "1k", "2k", "4k"]
    assert ax.get_yticks()[-1] == n_mels
    with pytest.raises(ValueError, match="Nyquist"):
        plot_spectrogram(mel, 16000, 160, kind="mel", f_max_hz=11025)


def test_plot_spectrogram_zooms_to_a_frequency_range():
    from course_lib.plots import mel_axis_position

    lin = LogSpectrogram(n_fft=1024, hop_length=256)(torch.randn(1, 16000))
    ax = plot_spectrogram(lin, 16000, 256, kind="linear", f_range_hz=(0, 2000))
    assert ax.get_ylim() == (0, 2000)
    assert ax.get_yticks().tolist() == [0, 500, 1000, 1500, 2000]  # a linear axis: evenly spaced ticks
    assert [t.get_text() for t in ax.get_yticklabels()][-1] == "2k"
    mel = LogMelSpectrogram(sample_rate=16000, n_fft=512, hop_length=160, n_mels=64)(torch.randn(16000))
    ax = plot_spectrogram(mel, 16000, 160, kind="mel", f_range_hz=(0, 2000))
    assert ax.get_ylim()[1] == pytest.approx(float(mel_axis_position(2000, 64, 16000)))
    assert "1k" in [t.get_text() for t in ax.get_yticklabels()]
    with pytest.raises(ValueError, match="f_range_hz"):
        plot_spectrogram(lin, 16000, 256, kind="linear", f_range_hz=(0, 9000))
    with pytest.raises(ValueError, match="MFCC"):
        plot_spectrogram(torch.zeros(13, 50), 16000, 160, kind="mfcc", f_range_hz=(0, 100))
