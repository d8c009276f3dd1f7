"""Tests of course_lib.pipeline: batched features, tensor datasets, loaders, decoding, on-disk cache."""

from __future__ import annotations

import os
import warnings

import pytest
import torch
from torch import nn

from course_lib.audio_io import save_audio
from course_lib.augment import SpecAugment
from course_lib.features import LogMelSpectrogram, standardize
from course_lib.pipeline import (
    FeatureCache,
    FeatureDataset,
    cached_features,
    compute_features,
    feature_signature,
    load_clips,
    make_loader,
)

SR = 8000


def _feature(**kw) -> LogMelSpectrogram:
    params = dict(sample_rate=SR, n_fft=256, hop_length=128, n_mels=32)
    params.update(kw)
    return LogMelSpectrogram(**params)


def test_compute_features_matches_per_item_and_is_batched():
    g = torch.Generator().manual_seed(0)
    waveforms = torch.randn(7, 1, 4000, generator=g) * 0.1
    waveforms[3] = 0.0  # a silent clip: zeros, never NaN
    feature = _feature()
    out = compute_features(waveforms, feature, batch_size=3)
    assert out.shape == (7, 1, 32, 1 + 4000 // 128) and out.dtype == torch.float32
    assert torch.isfinite(out).all() and torch.all(out[3] == 0)
    for i in (0, 6):
        assert torch.allclose(out[i], standardize(feature(waveforms[i])), atol=1e-4)
    raw = compute_features(waveforms, feature, batch_size=64, standardize=False)
    assert torch.allclose(raw[0], feature(waveforms[0]), atol=1e-4)


def test_compute_features_has_no_grad_and_restores_mode():
    feature = _feature()
    feature.train()
    out = compute_features(torch.randn(2, 1, 2000, requires_grad=True), feature)
    assert not out.requires_grad and feature.training


@pytest.mark.parametrize("shape", [(4000,), (1, 4000), (2, 1, 1, 4000)])
def test_compute_features_rejects_wrong_shapes(shape):
    with pytest.raises(ValueError, match=r"\(N, channels, samples\)"):
        compute_features(torch.zeros(shape), _feature())


def test_compute_features_bad_arguments():
    with pytest.raises(ValueError, match="empty"):
        compute_features(torch.zeros(0, 1, 4000), _feature())
    with pytest.raises(ValueError, match="batch_size"):
        compute_features(torch.zeros(2, 1, 4000), _feature(), batch_size=0)
    with pytest.raises(TypeError, match="nn.Module"):
        compute_features(torch.zeros(2, 1, 4000), lambda x: x)  # type: ignore[arg-type]


def test_feature_dataset_applies_transform_per_item():
    feats = torch.ones(10, 1, 32, 20)
    labels = torch.arange(10) % 3
    torch.manual_seed(0)
    ds = FeatureDataset(feats, labels, transform=SpecAugment(8, 5))
    x, y = ds[4]
    assert x.shape == (1, 32, 20) and int(y) == 1 and (x == 0).any()
    assert torch.all(feats == 1)  # the cache itself is never modified
    plain = FeatureDataset(feats, labels)
    assert torch.equal(plain[4][0], feats[4])
    sub = plain.subset([1, 2])
    assert len(sub) == 2 and sub.labels.tolist() == [1, 2]


def test_feature_dataset_validates():
    with pytest.raises(ValueError, match=r"\(N, channels, n_bins, frames\)"):
        FeatureDataset(torch.zeros(3, 32, 20), torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="labels must be"):
        FeatureDataset(torch.zeros(3, 1, 32, 20), torch.zeros(4, dtype=torch.long))
    with pytest.raises(TypeError, match="integer"):
        FeatureDataset(torch.zeros(3, 1, 32, 20), torch.zeros(3))
    with pytest.raises(ValueError, match=">= 0"):
        FeatureDataset(torch.zeros(3, 1, 32, 20), torch.tensor([0, -1, 2]))


def test_make_loader_is_seeded_and_cpu_friendly():
    ds = FeatureDataset(torch.randn(20, 1, 8, 8), torch.arange(20))
    order = lambda loader: torch.cat([y for _, y in loader]).tolist()  # noqa: E731
    a = make_loader(ds, batch_size=4, shuffle=True, seed=3)
    b = make_loader(ds, batch_size=4, shuffle=True, seed=3)
    c = make_loader(ds, batch_size=4, shuffle=True, seed=4)
    assert order(a) == order(b) != order(c)
    assert sorted(order(a)) == list(range(20))
    assert a.num_workers == 0 and a.pin_memory == torch.cuda.is_available()
    sampler = torch.utils.data.WeightedRandomSampler(torch.ones(20), 10, generator=torch.Generator().manual_seed(0))
    assert len(order(make_loader(ds, batch_size=5, shuffle=False, sampler=sampler))) == 10
    with pytest.raises(ValueError, match="sampler"):
        make_loader(ds, batch_size=4, shuffle=True, sampler=sampler)
    with pytest.raises(ValueError, match="empty"):
        make_loader(FeatureDataset(torch.zeros(0, 1, 8, 8), torch.zeros(0, dtype=torch.long)), batch_size=2, shuffle=False)


# ---------------------------------------------------------------- files, decoding, cache


def _write_clips(folder, n=4, sr=16000, seconds=0.5):
    g = torch.Generator().manual_seed(0)
    paths = []
    for i in range(n):
        path = folder / f"clip{i}.wav"
        save_audio(path, torch.randn(2, int(sr * seconds), generator=g) * 0.1, sr)
        paths.append(path)
    return paths


def test_load_clips_resamples_mixes_and_fixes_length(tmp_path):
    paths = _write_clips(tmp_path, n=3, sr=16000, seconds=0.4)
    waveforms, kept = load_clips(paths, sample_rate=SR, duration_s=0.5)
    assert waveforms.shape == (3, 1, 4000) and kept == [0, 1, 2]


def test_corrupt_clip_in_the_middle_is_skipped_with_one_warning(tmp_path):
    paths = _write_clips(tmp_path, n=5)
    paths[2].write_bytes(b"RIFF not really a wave file")
    paths[3].write_bytes(paths[3].read_bytes()[:200])  # truncated
    with pytest.warns(UserWarning) as record:
        waveforms, kept = load_clips(paths, sample_rate=SR, duration_s=0.5)
    assert kept == [0, 1, 4] and waveforms.shape[0] == 3
    messages = [str(w.message) for w in record]
    assert len(messages) == 1 and "clip2.wav" in messages[0] and "clip3.wav" in messages[0]
    with pytest.raises(Exception, match="clip2.wav"):
        load_clips(paths, sample_rate=SR, duration_s=0.5, on_error="raise")


def test_cached_features_hits_misses_and_equals_uncached(tmp_path):
    paths = _write_clips(tmp_path / "audio", n=4)
    cache = FeatureCache(tmp_path / "cache")
    feature = _feature()
    first, kept = cached_features(paths, feature, sample_rate=SR, duration_s=0.5, cache=cache)
    assert (cache.hits, cache.misses) == (0, 4) and kept == [0, 1, 2, 3]
    second, _ = cached_features(paths, feature, sample_rate=SR, duration_s=0.5, cache=cache)
    assert (cache.hits, cache.misses) == (4, 4)
    assert torch.equal(first, second)
    memory, _ = cached_features(paths, feature, sample_rate=SR, duration_s=0.5, cache=None)
    assert torch.allclose(memory, first)


def test_cache_is_invalidated_when_a_file_changes(tmp_path):
    paths = _write_clips(tmp_path / "audio", n=3)
    cache = FeatureCache(tmp_path / "cache")
    feature = _feature()
    before, _ = cached_features(paths, feature, sample_rate=SR, duration_s=0.5, cache=cache)
    save_audio(paths[1], torch.sin(torch.linspace(0, 3000, 8000)).unsqueeze(0) * 0.5, 16000)
    stat = paths[1].stat()
    os.utime(paths[1], ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # a new modification time
    after, _ = cached_features(paths, feature, sample_rate=SR, duration_s=0.5, cache=cache)
    assert cache.hits == 2 and cache.misses == 4  # only the changed file was recomputed
    assert torch.equal(before[0], after[0]) and not torch.allclose(before[1], after[1])


@pytest.mark.parametrize(
    "change",
    [
        {"n_mels": 40},
        {"hop_length": 64},
        {"n_fft": 512},
        {"f_min_hz": 50.0},
        {"top_db": 60.0},
    ],
)
def test_cache_is_invalidated_when_feature_parameters_change(tmp_path, change):
    paths = _write_clips(tmp_path / "audio", n=2)
    cache = FeatureCache(tmp_path / "cache")
    cached_features(paths, _feature(), sample_rate=SR, duration_s=0.5, cache=cache)
    assert feature_signature(_feature(**change)) != feature_signature(_feature())
    cached_features(paths, _feature(**change), sample_rate=SR, duration_s=0.5, cache=cache)
    assert cache.hits == 0 and cache.misses == 4


def test_cache_is_invalidated_when_pipeline_settings_change(tmp_path):
    paths = _write_clips(tmp_path / "audio", n=2)
    cache = FeatureCache(tmp_path / "cache")
    feature = _feature()
    cached_features(paths, feature, sample_rate=SR, duration_s=0.5, cache=cache)
    cached_features(paths, feature, sample_rate=SR, duration_s=0.25, cache=cache)
    cached_features(paths, feature, sample_rate=SR, duration_s=0.5, cache=cache, standardize=False)
    assert cache.hits == 0 and cache.misses == 6
    assert feature_signature(feature) == feature_signature(_feature())  # same settings, same key


def test_unreadable_cache_entry_is_recomputed(tmp_path):
    paths = _write_clips(tmp_path / "audio", n=1)
    cache = FeatureCache(tmp_path / "cache")
    feature = _feature()
    good, _ = cached_features(paths, feature, sample_rate=SR, duration_s=0.5, cache=cache)
    entry = next((tmp_path / "cache").rglob("*.pt"))
    entry.write_bytes(b"garbage")
    with pytest.warns(UserWarning, match="unreadable"):
        again, _ = cached_features(paths, feature, sample_rate=SR, duration_s=0.5, cache=cache)
    assert torch.allclose(good, again)


def test_cached_features_refuses_mismatched_rates(tmp_path):
    paths = _write_clips(tmp_path, n=1)
    with pytest.raises(ValueError, match="8000 Hz"):
        cached_features(paths, _feature(), sample_rate=16000, duration_s=0.5)


class _Scale(nn.Module):
    def __init__(self, factor: float) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return (x * self.factor).unsqueeze(-2)


def test_signature_sees_plain_attributes_of_custom_modules():
    assert feature_signature(_Scale(2.0)) != feature_signature(_Scale(3.0))
    assert feature_signature(_Scale(2.0)) == feature_signature(_Scale(2.0))


def test_per_item_dataset_gives_the_same_features_as_the_cached_pipeline(tmp_path):
    """The benchmark compares like with like: the seed-style per-item pipeline and the cached one
    produce the same model input (only the speed differs)."""
    from course_lib.pipeline import PerItemDataset

    paths = _write_clips(tmp_path, n=3, sr=16000, seconds=0.5)
    per_item = PerItemDataset(paths, [0, 1, 2], sample_rate=SR, duration_s=0.5, n_fft=256, hop_length=128, n_mels=32)
    cached, _ = cached_features(paths, _feature(), sample_rate=SR, duration_s=0.5, crop="start")
    for i in range(3):
        x, label = per_item[i]
        assert label == i and x.shape == cached[i].shape
        assert torch.allclose(x, cached[i], atol=1e-3)
    with pytest.raises(ValueError, match="crop"):
        load_clips(paths, sample_rate=SR, duration_s=0.5, crop="random")
