"""The commands of ``python -m course_lib``: ``train`` (from scratch or on a pretrained encoder) and ``predict``."""

from __future__ import annotations

import argparse
import json
import logging
import statistics
from collections.abc import Sequence
from pathlib import Path

from ..recipe import RECOMMENDED
from .parser import UsageError

__all__ = [
    "train_command",
    "transfer_train_command",
    "predict_command",
]


def _median_duration(files: Sequence[Path]) -> float:
    from ..audio_io import audio_info

    durations = [audio_info(f).duration_s for f in files]
    return round(statistics.median(durations), 3)


def _usable_splits(root: Path, args: argparse.Namespace):
    """Scan the folder and decode every file once: ONE report listing every unreadable file, then stop
    (exit 2) or, with ``--skip-bad``, split the folder without them and log the list (``args.skipped_files``)."""
    from ..data.base import UnreadableFilesError, describe_unreadable, find_unreadable
    from ..data.folder import scan_folder_dataset

    splits = scan_folder_dataset(root, seed=args.seed)
    every = [f for part in ("train", "val", "test") for f in splits.part(part)[0]]
    bad = find_unreadable(every)
    args.skipped_files = [f"{path}: {problem}" for path, problem in bad]
    if not bad:
        return splits
    if not getattr(args, "skip_bad", False):
        raise UnreadableFilesError(
            bad, len(every), "repair or remove these files, or pass --skip-bad to train without them "
            "(they are then listed in the log and in metrics.json).",
        )
    logging.getLogger("course_lib.cli").warning(
        "--skip-bad: leaving out %s", describe_unreadable(bad, len(every)).replace(" cannot be read:", " that cannot be read:")
    )
    return scan_folder_dataset(root, seed=args.seed, exclude=[path for path, _ in bad])


#: The metrics of a split that ``metrics.json`` keeps (``evaluate(...).metrics`` holds more).
_SUMMARY_KEYS = ("accuracy", "balanced_accuracy", "macro_precision", "macro_recall", "macro_f1",
                 "weighted_precision", "weighted_recall", "weighted_f1", "n_examples", "per_class", "confusion_matrix")


def _summary(metrics: dict) -> dict:
    """The :data:`_SUMMARY_KEYS` of one split's metrics."""
    return {k: metrics[k] for k in _SUMMARY_KEYS}


def _start_run(args: argparse.Namespace):
    """The training settings of ``train``'s options and the run folder (created): ``(config, out, checkpoint)``.

    Both paths train with the recommended recipe's :class:`~course_lib.train.TrainConfig`
    (``--sample-rate`` and ``--n-mels`` change the features, not the training).
    """
    config = RECOMMENDED.train_config(
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, early_stopping_patience=args.patience,
        seed=args.seed, device=args.device, progress=not args.quiet,
    )
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    return config, out, out / "best_model.pt"


