"""Tests of course_lib.data (decode, cache, loader) and features.compute_features: batched features,
tensor datasets, loaders, decoding, on-disk cache."""

from __future__ import annotations

import math
import os

import pytest
import torch
from torch import nn

from course_lib.audio_io import save_audio
from course_lib.augment import SpecAugment
from course_lib.data.cache import FeatureCache, cached_features, feature_signature
from course_lib.data.decode import load_clips
from course_lib.data.loader import FeatureDataset, make_loader
from course_lib.features import LogMelSpectrogram, compute_features, standardize

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


class _CountingSpecAugment(SpecAugment):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.shapes: list[tuple[int, ...]] = []

    def forward(self, spec):
        self.shapes.append(tuple(spec.shape))
        return super().forward(spec)


def test_a_loader_fetches_a_whole_batch_in_one_call_and_masks_per_example():
    """Seed: one __getitem__ (and one augmentation) per clip. FeatureDataset.__getitems__ indexes a batch at once
    and calls a batch-capable SpecAugment once per batch; masks still differ between examples."""
    feats = torch.ones(10, 1, 32, 40)
    labels = torch.arange(10) % 3
    augment = _CountingSpecAugment(8, 10, n_freq_masks=1, n_time_masks=1)
    ds = FeatureDataset(feats, labels, transform=augment)
    torch.manual_seed(0)
    batches = list(make_loader(ds, batch_size=4, shuffle=False))
    assert augment.shapes == [(4, 1, 32, 40), (4, 1, 32, 40), (2, 1, 32, 40)]
    x, y = batches[0]
    assert x.shape == (4, 1, 32, 40) and y.tolist() == [0, 1, 2, 0] and y.dtype == torch.long
    masks = [(x[i] == 0) for i in range(4)]
    assert all(m.any() for m in masks) and not all(torch.equal(masks[0], m) for m in masks[1:])
    assert torch.all(feats == 1)  # the cached features are never modified
    # without a transform: exactly what item-by-item indexing gives, also through a plain DataLoader
    # (default_collate re-stacks the pairs) and a Subset (which forwards __getitems__)
    plain = FeatureDataset(torch.randn(10, 1, 8, 6), labels)
    loaders = (
        make_loader(plain, batch_size=3, shuffle=False),
        torch.utils.data.DataLoader(plain, batch_size=3),
        make_loader(torch.utils.data.Subset(plain, list(range(10))), batch_size=3, shuffle=False),
    )
    for loader in loaders:
        got = list(loader)
        assert torch.equal(torch.cat([b[0] for b in got]), plain.features)
        assert torch.equal(torch.cat([b[1] for b in got]), labels)
    # make_loader's collate passes the batch tensors on as they are: no second copy
    fetched = plain.__getitems__([0, 1, 2])
    inputs, targets = make_loader(plain, batch_size=3, shuffle=False).collate_fn(fetched)
    assert inputs is fetched.inputs and targets is fetched.labels


def test_a_transform_written_for_one_example_is_applied_item_by_item():
    """A plain function (as in exercise 2) gets (channels, n_bins, frames), one example at a time."""
    seen = []

    def per_example(item):
        assert item.ndim == 3, "a per-example transform must never receive a batch"
        seen.append(item.shape)
        return item * 2

    ds = FeatureDataset(torch.ones(5, 1, 8, 6), torch.arange(5), transform=per_example)
    x, y = next(iter(make_loader(ds, batch_size=5, shuffle=False)))
    assert len(seen) == 5 and torch.all(x == 2) and y.tolist() == [0, 1, 2, 3, 4]


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


def test_threads_give_the_same_features_as_one_thread(tmp_path):
    paths = _write_clips(tmp_path / "audio", n=7, sr=16000)
    feature = _feature()
    one, kept1 = cached_features(paths, feature, sample_rate=SR, duration_s=0.5, workers=1, batch_size=2)
    many, kept3 = cached_features(paths, feature, sample_rate=SR, duration_s=0.5, workers=3, batch_size=2)
    assert kept1 == kept3 == list(range(7)) and torch.equal(one, many)
    waves1, _ = load_clips(paths, sample_rate=SR, duration_s=0.5, workers=1, batch_size=3)
    waves3, _ = load_clips(paths, sample_rate=SR, duration_s=0.5, workers=3, batch_size=3)
    assert torch.equal(waves1, waves3)
    with pytest.raises(ValueError, match="workers"):
        cached_features(paths, feature, sample_rate=SR, duration_s=0.5, workers=0)


