"""What do the pretrained encoders of chapter 5 cost on a CPU, and what does freezing save?

Issue 6's benchmark, run by ``make bench`` (``benchmarks/run_all.py``). On random one-second clips
at 16 kHz it times:

(a) CREPE tiny embeddings (frozen, no autograd graph): clips per second at the chapter's hop;
(b) CREPE full on the same frames: the ratio (b) / (a) says why the book uses ``tiny``;
(c) one training step of a CREPE tiny classifier frozen (embeddings precomputed: the head alone),
    partly unfrozen (top 2 blocks) and fully fine-tuned (all 6 blocks), per clip;
(d) wav2vec 2.0 base (random weights, same shapes as ``WAV2VEC2_BASE``) embeddings of layer 6.

Issue 15 adds the pretrained sound-event encoder (aiSFX, Ma & Lerch, ISMIR 2022):

(e) aiSFX embeddings per second on 2 CPU threads, for 5-second clips at 44.1 kHz (ESC-50's length)
    and for 1-second windows (the real-recordings task);
(f) on the real task (``course_lib.sonicpi``: Sonic Pi's CC0 recordings, 1-second windows, split
    grouped by recording), over seeds 0, 1, 2: the transfer recipe (frozen aiSFX embeddings + a
    linear head, as ``python -m course_lib train --encoder aisfx``) against the course's
    from-scratch recipe (``RECOMMENDED``: log-mel at 16 kHz, SpecAugment, ``simple_cnn``, as
    ``python -m course_lib train``): test accuracy (mean, standard deviation, each seed) and wall
    time (embedding or features once, then training per seed). Without the recordings (no
    ``node_modules``), (f) is skipped with the reason, except under ``COURSE_REQUIRE_REAL_AUDIO=1``.

It prints the figures and, as its last line, one JSON object with the timings and the ratios
``full_vs_tiny`` = (b) / (a) and ``finetune_vs_frozen_head`` = full step / head step.

    python benchmarks/pretrained.py [--clips N] [--repeats R] [--seeds S] [--skip-real]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from functools import partial

import torch
import torchaudio

from course_lib.pretrained import (
    CrepeClassifier,
    CrepeEncoder,
    Wav2Vec2Encoder,
    embed_clips,
    extract_embeddings,
    load_aisfx_encoder,
)
from course_lib.runtime import seed_everything

SAMPLE_RATE = 16000
HOP_S = 0.1  # as in chapter 5


def _median_time(fn, repeats: int) -> float:
    fn()  # warm-up: allocations, kernel selection
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _train_step_time(model: torch.nn.Module, inputs: torch.Tensor, labels: torch.Tensor, repeats: int) -> float:
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    model.train()

    def step() -> None:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(inputs), labels)
        loss.backward()
        optimizer.step()

    return _median_time(step, repeats)


def aisfx_throughput(repeats: int) -> dict:
    """(e): clips per second of aiSFX embeddings on 2 threads (``torch.set_num_threads(2)``)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        encoder = load_aisfx_encoder()
        out = {"threads": 2}
        for seconds, n in ((5.0, 8), (1.0, 16)):
            seed_everything(0)
            clips = 0.1 * torch.randn(n, round(seconds * 44100))
            t = _median_time(partial(embed_clips, clips, encoder=encoder, batch_size=8), repeats)
            key = f"{seconds:g}s"
            out[f"clips_per_s_{key}"] = round(n / t, 2)
            out[f"audio_s_per_s_{key}"] = round(n * seconds / t, 1)
            print(f"(e) aiSFX embeddings, {seconds:g}-s clips at 44.1 kHz, 2 threads: {n / t:7.1f} clips/s "
                  f"({n * seconds / t:.0f} s of audio per second)")
    finally:
        torch.set_num_threads(threads)
    return out


