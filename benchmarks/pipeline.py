"""How much faster is the course's data pipeline than the seed chapter's per-item pipeline?

Issue 4's benchmark, run by ``make bench`` (``benchmarks/run_all.py``). On the same synthetic
ESC-50-layout clips (>= 200 clips of 5 s at 44.1 kHz, generated into a temporary folder), resampled
to 22.05 kHz, 128-band log-mel spectrograms, it times:

(a) the seed-style pipeline: per item, decode, build a new ``Resample``, mono, cut, mel, dB,
    standardise — and again in every epoch;
(b) this pipeline's first epoch, in its default configuration (features kept in memory): every
    clip decoded once, resampled with soxr, features in batches by parallel threads
    (``course_lib.pipeline.default_workers()``), then one pass of the loader;
(b1) the same features computed by one thread (what the threads add);
(b2) the first epoch with the on-disk cache asked for: (b) plus writing every entry (what a later
    session saves, see (e));
(c) its later epochs: one pass of the loader over the cached feature tensors (SpecAugment on);
(d) raw decoding alone (the floor of any pipeline that reads the files every epoch);
(e) a new process's start: features read back from the on-disk cache.

Every figure is the best (shortest) of ``--repeat`` runs, as :mod:`timeit` reports: on a shared
machine, wall-clock time only ever grows beyond what the work needs, for both pipelines alike.
It prints the times and, as its last line, one JSON object with the ratios
``cached_vs_seed`` = (a) / (c) (target >= 20) and ``first_epoch_vs_seed`` = (a) / (b) (target >= 2).

    python benchmarks/pipeline.py [--sources-per-class N] [--repeat R]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import torch

from course_lib.audio_io import load_audio
from course_lib.augment import SpecAugment
from course_lib.datasets import ESC50Dataset
from course_lib.features import LogMelSpectrogram
from course_lib.layouts import esc50_config, write_esc50_layout
from course_lib.pipeline import FeatureCache, PerItemDataset, default_workers, make_loader
from course_lib.seeding import seed_everything
from course_lib.timing import best_time

TARGET_SR = 22050
DURATION_S = 5.0
N_MELS = 128
N_FFT = 1024
HOP = 512
BATCH = 32


def _epoch(loader) -> int:
    n = 0
    for x, _ in loader:
        n += x.shape[0]
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources-per-class", type=int, default=19, help="clips per class (11 classes; 19 -> 209 clips)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of (a), (b), (b1), (c), (d); the best (shortest) of each is reported")
    args = parser.parse_args()
    seed_everything(0)
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))  # the course's 2-core CPU

    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        tmp = Path(tmp)
        start = time.perf_counter()
        write_esc50_layout(tmp / "esc50", sources_per_class=args.sources_per_class, max_takes=1, config=esc50_config(), seed=0)
        generate_s = time.perf_counter() - start
        dataset = ESC50Dataset(tmp / "esc50", sample_rate=TARGET_SR, duration_s=DURATION_S, crop="start")
        files, labels = dataset.files, dataset.labels
        n = len(files)
        print(f"{n} clips of {DURATION_S:g} s at 44100 Hz -> {TARGET_SR} Hz, {N_MELS} mels (generated in {generate_s:.1f} s)")
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {platform.processor() or platform.machine()}")

        # (d) raw decoding alone.
        decode_s = best_time(lambda: [load_audio(f) for f in files], repeat=args.repeat)

        # (a) the seed-style per-item pipeline, every epoch: the best of --repeat epochs.
        per_item = PerItemDataset(files, labels, sample_rate=TARGET_SR, duration_s=DURATION_S, n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS)
        seed_loader = torch.utils.data.DataLoader(per_item, batch_size=BATCH, shuffle=True, num_workers=0)
        seed_s = best_time(lambda: _epoch(seed_loader), repeat=args.repeat)

        # (b1) the features in one thread, no cache.
        feature = LogMelSpectrogram(sample_rate=TARGET_SR, n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS)
        one_thread_s = best_time(lambda: dataset.to_features(feature, workers=1), repeat=args.repeat)

        # (b) this pipeline's first epoch, as it runs by default (features kept in memory): decode
        # once, batched features in threads, one pass of the loader. The best of --repeat runs.
        def first_epoch(cache: FeatureCache | None):
            features, kept = dataset.to_features(feature, cache=cache, transform=SpecAugment(16, 20))
            loader = make_loader(features, batch_size=BATCH, shuffle=True, seed=0)
            assert _epoch(loader) == n and len(kept) == n
            return features, loader

        first_s = best_time(lambda: first_epoch(None), repeat=args.repeat)

        # (b2) the same with the on-disk cache asked for (every entry written before it returns);
        # each run starts from a new, empty cache folder.
        first_disk_s = float("inf")
        for k in range(args.repeat):
            cache = FeatureCache(tmp / f"cache{k}")
            start = time.perf_counter()
            features, loader = first_epoch(cache)
            first_disk_s = min(first_disk_s, time.perf_counter() - start)
            assert cache.misses == n

        # (c) later epochs over the cached tensors (the best, like (a)).
        cached_s = best_time(lambda: _epoch(loader), repeat=args.repeat)

        # (e) a fresh start that finds everything in the on-disk cache.
        start = time.perf_counter()
        again, _ = dataset.to_features(feature, cache=cache)
        warm_s = time.perf_counter() - start
        assert cache.hits == n and torch.equal(again.features, features.features)

    figures = {
        "clips": n,
        "seed_epoch_s": round(seed_s, 4),
        "first_epoch_s": round(first_s, 4),
        "first_epoch_disk_cache_s": round(first_disk_s, 4),
        "first_epoch_disk_cache_vs_seed": round(seed_s / first_disk_s, 2),
        "one_thread_features_s": round(one_thread_s, 4),
        "threads": default_workers(),
        "cached_epoch_s": round(cached_s, 4),
        "decode_only_s": round(decode_s, 4),
        "disk_cache_load_s": round(warm_s, 4),
        "cached_vs_seed": round(seed_s / cached_s, 2),
        "first_epoch_vs_seed": round(seed_s / first_s, 2),
        "decode_vs_seed": round(seed_s / decode_s, 2),
        "targets": {"cached_vs_seed": 20.0, "first_epoch_vs_seed": 2.0},
    }
    print(f"(a) seed-style per-item epoch      {seed_s:8.3f} s")
    print(f"(b) this pipeline, first epoch     {first_s:8.3f} s   ratio a/b = {seed_s / first_s:6.2f}  (target >= 2)")
    print(f"(b1) features in one thread       {one_thread_s:8.3f} s   ({default_workers()} threads: {one_thread_s / first_s:.2f}x faster)")
    print(f"(b2) first epoch, disk cache too  {first_disk_s:8.3f} s   ratio a/b2 = {seed_s / first_disk_s:5.2f}")
    print(f"(c) this pipeline, later epochs    {cached_s:8.3f} s   ratio a/c = {seed_s / cached_s:6.1f}  (target >= 20)")
    print(f"(d) raw decoding alone             {decode_s:8.3f} s   ratio a/d = {seed_s / decode_s:6.2f}")
    print(f"(e) features from the disk cache   {warm_s:8.3f} s")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
