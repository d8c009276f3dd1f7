"""What a training run is asked to do (:class:`TrainConfig`) and what it did (:class:`History`).

Part of :mod:`course_lib.train` (introduced in chapter 2).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from .._checks import check_choice, check_fraction, check_int, check_number, check_positive_float

__all__ = ["TrainConfig", "History", "Schedule"]

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
    def from_dict(cls, data: dict[str, Any]) -> History:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def save_json(self, path: str | os.PathLike) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2))
        return path