def test_corrupt_clips_in_threads_one_warning_and_raise_names_the_file(tmp_path):
    paths = _write_clips(tmp_path / "audio", n=6)
    paths[1].write_bytes(b"RIFF not really a wave file")
    paths[4].write_bytes(paths[4].read_bytes()[:200])  # truncated
    cache = FeatureCache(tmp_path / "cache")
    with pytest.warns(UserWarning) as record:
        feats, kept = cached_features(paths, _feature(), sample_rate=SR, duration_s=0.5, cache=cache, workers=2, batch_size=2)
    assert kept == [0, 2, 3, 5] and feats.shape[0] == 4 and cache.misses == 4
    messages = [str(w.message) for w in record]
    assert len(messages) == 1 and "clip1.wav" in messages[0] and "clip4.wav" in messages[0]
    with pytest.raises(Exception, match="clip1.wav"):
        cached_features(paths, _feature(), sample_rate=SR, duration_s=0.5, on_error="raise", workers=2, batch_size=2)


class _Poison(nn.Module):
    """A feature module that returns NaN for clips whose first sample is positive."""

    def forward(self, x):
        out = x[..., :64].unsqueeze(-2).repeat(1, 1, 4, 1).clone()
        out[x[:, 0, 0] > 0] = float("nan")
        return out


def test_nan_features_name_the_file(tmp_path):
    paths = []
    for i, sign in enumerate((-1.0, 1.0, -1.0)):
        paths.append(save_audio(tmp_path / f"c{i}.wav", torch.full((1, 4000), 0.1 * sign), SR))
    with pytest.raises(ValueError, match=r"NaN or infinite features for 1 file\(s\): .*c1\.wav"):
        cached_features(paths, _Poison(), sample_rate=SR, duration_s=0.5, standardize=False, workers=2, batch_size=1)


def test_in_flight_batches_are_bounded(monkeypatch):
    """Only workers + 1 batches are unfinished at a time, so a large dataset never sits in memory as audio."""
    import threading
    import time

    from course_lib.data import decode

    lock, running, peak = threading.Lock(), [0], [0]

    def task(i):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.01)
        with lock:
            running[0] -= 1
        return i

    submitted = []

    def make(i):
        def run():
            submitted.append(i)
            return task(i)
        return run

    results = []
    for value in decode._in_threads([make(i) for i in range(20)], workers=2):
        results.append(value)
        assert len(submitted) <= len(results) + 3  # at most workers + 1 ahead of the consumer
    assert results == list(range(20)) and peak[0] <= 2


def test_duplicate_paths_share_one_cache_entry_safely(tmp_path):
    paths = _write_clips(tmp_path / "audio", n=2)
    cache = FeatureCache(tmp_path / "cache")
    feats, kept = cached_features(paths * 3, _feature(), sample_rate=SR, duration_s=0.5, cache=cache, workers=3, batch_size=1)
    assert kept == list(range(6)) and torch.equal(feats[0], feats[2]) and torch.equal(feats[1], feats[5])
    assert len(list((tmp_path / "cache").rglob("*.npy"))) == 2 and not list((tmp_path / "cache").rglob("*.tmp*"))


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
    entry = next((tmp_path / "cache").rglob("*.npy"))
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
    produce the same model input; only the speed differs — and, when the files must be resampled, the
    resampler (the seed's torchaudio kernel, soxr here), whose filters differ only near the cut-off
    and at the clip's two ends."""
    from course_lib.chapters.ch03_data_pipeline import PerItemDataset

    # no resampling: identical, everywhere
    paths = _write_clips(tmp_path / "same-rate", n=3, sr=SR, seconds=0.5)
    per_item = PerItemDataset(paths, [0, 1, 2], sample_rate=SR, duration_s=0.5, n_fft=256, hop_length=128, n_mels=32)
    cached, _ = cached_features(paths, _feature(), sample_rate=SR, duration_s=0.5, crop="start")
    for i in range(3):
        x, label = per_item[i]
        assert label == i and x.shape == cached[i].shape
        assert torch.allclose(x, cached[i], atol=1e-3)

    # 16 kHz -> 8 kHz, harmonic tones well below the cut-off: the same away from the clip's ends
    t = torch.arange(8000) / 16000
    tones = []
    for k, f0 in enumerate((300.0, 700.0, 1500.0)):
        x = sum(0.2 * torch.sin(2 * math.pi * f0 * h * t) for h in (1, 2))
        tones.append(save_audio(tmp_path / "resampled" / f"tone{k}.wav", x.unsqueeze(0), 16000))
    per_item = PerItemDataset(tones, [0, 1, 2], sample_rate=SR, duration_s=0.5, n_fft=256, hop_length=128, n_mels=32)
    cached, _ = cached_features(tones, _feature(), sample_rate=SR, duration_s=0.5, crop="start")
    for i in range(3):
        x, _ = per_item[i]
        assert x.shape == cached[i].shape
        assert torch.allclose(x[..., 4:-4], cached[i][..., 4:-4], atol=1e-2)
    with pytest.raises(ValueError, match="crop"):
        load_clips(paths, sample_rate=SR, duration_s=0.5, crop="random")
