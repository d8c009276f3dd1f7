"""Training: one ``fit`` for every model, with the safeguards a real training run needs.

Introduced in chapter 2 (``book/chapters/ch02_first_cnn.ipynb``); chapters 4–7 and the command line
(``python -m course_lib train``) train with it.

What :func:`fit` does that the seed chapter's loop did not:

* seeds everything (:func:`course_lib.runtime.seed_everything`): the same seed gives the same history;
* averages losses over **examples**, not batches (a smaller last batch no longer counts as much as a full one);
* AdamW with weight decay, a learning-rate schedule (one-cycle, cosine with warm-up, or reduce-on-plateau),
  gradient clipping, optional class weights and label smoothing;
* early stopping on the validation metric, the best weights kept (in memory and, when asked, in a
  checkpoint file written with ``torch.save(state_dict)``) and restored at the end;
* a tqdm progress bar (a notebook widget in Jupyter, text in a terminal, nothing when ``progress=False``)
  instead of a ``print`` every ten batches;
* CPU by default, CUDA when present (``device="auto"``);
* clear errors: a model that returns a tuple, a loss that becomes NaN, a batch of one in BatchNorm.

The code now lives in the :mod:`course_lib.train` package (``config``, ``loop``, ``optim``,
``checkpoint``, ``balance``); this module re-exports its public names, so ``from
course_lib.training import fit, TrainConfig`` keeps working.
"""

from __future__ import annotations

from .train import (
    History,
    TrainConfig,
    compute_class_weights,
    fit,
    load_checkpoint,
    make_weighted_sampler,
    save_checkpoint,
    select_device,
)

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
