"""Benchmark: test accuracy and training time of every course model on the default synthetic data.

Quality bar (issue 5): on the default synthetic data every model reaches at least 90 % test
accuracy within 30 s of training on 2 CPU cores. Each model is built at its compact size
(``course_lib.recipe.COMPACT_MODELS``) and trained with the recommended recipe
(``course_lib.recipe.RECOMMENDED``) for a fixed number of epochs, with early stopping on the
validation loss; the seconds are wall-clock seconds of ``fit`` (features are computed once, before).

Run: ``.venv/bin/python benchmarks/models.py [--per-class N] [--epochs E] [--models a,b]``.
Prints a table, then, as its last line, one JSON object:
``{"models": {name: {"test_accuracy", "test_macro_f1", "train_seconds", "epochs_run", "parameters"}},
"threshold_accuracy": 0.9, "budget_seconds": 30, "all_pass": bool, ...}``.
Timings depend on the machine and its load (the load average is printed with them).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import torch

from course_lib.data.loader import FeatureDataset
from course_lib.data.splits import stratified_split
from course_lib.data.synthetic import make_synthetic_dataset
from course_lib.evaluation import evaluate, inference_time_per_clip
from course_lib.features import compute_features
from course_lib.models import MODELS, build_model, count_parameters
from course_lib.recipe import COMPACT_MODELS, RECOMMENDED
from course_lib.runtime import seed_everything
from course_lib.train import fit

THRESHOLD = 0.90
BUDGET_S = 30.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=60, help="synthetic clips per class (default data, 11 classes)")
    parser.add_argument("--epochs", type=int, default=15, help="most epochs per model")
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated model names")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    seed_everything(args.seed)
    start = time.perf_counter()
    data = make_synthetic_dataset(args.per_class, seed=args.seed)
    features = compute_features(data.waveforms, RECOMMENDED.feature_extractor())
    prep_s = time.perf_counter() - start
    split = stratified_split(data.labels, val_fraction=0.15, test_fraction=0.15, seed=args.seed)
    train = FeatureDataset(features[split.train], data.labels[split.train], transform=RECOMMENDED.augmentation())
    val = FeatureDataset(features[split.val], data.labels[split.val])
    test = FeatureDataset(features[split.test], data.labels[split.test])
    print(f"data: {len(data)} clips ({len(train)} train / {len(val)} val / {len(test)} test), features {tuple(features.shape)}, "
          f"prepared in {prep_s:.1f} s; torch threads {torch.get_num_threads()}, load average {os.getloadavg()[0]:.1f}")

    # The first optimiser of a process imports torch._dynamo (seconds, once): pay it before timing.
    torch.optim.AdamW(torch.nn.Linear(1, 1).parameters())

    results = {}
    config = RECOMMENDED.train_config(epochs=args.epochs, early_stopping_patience=6, progress=False, seed=args.seed)
    print(f"{'model':>14} {'params':>8} {'epochs':>6} {'train s':>8} {'acc':>6} {'macroF1':>8} {'ms/clip':>8}")
    for name in args.models.split(","):
        model = build_model(name, len(data.class_names), features.shape[2], seed=args.seed, **COMPACT_MODELS[name])
        t0 = time.perf_counter()
        history = fit(model, train, val, config)
        train_s = time.perf_counter() - t0
        result = evaluate(model, test, data.class_names)
        ms = 1000 * inference_time_per_clip(model, test.features[:32], repeats=2)
        results[name] = {
            "test_accuracy": round(result.accuracy, 4),
            "test_macro_f1": round(result.macro_f1, 4),
            "train_seconds": round(train_s, 2),
            "epochs_run": history.epochs_run,
            "parameters": count_parameters(model),
            "inference_ms_per_clip": round(ms, 3),
            "passes": result.accuracy >= THRESHOLD and train_s <= BUDGET_S,
        }
        print(f"{name:>14} {count_parameters(model):>8,} {history.epochs_run:>6} {train_s:>8.1f} "
              f"{result.accuracy:>6.3f} {result.macro_f1:>8.3f} {ms:>8.2f}", flush=True)
    accuracy_ok = all(r["test_accuracy"] >= THRESHOLD for r in results.values())
    time_ok = all(r["train_seconds"] <= BUDGET_S for r in results.values())
    print(f"every model >= {THRESHOLD:.0%} test accuracy: {accuracy_ok}; every model trained within {BUDGET_S:.0f} s: {time_ok} "
          f"(load average now {os.getloadavg()[0]:.1f})")
    print(json.dumps({
        "models": results,
        "threshold_accuracy": THRESHOLD,
        "budget_seconds": BUDGET_S,
        "accuracy_ok": accuracy_ok,
        "time_ok": time_ok,
        "all_pass": accuracy_ok and time_ok,
        "clips": len(data),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "machine": platform.processor() or platform.machine(),
    }))


if __name__ == "__main__":
    main()
