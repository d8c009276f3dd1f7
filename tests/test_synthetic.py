"""Tests of course_lib.data.synthetic: shapes, determinism, metadata, difficulty knobs, bad input."""

from __future__ import annotations

import math

import pytest
import torch

from course_lib.data.synthetic import (
    CLASS_NAMES,
    ClipInfo,
    SyntheticConfig,
    generate_batch,
    generate_clip,
    make_synthetic_dataset,
)
from course_lib.features import LogMelSpectrogram


def test_at_least_ten_distinct_classes():
    assert len(CLASS_NAMES) >= 10
    assert len(set(CLASS_NAMES)) == len(CLASS_NAMES)


def test_dataset_shapes_types_and_labels():
    config = SyntheticConfig()
    ds = make_synthetic_dataset(3, seed=1)
    n = 3 * len(CLASS_NAMES)
    assert len(ds) == n
    assert ds.waveforms.shape == (n, 1, config.n_samples)
    assert ds.waveforms.dtype == torch.float32
    assert ds.labels.dtype == torch.long and ds.labels.shape == (n,)
    assert ds.class_names == CLASS_NAMES and ds.sample_rate == config.sample_rate
    assert torch.equal(torch.bincount(ds.labels), torch.full((len(CLASS_NAMES),), 3))
    assert torch.isfinite(ds.waveforms).all() and ds.waveforms.abs().max() <= 0.99 + 1e-6
    waveform, label = ds[4]
    assert waveform.shape == (1, config.n_samples) and label == int(ds.labels[4])
    for clip, label in zip(ds.info, ds.labels.tolist()):
        assert isinstance(clip, ClipInfo) and clip.label == label and clip.class_name == CLASS_NAMES[label]


def test_metadata_is_consistent_with_config():
    config = SyntheticConfig(snr_db=(0.0, 5.0), event_duration_s=(0.3, 0.4))
    ds = make_synthetic_dataset(4, config=config, seed=2)
    for clip in ds.info:
        assert 0.0 <= clip.onset_s < clip.offset_s <= config.duration_s + 1e-6
        assert 0.3 - 1e-6 <= clip.offset_s - clip.onset_s <= 0.4 + 1e-6
        assert 0.0 <= clip.snr_db <= 5.0


def test_same_seed_same_data_other_seed_other_data():
    a = make_synthetic_dataset(2, seed=7)
    b = make_synthetic_dataset(2, seed=7)
    c = make_synthetic_dataset(2, seed=8)
    assert torch.equal(a.waveforms, b.waveforms) and a.info == b.info
    assert not torch.equal(a.waveforms, c.waveforms)


def test_generate_clip_shape_and_generator_reproducibility():
    config = SyntheticConfig(duration_s=0.5, event_duration_s=(0.1, 0.2))
    w1, i1 = generate_clip(3, config=config, generator=torch.Generator().manual_seed(0))
    w2, i2 = generate_clip(3, config=config, generator=torch.Generator().manual_seed(0))
    assert w1.shape == (1, 8000) and torch.equal(w1, w2) and i1 == i2 and i1.class_name == CLASS_NAMES[3]


def _event_energy_profile(label: int, seed: int = 0) -> torch.Tensor:
    # A clean event (very high SNR, no distractors), mel energy over time.
    config = SyntheticConfig(snr_db=(60.0, 60.0), n_distractors=0, event_duration_s=(0.6, 0.6))
    waveform, info = generate_clip(label, config=config, generator=torch.Generator().manual_seed(seed))
    mel = LogMelSpectrogram(sample_rate=config.sample_rate, n_fft=512, hop_length=160, n_mels=64, top_db=None)(waveform)[0]
    return mel, info, config


def test_event_lies_between_onset_and_offset():
    for label in range(len(CLASS_NAMES)):
        mel, info, config = _event_energy_profile(label, seed=label)
        power = mel.exp().sum(0)  # relative, per frame
        frames_s = torch.arange(mel.shape[-1]) * 160 / config.sample_rate
        inside = (frames_s >= info.onset_s + 0.02) & (frames_s <= info.offset_s - 0.02)
        outside = (frames_s < info.onset_s - 0.04) | (frames_s > info.offset_s + 0.04)
        if outside.any():
            assert power[inside].mean() > 100 * power[outside].mean(), CLASS_NAMES[label]


def test_rising_and_falling_chirps_move_in_opposite_directions():
    def centroid_slope(name: str) -> float:
        mel, info, config = _event_energy_profile(CLASS_NAMES.index(name), seed=3)
        frames_s = torch.arange(mel.shape[-1]) * 160 / config.sample_rate
        inside = (frames_s >= info.onset_s + 0.05) & (frames_s <= info.offset_s - 0.05)
        weights = mel[:, inside].exp()
        centroid = (torch.arange(64.0)[:, None] * weights).sum(0) / weights.sum(0)
        return float(centroid[-1] - centroid[0])

    assert centroid_slope("rising_chirp") > 5
    assert centroid_slope("falling_chirp") < -5


