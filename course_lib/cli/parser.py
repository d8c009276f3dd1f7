"""The argument parser of ``python -m course_lib`` and the usage errors its commands report."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..recipe import RECOMMENDED

__all__ = [
    "build_parser",
    "UsageError",
    "EXIT_USAGE",
]


EXIT_USAGE = 2


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m course_lib`` (every option documented in ``--help``)."""
    from ..models import MODELS

    parser = argparse.ArgumentParser(
        prog="python -m course_lib",
        description="Deep Learning for Audio — the course's command line.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    train = commands.add_parser(
        "train",
        help="train a classifier on a folder dataset with the course's recommended recipe",
        description=(
            "Train a spectrogram classifier on DIR/<class>/*.wav (split 70/15/15 here, stratified and seeded) "
            "or DIR/{train,val,test}/<class>/*.wav (a fixed split; with only train/ and test/, validation is "
            "carved from train). Defaults follow the course's recommended recipe: log-mel features "
            f"({RECOMMENDED.n_mels} bands, {RECOMMENDED.window_s * 1000:g} ms windows every {RECOMMENDED.hop_s * 1000:g} ms), "
            "per-clip standardisation, SpecAugment, AdamW with a one-cycle schedule, early stopping on the "
            "validation loss and the best epoch restored. Writes OUTDIR/metrics.json, best_model.pt, "
            "history.json, history.png and confusion_matrix.png."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    train.add_argument("--root", required=True, type=Path, metavar="DIR", help="the dataset folder (see above)")
    train.add_argument("--out", required=True, type=Path, metavar="OUTDIR", help="folder for the results (created)")
    train.add_argument("--model", default=RECOMMENDED.model, choices=sorted(MODELS), help="architecture")
    train.add_argument(
        "--epochs", type=_positive_int, default=RECOMMENDED.training.epochs, metavar="N",
        help="most epochs to train; early stopping may end sooner",
    )
    train.add_argument(
        "--sample-rate", type=_positive_int, default=RECOMMENDED.sample_rate, metavar="SR",
        help="every file is resampled to SR Hz",
    )
    train.add_argument(
        "--duration", type=_positive_float, default=None, metavar="S",
        help="clip length in seconds: longer files are centre-cropped, shorter ones zero-padded "
        "(None: the median length of the training files)",
    )
    train.add_argument("--n-mels", type=_positive_int, default=RECOMMENDED.n_mels, metavar="M", help="mel bands (>= 16)")
    train.add_argument("--seed", type=int, default=0, metavar="K", help="seed of the split, the initial weights and the training")
    train.add_argument(
        "--device", default="auto", choices=["auto", "cpu", "cuda"],
        help="where to train: auto picks CUDA when a GPU is present, else the CPU",
    )
    train.add_argument("--batch-size", type=_positive_int, default=RECOMMENDED.training.batch_size, metavar="B", help="clips per batch")
    train.add_argument("--lr", type=_positive_float, default=RECOMMENDED.training.lr, help="peak learning rate of the one-cycle schedule")
    train.add_argument(
        "--patience", type=_positive_int, default=RECOMMENDED.training.early_stopping_patience, metavar="P",
        help="stop after P epochs without a better validation loss",
    )
    train.add_argument("--no-augment", action="store_true", help="train without SpecAugment")
    train.add_argument("--cache", type=Path, default=None, metavar="DIR", help="keep computed features in DIR for the next run")
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    train.add_argument(
        "--skip-bad", action="store_true",
        help="leave out files that cannot be decoded (listed in the log and in metrics.json) instead of stopping "
        "with the list of them",
    )
    transfer = train.add_argument_group(
        "transfer learning", "start from a pretrained encoder instead of training a network from scratch (chapter 5)"
    )
    transfer.add_argument(
        "--encoder", default=None, choices=["aisfx"],
        help="embed every file with this pretrained encoder (aisfx: Ma & Lerch's sound-event CNN, 44.1 kHz; "
        "--sample-rate and --n-mels are then unused) and train a head on the embeddings; --cache keeps them",
    )
    transfer.add_argument("--head", default="linear", choices=["linear", "mlp"], help="the head: linear, or one hidden layer of 128")
    transfer.add_argument(
        "--fine-tune", action="store_true",
        help="after the head, unfreeze the encoder's top --unfreeze blocks and train them with the head at lr/10",
    )
    transfer.add_argument("--unfreeze", type=_positive_int, default=1, metavar="N", help="encoder blocks (1-4, from the top) that --fine-tune trains")
    transfer.add_argument("--fine-tune-epochs", type=_positive_int, default=10, metavar="E", help="most epochs of --fine-tune")

    predict = commands.add_parser(
        "predict",
        help="classify audio files with a trained run",
        description=(
            "Classify audio files with the model of a training run (the --out folder of `train`, from scratch or "
            "with --encoder). Each file is prepared as the training files were (mono, resampled, centre-cropped or "
            "padded to the training clip length). Prints each file's top-k classes with probabilities and writes a "
            "CSV and a JSON file. A file that cannot be read is reported in its row; the others are still classified."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    predict.add_argument("--run", required=True, type=Path, metavar="OUTDIR", help="the folder written by `train --out`")
    predict.add_argument("inputs", nargs="+", type=Path, metavar="FILE_OR_FOLDER", help="audio files, or folders searched recursively")
    predict.add_argument("--top-k", type=_positive_int, default=3, metavar="K", help="classes listed per file")
    predict.add_argument("--csv", type=Path, default=None, metavar="PATH", help="CSV output (default OUTDIR/predictions.csv)")
    predict.add_argument("--json", type=Path, default=None, metavar="PATH", help="JSON output (default OUTDIR/predictions.json)")
    predict.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"], help="where to run the model")
    return parser


class UsageError(Exception):
    """A problem with the user's input: reported in one line with exit code 2."""
