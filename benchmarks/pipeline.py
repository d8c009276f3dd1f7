"""How much faster is the course's data pipeline than the seed chapter's per-item pipeline?

Issue 4's benchmark, run by ``make bench`` (``benchmarks/run_all.py``). On the same synthetic
ESC-50-layout clips (>= 200 clips of 5 s at 44.1 kHz, generated into a temporary folder), resampled
to 22.05 kHz, 128-band log-mel spectrograms, it times:

(a) the seed-style pipeline: per item, decode, build a new ``Resample``, mono, cut, mel, dB,
    standardise — and again in every epoch;
(b) this pipeline's first epoch, in its default configuration (features kept in memory): every
    clip decoded once, resampled with soxr, features in batches by parallel threads
    (``course_lib.runtime.default_workers()``), then one pass of the loader;
(b1) the same features computed by one thread (what the threads add);
(b2) the first epoch with the on-disk cache asked for: (b) plus writing every entry (what a later
    session saves, see (e));
(c) its later epochs: one pass of the loader over the cached feature tensors (SpecAugment on);
(d) raw decoding alone (the floor of any pipeline that reads the files every epoch);
(e) a new process's start: features read back from the on-disk cache.

The same figures are then measured on **real recordings**: every file of the CC0 Sonic Pi library
that ``make`` installs (``course_lib.sonicpi``; 207 files: FLAC and AIFF, mono and stereo, 16- and
24-bit, 44.1 to 192 kHz, 0.02 to 15 s), through the same settings (resampled to 22.05 kHz, cut or
padded to 5 s from the start, 128 mels). They are reported under ``"real"`` in the JSON line, with the
cost per clip of both corpora side by side. Without the library they are ``null`` with the reason
(with ``COURSE_REQUIRE_REAL_AUDIO=1``, as in CI, the script fails instead).

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

from course_lib import sonicpi
from course_lib.audio_io import audio_info, load_audio
from course_lib.augment import SpecAugment
from course_lib.chapters.ch03_data_pipeline import PerItemDataset
from course_lib.data.base import AudioFileDataset
from course_lib.data.cache import FeatureCache
from course_lib.data.esc50 import ESC50Dataset, esc50_config, write_esc50_layout
from course_lib.data.loader import make_loader
from course_lib.features import LogMelSpectrogram
from course_lib.runtime import default_workers, seed_everything
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


def measure(dataset, repeat: int, tmp: Path, name: str) -> dict:
    """Figures (a)-(e) for one dataset (an :class:`AudioFileDataset`), in seconds."""
    files, labels = dataset.files, dataset.labels
    n = len(files)
    # (d) raw decoding alone.
    decode_s = best_time(lambda: [load_audio(f) for f in files], repeat=repeat)

    # (a) the seed-style per-item pipeline, every epoch: the best of --repeat epochs.
    per_item = PerItemDataset(files, labels, sample_rate=TARGET_SR, duration_s=DURATION_S, n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS)
    seed_loader = torch.utils.data.DataLoader(per_item, batch_size=BATCH, shuffle=True, num_workers=0)
    seed_s = best_time(lambda: _epoch(seed_loader), repeat=repeat)

    # (b1) the features in one thread, no cache.
    feature = LogMelSpectrogram(sample_rate=TARGET_SR, n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS)
    one_thread_s = best_time(lambda: dataset.to_features(feature, workers=1), repeat=repeat)

    # (b) this pipeline's first epoch, as it runs by default (features kept in memory): decode
    # once, batched features in threads, one pass of the loader. The best of --repeat runs.
    def first_epoch(cache: FeatureCache | None):
        features, kept = dataset.to_features(feature, cache=cache, transform=SpecAugment(16, 20))
        loader = make_loader(features, batch_size=BATCH, shuffle=True, seed=0)
        assert _epoch(loader) == n and len(kept) == n
        return features, loader

    first_s = best_time(lambda: first_epoch(None), repeat=repeat)

    # (b2) the same with the on-disk cache asked for (every entry written before it returns);
    # each run starts from a new, empty cache folder.
    first_disk_s = float("inf")
    for k in range(repeat):
        cache = FeatureCache(tmp / f"cache-{name}-{k}")
        start = time.perf_counter()
        features, loader = first_epoch(cache)
        first_disk_s = min(first_disk_s, time.perf_counter() - start)
        assert cache.misses == n

    # (c) later epochs over the cached tensors (the best, like (a)).
    cached_s = best_time(lambda: _epoch(loader), repeat=repeat)

    # (e) a fresh start that finds everything in the on-disk cache.
    start = time.perf_counter()
    again, _ = dataset.to_features(feature, cache=cache)
    warm_s = time.perf_counter() - start
    assert cache.hits == n and torch.equal(again.features, features.features)

    return {
        "clips": n, "seed_epoch_s": seed_s, "first_epoch_s": first_s, "first_epoch_disk_cache_s": first_disk_s,
        "one_thread_features_s": one_thread_s, "cached_epoch_s": cached_s, "decode_only_s": decode_s, "disk_cache_load_s": warm_s,
    }


def _ratios(f: dict) -> dict:
    return {
        "first_epoch_disk_cache_vs_seed": round(f["seed_epoch_s"] / f["first_epoch_disk_cache_s"], 2),
        "cached_vs_seed": round(f["seed_epoch_s"] / f["cached_epoch_s"], 2),
        "first_epoch_vs_seed": round(f["seed_epoch_s"] / f["first_epoch_s"], 2),
        "decode_vs_seed": round(f["seed_epoch_s"] / f["decode_only_s"], 2),
    }


def _print(f: dict) -> None:
    seed_s, first_s = f["seed_epoch_s"], f["first_epoch_s"]
    print(f"(a) seed-style per-item epoch      {seed_s:8.3f} s")
    print(f"(b) this pipeline, first epoch     {first_s:8.3f} s   ratio a/b = {seed_s / first_s:6.2f}  (target >= 2)")
    print(f"(b1) features in one thread       {f['one_thread_features_s']:8.3f} s   "
          f"({default_workers()} threads: {f['one_thread_features_s'] / first_s:.2f}x faster)")
    print(f"(b2) first epoch, disk cache too  {f['first_epoch_disk_cache_s']:8.3f} s   ratio a/b2 = {seed_s / f['first_epoch_disk_cache_s']:5.2f}")
    print(f"(c) this pipeline, later epochs    {f['cached_epoch_s']:8.3f} s   ratio a/c = {seed_s / f['cached_epoch_s']:6.1f}  (target >= 20)")
    print(f"(d) raw decoding alone             {f['decode_only_s']:8.3f} s   ratio a/d = {seed_s / f['decode_only_s']:6.2f}")
    print(f"(e) features from the disk cache   {f['disk_cache_load_s']:8.3f} s")


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
        print(f"Synthetic: {len(dataset)} clips of {DURATION_S:g} s at 44100 Hz -> {TARGET_SR} Hz, {N_MELS} mels "
              f"(generated in {generate_s:.1f} s)")
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {platform.processor() or platform.machine()}")
        synthetic = measure(dataset, args.repeat, tmp, "synthetic")
        _print(synthetic)

        real: dict | None = None
        if sonicpi.is_available():
            files = sonicpi.library_files()
            real_data = AudioFileDataset(files, [0] * len(files), ["any"], sample_rate=TARGET_SR, duration_s=DURATION_S,
                                         crop="start", verify="decode")
            seconds = sum(audio_info(f).duration_s for f in files)
            formats = sorted({f.suffix for f in files})
            print(f"\nReal: the {len(files)} files of {sonicpi.PACKAGE} {sonicpi.VERSION} ({', '.join(formats)}; "
                  f"{seconds:.0f} s of audio) -> {TARGET_SR} Hz, cut or padded to {DURATION_S:g} s, {N_MELS} mels")
            print(sonicpi.CREDIT)
            measured = measure(real_data, args.repeat, tmp, "real")
            _print(measured)
            real = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in measured.items()}
            real.update(_ratios(measured), audio_s=round(seconds, 1), formats=formats)
        elif sonicpi.real_audio_required():
            raise SystemExit(f"{sonicpi.REQUIRE_ENV}=1 but the recording library is missing: {sonicpi.library._missing_message()}")
        else:
            print(f"\nReal recordings: not measured ({sonicpi.PACKAGE} is not installed; run `npm ci`).")

    figures = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in synthetic.items()}
    figures.update(_ratios(synthetic), threads=default_workers())
    figures["real"] = real if real is not None else None
    if real is not None:
        figures["ms_per_clip"] = {
            step: {"synthetic": round(1000 * synthetic[key] / synthetic["clips"], 2),
                   "real": round(1000 * real[key] / real["clips"], 2)}
            for step, key in (("seed_epoch", "seed_epoch_s"), ("first_epoch", "first_epoch_s"),
                              ("later_epoch", "cached_epoch_s"), ("decode", "decode_only_s"))
        }
        print("\nms per clip          synthetic     real")
        for step, pair in figures["ms_per_clip"].items():
            print(f"  {step:<16} {pair['synthetic']:10.2f} {pair['real']:8.2f}")
    figures["targets"] = {"cached_vs_seed": 20.0, "first_epoch_vs_seed": 2.0}
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
