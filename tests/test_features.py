"""course_lib.features: shapes for every input layout, the frame-count formula, silence, short clips."""

from __future__ import annotations

import math

import pytest
import torch

from course_lib.features import (
    LogMelSpectrogram,
    LogSpectrogram,
    MFCCFeatures,
    Standardize,
    frame_count,
    standardize,
)


@pytest.mark.parametrize("sample_rate, n_fft, hop, n_mels", [(16000, 512, 160, 64), (22050, 1024, 512, 128), (44100, 2048, 441, 40)])
@pytest.mark.parametrize("n_samples", [2048, 16000, 22051])
def test_logmel_shapes_for_all_layouts_follow_the_formula(sample_rate, n_fft, hop, n_mels, n_samples):
    if n_samples < n_fft:
        pytest.skip("covered by the short-clip test")
    mel = LogMelSpectrogram(sample_rate=sample_rate, n_fft=n_fft, hop_length=hop, n_mels=n_mels)
    frames = 1 + n_samples // hop
    assert mel.num_frames(n_samples) == frames == frame_count(n_samples, hop)
    assert mel(torch.randn(n_samples)).shape == (n_mels, frames)
    assert mel(torch.randn(2, n_samples)).shape == (2, n_mels, frames)
    assert mel(torch.randn(3, 1, n_samples)).shape == (3, 1, n_mels, frames)


def test_linear_spectrogram_has_n_fft_over_2_plus_1_bins():
    spec = LogSpectrogram(n_fft=1024, hop_length=256)
    out = spec(torch.randn(4, 1, 16000))
    assert out.shape == (4, 1, 513, 1 + 16000 // 256)


def test_mfcc_shapes():
    mfcc = MFCCFeatures(sample_rate=16000, n_mfcc=13, n_fft=512, hop_length=160, n_mels=40)
    assert mfcc(torch.randn(16000)).shape == (13, 101)
    assert mfcc(torch.randn(2, 16000)).shape == (2, 13, 101)
    assert mfcc(torch.randn(5, 1, 16000)).shape == (5, 1, 13, 101)
    with pytest.raises(ValueError, match="n_mfcc"):
        MFCCFeatures(n_mfcc=50, n_mels=40)


def test_frame_count_without_centering():
    assert frame_count(16000, 160, n_fft=400, center=False) == 1 + (16000 - 400) // 160
    assert frame_count(100, 160, n_fft=400, center=False) == 0
    with pytest.raises(ValueError):
        frame_count(100, 160, center=False)


def test_logmel_peak_is_at_the_tone_frequency():
    sr = 16000
    t = torch.arange(sr) / sr
    tone = torch.sin(2 * math.pi * 1000 * t)
    mel = LogMelSpectrogram(sample_rate=sr, n_fft=1024, hop_length=256, n_mels=64)
    band = mel(tone).mean(dim=-1).argmax().item()
    # mel band centres, HTK scale as torchaudio uses by default
    mel_max = 2595 * math.log10(1 + (sr / 2) / 700)
    centre = 700 * (10 ** (mel_max * (band + 1) / 65 / 2595) - 1)
    assert 800 < centre < 1250


def test_silence_gives_finite_features_never_nan():
    silent = torch.zeros(1, 16000)
    for module in (LogMelSpectrogram(sample_rate=16000), LogSpectrogram(), MFCCFeatures(sample_rate=16000)):
        out = module(silent)
        assert torch.isfinite(out).all(), type(module).__name__
    z = standardize(LogMelSpectrogram(sample_rate=16000)(silent))
    assert torch.isfinite(z).all() and z.abs().max() == 0


def test_seed_style_standardisation_of_silence_is_nan_ours_is_not():
    """Regression test for the seed's `(x - mean) / std` on a constant example."""
    features = torch.full((1, 64, 50), -100.0)
    seed_style = (features - features.mean()) / features.std()
    assert torch.isnan(seed_style).all()
    assert torch.isfinite(standardize(features)).all()


def test_standardize_is_per_example_with_unit_variance():
    x = torch.cat([torch.randn(1, 1, 8, 20) * 3 + 5, torch.randn(1, 1, 8, 20) * 0.1 - 2])
    z = standardize(x)
    torch.testing.assert_close(z.mean(dim=(1, 2, 3)), torch.zeros(2), atol=1e-5, rtol=0)
    torch.testing.assert_close(z.std(dim=(1, 2, 3), unbiased=False), torch.ones(2), atol=1e-3, rtol=0)
    torch.testing.assert_close(Standardize()(x), z)
    with pytest.raises(ValueError, match="shape"):
        standardize(torch.zeros(10))
    with pytest.raises(ValueError, match="eps"):
        standardize(torch.zeros(2, 3), eps=0)


def test_clip_shorter_than_n_fft_gets_a_clear_error():
    mel = LogMelSpectrogram(sample_rate=16000, n_fft=1024)
    with pytest.raises(ValueError, match=r"fewer than n_fft=1024.*fix_length"):
        mel(torch.randn(1, 500))
    with pytest.raises(ValueError, match="n_fft"):
        LogSpectrogram(n_fft=1024)(torch.randn(100))


def test_bad_inputs_to_feature_modules():
    mel = LogMelSpectrogram(sample_rate=16000)
    with pytest.raises(ValueError, match="NaN"):
        mel(torch.full((1, 4096), float("nan")))
    one_inf = torch.zeros(2, 1, 4096)
    one_inf[1, 0, 7] = float("inf")
    with pytest.raises(ValueError, match="NaN or infinite"):
        mel(one_inf)
    # finite samples whose sum overflows float16 are still accepted (the quick check falls back to the full one)
    loud = torch.ones(1, 70000, dtype=torch.float16)
    assert not torch.isfinite(loud.sum())
    from course_lib.features import _check_waveform

    _check_waveform(loud, 1024, 16000, "test")
    with pytest.raises(TypeError):
        mel(torch.zeros(1, 4096, dtype=torch.int16))
    with pytest.raises(ValueError, match="shape"):
        mel(torch.zeros(1, 1, 1, 4096))
    with pytest.raises(ValueError, match="Nyquist"):
        LogMelSpectrogram(sample_rate=16000, f_max_hz=9000)


def test_top_db_limits_the_range_per_example():
    mel = LogMelSpectrogram(sample_rate=16000, top_db=80.0)
    x = torch.stack([torch.randn(1, 16000), torch.randn(1, 16000) * 1e-3])
    out = mel(x)
    ranges = out.amax(dim=(1, 2, 3)) - out.amin(dim=(1, 2, 3))
    assert (ranges <= 80.0 + 1e-3).all()


@pytest.mark.parametrize("power", [1.0, 2.0])
@pytest.mark.parametrize("window", ["hann", "hamming"])
def test_logmel_equals_torchaudio_melspectrogram_then_db(power, window):
    """LogMelSpectrogram computes the power spectrum itself (re² + im², no square root): the result is
    torchaudio's MelSpectrogram + AmplitudeToDB, for every layout."""
    torch.manual_seed(0)
    module = LogMelSpectrogram(sample_rate=16000, n_fft=512, hop_length=160, win_length=400, n_mels=40,
                               f_min_hz=20.0, power=power, window=window)
    for shape in [(3200,), (2, 3200), (3, 1, 3200)]:
        x = torch.randn(shape) * 0.1
        expected = module.to_db(module.mel(x))
        torch.testing.assert_close(module(x), expected, rtol=1e-5, atol=1e-4)
