"""The training loop: :func:`fit`, built from one epoch of training, validation and early stopping.

Part of :mod:`course_lib.train` (introduced in chapter 2). The steps, in the order :func:`fit`
runs them:

1. seed everything, choose the device, build the loaders (:func:`_as_loader`);
2. the loss (:func:`_make_criterion`: class weights, label smoothing), the optimiser and the
   schedule (:mod:`course_lib.train.optim`);
3. per epoch: :func:`_train_one_epoch`, then :func:`_evaluate` on the validation data, then
   :class:`_EarlyStopping` decides whether the epoch is the best so far (its weights are kept, and
   written to the checkpoint) and whether to stop;
4. the best weights are restored.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from ..data.loader import make_loader
from ..runtime import seed_everything, select_device
from .balance import compute_class_weights
from .checkpoint import save_checkpoint
from .config import History, TrainConfig
from .optim import _check_optimizer, _make_optimizer, _make_scheduler

__all__ = ["fit"]

logger = logging.getLogger(__name__)


def _as_loader(data: Dataset | DataLoader, *, batch_size: int, shuffle: bool, seed: int, sampler=None, num_workers: int = 0) -> DataLoader:
    if isinstance(data, DataLoader):
        if sampler is not None:
            raise ValueError("fit: pass a sampler only with a Dataset; a DataLoader already has its own sampler.")
        return data
    if not isinstance(data, Dataset):
        raise TypeError(f"expected a torch Dataset or DataLoader, got {type(data).__name__}.")
    n = len(data)  # type: ignore[arg-type]
    if n == 0:
        raise ValueError("fit: the dataset is empty; check the split or the data folder.")
    # A last batch of a single example would make BatchNorm fail in training mode
    # ("Expected more than 1 value per channel"); drop it (it is a different one every epoch).
    n_draws = len(sampler) if sampler is not None else n
    drop_last = shuffle and n_draws > batch_size and n_draws % batch_size == 1
    return make_loader(
        data, batch_size=batch_size, shuffle=shuffle and sampler is None, seed=seed, sampler=sampler,
        num_workers=num_workers, drop_last=drop_last,
    )


def _labels_of(loader: DataLoader) -> torch.Tensor:
    dataset = loader.dataset
    labels = getattr(dataset, "labels", None)
    if isinstance(labels, torch.Tensor):
        return labels
    return torch.as_tensor([int(dataset[i][1]) for i in range(len(dataset))])


def _logits(output: Any, model: nn.Module) -> torch.Tensor:
    if isinstance(output, torch.Tensor):
        return output
    raise TypeError(
        f"{type(model).__name__}.forward returned {type(output).__name__}, not a logits tensor. fit and the "
        "evaluation functions need forward(x) -> logits (batch, n_classes); return extra outputs such as attention "
        "only when asked (forward(x, return_attention=True)), as the course's models do."
    )


@torch.no_grad()
def _evaluate(model: nn.Module, loader: DataLoader, criterion: nn.Module, device: torch.device) -> tuple[float, float]:
    model.eval()
    loss_sum, correct, total = 0.0, 0, 0
    for inputs, targets in loader:
        inputs, targets = inputs.to(device), torch.as_tensor(targets).to(device)
        logits = _logits(model(inputs), model)
        loss_sum += float(criterion(logits, targets)) * len(targets)
        correct += int((logits.argmax(dim=1) == targets).sum())
        total += len(targets)
    return loss_sum / total, correct / total


def _make_criterion(config: TrainConfig, train_loader: DataLoader, model: nn.Module, device: torch.device) -> nn.Module:
    """Cross-entropy with ``config``'s class weights (``"balanced"``: from the training labels) and label smoothing."""
    weight = config.class_weights
    if isinstance(weight, str):
        if weight != "balanced":
            raise ValueError(f"TrainConfig.class_weights must be None, 'balanced' or one weight per class, got {weight!r}.")
        weight = compute_class_weights(_labels_of(train_loader), getattr(model, "n_classes", None))
    if weight is not None:
        weight = torch.as_tensor(weight, dtype=torch.float32)
        n_classes = getattr(model, "n_classes", None)
        if weight.ndim != 1 or (n_classes is not None and len(weight) != n_classes) or not bool((weight > 0).all()):
            raise ValueError(f"class_weights must hold one positive weight per class ({n_classes}), got {weight.tolist()}.")
        weight = weight.to(device)
    return nn.CrossEntropyLoss(weight=weight, label_smoothing=config.label_smoothing)


