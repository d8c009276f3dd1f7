"""course_lib.comparison: models trained over seeds on a task, summarised with their spread."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from course_lib.comparison import ClassificationTask, mean_std, run_seed, run_seeds, summarize_runs, total_confusion
from course_lib.data.splits import stratified_split
from course_lib.recipe import RECOMMENDED

N_MELS, FRAMES, CLASSES = 16, 16, ("low", "high", "both")


def _task(n_per_class: int = 12) -> ClassificationTask:
    """Three easy classes: energy in the low bands, in the high bands, or in both."""
    g = torch.Generator().manual_seed(0)
    feats, labels = [], []
    for label in range(3):
        x = 0.3 * torch.randn(n_per_class, 1, N_MELS, FRAMES, generator=g)
        if label in (0, 2):
            x[:, :, : N_MELS // 2] += 2.0
        if label in (1, 2):
            x[:, :, N_MELS // 2 :] += 2.0
        feats.append(x)
        labels += [label] * n_per_class
    labels_t = torch.tensor(labels)
    return ClassificationTask(
        "toy", torch.cat(feats), labels_t, CLASSES,
        lambda seed: stratified_split(labels_t, val_fraction=0.25, test_fraction=0.25, seed=seed),
    )


CONFIG = RECOMMENDED.train_config(epochs=3, batch_size=8, early_stopping_patience=None, progress=False, device="cpu")
KWARGS = {"simple_cnn": {"channels": (4, 8)}}


def test_run_seed_is_reproducible_and_records_what_ran():
    task = _task()
    a, model = run_seed(task, "simple_cnn", 1, CONFIG, model_kwargs=KWARGS["simple_cnn"])
    b, _ = run_seed(task, "simple_cnn", 1, CONFIG, model_kwargs=KWARGS["simple_cnn"])
    assert (a.accuracy, a.macro_f1) == (b.accuracy, b.macro_f1)
    assert np.array_equal(a.confusion, b.confusion)
    split = task.split(1)
    assert (a.n_train, a.n_val, a.n_test) == (len(split.train), len(split.val), len(split.test))
    assert a.confusion.shape == (3, 3) and a.confusion.sum() == a.n_test
    assert a.accuracy == pytest.approx(np.trace(a.confusion) / a.n_test)
    assert a.epochs_run == 3 and a.history.epochs_run == 3 and a.seed == 1 and a.model == "simple_cnn"
    assert a.parameters == sum(p.numel() for p in model.parameters())


def test_run_seeds_summary_reports_mean_spread_and_range():
    task = _task()
    runs = run_seeds(task, ["simple_cnn"], [0, 1, 2], CONFIG, model_kwargs=KWARGS)
    assert [r.seed for r in runs] == [0, 1, 2]
    table = summarize_runs(runs)
    row = table.loc[("toy", "simple_cnn")]
    accs = np.array([r.accuracy for r in runs])
    assert row["seeds"] == 3
    assert row["accuracy mean"] == pytest.approx(accs.mean())
    assert row["accuracy sd"] == pytest.approx(accs.std(ddof=1))
    assert (row["accuracy min"], row["accuracy max"]) == (accs.min(), accs.max())
    assert total_confusion(runs).sum() == sum(r.n_test for r in runs)
    # different seeds draw different test sets
    assert len({tuple(task.split(s).test.tolist()) for s in (0, 1, 2)}) == 3


def test_mean_std_uses_the_sample_standard_deviation():
    assert mean_std([0.5, 0.7, 0.9]) == f"0.700 ± {math.sqrt(0.04):.3f}"
    assert mean_std([0.5]) == "0.500 ± –"
    with pytest.raises(ValueError):
        mean_std([])


def test_bad_inputs_are_refused_with_the_fix():
    task = _task()
    with pytest.raises(ValueError, match="N, 1, n_mels, frames"):
        ClassificationTask("bad", task.features[:, 0], task.labels, CLASSES, task.split)
    with pytest.raises(ValueError, match="one per example"):
        ClassificationTask("bad", task.features, task.labels[:-1], CLASSES, task.split)
    with pytest.raises(ValueError, match="class names"):
        ClassificationTask("bad", task.features, task.labels, CLASSES[:2], task.split)
    with pytest.raises(ValueError, match="non-negative"):
        run_seed(task, "simple_cnn", -1, CONFIG)
    with pytest.raises(ValueError, match="distinct"):
        run_seeds(task, ["simple_cnn"], [0, 0], CONFIG)
    empty_test = ClassificationTask(
        "no test", task.features, task.labels, CLASSES,
        lambda seed: stratified_split(task.labels, val_fraction=0.25, test_fraction=0.0, seed=seed),
    )
    with pytest.raises(ValueError, match="no test examples"):
        run_seed(empty_test, "simple_cnn", 0, CONFIG)


def test_worker_processes_give_reproducible_runs_with_their_models():
    tasks = [_task(), ClassificationTask("toy again", _task().features, _task().labels, CLASSES, _task().split)]
    first = run_seeds(tasks, ["simple_cnn"], [0, 1], CONFIG, model_kwargs=KWARGS, processes=2)
    again = run_seeds(tasks, ["simple_cnn"], [0, 1], CONFIG, model_kwargs=KWARGS, processes=2)
    assert [(r.task, r.seed) for r in first] == [("toy", 0), ("toy", 1), ("toy again", 0), ("toy again", 1)]
    assert [r.accuracy for r in first] == [r.accuracy for r in again]
    for run in first:
        assert run.trained is not None and not run.trained.training
        assert run.n_test == len(tasks[0].split(run.seed).test)
    with pytest.raises(ValueError, match="processes"):
        run_seeds(tasks, ["simple_cnn"], [0], CONFIG, processes=0)
