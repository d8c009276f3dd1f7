"""Training: one ``fit`` for every model, with the safeguards a real training run needs.

Introduced in chapter 2 (``book/chapters/ch02_first_cnn.ipynb``); chapters 4–7 and the command line
(``python -m course_lib train``) train with it.

What :func:`fit` does that the seed chapter's loop did not:

* seeds everything (:func:`course_lib.seeding.seed_everything`): the same seed gives the same history;
* averages losses over **examples**, not batches (a smaller last batch no longer counts as much as a full one);
* AdamW with weight decay, a learning-rate schedule (one-cycle, cosine with warm-up, or reduce-on-plateau),
  gradient clipping, optional class weights and label smoothing;
* early stopping on the validation metric, the best weights kept (in memory and, when asked, in a
  checkpoint file written with ``torch.save(state_dict)``) and restored at the end;
* a tqdm progress bar (a notebook widget in Jupyter, text in a terminal, nothing when ``progress=False``)
  instead of a ``print`` every ten batches;
* CPU by default, CUDA when present (``device="auto"``);
* clear errors: a model that returns a tuple, a loss that becomes NaN, a batch of one in BatchNorm.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, WeightedRandomSampler

from ._checks import check_choice, check_fraction, check_int, check_number, check_positive_float
from .pipeline import make_loader
from .runtime import atomic_write, seed_everything, select_device

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

logger = logging.getLogger(__name__)

Schedule = Literal["onecycle", "cosine", "plateau", "constant"]


@dataclass
class TrainConfig:
    """Everything :func:`fit` needs to know besides the model and the data.

    Attributes:
        epochs: most epochs to run (early stopping may end sooner).
        batch_size: examples per batch (used when ``fit`` builds the loader from a dataset).
        lr: peak learning rate (one-cycle / cosine) or starting rate (plateau / constant).
        weight_decay: AdamW's decoupled weight decay (0 disables).
        optimizer: ``"adamw"`` (default), ``"adam"`` or ``"sgd"`` (with Nesterov momentum 0.9).
        schedule: ``"onecycle"`` (warm up, then anneal; stepped every batch), ``"cosine"`` (linear
            warm-up then cosine decay to 0; every batch), ``"plateau"`` (halve when the monitored
            metric stalls for 3 epochs) or ``"constant"``.
        warmup_fraction: share of all steps spent warming up (one-cycle and cosine).
        label_smoothing: ``nn.CrossEntropyLoss`` label smoothing in ``[0, 1)``.
        grad_clip_norm: clip the global gradient norm to this value (``None`` disables).
        early_stopping_patience: stop after this many epochs without improvement of ``monitor``
            (``None`` disables early stopping; the best epoch is still restored).
        monitor: ``"val_loss"`` (lower is better) or ``"val_accuracy"`` (higher is better).
        min_delta: the smallest change of ``monitor`` that counts as an improvement.
        class_weights: ``None``, ``"balanced"`` (computed from the training labels with
            :func:`compute_class_weights`) or one weight per class, for the loss.
        seed: seeds Python, NumPy, PyTorch and the loader's shuffling.
        device: ``"auto"`` (CUDA when available, else CPU), ``"cpu"`` or ``"cuda"``.
        progress: show a tqdm progress bar over epochs.
        restore_best: load the best epoch's weights into the model at the end.
        num_workers: loader worker processes when ``fit`` builds the loaders (0 suits in-memory features).
    """

    epochs: int = 40
    batch_size: int = 32
    lr: float = 3e-3
    weight_decay: float = 1e-2
    optimizer: Literal["adamw", "adam", "sgd"] = "adamw"
    schedule: Schedule = "onecycle"
    warmup_fraction: float = 0.2
    label_smoothing: float = 0.0
    grad_clip_norm: float | None = 5.0
    early_stopping_patience: int | None = 10
    monitor: Literal["val_loss", "val_accuracy"] = "val_loss"
    min_delta: float = 1e-4
    class_weights: Any = None
    seed: int = 0
    device: str = "auto"
    progress: bool = True
    restore_best: bool = True
    num_workers: int = 0

    def __post_init__(self) -> None:
        owner = "TrainConfig"
        check_int(self.epochs, "epochs", minimum=1, owner=owner)
        check_int(self.batch_size, "batch_size", minimum=1, owner=owner)
        check_int(self.seed, "seed", minimum=0, owner=owner)
        check_int(self.num_workers, "num_workers", minimum=0, owner=owner)
        check_positive_float(self.lr, "lr", owner=owner)
        check_number(self.weight_decay, "weight_decay", minimum=0.0, owner=owner)
        check_choice(self.optimizer, "optimizer", ("adamw", "adam", "sgd"), owner=owner)
        check_choice(self.schedule, "schedule", ("onecycle", "cosine", "plateau", "constant"), owner=owner)
        check_fraction(self.warmup_fraction, "warmup_fraction", owner=owner)
        check_fraction(self.label_smoothing, "label_smoothing", owner=owner)
        if self.grad_clip_norm is not None:
            check_positive_float(self.grad_clip_norm, "grad_clip_norm", owner=owner, fix="pass a number > 0, or None to not clip")
        if self.early_stopping_patience is not None:
            check_int(self.early_stopping_patience, "early_stopping_patience", minimum=1, owner=owner,
                      fix="pass a whole number (int) >= 1, or None to not stop early")
        check_choice(self.monitor, "monitor", ("val_loss", "val_accuracy"), owner=owner)
        if self.device not in ("auto", "cpu", "cuda") and not str(self.device).startswith("cuda:"):
            raise ValueError(f"TrainConfig.device must be 'auto', 'cpu' or 'cuda', got {self.device!r}.")


@dataclass
class History:
    """What happened in each epoch of :func:`fit`. Accuracies are fractions in ``[0, 1]``.

    Attributes:
        epoch: epoch numbers, starting at 1.
        train_loss, train_accuracy: over the training set as it was trained on (with augmentation
            and dropout active), averaged over examples.
        val_loss, val_accuracy: over the validation set in eval mode (empty without validation data).
        lr: mean learning rate over the epoch's steps.
        epoch_time_s: wall-clock seconds per epoch (training and validation).
        best_epoch: the epoch with the best value of ``monitor`` (``None`` before training).
        best_value: the value of ``monitor`` at ``best_epoch``.
        kept_epoch: the epoch whose weights the model holds after :func:`fit`: ``best_epoch`` with
            ``TrainConfig.restore_best``, else the last epoch run (``None`` before training).
        monitor: the metric early stopping watched.
        stopped_early: whether early stopping ended the run before ``TrainConfig.epochs``.
    """

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    epoch_time_s: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    best_value: float | None = None
    kept_epoch: int | None = None
    monitor: str = "val_loss"
    stopped_early: bool = False

    @property
    def epochs_run(self) -> int:
        return len(self.epoch)

    @property
    def total_time_s(self) -> float:
        return float(sum(self.epoch_time_s))

    def __getitem__(self, key: str):
        return getattr(self, key)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``History.from_dict`` reads it back)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "History":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def save_json(self, path: str | os.PathLike) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2))
        return path


def _labels_tensor(labels: Sequence[int] | torch.Tensor | np.ndarray) -> torch.Tensor:
    labels = torch.as_tensor(np.asarray(labels) if not isinstance(labels, torch.Tensor) else labels)
    if labels.ndim != 1 or labels.numel() == 0 or labels.dtype.is_floating_point or labels.dtype == torch.bool:
        raise ValueError(f"labels must be a non-empty 1-D sequence of integer class indices, got shape {tuple(labels.shape)}, {labels.dtype}.")
    if int(labels.min()) < 0:
        raise ValueError(f"labels must be >= 0, got a minimum of {int(labels.min())}.")
    return labels.long()


def compute_class_weights(labels: Sequence[int] | torch.Tensor, n_classes: int | None = None) -> torch.Tensor:
    """Loss weights that balance the classes: ``n_examples / (n_classes * count[c])`` per class ``c``.

    Computed with scikit-learn's ``compute_class_weight("balanced")``. A rare class gets a large
    weight, a frequent one a small weight; with balanced classes every weight is 1.

    Args:
        labels: ``(N,)`` training labels.
        n_classes: number of classes (default ``max(labels) + 1``). Every class must occur.

    Returns:
        ``(n_classes,)`` float32 tensor, for ``nn.CrossEntropyLoss(weight=...)`` or ``TrainConfig.class_weights``.

    Introduced in chapter 6.
    """
    from sklearn.utils.class_weight import compute_class_weight

    labels = _labels_tensor(labels)
    n_classes = int(labels.max()) + 1 if n_classes is None else n_classes
    counts = torch.bincount(labels, minlength=n_classes)
    if len(counts) > n_classes:
        raise ValueError(f"labels go up to {int(labels.max())} but n_classes={n_classes}.")
    missing = (counts == 0).nonzero().flatten().tolist()
    if missing:
        raise ValueError(
            f"class(es) {missing} have no training examples, so no weight can balance them. "
            "Fix: check the split (every class needs examples in the training set) or drop the class."
        )
    weights = compute_class_weight("balanced", classes=np.arange(n_classes), y=labels.numpy())
    return torch.as_tensor(weights, dtype=torch.float32)


def make_weighted_sampler(
    labels: Sequence[int] | torch.Tensor,
    *,
    n_classes: int | None = None,
    num_samples: int | None = None,
    seed: int = 0,
) -> WeightedRandomSampler:
    """A sampler that draws every class equally often (with replacement): oversampling of rare classes.

    Each example's weight is its class's balanced weight (:func:`compute_class_weights`), so one
    epoch of ``num_samples`` draws (default: the dataset size) holds about as many examples of each
    class. Pass it to a loader with ``shuffle=False`` (e.g. ``make_loader(..., sampler=...)``) or to
    :func:`fit` as ``sampler=``.

    Introduced in chapter 6.
    """
    labels = _labels_tensor(labels)
    class_weights = compute_class_weights(labels, n_classes)
    sample_weights = class_weights[labels].double()
    num_samples = len(labels) if num_samples is None else num_samples
    check_int(num_samples, "num_samples", minimum=1)
    generator = torch.Generator().manual_seed(int(seed))
    return WeightedRandomSampler(sample_weights, num_samples=num_samples, replacement=True, generator=generator)


# --------------------------------------------------------------------------------------------
# Checkpoints


def save_checkpoint(path: str | os.PathLike, model: nn.Module, **metadata: Any) -> Path:
    """Save ``model.state_dict()`` plus plain metadata (epoch, metrics, class names...) to ``path``.

    Only tensors and plain Python values are stored, so :func:`load_checkpoint` can read the file
    with ``torch.load(..., weights_only=True)`` (which refuses to run code hidden in a pickle). When
    the model was made by :func:`course_lib.models.build_model`, its name and arguments are stored
    too, so the model can be rebuilt from the file alone. The file is written to a temporary name
    and then renamed, so an interrupted save never leaves a half-written checkpoint.

    Introduced in chapter 2.
    """
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    payload = {"state_dict": state, "model_class": type(model).__name__, "metadata": metadata}
    spec = getattr(model, "build_spec", None)
    if spec is not None:
        payload["build_spec"] = spec
    return atomic_write(path, lambda tmp: torch.save(payload, tmp))


def load_checkpoint(
    path: str | os.PathLike, model: nn.Module | None = None, *, map_location: str | torch.device = "cpu"
) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` (with ``weights_only=True``).

    Args:
        path: the checkpoint file.
        model: when given, its weights are replaced by the checkpoint's (``strict``: every tensor must match).
        map_location: where to put the tensors.

    Returns:
        The checkpoint dict: ``state_dict``, ``model_class``, ``metadata`` and, for models made by
        ``build_model``, ``build_spec`` (``course_lib.models.build_model(**spec)`` rebuilds the model).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such checkpoint file. Fix: check the path, or train first (fit(..., checkpoint_path=...)).")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # noqa: BLE001 - any unpickling failure means the same thing to the user
        raise ValueError(
            f"{path}: cannot be read as a course checkpoint ({type(err).__name__}: {err}). "
            "Fix: the file is corrupt or not a checkpoint written by save_checkpoint; retrain or re-copy it."
        ) from None
    if not isinstance(payload, dict) or "state_dict" not in payload:
        raise ValueError(f"{path}: not a course checkpoint (no 'state_dict' entry). Fix: save it with course_lib.training.save_checkpoint.")
    if model is not None:
        if payload.get("model_class") not in (None, type(model).__name__):
            raise ValueError(
                f"{path}: holds a {payload['model_class']} but the model given is a {type(model).__name__}. "
                "Fix: build the same model class (course_lib.models.build_model(**checkpoint['build_spec']))."
            )
        try:
            model.load_state_dict(payload["state_dict"])
        except RuntimeError as err:
            raise ValueError(
                f"{path}: its weights do not fit this model ({err}). Fix: build the model with the same "
                f"arguments as when it was saved: {payload.get('build_spec', 'see the metadata')}."
            ) from None
    return payload


# --------------------------------------------------------------------------------------------
# The loop


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

    train_loader = _as_loader(train_data, batch_size=config.batch_size, shuffle=True, seed=config.seed, sampler=sampler, num_workers=config.num_workers)
    val_loader = None
    if val_data is not None:
        val_loader = _as_loader(val_data, batch_size=max(64, config.batch_size), shuffle=False, seed=config.seed, num_workers=config.num_workers)

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
    criterion = nn.CrossEntropyLoss(weight=weight, label_smoothing=config.label_smoothing)

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
    per_batch_schedule = config.schedule in ("onecycle", "cosine")

    history = History(monitor=config.monitor if val_loader is not None else "train_loss")
    lower_is_better = history.monitor != "val_accuracy"
    best_state: dict[str, torch.Tensor] | None = None
    epochs_without_improvement = 0

    from tqdm.auto import tqdm

    bar = tqdm(range(1, config.epochs + 1), desc=f"training {type(model).__name__}", unit="epoch", disable=not config.progress)
    for epoch in bar:
        start = time.perf_counter()
        model.train()
        loss_sum, correct, total, lrs = 0.0, 0, 0, []
        for step, (inputs, targets) in enumerate(train_loader):
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
        history.epoch.append(epoch)
        history.train_loss.append(loss_sum / total)
        history.train_accuracy.append(correct / total)
        history.lr.append(float(np.mean(lrs)))
        if val_loader is not None:
            val_loss, val_accuracy = _evaluate(model, val_loader, criterion, device)
            history.val_loss.append(val_loss)
            history.val_accuracy.append(val_accuracy)
            value = val_loss if history.monitor == "val_loss" else val_accuracy
        else:
            value = history.train_loss[-1]
        if config.schedule == "plateau":
            scheduler.step(value)
        history.epoch_time_s.append(time.perf_counter() - start)

        # Without validation data there is nothing to select on: the last epoch is kept.
        improved = val_loader is None or history.best_value is None or (
            value < history.best_value - config.min_delta if lower_is_better else value > history.best_value + config.min_delta
        )
        if improved:
            history.best_value, history.best_epoch = float(value), epoch
            best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
            epochs_without_improvement = 0
            if checkpoint_path is not None:
                save_checkpoint(checkpoint_path, model, epoch=epoch, monitor=history.monitor, value=float(value), **(checkpoint_metadata or {}))
        else:
            epochs_without_improvement += 1
        postfix = {"loss": f"{history.train_loss[-1]:.3f}", "acc": f"{history.train_accuracy[-1]:.3f}"}
        if val_loader is not None:
            postfix.update(val_loss=f"{history.val_loss[-1]:.3f}", val_acc=f"{history.val_accuracy[-1]:.3f}")
        bar.set_postfix(postfix)
        if (
            val_loader is not None
            and config.early_stopping_patience is not None
            and epochs_without_improvement >= config.early_stopping_patience
        ):
            history.stopped_early = epoch < config.epochs
            logger.info("early stopping after epoch %d; best epoch %d (%s=%.4f)", epoch, history.best_epoch, history.monitor, history.best_value)
            break
    bar.close()
    if config.restore_best and best_state is not None:
        model.load_state_dict(best_state)
        history.kept_epoch = history.best_epoch
    elif history.epoch:
        history.kept_epoch = history.epoch[-1]
    model.eval()
    return history
