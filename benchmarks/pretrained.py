"""What do the pretrained encoders of chapter 5 cost on a CPU, and what does freezing save?

Issue 6's benchmark, run by ``make bench`` (``benchmarks/run_all.py``). On random one-second clips
at 16 kHz it times:

(a) CREPE tiny embeddings (frozen, no autograd graph): clips per second at the chapter's hop;
(b) CREPE full on the same frames: the ratio (b) / (a) says why the book uses ``tiny``;
(c) one training step of a CREPE tiny classifier frozen (embeddings precomputed: the head alone),
    partly unfrozen (top 2 blocks) and fully fine-tuned (all 6 blocks), per clip;
(d) wav2vec 2.0 base (random weights, same shapes as ``WAV2VEC2_BASE``) embeddings of layer 6.

It prints the figures and, as its last line, one JSON object with the timings and the ratios
``full_vs_tiny`` = (b) / (a) and ``finetune_vs_frozen_head`` = full step / head step.

    python benchmarks/pretrained.py [--clips N] [--repeats R]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import torch
import torchaudio

from course_lib.pretrained import CrepeClassifier, CrepeEncoder, Wav2Vec2Encoder, extract_embeddings
from course_lib.seeding import seed_everything

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clips", type=int, default=16, help="clips per batch")
    parser.add_argument("--repeats", type=int, default=3, help="timed repetitions (median reported)")
    args = parser.parse_args()
    seed_everything(0)
    clips = 0.1 * torch.randn(args.clips, 1, SAMPLE_RATE)
    labels = torch.arange(args.clips) % 4
    print(f"{platform.processor() or platform.machine()}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"{args.clips} clips of 1 s at {SAMPLE_RATE} Hz, CREPE hop {HOP_S} s, median of {args.repeats}")

    tiny = CrepeEncoder("tiny", hop_length_s=HOP_S)
    t_tiny = _median_time(lambda: extract_embeddings(tiny, clips, batch_size=args.clips), args.repeats) / args.clips
    print(f"(a) CREPE tiny embeddings:       {1000 * t_tiny:8.1f} ms per clip")

    full = CrepeEncoder("full", hop_length_s=HOP_S)
    few = clips[:2]  # full is slow: time two clips and scale per clip
    t_full = _median_time(lambda: extract_embeddings(full, few, batch_size=2), 1) / few.shape[0]
    print(f"(b) CREPE full embeddings:       {1000 * t_full:8.1f} ms per clip  ({t_full / t_tiny:.0f}x tiny)")
    del full

    embeddings = extract_embeddings(tiny, clips, pooling="mean_std")
    steps = {}
    head_model = CrepeClassifier(CrepeEncoder("tiny", hop_length_s=HOP_S), 4, mode="frozen", pooling="mean_std", hidden_features=64)
    steps["frozen_head"] = _train_step_time(head_model.head, embeddings, labels, args.repeats) / args.clips
    for mode, n in (("partial", 2), ("full", 6)):
        model = CrepeClassifier(CrepeEncoder("tiny", hop_length_s=HOP_S), 4, mode=mode, n_unfrozen=n, pooling="mean_std", hidden_features=64)
        steps[mode] = _train_step_time(model, clips, labels, args.repeats) / args.clips
    for name, value in steps.items():
        print(f"(c) training step, {name:12s}:  {1000 * value:8.2f} ms per clip  ({value / steps['frozen_head']:.0f}x head)")

    w2v = Wav2Vec2Encoder(torchaudio.models.wav2vec2_base(), layer=6)
    t_w2v = _median_time(lambda: extract_embeddings(w2v, clips[:4], batch_size=4), 1) / 4
    print(f"(d) wav2vec2 base, layer 6:      {1000 * t_w2v:8.1f} ms per clip  ({t_w2v / t_tiny:.1f}x CREPE tiny)")

    print(
        json.dumps(
            {
                "benchmark": "pretrained",
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