def _write_run_outputs(out: Path, metrics: dict, history, confusion, class_names: list[str], model_name: str, root: Path) -> None:
    """Write a run's ``metrics.json``, ``history.json``, ``history.png`` and ``confusion_matrix.png`` into ``out``.

    Args:
        out: the run folder (exists).
        metrics: what ``metrics.json`` holds.
        history: the :class:`~course_lib.train.History` of the training shown.
        confusion: the test confusion matrix ``(n_classes, n_classes)`` counts.
        class_names: names of the classes, in label order.
        model_name: the model's name in the plot titles.
        root: the dataset folder (its name is in the history plot's title).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plots import plot_confusion_matrix, plot_history

    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    history.save_json(out / "history.json")
    fig = plot_history(history, title=f"{model_name} on {root.name}")
    fig.savefig(out / "history.png", dpi=110)
    plt.close(fig)
    ax = plot_confusion_matrix(confusion, class_names, normalize=True, title=f"test set ({model_name})")
    ax.figure.tight_layout()
    ax.figure.savefig(out / "confusion_matrix.png", dpi=110)
    plt.close(ax.figure)


def _print_scores(val, test, out: Path, checkpoint: Path) -> None:
    """The end of a ``train`` summary: validation and test scores, the test report, the files written.

    ``val`` and ``test`` are :class:`~course_lib.evaluation.EvaluationResult` s (``val`` may be ``None``).
    """
    if val is not None:
        print(f"Validation: accuracy {val.accuracy:.3f}, macro-F1 {val.macro_f1:.3f}")
    print(f"Test:       accuracy {test.accuracy:.3f}, macro-F1 {test.macro_f1:.3f}, "
          f"balanced accuracy {test.metrics['balanced_accuracy']:.3f} ({test.metrics['n_examples']} clips)")
    print(test.report())
    print(f"Wrote {out / 'metrics.json'}, {checkpoint}, {out / 'history.png'}, {out / 'confusion_matrix.png'}")


def train_command(args: argparse.Namespace) -> dict:
    """Run ``train`` with parsed arguments; return the metrics written to ``metrics.json``."""
    from ..data.base import AudioFileDataset
    from ..models import build_model, count_parameters
    from ..runs import train_and_evaluate
    from ..runtime import select_device

    if args.seed < 0:
        raise UsageError(f"--seed must be >= 0, got {args.seed}.")
    root: Path = args.root
    if not root.exists():
        raise UsageError(f"--root {root}: no such folder. Expected DIR/<class>/*.wav or DIR/{{train,val,test}}/<class>/*.wav.")
    if not root.is_dir():
        raise UsageError(f"--root {root}: is a file, not a folder of class sub-folders.")
    try:
        device = select_device(args.device)
    except RuntimeError as err:
        raise UsageError(str(err)) from None
    try:  # the recipe checks --sample-rate and --n-mels (n_mels >= 16, ...); its message names the setting
        recipe = RECOMMENDED.replace(sample_rate=args.sample_rate, n_mels=args.n_mels)
    except ValueError as err:
        raise UsageError(f"--sample-rate / --n-mels: {err}") from None

    splits = _usable_splits(root, args)
    class_names = list(splits.class_names)
    if len(class_names) < 2:
        raise UsageError(f"--root {root}: found a single class folder ({class_names[0]}); a classifier needs at least two.")
    duration_s = args.duration if args.duration is not None else _median_duration(splits.train[0])
    if duration_s < 2 * recipe.window_s:
        raise UsageError(f"clips of {duration_s} s are too short for {recipe.window_s} s analysis windows; pass a longer --duration.")

    if args.encoder is not None:
        return transfer_train_command(args, splits, duration_s)
    print(
        f"Data: {root} ({splits.layout}), {len(class_names)} classes, "
        f"{len(splits.train[0])} train / {len(splits.val[0])} val / {len(splits.test[0])} test files; "
        f"clips of {duration_s:g} s at {recipe.sample_rate} Hz."
    )
    # One owner for the front end: the datasets decode with it, the features are its, and the run
    # stores its settings (metrics.json, the checkpoint) for `predict`.
    front_end = recipe.front_end(duration_s)
    parts = {}
    for name in ("train", "val", "test"):
        files, labels = splits.part(name)
        if not files:
            parts[name] = None
            continue
        dataset = AudioFileDataset(files, labels, class_names, front_end=front_end)
        features, _ = dataset.to_features(cache=args.cache, progress=not args.quiet)
        parts[name] = features
    if parts["train"] is None or len(parts["train"]) == 0:
        raise UsageError(f"--root {root}: no usable training files.")
    if parts["test"] is None or len(parts["test"]) == 0:
        raise UsageError(f"--root {root}: no test files; add more files per class or a test/ folder.")
    if not args.no_augment:
        parts["train"].transform = recipe.augmentation()

    try:
        model = build_model(args.model, len(class_names), front_end.n_mels, seed=args.seed)
    except ValueError as err:
        raise UsageError(str(err)) from None
    if front_end.n_frames < model.min_frames:
        raise UsageError(f"{args.model} needs at least {model.min_frames} frames; clips of {duration_s} s give "
                         f"{front_end.n_frames}. Pass a longer --duration.")
    config, out, checkpoint = _start_run(args)
    settings = front_end.settings()
    print(f"Model: {args.model} ({count_parameters(model):,} parameters), up to {args.epochs} epochs on {device}.")
    run = train_and_evaluate(  # the model is built above (build_model(seed=)), to check it before training
        model, parts["train"], parts["val"], parts["test"], config, class_names=class_names, seed=args.seed,
        checkpoint_path=checkpoint, checkpoint_metadata={"class_names": class_names, "features": settings},
        evaluate_val=True,
    )
    history, result, val_result, train_time = run.history, run.test, run.val, run.train_time_s

    metrics = {
        "model": args.model,
        "classes": class_names,
        "epochs_run": history.epochs_run,
        "best_epoch": history.best_epoch,
        "stopped_early": history.stopped_early,
        "train_time_s": round(train_time, 2),
        "parameters": count_parameters(model),
        "layout": splits.layout,
        "n_files": {k: len(splits.part(k)[0]) for k in ("train", "val", "test")},
        "skipped_files": list(getattr(args, "skipped_files", [])),
        "features": settings,
        "training": {"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr, "patience": args.patience,
                     "augment": not args.no_augment, "seed": args.seed, "device": str(device)},
        "test": _summary(result.metrics),
        "val": _summary(val_result.metrics) if val_result is not None else None,
        "checkpoint": checkpoint.name,
    }
    _write_run_outputs(out, metrics, history, result.confusion_matrix, class_names, args.model, root)

    print()
    print(f"Trained {args.model} for {history.epochs_run} epoch(s) in {train_time:.1f} s; best epoch {history.best_epoch}"
          + (" (early stopping)" if history.stopped_early else "") + ".")
    _print_scores(val_result, result, out, checkpoint)
    return metrics


def transfer_train_command(args: argparse.Namespace, splits, duration_s: float) -> dict:
    """``train --encoder``: a head on a pretrained encoder's embeddings (and ``--fine-tune``); see :mod:`course_lib.transfer`."""
    from ..evaluation import evaluate
    from ..pretrained.aisfx import AISFX_SAMPLE_RATE, CREDIT
    from ..runtime import select_device
    from ..transfer import train_transfer

    if args.unfreeze > 4:
        raise UsageError(f"--unfreeze must be 1 to 4 (the encoder has 4 blocks), got {args.unfreeze}.")
    class_names = list(splits.class_names)
    root: Path = args.root
    print(
        f"Data: {root} ({splits.layout}), {len(class_names)} classes, "
        f"{len(splits.train[0])} train / {len(splits.val[0])} val / {len(splits.test[0])} test files; "
        f"clips of {duration_s:g} s at {AISFX_SAMPLE_RATE} Hz (the encoder's rate)."
    )
    print(CREDIT)
    hidden = None if args.head == "linear" else 128
    config, out, checkpoint = _start_run(args)
    settings = {"sample_rate": AISFX_SAMPLE_RATE, "duration_s": duration_s, "encoder": args.encoder}
    parts = {name: splits.part(name) for name in ("train", "val", "test")}
    try:
        result = train_transfer(
            parts, class_names, duration_s=duration_s, encoder_name=args.encoder, hidden_features=hidden, config=config,
            fine_tune=args.fine_tune, n_unfrozen=args.unfreeze, fine_tune_epochs=args.fine_tune_epochs,
            fine_tune_batch_size=min(args.batch_size, 16), cache=args.cache, checkpoint_path=checkpoint,
            checkpoint_metadata={"class_names": class_names, "features": settings},
        )
    except ImportError as err:
        raise UsageError(str(err)) from None
    if not result.kept["test"]:
        raise UsageError(f"--root {root}: no usable test files; add more files per class or a test/ folder.")
    test = evaluate(result.head, (result.final_embeddings["test"], result.labels["test"]), class_names)
    val = (evaluate(result.head, (result.final_embeddings["val"], result.labels["val"]), class_names)
           if result.kept["val"] else None)
    history = result.fine_tune_history or result.head_history
    head_only = result.head_only_accuracy if args.fine_tune else None
    model_name = f"{args.encoder}+{args.head}" + ("+fine-tune" if args.fine_tune else "")
    train_time = result.embed_time_s + result.head_time_s + result.fine_tune_time_s
    metrics = {
        "model": model_name,
        "encoder": result.info,
        "classes": class_names,
        "epochs_run": history.epochs_run,
        "best_epoch": history.best_epoch,
        "stopped_early": history.stopped_early,
        "train_time_s": round(train_time, 2),
        "embed_time_s": round(result.embed_time_s, 2),
        "head_time_s": round(result.head_time_s, 2),
        "fine_tune_time_s": round(result.fine_tune_time_s, 2),
        "parameters": sum(p.numel() for p in result.model.parameters() if p.requires_grad) or
        sum(p.numel() for p in result.head.parameters()),
        "layout": splits.layout,
        "n_files": {k: len(splits.part(k)[0]) for k in ("train", "val", "test")},
        "skipped_files": list(getattr(args, "skipped_files", [])),
        "n_used": {k: len(v) for k, v in result.kept.items()},
        "features": settings,
        "training": {"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr, "patience": args.patience,
                     "head": args.head, "fine_tune": args.fine_tune, "seed": args.seed,
                     "device": str(select_device(args.device))},
        "test": _summary(test.metrics),
        "val": _summary(val.metrics) if val is not None else None,
        "head_only": head_only,
        "checkpoint": checkpoint.name,
    }
    _write_run_outputs(out, metrics, history, test.confusion_matrix, class_names, model_name, root)

    print()
    print(f"Embedded {sum(len(v) for v in result.kept.values())} files in {result.embed_time_s:.1f} s; head trained in "
          f"{result.head_time_s:.1f} s" + (f"; fine-tuned {', '.join(result.info['unfrozen_blocks'])} in "
                                            f"{result.fine_tune_time_s:.1f} s" if args.fine_tune else "") + ".")
    if head_only is not None and "test" in head_only:
        print(f"Head alone (frozen encoder, before fine-tuning): test accuracy {head_only['test']:.3f}")
    _print_scores(val, test, out, checkpoint)
    return metrics