def _train_one_epoch(
    model: nn.Module,
    loader: DataLoader,
    criterion: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    config: TrainConfig,
    device: torch.device,
    epoch: int,
) -> tuple[float, float, float]:
    """One pass over ``loader`` in training mode; returns (mean loss, accuracy, mean learning rate).

    Loss and accuracy are averaged over examples. One-cycle and cosine schedules step every batch.
    """
    per_batch_schedule = config.schedule in ("onecycle", "cosine")
    model.train()
    loss_sum, correct, total, lrs = 0.0, 0, 0, []
    for step, (inputs, targets) in enumerate(loader):
        inputs, targets = inputs.to(device), torch.as_tensor(targets).to(device)
        optimizer.zero_grad(set_to_none=True)
        try:
            logits = _logits(model(inputs), model)
        except ValueError as err:
            if "Expected more than 1 value per channel" in str(err):
                raise ValueError(
                    f"epoch {epoch}, batch {step}: a batch of {len(targets)} example(s) cannot be normalised by "
                    "BatchNorm in training mode. Fix: use a batch size > 1 and drop_last=True in the loader "
                    "(fit does this itself when given a Dataset)."
                ) from None
            raise
        if targets.numel() and (int(targets.max()) >= logits.shape[1] or int(targets.min()) < 0):
            raise ValueError(
                f"epoch {epoch}, batch {step}: label {int(targets.max())} is outside the model's "
                f"{logits.shape[1]} classes. Fix: build the model with n_classes = number of classes in the data."
            )
        loss = criterion(logits, targets)
        if not torch.isfinite(loss):
            raise FloatingPointError(
                f"epoch {epoch}, batch {step}: the loss is {float(loss.detach())}. Fix: lower TrainConfig.lr "
                f"(now {config.lr}), keep gradient clipping on, and check the inputs for NaN (standardised features)."
            )
        loss.backward()
        if config.grad_clip_norm is not None:
            nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip_norm)
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        if per_batch_schedule and scheduler is not None:
            scheduler.step()
        loss_sum += float(loss.detach()) * len(targets)
        correct += int((logits.detach().argmax(dim=1) == targets).sum())
        total += len(targets)
    return loss_sum / total, correct / total, float(np.mean(lrs))


class _EarlyStopping:
    """Watches the monitored value of each epoch: keeps the best weights and counts epochs without improvement.

    ``select=False`` (no validation data) keeps every epoch as the newest "best" and never stops.
    The best epoch and value are written into ``history`` (``best_epoch``, ``best_value``).
    """

    def __init__(self, history: History, *, min_delta: float, patience: int | None, select: bool) -> None:
        self.history = history
        self.min_delta = min_delta
        self.patience = patience
        self.select = select
        self.lower_is_better = history.monitor != "val_accuracy"
        self.best_state: dict[str, torch.Tensor] | None = None
        self.epochs_without_improvement = 0

    def is_improvement(self, value: float) -> bool:
        best = self.history.best_value
        if not self.select or best is None:
            return True
        return value < best - self.min_delta if self.lower_is_better else value > best + self.min_delta

    def update(self, epoch: int, value: float, model: nn.Module) -> bool:
        """Record ``epoch``'s ``value``; on an improvement keep a CPU copy of the weights and return True."""
        if self.is_improvement(value):
            self.history.best_value, self.history.best_epoch = float(value), epoch
            self.best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
            self.epochs_without_improvement = 0
            return True
        self.epochs_without_improvement += 1
        return False

    @property
    def should_stop(self) -> bool:
        return self.select and self.patience is not None and self.epochs_without_improvement >= self.patience

    def finish(self, model: nn.Module, *, restore_best: bool) -> None:
        """Load the best weights into ``model`` (when asked) and record which epoch it holds."""
        if restore_best and self.best_state is not None:
            model.load_state_dict(self.best_state)
            self.history.kept_epoch = self.history.best_epoch
        elif self.history.epoch:
            self.history.kept_epoch = self.history.epoch[-1]