def test_snr_and_level_are_what_the_config_says():
    # Background only outside the event, background + event inside it: the power difference gives the SNR.
    config = SyntheticConfig(snr_db=(10.0, 10.0), n_distractors=0, event_duration_s=(0.5, 0.5), level_dbfs=(-20.0, -20.0))
    label = CLASS_NAMES.index("white_noise_burst")
    estimates = []
    g = torch.Generator().manual_seed(0)
    for _ in range(6):
        waveform, info = generate_clip(label, config=config, generator=g)
        assert info.snr_db == pytest.approx(10.0)
        t = torch.arange(waveform.shape[-1]) / config.sample_rate
        inside = (t > info.onset_s + 0.02) & (t < info.offset_s - 0.02)
        outside = (t < info.onset_s - 0.02) | (t > info.offset_s + 0.02)
        p_in, p_out = waveform[0, inside].pow(2).mean(), waveform[0, outside].pow(2).mean()
        estimates.append(10 * math.log10((p_in - p_out) / p_out))
        # Level: the requested RMS (-20 dBFS = 0.1) unless scaled down to avoid clipping.
        rms = waveform.pow(2).mean().sqrt().item()
        assert rms == pytest.approx(0.1, rel=1e-3) or waveform.abs().max().item() == pytest.approx(0.99, rel=1e-4)
    assert sum(estimates) / len(estimates) == pytest.approx(10.0, abs=1.5)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sample_rate": 0},
        {"duration_s": -1.0},
        {"snr_db": (5.0, 0.0)},
        {"snr_db": (0.0, math.inf)},
        {"event_duration_s": (0.5, 2.0)},
        {"n_distractors": -1},
        {"class_names": ("harmonic_tone", "not_a_class")},
        {"class_names": ("harmonic_tone", "harmonic_tone")},
    ],
)
def test_bad_config_is_refused_with_the_field_named(kwargs):
    with pytest.raises(ValueError) as err:
        SyntheticConfig(**kwargs)
    assert next(iter(kwargs)) in str(err.value)


def test_bad_arguments():
    config = SyntheticConfig()
    g = torch.Generator().manual_seed(0)
    with pytest.raises(ValueError, match="label"):
        generate_clip(len(CLASS_NAMES), config=config, generator=g)
    with pytest.raises(TypeError, match="generator"):
        generate_clip(0, config=config, generator=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n_per_class"):
        make_synthetic_dataset(0)
    with pytest.raises(ValueError, match="seed"):
        make_synthetic_dataset(1, seed=-1)
    with pytest.raises(ValueError, match="n must be"):
        generate_batch(0, 0, config=config, generator=g)


def test_class_subset_relabels_in_given_order():
    config = SyntheticConfig(class_names=("fast_click_train", "harmonic_tone"))
    ds = make_synthetic_dataset(2, config=config, seed=0)
    assert ds.class_names == ("fast_click_train", "harmonic_tone")
    assert ds.labels.tolist() == [0, 0, 1, 1]
    assert [c.class_name for c in ds.info] == ["fast_click_train"] * 2 + ["harmonic_tone"] * 2


# ---------------------------------------------------------------- difficulty of the defaults

def _features(n_per_class: int, seed: int, class_names=None):
    from course_lib.features import compute_features

    config = SyntheticConfig() if class_names is None else SyntheticConfig(class_names=class_names)
    ds = make_synthetic_dataset(n_per_class, config=config, seed=seed)
    feature = LogMelSpectrogram(sample_rate=config.sample_rate, n_fft=512, hop_length=160, n_mels=64)
    return compute_features(ds.waveforms, feature), ds.labels


@pytest.mark.parametrize("pair", [("rising_chirp", "falling_chirp"), ("slow_click_train", "fast_click_train")])
def test_time_averaged_spectrum_cannot_separate_the_paired_classes(pair):
    """The honest part of the data: these pairs differ only along time, so a classifier on the
    time-averaged log-mel spectrum stays near chance (0.5 for a pair)."""
    from sklearn.linear_model import LogisticRegression

    x_train, y_train = _features(40, seed=0, class_names=pair)
    x_test, y_test = _features(40, seed=1, class_names=pair)
    mean_train, mean_test = x_train.mean(-1).flatten(1).numpy(), x_test.mean(-1).flatten(1).numpy()
    averaged = LogisticRegression(max_iter=2000).fit(mean_train, y_train.numpy()).score(mean_test, y_test.numpy())
    assert averaged < 0.75, f"{pair}: a time-averaged spectrum separates them ({averaged:.2f})"


def test_small_cnn_does_not_reach_100_percent_after_one_epoch():
    """The default data leave room for learning curves: one epoch of a small CNN is far from perfect."""
    from torch import nn

    torch.manual_seed(0)
    x_train, y_train = _features(24, seed=0)
    x_test, y_test = _features(8, seed=1)
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, len(CLASS_NAMES)),
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    order = torch.randperm(len(y_train), generator=torch.Generator().manual_seed(0))
    model.train()
    for start in range(0, len(order), 32):
        idx = order[start : start + 32]
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x_train[idx]), y_train[idx]).backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()
    assert accuracy < 0.9, f"one epoch already gives {accuracy:.2f}: the default data are too easy"