def predict_command(args: argparse.Namespace) -> int:
    """``predict``: top-k classes of each file; returns the exit code (1 when no file could be classified)."""
    from ..inference import collect_audio_files, load_run, predict_files, write_predictions
    from ..runtime import select_device

    try:
        device = select_device(args.device)
    except RuntimeError as err:
        raise UsageError(str(err)) from None
    try:
        run = load_run(args.run, device=device)
    except ImportError as err:
        raise UsageError(str(err)) from None
    except ValueError as err:
        raise UsageError(str(err)) from None
    files = collect_audio_files(args.inputs)
    if not files:
        raise UsageError(f"no audio files ({', '.join(e for e in ('.wav', '.flac', '.ogg', '.aiff'))}) in {', '.join(map(str, args.inputs))}.")
    print(f"Run: {run.folder} ({run.metrics.get('model')}, {len(run.class_names)} classes); {len(files)} file(s), "
          f"each as {run.duration_s:g} s at {run.sample_rate} Hz.")
    predictions = predict_files(run, files, top_k=args.top_k)
    width = max(len(str(p.file)) for p in predictions)
    for p in predictions:
        if p.ok:
            print(f"{str(p.file):<{width}}  " + "  ".join(f"{c} {v:.3f}" for c, v in p.top))
        else:
            print(f"{str(p.file):<{width}}  ERROR: {p.error}")
    csv_path = args.csv if args.csv is not None else run.folder / "predictions.csv"
    json_path = args.json if args.json is not None else run.folder / "predictions.json"
    write_predictions(predictions, csv_path, json_path)
    bad = sum(not p.ok for p in predictions)
    print(f"Classified {len(predictions) - bad} of {len(predictions)} file(s)" + (f"; {bad} could not be read (see ERROR rows)" if bad else "")
          + f". Wrote {csv_path} and {json_path}.")
    return 0 if bad < len(predictions) else 1