def transfer_vs_scratch(n_seeds: int) -> dict | None:
    """(f): frozen aiSFX + linear head vs the from-scratch recipe on the real recordings, over seeds."""
    from torch.utils.data import TensorDataset

    from course_lib import sonicpi
    from course_lib.audio_io import resample
    from course_lib.data.loader import FeatureDataset
    from course_lib.evaluation import evaluate
    from course_lib.features import compute_features
    from course_lib.models import build_model
    from course_lib.pretrained import ClassificationHead
    from course_lib.recipe import RECOMMENDED
    from course_lib.train import fit

    if not sonicpi.is_available():
        if sonicpi.real_audio_required():
            raise SystemExit(f"(f) needs the recordings: {sonicpi.fallback_note('benchmarks/pretrained.py')}")
        print("(f) skipped: the Sonic Pi recordings are not installed (npm ci installs node_modules).")
        return None
    task = sonicpi.load_task(sample_rate=44100, window_s=1.0)
    names = list(task.classes)
    print(f"(f) {task!r}; seeds {list(range(n_seeds))}, split grouped by recording")

    start = time.perf_counter()
    embeddings = embed_clips(task.waveforms, encoder=load_aisfx_encoder(), batch_size=8)
    embed_s = time.perf_counter() - start
    recipe = RECOMMENDED
    start = time.perf_counter()
    waves16 = resample(task.waveforms, 44100, recipe.sample_rate).unsqueeze(1)
    features = compute_features(waves16, recipe.feature_extractor(), standardize=True)
    features_s = time.perf_counter() - start

    rows: dict[str, list] = {"transfer": [], "scratch": []}
    for seed in range(n_seeds):
        split = sonicpi.grouped_split(task, seed=seed)
        train, val, test = split.train, split.val, split.test
        labels = task.labels
        config = recipe.train_config(seed=seed, progress=False)

        seed_everything(seed)
        head = ClassificationHead(embeddings.shape[1], len(names), hidden_features=None)
        t0 = time.perf_counter()
        fit(head, TensorDataset(embeddings[train], labels[train]), TensorDataset(embeddings[val], labels[val]), config)
        head_s = time.perf_counter() - t0
        acc = evaluate(head, (embeddings[test], labels[test]), names).accuracy
        rows["transfer"].append({"seed": seed, "test_accuracy": round(acc, 4), "train_s": round(head_s, 2)})

        model = build_model(recipe.model, len(names), recipe.n_mels, seed=seed)
        train_set = FeatureDataset(features[train], labels[train], recipe.augmentation())
        t0 = time.perf_counter()
        fit(model, train_set, FeatureDataset(features[val], labels[val]), config)
        scratch_s = time.perf_counter() - t0
        acc_s = evaluate(model, (features[test], labels[test]), names).accuracy
        rows["scratch"].append({"seed": seed, "test_accuracy": round(acc_s, 4), "train_s": round(scratch_s, 2)})
        print(f"(f) seed {seed}: {len(train)} train / {len(val)} val / {len(test)} test windows; "
              f"transfer {acc:.3f} (head {head_s:.1f} s), from scratch {acc_s:.3f} ({scratch_s:.1f} s)")

    def summary(name: str, prep_s: float) -> dict:
        accs = [r["test_accuracy"] for r in rows[name]]
        times = [r["train_s"] for r in rows[name]]
        return {
            "test_accuracy_mean": round(statistics.mean(accs), 4),
            "test_accuracy_std": round(statistics.stdev(accs), 4) if len(accs) > 1 else 0.0,
            "prepare_s": round(prep_s, 2),
            "train_s_mean": round(statistics.mean(times), 2),
            "seeds": rows[name],
        }

    result = {
        "windows": len(task), "recordings": len(task.files), "classes": len(names),
        "transfer": summary("transfer", embed_s), "scratch": summary("scratch", features_s),
    }
    for name, what, prep in (("transfer", "frozen aiSFX + linear head", "embedding"),
                             ("scratch", f"{recipe.model} from scratch", "features")):
        r = result[name]
        print(f"(f) {what:28s}: test accuracy {r['test_accuracy_mean']:.3f} ± {r['test_accuracy_std']:.3f} "
              f"(std over {n_seeds} seeds); {prep} {r['prepare_s']:.1f} s once, training {r['train_s_mean']:.1f} s per seed")
    result["accuracy_gain"] = round(result["transfer"]["test_accuracy_mean"] - result["scratch"]["test_accuracy_mean"], 4)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clips", type=int, default=16, help="clips per batch")
    parser.add_argument("--repeats", type=int, default=3, help="timed repetitions (median reported)")
    parser.add_argument("--seeds", type=int, default=3, help="seeds of (f), each a different split and initialisation")
    parser.add_argument("--skip-real", action="store_true", help="leave out (f), the real-recordings comparison")
    args = parser.parse_args()
    seed_everything(0)
    clips = 0.1 * torch.randn(args.clips, 1, SAMPLE_RATE)
    labels = torch.arange(args.clips) % 4
    print(f"{platform.processor() or platform.machine()}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"{args.clips} clips of 1 s at {SAMPLE_RATE} Hz, CREPE hop {HOP_S} s, median of {args.repeats}")

    tiny = CrepeEncoder("tiny", hop_s=HOP_S)
    t_tiny = _median_time(lambda: extract_embeddings(tiny, clips, batch_size=args.clips), args.repeats) / args.clips
    print(f"(a) CREPE tiny embeddings:       {1000 * t_tiny:8.1f} ms per clip")

    full = CrepeEncoder("full", hop_s=HOP_S)
    few = clips[:2]  # full is slow: time two clips and scale per clip
    t_full = _median_time(partial(extract_embeddings, full, few, batch_size=2), 1) / few.shape[0]
    print(f"(b) CREPE full embeddings:       {1000 * t_full:8.1f} ms per clip  ({t_full / t_tiny:.0f}x tiny)")
    del full

    embeddings = extract_embeddings(tiny, clips, pooling="mean_std")
    steps = {}
    head_model = CrepeClassifier(CrepeEncoder("tiny", hop_s=HOP_S), 4, mode="frozen", pooling="mean_std", hidden_features=64)
    steps["frozen_head"] = _train_step_time(head_model.head, embeddings, labels, args.repeats) / args.clips
    for mode, n in (("partial", 2), ("full", 6)):
        model = CrepeClassifier(CrepeEncoder("tiny", hop_s=HOP_S), 4, mode=mode, n_unfrozen=n, pooling="mean_std", hidden_features=64)
        steps[mode] = _train_step_time(model, clips, labels, args.repeats) / args.clips
    for name, value in steps.items():
        print(f"(c) training step, {name:12s}:  {1000 * value:8.2f} ms per clip  ({value / steps['frozen_head']:.0f}x head)")

    w2v = Wav2Vec2Encoder(torchaudio.models.wav2vec2_base(), layer=6)
    t_w2v = _median_time(lambda: extract_embeddings(w2v, clips[:4], batch_size=4), 1) / 4
    print(f"(d) wav2vec2 base, layer 6:      {1000 * t_w2v:8.1f} ms per clip  ({t_w2v / t_tiny:.1f}x CREPE tiny)")

    aisfx = aisfx_throughput(args.repeats)
    real = None if args.skip_real else transfer_vs_scratch(args.seeds)

    print(
        json.dumps(
            {
                "benchmark": "pretrained",
                "aisfx": aisfx,
                "real_task": real,
                "crepe_tiny_ms_per_clip": round(1000 * t_tiny, 2),
                "crepe_full_ms_per_clip": round(1000 * t_full, 2),
                "full_vs_tiny": round(t_full / t_tiny, 1),
                "step_ms_per_clip": {k: round(1000 * v, 3) for k, v in steps.items()},
                "finetune_vs_frozen_head": round(steps["full"] / steps["frozen_head"], 1),
                "wav2vec2_base_ms_per_clip": round(1000 * t_w2v, 2),
                "threads": torch.get_num_threads(),
            }
        )
    )


if __name__ == "__main__":
    main()