def fit(
    model: nn.Module,
    train_data: Dataset | DataLoader,
    val_data: Dataset | DataLoader | None = None,
    config: TrainConfig | None = None,
    *,
    sampler: torch.utils.data.Sampler | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    checkpoint_path: str | os.PathLike | None = None,
    checkpoint_metadata: dict[str, Any] | None = None,
) -> History:
    """Train ``model`` on ``train_data``, watching ``val_data``; return the :class:`History`.

    Args:
        model: any classifier whose ``forward(x)`` returns logits ``(batch, n_classes)``.
        train_data: a ``Dataset`` of ``(input, label)`` pairs (``fit`` builds a seeded, shuffling loader)
            or a ready ``DataLoader``.
        val_data: the same for validation (no shuffling), or ``None`` (no early stopping; the last
            epoch is kept).
        config: a :class:`TrainConfig` (defaults when ``None``).
        sampler: e.g. :func:`make_weighted_sampler`, for a ``Dataset`` ``train_data``.
        optimizer: your own optimiser over the model's parameters (e.g. one parameter group per part
            of the model, each with its own learning rate: transfer learning, exercise 3). Default:
            AdamW built from ``config``. The schedule scales each group's own learning rate (one-cycle
            peaks at it), so the ratio between the groups is kept; ``config.lr`` is then unused.
        checkpoint_path: also write the best weights there (see :func:`save_checkpoint`) each time
            the monitored metric improves.
        checkpoint_metadata: plain values stored in the checkpoint (class names, feature settings...).

    Returns:
        The :class:`History`. The model is trained in place and, with ``restore_best``, holds the
        best epoch's weights; it is left in eval mode on ``config.device``.

    Raises:
        TypeError: the model returns something other than a tensor of logits.
        FloatingPointError: the loss became NaN or infinite (with the epoch and the usual fix).
        ValueError: empty data, a batch of one example in BatchNorm, labels outside the logits.

    Introduced in chapter 2.
    """
    config = TrainConfig() if config is None else config
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}.")
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}.")
    seed_everything(config.seed)
    device = select_device(config.device)
    model.to(device)

    train_loader = _as_loader(
        train_data, batch_size=config.batch_size, shuffle=True, seed=config.seed, sampler=sampler,
        num_workers=config.num_workers,
    )
    val_loader = None
    if val_data is not None:
        val_loader = _as_loader(
            val_data, batch_size=max(64, config.batch_size), shuffle=False, seed=config.seed,
            num_workers=config.num_workers,
        )
    criterion = _make_criterion(config, train_loader, model, device)

    steps_per_epoch = len(train_loader)
    if steps_per_epoch == 0:
        raise ValueError("fit: the training loader yields no batches (dataset smaller than one batch with drop_last?).")
    if optimizer is None:
        optimizer = _make_optimizer(model, config)
    else:
        _check_optimizer(optimizer, model)
        for group in optimizer.param_groups:  # one-cycle peaks at each group's own rate (kept when reused)
            group.setdefault("max_lr", group["lr"])
    scheduler = _make_scheduler(optimizer, config, steps_per_epoch)

    history = History(monitor=config.monitor if val_loader is not None else "train_loss")
    # Without validation data there is nothing to select on: the last epoch is kept.
    stopping = _EarlyStopping(
        history, min_delta=config.min_delta, patience=config.early_stopping_patience, select=val_loader is not None
    )

    from tqdm.auto import tqdm

    bar = tqdm(range(1, config.epochs + 1), desc=f"training {type(model).__name__}", unit="epoch", disable=not config.progress)
    for epoch in bar:
        start = time.perf_counter()
        train_loss, train_accuracy, lr = _train_one_epoch(
            model, train_loader, criterion, optimizer, scheduler, config, device, epoch
        )
        history.epoch.append(epoch)
        history.train_loss.append(train_loss)
        history.train_accuracy.append(train_accuracy)
        history.lr.append(lr)
        if val_loader is not None:
            val_loss, val_accuracy = _evaluate(model, val_loader, criterion, device)
            history.val_loss.append(val_loss)
            history.val_accuracy.append(val_accuracy)
            value = val_loss if history.monitor == "val_loss" else val_accuracy
        else:
            value = train_loss
        if config.schedule == "plateau":
            scheduler.step(value)
        history.epoch_time_s.append(time.perf_counter() - start)

        if stopping.update(epoch, value, model) and checkpoint_path is not None:
            save_checkpoint(
                checkpoint_path, model, epoch=epoch, monitor=history.monitor, value=float(value),
                **(checkpoint_metadata or {}),
            )
        postfix = {"loss": f"{train_loss:.3f}", "acc": f"{train_accuracy:.3f}"}
        if val_loader is not None:
            postfix.update(val_loss=f"{history.val_loss[-1]:.3f}", val_acc=f"{history.val_accuracy[-1]:.3f}")
        bar.set_postfix(postfix)
        if stopping.should_stop:
            history.stopped_early = epoch < config.epochs
            logger.info(
                "early stopping after epoch %d; best epoch %d (%s=%.4f)",
                epoch, history.best_epoch, history.monitor, history.best_value,
            )
            break
    bar.close()
    stopping.finish(model, restore_best=config.restore_best)
    model.eval()
    return history
