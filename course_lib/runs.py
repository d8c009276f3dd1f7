"""One training run, start to finish: seed → build → fit → predict → metrics.

Introduced in chapter 2 (the steps are those of ``book/chapters/ch02_first_cnn.ipynb``); the
command line (``python -m course_lib train``), the ESC-50 case study (chapter 7) and the pitfall
experiments (chapter 6) each run this sequence for every model, fold or arm. It sits above
:mod:`course_lib.train` and :mod:`course_lib.evaluation`, which it combines.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from ._checks import check_int
from .evaluation import EvaluationResult, evaluate
from .models import build_model, count_parameters
from .runtime import seed_everything
from .train import History, TrainConfig, fit

__all__ = ["RunResult", "train_and_evaluate"]

Data = Dataset | DataLoader | tuple[torch.Tensor, torch.Tensor]


@dataclass
class RunResult:
    """What :func:`train_and_evaluate` returns.

    Attributes:
        model: the trained model (the best epoch's weights with ``TrainConfig.restore_best``; eval mode).
        history: the :class:`~course_lib.train.config.History` of :func:`~course_lib.train.loop.fit`.
        test: predictions and :func:`~course_lib.evaluation.classification_metrics` on the test
            data (``None`` without test data).
        val: the same on the validation data when asked (``evaluate_val=True``), else ``None``.
        train_time_s: wall-clock seconds of :func:`fit` alone.
        n_parameters: the model's parameters (all of them).
        scores: named numbers a caller measures beyond :attr:`test` (chapter 6: ``"gap"``,
            ``"balanced/minority_recall"``...); empty unless the caller fills it.
        extra: anything else the caller keeps with the run (per-class arrays, the split used).
    """

    model: nn.Module
    history: History
    test: EvaluationResult | None
    val: EvaluationResult | None
    train_time_s: float
    n_parameters: int
    scores: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def metrics(self) -> dict[str, Any]:
        """The test metrics (``accuracy``, ``macro_f1``, ``per_class``, ``confusion_matrix``...)."""
        if self.test is None:
            raise ValueError("this run had no test data, so it has no test metrics; pass test_data to train_and_evaluate.")
        return self.test.metrics


def _build(
    model: str | nn.Module | Callable[[], nn.Module],
    *,
    n_classes: int,
    n_mels: int | None,
    model_kwargs: Mapping[str, Any] | None,
    seed: int,
) -> nn.Module:
    if isinstance(model, nn.Module):
        if model_kwargs:
            raise ValueError("model_kwargs are for a model built by name; this model is already built.")
        return model
    if isinstance(model, str):
        if n_mels is None:
            raise ValueError(
                f"train_and_evaluate({model!r}, ...) builds the model by name and needs n_mels. "
                "Fix: pass n_mels=recipe.n_mels (the mel bands of the features)."
            )
        return build_model(model, n_classes, n_mels, seed=seed, **dict(model_kwargs or {}))
    if callable(model):
        if model_kwargs:
            raise ValueError("model_kwargs are for a model built by name; give them to your builder function instead.")
        seed_everything(seed)  # the builder draws the initial weights from the global random state
        built = model()
        if not isinstance(built, nn.Module):
            raise TypeError(f"the model builder returned {type(built).__name__}, not an nn.Module.")
        return built
    raise TypeError(
        f"model must be a registered model name (str), a function of no arguments that builds one, or an "
        f"nn.Module, got {type(model).__name__}."
    )


def train_and_evaluate(
    model: str | nn.Module | Callable[[], nn.Module],
    train_data: Dataset | DataLoader,
    val_data: Dataset | DataLoader | None,
    test_data: Data | None,
    config: TrainConfig,
    *,
    class_names: Sequence[str],
    n_mels: int | None = None,
    model_kwargs: Mapping[str, Any] | None = None,
    seed: int | None = None,
    sampler: torch.utils.data.Sampler | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    checkpoint_path: str | os.PathLike | None = None,
    checkpoint_metadata: dict[str, Any] | None = None,
    evaluate_val: bool = False,
    batch_size: int = 64,
) -> RunResult:
    """Seed, build the model, :func:`~course_lib.train.loop.fit` it, then predict and score the test data.

    The steps, in order: build the model (a name goes to :func:`course_lib.models.build_model` with
    ``n_classes=len(class_names)``, ``n_mels``, ``model_kwargs`` and ``seed=seed``; a function is
    called after ``seed_everything(seed)``; a ready ``nn.Module`` is used as it is, so build it with
    ``build_model(..., seed=...)`` or seed before building it yourself); ``fit(model, train_data, val_data, config, ...)``; then
    :func:`course_lib.evaluation.evaluate` on ``test_data`` (and on ``val_data`` with ``evaluate_val``).

    Args:
        model: a :data:`course_lib.models.MODELS` name (``"simple_cnn"``), a function of no
            arguments that returns a model, or a built model.
        train_data, val_data: as for :func:`fit` (datasets of ``(input, label)`` pairs or loaders;
            ``val_data=None``: no early stopping, the last epoch is kept).
        test_data: a labelled dataset, a loader, or an ``(inputs, labels)`` pair with inputs
            ``(N, 1, n_mels, frames)``; ``None`` skips the test.
        config: the :class:`~course_lib.train.config.TrainConfig`.
        class_names: one name per class (their number is the model's ``n_classes``).
        n_mels: mel bands of the features (needed to build a model by name).
        model_kwargs: further :func:`build_model` arguments (``channels``, ``dropout``...).
        seed: seeds the initial weights (default ``config.seed``; ``fit`` seeds batches with ``config.seed``).
        sampler, optimizer, checkpoint_path, checkpoint_metadata: passed to :func:`fit`.
        evaluate_val: also score ``val_data`` (into :attr:`RunResult.val`).
        batch_size: examples per batch when predicting.

    Returns:
        A :class:`RunResult` (model, history, test and validation results, seconds of training,
        parameter count).

    Raises:
        ValueError: a model name without ``n_mels``, ``model_kwargs`` with a built model, or what
            :func:`build_model`, :func:`fit` and :func:`evaluate` refuse.
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}.")
    class_names = [str(name) for name in class_names]
    if not class_names:
        raise ValueError("class_names is empty: name every class (their number sets the model's output size).")
    seed = config.seed if seed is None else check_int(seed, "seed", minimum=0)
    built = _build(model, n_classes=len(class_names), n_mels=n_mels, model_kwargs=model_kwargs, seed=seed)
    n_parameters = count_parameters(built)
    start = time.perf_counter()
    history = fit(
        built, train_data, val_data, config, sampler=sampler, optimizer=optimizer,
        checkpoint_path=checkpoint_path, checkpoint_metadata=checkpoint_metadata,
    )
    train_time_s = time.perf_counter() - start
    test = evaluate(built, test_data, class_names, batch_size=batch_size) if test_data is not None else None
    val = None
    if evaluate_val and val_data is not None:
        val = evaluate(built, val_data, class_names, batch_size=batch_size)
    return RunResult(built, history, test, val, train_time_s, n_parameters)
