"""The optimiser and the learning-rate schedule that :func:`course_lib.train.loop.fit` builds or checks.

Part of :mod:`course_lib.train` (private helpers; see :class:`~course_lib.train.config.TrainConfig`
for the settings they read).
"""

from __future__ import annotations

import logging
import math

import torch
from torch import nn

from .config import TrainConfig

logger = logging.getLogger(__name__)


def _make_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig, steps_per_epoch: int):
    total = config.epochs * steps_per_epoch
    if config.schedule == "onecycle":
        if total < 4:  # too few steps for a warm-up and an annealing phase: keep the rate constant
            return None
        # Each phase needs at least two steps (OneCycleLR divides by the phase length).
        pct_start = min(max(config.warmup_fraction, 2.0 / total), 1.0 - 2.0 / total)
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=[g.get("max_lr", config.lr) for g in optimizer.param_groups], total_steps=total,
            pct_start=pct_start,
            anneal_strategy="cos", div_factor=25.0, final_div_factor=1e3,
        )
    if config.schedule == "cosine":
        warmup = int(config.warmup_fraction * total)

        def factor(step: int) -> float:
            if step < warmup:
                return (step + 1) / warmup
            progress = (step - warmup) / max(1, total - warmup)
            return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

        return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    if config.schedule == "plateau":
        mode = "min" if config.monitor == "val_loss" else "max"
        return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode=mode, factor=0.5, patience=3)
    return None


def _make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    # No weight decay on biases and normalisation parameters (1-D tensors): decaying them only hurts.
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.ndim <= 1]
    if not decay and not no_decay:
        raise ValueError(f"{type(model).__name__} has no trainable parameters (all requires_grad=False); nothing to train.")
    groups = [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    if config.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=config.lr)
    if config.optimizer == "adam":
        return torch.optim.Adam(groups, lr=config.lr)
    return torch.optim.SGD(groups, lr=config.lr, momentum=0.9, nesterov=True)


def _check_optimizer(optimizer: torch.optim.Optimizer, model: nn.Module) -> None:
    """An optimiser given to :func:`fit` must update this model's parameters, and all its trainable ones."""
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}.")
    own = {id(p) for p in model.parameters()}
    held = {id(p) for g in optimizer.param_groups for p in g["params"]}
    foreign = len(held - own)
    if foreign:
        raise ValueError(
            f"the optimizer holds {foreign} tensor(s) that are not parameters of {type(model).__name__}. Fix: build it "
            "from this model's parameters (after moving or copying the model, build a new optimizer)."
        )
    missing = [n for n, p in model.named_parameters() if p.requires_grad and id(p) not in held]
    if missing:
        logger.warning(
            "%d trainable parameter(s) of %s are in no optimizer group and will not learn (e.g. %s).",
            len(missing), type(model).__name__, missing[0],
        )
