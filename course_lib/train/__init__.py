"""Training, by job: settings and history, the loop, checkpoints, class balance.

Introduced in chapter 2 (``book/chapters/ch02_first_cnn.ipynb``); chapters 4–7 and the command
line train with :func:`fit`.

=================================  ======================================================
:mod:`course_lib.train.config`     :class:`TrainConfig` (what to do), :class:`History` (what happened)
:mod:`course_lib.train.loop`       :func:`fit`: one epoch, validation, early stopping
:mod:`course_lib.train.optim`      the optimiser and the learning-rate schedule ``fit`` builds
:mod:`course_lib.train.checkpoint` :func:`save_checkpoint`, :func:`load_checkpoint`
:mod:`course_lib.train.balance`    :func:`compute_class_weights`, :func:`make_weighted_sampler` (ch. 6)
=================================  ======================================================
"""

from __future__ import annotations

from ..runtime import select_device
from .balance import compute_class_weights, make_weighted_sampler
from .checkpoint import load_checkpoint, save_checkpoint
from .config import History, TrainConfig
from .loop import fit

__all__ = [
    "TrainConfig",
    "History",
    "fit",
    "select_device",
    "compute_class_weights",
    "make_weighted_sampler",
    "save_checkpoint",
    "load_checkpoint",
]
