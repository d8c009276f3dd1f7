"""Train models over several seeds on one or more tasks, and summarise the mean and the spread.

Introduced in chapter 2 (``book/chapters/ch02_first_cnn.ipynb``), where the first CNN is trained on
the synthetic events and on the real recordings of :mod:`course_lib.sonicpi`; chapter 4
(``book/chapters/ch04_beyond_cnn.ipynb``) compares its three models the same way.

One training run on one split is one draw: with a few dozen test clips, another seed (another
split, another initialisation, another shuffling) moves the accuracy by several points. A
:class:`ClassificationTask` therefore holds the features once plus a *function* from a seed to a
split, and :func:`run_seeds` trains every model on every seed with the same recipe;
:func:`summarize_runs` reports the mean, the standard deviation over seeds and the range.

Seed ``s`` decides everything random in a run: the split (``task.split(s)``), the model's
initial weights, the shuffling and the augmentation (``TrainConfig.seed = s``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ._checks import check_int
from .data.loader import FeatureDataset
from .data.splits import Split
from .evaluation import EvaluationResult, evaluate
from .models import build_model, count_parameters
from .recipe import RECOMMENDED, Recipe
from .runtime import select_device
from .train import History, TrainConfig, fit

__all__ = ["ClassificationTask", "SeedRun", "record_run", "run_seed", "run_seeds", "summarize_runs", "mean_std", "total_confusion"]


@dataclass(frozen=True)
class ClassificationTask:
    """Features, labels and a seeded split: everything a comparison needs about one dataset.

    Attributes:
        name: shown in tables (e.g. ``"synthetic"``, ``"real recordings"``).
        features: ``(N, 1, n_mels, frames)`` float features (standardised log-mels).
        labels: ``(N,)`` int64 class indices.
        class_names: one name per class.
        split: ``seed → Split`` of indices into ``features`` (e.g. a stratified split of the
            labels, or a split grouped by recording).
    """

    name: str
    features: torch.Tensor
    labels: torch.Tensor
    class_names: tuple[str, ...]
    split: Callable[[int], Split]

    def __post_init__(self) -> None:
        f, y = self.features, self.labels
        if not isinstance(f, torch.Tensor) or f.ndim != 4 or f.shape[1] != 1 or not torch.is_floating_point(f):
            raise ValueError(
                f"ClassificationTask {self.name!r}: features must be a float (N, 1, n_mels, frames) tensor, "
                f"got {getattr(f, 'shape', type(f))}. Fix: compute_features(waveforms[:, None], front_end) for (N, samples) waveforms."
            )
        if not isinstance(y, torch.Tensor) or y.ndim != 1 or y.shape[0] != f.shape[0]:
            raise ValueError(
                f"ClassificationTask {self.name!r}: labels must be an (N,) tensor with N = {f.shape[0]} (one per example), "
                f"got {getattr(y, 'shape', type(y))}."
            )
        object.__setattr__(self, "class_names", tuple(str(c) for c in self.class_names))
        if y.numel() and (int(y.min()) < 0 or int(y.max()) >= len(self.class_names)):
            raise ValueError(
                f"ClassificationTask {self.name!r}: labels run from {int(y.min())} to {int(y.max())} but there are "
                f"{len(self.class_names)} class names."
            )
        if not callable(self.split):
            raise TypeError(f"ClassificationTask {self.name!r}: split must be a function seed -> Split, got {type(self.split).__name__}.")

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def n_mels(self) -> int:
        return int(self.features.shape[2])

    @property
    def n_frames(self) -> int:
        return int(self.features.shape[3])

    def datasets(self, split: Split, *, augment: bool = True, recipe: Recipe = RECOMMENDED):
        """``(train, val, test)`` :class:`FeatureDataset` s; SpecAugment (from ``recipe``) on the training part only."""
        transform = recipe.augmentation() if augment else None
        train = FeatureDataset(self.features[split.train], self.labels[split.train], transform=transform)
        val = FeatureDataset(self.features[split.val], self.labels[split.val])
        test = FeatureDataset(self.features[split.test], self.labels[split.test])
        return train, val, test


@dataclass
class SeedRun:
    """One model trained with one seed on one task, evaluated on that seed's test part.

    Attributes:
        task, model, seed: what was run.
        accuracy, balanced_accuracy, macro_f1: test-set metrics (fractions).
        epochs_run, best_epoch: from the :class:`History`.
        train_s: wall-clock seconds of training (depends on the machine and its load).
        parameters: trainable parameters of the model.
        n_train, n_val, n_test: examples in each part.
        confusion: ``(n_classes, n_classes)`` test counts, rows are true classes.
        history: the training :class:`History`.
        trained: the trained model (best epoch's weights, eval mode, on the CPU).
    """

    task: str
    model: str
    seed: int
    accuracy: float
    balanced_accuracy: float
    macro_f1: float
    epochs_run: int
    best_epoch: int | None
    train_s: float
    parameters: int
    n_train: int
    n_val: int
    n_test: int
    confusion: np.ndarray
    history: History = field(repr=False, default_factory=History)
    trained: nn.Module | None = field(repr=False, default=None)

    def as_row(self) -> dict:
        """The scalar fields, for a ``pandas.DataFrame``."""
        return {
            "task": self.task, "model": self.model, "seed": self.seed, "accuracy": self.accuracy,
            "balanced accuracy": self.balanced_accuracy, "macro-F1": self.macro_f1, "epochs": self.epochs_run,
            "best epoch": self.best_epoch, "training (s)": self.train_s, "parameters": self.parameters,
            "train": self.n_train, "val": self.n_val, "test": self.n_test,
        }


def record_run(
    task: ClassificationTask,
    model_name: str,
    seed: int,
    model: nn.Module,
    history: History,
    result: EvaluationResult,
    split: Split,
    train_s: float | None = None,
) -> SeedRun:
    """A :class:`SeedRun` for a model already trained and evaluated (e.g. the one a chapter trained step by step)."""
    return SeedRun(
        task=task.name, model=model_name, seed=int(seed), accuracy=float(result.accuracy),
        balanced_accuracy=float(result.metrics["balanced_accuracy"]), macro_f1=float(result.macro_f1),
        epochs_run=history.epochs_run, best_epoch=history.best_epoch,
        train_s=float(history.total_time_s if train_s is None else train_s), parameters=count_parameters(model),
        n_train=len(split.train), n_val=len(split.val), n_test=len(split.test),
        confusion=_full_confusion(result, task.n_classes), history=history, trained=model,
    )


def _full_confusion(result: EvaluationResult, n_classes: int) -> np.ndarray:
    """The test confusion matrix padded to all ``n_classes`` (evaluation only sees the classes present)."""
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    for true, pred in zip(result.predictions.labels.tolist(), result.predictions.predictions.tolist()):
        counts[int(true), int(pred)] += 1
    return counts


def run_seed(
    task: ClassificationTask,
    model_name: str,
    seed: int,
    config: TrainConfig,
    *,
    model_kwargs: Mapping | None = None,
    augment: bool = True,
    recipe: Recipe = RECOMMENDED,
) -> tuple[SeedRun, nn.Module]:
    """Split with ``seed``, build ``model_name`` with ``seed``, train it with ``config`` (its seed set to ``seed``), evaluate.

    Args:
        task: the data.
        model_name: a name of :data:`course_lib.models.MODELS`.
        seed: a non-negative integer; decides the split, the initial weights, shuffling and augmentation.
        config: the training settings (``config.seed`` is replaced by ``seed``).
        model_kwargs: extra arguments of the model (e.g. ``COMPACT_MODELS[model_name]``).
        augment: SpecAugment on the training part.
        recipe: where the SpecAugment settings come from.

    Returns:
        ``(run, model)``: the :class:`SeedRun` and the trained model (best epoch's weights, eval mode).

    Raises:
        ValueError: a negative seed, or a split with an empty training, validation or test part.
    """
    import dataclasses

    check_int(seed, "seed", minimum=0)
    split = task.split(seed)
    for part in ("train", "val", "test"):
        if len(getattr(split, part)) == 0:
            raise ValueError(
                f"task {task.name!r}, seed {seed}: the split has no {part} examples; give the task more data or "
                "change the split fractions."
            )
    train, val, test = task.datasets(split, augment=augment, recipe=recipe)
    model = build_model(model_name, task.n_classes, task.n_mels, seed=seed, **dict(model_kwargs or {}))
    start = time.perf_counter()
    history = fit(model, train, val, dataclasses.replace(config, seed=seed))
    train_s = time.perf_counter() - start
    model = model.cpu().eval()
    result = evaluate(model, test, task.class_names)
    return record_run(task, model_name, seed, model, history, result, split, train_s), model


class _FixedSplit:
    """A picklable ``seed → Split`` for worker processes: the split computed in the parent for one seed."""

    def __init__(self, seed: int, split: Split) -> None:
        self.seed, self.split_ = seed, split

    def __call__(self, seed: int) -> Split:
        if seed != self.seed:  # pragma: no cover - run_seeds always asks for the seed it prepared
            raise ValueError(f"this split was prepared for seed {self.seed}, not {seed}.")
        return self.split_


_WORKER_TASKS: list[tuple] = []


def _init_worker(payloads: list[tuple]) -> None:
    """Runs once in each worker process: one thread per process, and the tasks' tensors kept in memory."""
    torch.set_num_threads(1)
    _WORKER_TASKS[:] = payloads


def _run_job(job: tuple) -> SeedRun:
    task_index, split, model_name, seed, config, kwargs, augment, recipe = job
    name, features, labels, class_names = _WORKER_TASKS[task_index]
    task = ClassificationTask(name, features, labels, class_names, _FixedSplit(seed, split))
    run, _ = run_seed(task, model_name, seed, config, model_kwargs=kwargs, augment=augment, recipe=recipe)
    return run


def run_seeds(
    tasks: ClassificationTask | Sequence[ClassificationTask],
    model_names: Sequence[str],
    seeds: Sequence[int],
    config: TrainConfig,
    *,
    model_kwargs: Mapping[str, Mapping] | None = None,
    augment: bool = True,
    recipe: Recipe = RECOMMENDED,
    processes: int = 1,
) -> list[SeedRun]:
    """:func:`run_seed` for every task, model and seed (in that loop order).

    Args:
        tasks: one :class:`ClassificationTask` or several.
        model_names: names of :data:`course_lib.models.MODELS`.
        seeds: distinct non-negative integers.
        config: the training settings (its ``seed`` is replaced by each seed).
        model_kwargs: model name → its extra arguments (e.g. :data:`course_lib.recipe.COMPACT_MODELS`).
        augment, recipe: as in :func:`run_seed`.
        processes: runs at once. ``1`` trains one run after the other in this process. More starts
            that many worker processes, each training one run at a time on **one** CPU thread: the
            course's compact models are too small for several threads to speed up one run much, so
            on a CPU with two cores two processes finish a set of runs sooner than one process whose
            runs each use both cores (on a busy machine, where threads wait for each other, far
            sooner). Each run is
            reproducible with the same ``processes`` setting (one thread and two give slightly
            different floating-point sums). Ignored (one process) when ``config.device`` selects a GPU.

    Returns:
        One :class:`SeedRun` per (task, model, seed), in loop order, each with its trained model.
    """
    task_list = [tasks] if isinstance(tasks, ClassificationTask) else list(tasks)
    if not task_list:
        raise ValueError("tasks is empty: give at least one ClassificationTask.")
    seeds = list(seeds)
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be a non-empty list of distinct integers, got {seeds!r}.")
    for i, seed in enumerate(seeds):
        check_int(seed, f"seeds[{i}]", minimum=0)
    model_names = list(model_names)
    if not model_names:
        raise ValueError("model_names is empty: name at least one model.")
    check_int(processes, "processes", minimum=1)
    kwargs = dict(model_kwargs or {})
    plan = [(t, name, seed) for t in range(len(task_list)) for name in model_names for seed in seeds]
    if processes == 1 or len(plan) == 1 or select_device(config.device).type != "cpu":
        return [
            run_seed(task_list[t], name, seed, config, model_kwargs=kwargs.get(name), augment=augment, recipe=recipe)[0]
            for t, name, seed in plan
        ]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    jobs = [(t, task_list[t].split(seed), name, seed, config, kwargs.get(name), augment, recipe) for t, name, seed in plan]
    payloads = [(t.name, t.features, t.labels, t.class_names) for t in task_list]
    # "spawn": a fresh interpreter per worker, safe after PyTorch has started its own threads (fork is not).
    with ProcessPoolExecutor(
        max_workers=min(processes, len(jobs)), mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_worker, initargs=(payloads,),
    ) as pool:
        return list(pool.map(_run_job, jobs))


def mean_std(values: Sequence[float], digits: int = 3) -> str:
    """``"mean ± sd"`` with the sample standard deviation (``ddof=1``); one value gives ``"x ± –"``."""
    values = np.asarray(list(values), dtype=float)
    if values.size == 0:
        raise ValueError("mean_std got no values.")
    mean = values.mean()
    if values.size == 1:
        return f"{mean:.{digits}f} ± –"
    return f"{mean:.{digits}f} ± {values.std(ddof=1):.{digits}f}"


def summarize_runs(runs: Sequence[SeedRun]):
    """Mean, standard deviation (over seeds, ``ddof=1``), minimum and maximum per (task, model).

    Returns:
        A ``pandas.DataFrame`` indexed by ``(task, model)`` in the order first seen, with columns
        ``seeds``, ``accuracy mean``, ``accuracy sd``, ``accuracy min``, ``accuracy max``,
        ``macro-F1 mean``, ``macro-F1 sd``, ``macro-F1 min``, ``macro-F1 max``, ``epochs mean``,
        ``training (s) mean``, ``parameters``, ``test examples mean``.
    """
    import pandas as pd

    if not runs:
        raise ValueError("summarize_runs got no runs.")
    frame = pd.DataFrame([r.as_row() for r in runs])
    order = list(dict.fromkeys(zip(frame["task"], frame["model"])))
    grouped = frame.groupby(["task", "model"], sort=False)
    out = pd.DataFrame({
        "seeds": grouped["seed"].count(),
        "accuracy mean": grouped["accuracy"].mean(),
        "accuracy sd": grouped["accuracy"].std(ddof=1),
        "accuracy min": grouped["accuracy"].min(),
        "accuracy max": grouped["accuracy"].max(),
        "macro-F1 mean": grouped["macro-F1"].mean(),
        "macro-F1 sd": grouped["macro-F1"].std(ddof=1),
        "macro-F1 min": grouped["macro-F1"].min(),
        "macro-F1 max": grouped["macro-F1"].max(),
        "epochs mean": grouped["epochs"].mean(),
        "training (s) mean": grouped["training (s)"].mean(),
        "parameters": grouped["parameters"].first(),
        "test examples mean": grouped["test"].mean(),
    })
    return out.loc[order]


def total_confusion(runs: Sequence[SeedRun]) -> np.ndarray:
    """The test confusion counts of ``runs`` added up (each seed has its own test set): ``(n_classes, n_classes)``."""
    if not runs:
        raise ValueError("total_confusion got no runs.")
    shapes = {r.confusion.shape for r in runs}
    if len(shapes) != 1:
        raise ValueError(f"the runs have confusion matrices of different shapes {sorted(shapes)}: mix of tasks?")
    return np.sum([r.confusion for r in runs], axis=0)
