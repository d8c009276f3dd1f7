"""The command line: train a classifier on a folder of recordings without a notebook.

Introduced in chapter 4 (``book/chapters/ch04_beyond_cnn.ipynb``)::

    python -m course_lib train --root DIR --out OUTDIR [--model simple_cnn|attention_cnn|audio_rnn|crnn]
        [--epochs N] [--sample-rate SR] [--duration S] [--n-mels M] [--seed K] [--device cpu|cuda]

``DIR`` is a folder dataset (read by :func:`course_lib.data.folder.scan_folder_dataset`):
``DIR/<class>/*.wav`` (split here, stratified and seeded: 70 % train, 15 % validation, 15 % test) or
``DIR/{train,val,test}/<class>/*.wav`` for a fixed split (with only ``train/`` and ``test/``,
validation is carved from train). Every default is the course's recommended recipe
(:data:`course_lib.recipe.RECOMMENDED`).

It writes into ``OUTDIR``: ``metrics.json`` (model, classes, epochs run, validation and test metrics),
``best_model.pt`` (the best epoch's weights; ``course_lib.train.load_checkpoint`` reads it),
``history.json``, ``history.png`` and ``confusion_matrix.png``, and ends with a summary.

Transfer learning (chapter 5) instead of a network from scratch::

    python -m course_lib train --root DIR --out OUTDIR --encoder aisfx [--head linear|mlp]
        [--fine-tune [--unfreeze N] [--fine-tune-epochs E]]

embeds every file once with the pretrained aiSFX sound-event encoder (cached with ``--cache``) and
trains a head on the embeddings; ``--fine-tune`` then unfreezes the encoder's top ``N`` blocks and
trains them with the head at a tenth of the learning rate (:mod:`course_lib.transfer`).
``metrics.json`` records the encoder.

Classifying new files with a trained run (:mod:`course_lib.inference`)::

    python -m course_lib predict --run OUTDIR FILE_OR_FOLDER... [--top-k K] [--csv PATH] [--json PATH]

prints each file's top-k classes with probabilities and writes ``OUTDIR/predictions.csv`` and
``OUTDIR/predictions.json``; a file that cannot be read is reported in its row, not fatal.
The parser is in :mod:`course_lib.cli.parser`, the commands in :mod:`course_lib.cli.commands`.
Wrong input (a missing folder, an empty class folder, bad options) gets a one-line message and exit code 2.
Every file of the folder is decoded once before training: files that cannot be decoded are listed all
together in one report (exit code 2); ``--skip-bad`` trains without them and lists them in the log and in
``metrics.json`` (``skipped_files``).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from .commands import predict_command, train_command, transfer_train_command
from .parser import EXIT_USAGE, UsageError, build_parser  # noqa: F401 (UsageError, EXIT_USAGE: re-exported)

__all__ = [
    "main",
    "build_parser",
    "train_command",
    "transfer_train_command",
    "predict_command",
]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m course_lib`` and the ``course-lib`` script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)  # exits with code 2 and a usage message on bad options
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    from ..audio_io import AudioFileError
    from ..data.base import DatasetError

    try:
        if args.command == "train":
            train_command(args)
        elif args.command == "predict":
            return predict_command(args)
    except (UsageError, DatasetError, AudioFileError, FileNotFoundError) as err:
        print(f"{parser.prog} {args.command}: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    return 0
