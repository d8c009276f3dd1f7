"""course_lib.runs.train_and_evaluate: the seed → build → fit → predict → metrics sequence in one call."""

import pytest
import torch

from course_lib.data.loader import FeatureDataset
from course_lib.evaluation import evaluate
from course_lib.models import build_model
from course_lib.runs import RunResult, train_and_evaluate
from course_lib.runtime import seed_everything
from course_lib.train import TrainConfig, fit, load_checkpoint

CLASSES = ["a", "b", "c"]
KWARGS = {"channels": (4, 8), "dropout": 0.1}


def _data(n, seed):
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 3
    x = torch.randn(n, 1, 16, 20, generator=g) + labels.view(-1, 1, 1, 1).float()
    return FeatureDataset(x, labels)


@pytest.fixture(scope="module")
def parts():
    return _data(48, 0), _data(18, 1), _data(18, 2)


def test_same_as_the_steps_written_out(parts, tmp_path):
    train, val, test = parts
    config = TrainConfig(epochs=3, batch_size=16, progress=False, seed=3)

    seed_everything(3)
    model = build_model("simple_cnn", 3, 16, **KWARGS)
    history = fit(model, train, val, config)
    expected = evaluate(model, (test.features, test.labels), CLASSES)

    run = train_and_evaluate(
        "simple_cnn", train, val, (test.features, test.labels), config, class_names=CLASSES, n_mels=16,
        model_kwargs=KWARGS, evaluate_val=True, checkpoint_path=tmp_path / "best.pt",
        checkpoint_metadata={"class_names": CLASSES},
    )
    assert isinstance(run, RunResult)
    assert run.metrics == expected.metrics
    assert run.history.train_loss == history.train_loss and run.history.best_epoch == history.best_epoch
    assert all(torch.equal(a, b) for a, b in zip(run.model.state_dict().values(), model.state_dict().values()))
    assert run.val is not None and run.val.metrics["n_examples"] == len(val)
    assert run.n_parameters == sum(p.numel() for p in model.parameters()) and run.train_time_s > 0
    checkpoint = load_checkpoint(tmp_path / "best.pt")
    assert checkpoint["metadata"]["class_names"] == CLASSES and checkpoint["build_spec"]["name"] == "simple_cnn"


def test_builder_function_and_built_model(parts):
    train, _, test = parts
    config = TrainConfig(epochs=2, batch_size=16, progress=False)
    by_name = train_and_evaluate("simple_cnn", train, None, test, config, class_names=CLASSES, n_mels=16, model_kwargs=KWARGS)
    by_function = train_and_evaluate(lambda: build_model("simple_cnn", 3, 16, **KWARGS), train, None, test, config, class_names=CLASSES)
    assert by_function.metrics == by_name.metrics and by_function.val is None
    seed_everything(0)
    ready = build_model("simple_cnn", 3, 16, **KWARGS)
    as_is = train_and_evaluate(ready, train, None, None, config, class_names=CLASSES)
    assert as_is.model is ready and as_is.test is None
    with pytest.raises(ValueError, match="no test metrics"):
        _ = as_is.metrics


def test_refusals(parts):
    train, val, test = parts
    config = TrainConfig(epochs=1, progress=False)
    with pytest.raises(ValueError, match="needs n_mels"):
        train_and_evaluate("simple_cnn", train, val, test, config, class_names=CLASSES)
    with pytest.raises(ValueError, match="already built"):
        train_and_evaluate(build_model("simple_cnn", 3, 16), train, val, test, config, class_names=CLASSES, model_kwargs=KWARGS)
    with pytest.raises(TypeError, match="TrainConfig"):
        train_and_evaluate("simple_cnn", train, val, test, {"epochs": 1}, class_names=CLASSES, n_mels=16)
    with pytest.raises(ValueError, match="class_names is empty"):
        train_and_evaluate("simple_cnn", train, val, test, config, class_names=[], n_mels=16)
    with pytest.raises(TypeError, match="model must be"):
        train_and_evaluate(3, train, val, test, config, class_names=CLASSES, n_mels=16)
