"""fit, its configuration, checkpoints, class weights and the weighted sampler (course_lib.train)."""

from __future__ import annotations

from collections import Counter

import pytest
import torch
from torch.utils.data import TensorDataset

from course_lib.models import build_model
from course_lib.runtime import select_device
from course_lib.train import (
    History,
    TrainConfig,
    compute_class_weights,
    fit,
    load_checkpoint,
    make_weighted_sampler,
    save_checkpoint,
)


def _toy(n=30, n_classes=3, seed=0, frames=20):
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % n_classes
    x = torch.randn(n, 1, 32, frames, generator=g) * 0.5
    for c in range(n_classes):  # each class lights up its own band of mel bins
        x[labels == c, :, 8 * c : 8 * c + 8, :] += 1.5
    return TensorDataset(x, labels)


def _model(name="simple_cnn"):
    torch.manual_seed(0)
    kwargs = {"simple_cnn": {"channels": (4, 8)}, "attention_cnn": {"channels": (4, 8)},
              "crnn": {"channels": (4, 8, 8)}, "audio_rnn": {"hidden": 8, "num_layers": 1}}[name]
    return build_model(name, 3, 32, **kwargs)


def _config(**kw):
    base = dict(epochs=4, batch_size=8, progress=False, early_stopping_patience=None, lr=1e-2)
    base.update(kw)
    return TrainConfig(**base)


@pytest.mark.parametrize("name", ["simple_cnn", "attention_cnn", "audio_rnn", "crnn"])
def test_training_lowers_the_loss(name):
    history = fit(_model(name), _toy(), _toy(seed=1), _config(epochs=5))
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.epochs_run == 5 and len(history.val_loss) == 5 and len(history.lr) == 5
    assert all(0.0 <= a <= 1.0 for a in history.train_accuracy + history.val_accuracy)


def test_same_seed_same_history_different_seed_different_history():
    runs = [fit(_model(), _toy(), _toy(seed=1), _config(seed=s)).to_dict() for s in (7, 7, 8)]
    for key in ("train_loss", "val_loss", "train_accuracy", "val_accuracy", "lr"):
        assert runs[0][key] == runs[1][key]
    assert runs[0]["train_loss"] != runs[2]["train_loss"]


def test_checkpoint_round_trip(tmp_path):
    model = _model("attention_cnn")
    path = tmp_path / "ckpt" / "best.pt"
    history = fit(model, _toy(), _toy(seed=1), _config(), checkpoint_path=path, checkpoint_metadata={"class_names": ["a", "b", "c"]})
    payload = load_checkpoint(path)
    assert payload["metadata"]["epoch"] == history.best_epoch
    assert payload["metadata"]["class_names"] == ["a", "b", "c"]
    rebuilt = build_model(**payload["build_spec"])
    load_checkpoint(path, rebuilt)
    x = _toy().tensors[0][:5]
    with torch.no_grad():
        torch.testing.assert_close(rebuilt.eval()(x), model.eval()(x))
    # save_checkpoint / load_checkpoint by hand, and the file reads with weights_only=True
    save_checkpoint(tmp_path / "again.pt", model, note="x")
    assert torch.load(tmp_path / "again.pt", weights_only=True)["metadata"] == {"note": "x"}


def test_checkpoint_errors_are_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="cannot be read"):
        load_checkpoint(bad)
    save_checkpoint(tmp_path / "cnn.pt", _model("simple_cnn"))
    with pytest.raises(ValueError, match="SimpleCNN"):
        load_checkpoint(tmp_path / "cnn.pt", _model("crnn"))
    # A checkpoint saved before the class was renamed (SimpleAudioClassifier -> SimpleCNN) still loads.
    old = torch.load(tmp_path / "cnn.pt", weights_only=True)
    old["model_class"] = "SimpleAudioClassifier"
    torch.save(old, tmp_path / "old_name.pt")
    load_checkpoint(tmp_path / "old_name.pt", _model("simple_cnn"))
    wider = build_model("simple_cnn", 3, 32, channels=(4, 16))
    with pytest.raises(ValueError, match="do not fit"):
        load_checkpoint(tmp_path / "cnn.pt", wider)


def test_early_stopping_and_best_epoch_restored():
    # Validation labels that cannot be learned from the inputs: the validation loss soon stops improving.
    noise = TensorDataset(torch.randn(12, 1, 32, 20), torch.randint(0, 3, (12,), generator=torch.Generator().manual_seed(0)))
    history = fit(_model(), _toy(), noise, _config(epochs=30, early_stopping_patience=2, lr=3e-2))
    assert history.stopped_early and history.epochs_run < 30
    assert history.epochs_run == history.best_epoch + 2
    assert history.best_value == min(history.val_loss)
    assert history.kept_epoch == history.best_epoch  # restore_best: the model holds the best epoch's weights


def test_kept_epoch_is_the_last_without_restore_best_and_the_figure_says_so():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_lib.plots import plot_history

    noise = TensorDataset(torch.randn(12, 1, 32, 20), torch.randint(0, 3, (12,), generator=torch.Generator().manual_seed(0)))
    history = fit(_model(), _toy(), noise, _config(epochs=8, lr=3e-2, restore_best=False))
    assert history.kept_epoch == 8
    labels = [t.get_text() for t in plot_history(history, show_lr=False).axes[0].get_legend().get_texts()]
    assert history.best_epoch < 8  # unlearnable validation labels: the validation loss is lowest early
    assert f"best epoch ({history.best_epoch}), not restored" in labels
    restored = fit(_model(), _toy(), noise, _config(epochs=8, lr=3e-2))
    labels = [t.get_text() for t in plot_history(restored, show_lr=False).axes[0].get_legend().get_texts()]
    assert f"best epoch ({restored.best_epoch})" in labels
    plt.close("all")


def test_schedules_and_optimisers_run():
    for schedule in ("onecycle", "cosine", "plateau", "constant"):
        history = fit(_model(), _toy(), _toy(seed=1), _config(schedule=schedule, epochs=3))
        assert history.epochs_run == 3
        if schedule == "constant":
            assert history.lr == [pytest.approx(1e-2)] * 3
    onecycle = fit(_model(), _toy(), _toy(seed=1), _config(epochs=6))
    assert max(onecycle.lr) <= 1e-2 and onecycle.lr[0] < max(onecycle.lr) and onecycle.lr[-1] < max(onecycle.lr)
    for optimizer in ("adam", "sgd"):
        assert fit(_model(), _toy(), None, _config(optimizer=optimizer, epochs=2)).epochs_run == 2


def test_own_optimizer_keeps_each_groups_rate_and_only_its_parameters_learn():
    # Transfer learning (exercise 3): one group per part of the model, each with its own rate.
    model = _model()
    first, rest = list(model.parameters())[:2], list(model.parameters())[2:]
    before = [p.detach().clone() for p in model.parameters()]
    for schedule in ("onecycle", "cosine", "constant"):
        optimizer = torch.optim.AdamW([{"params": first, "lr": 1e-4}, {"params": rest, "lr": 1e-2}])
        fit(model, _toy(), None, _config(schedule=schedule, epochs=3, lr=0.5), optimizer=optimizer)
        peaks = [g.get("max_lr", g.get("initial_lr")) for g in optimizer.param_groups]
        assert peaks == [pytest.approx(1e-4), pytest.approx(1e-2)], schedule  # config.lr (0.5) is not used
        if schedule != "cosine":  # cosine ends at 0 in both groups
            ratio = optimizer.param_groups[0]["lr"] / optimizer.param_groups[1]["lr"]
            assert ratio == pytest.approx(1e-2), schedule
    assert all(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
    # Frozen parameters outside the optimiser stay as they were; a trainable one outside it is reported.
    model = _model()
    for p in model.parameters():
        p.requires_grad_(False)
    last = list(model.parameters())[-2:]
    for p in last:
        p.requires_grad_(True)
    frozen = [p.detach().clone() for p in list(model.parameters())[:-2]]
    fit(model, _toy(), None, _config(epochs=2), optimizer=torch.optim.AdamW(last, lr=1e-2))
    assert all(torch.equal(a, b) for a, b in zip(frozen, list(model.parameters())[:-2]))


def test_own_optimizer_is_checked(caplog):
    model, other = _model(), _model()
    with pytest.raises(ValueError, match="not parameters of"):
        fit(model, _toy(), None, _config(epochs=1), optimizer=torch.optim.AdamW(other.parameters()))
    with pytest.raises(TypeError, match="torch.optim.Optimizer"):
        fit(model, _toy(), None, _config(epochs=1), optimizer="adamw")
    with caplog.at_level("WARNING"):
        fit(model, _toy(), None, _config(epochs=1), optimizer=torch.optim.AdamW(list(model.parameters())[:2]))
    assert "in no optimizer group" in caplog.text


def test_batch_norm_with_a_batch_of_one():
    # 17 examples, batch 16: fit drops the last batch of one instead of crashing BatchNorm1d-style layers.
    history = fit(_model(), _toy(n=17), None, _config(batch_size=16, epochs=2))
    assert history.epochs_run == 2
    assert history.best_epoch == 2  # without validation data the last epoch is kept
    # The course's models (BatchNorm2d over space) also train on single examples.
    assert fit(_model("crnn"), _toy(n=4), None, _config(batch_size=1, epochs=1)).epochs_run == 1


def test_clear_errors():
    with pytest.raises(ValueError, match="epochs"):
        TrainConfig(epochs=0)
    with pytest.raises(ValueError, match="schedule"):
        TrainConfig(schedule="linear")
    with pytest.raises(ValueError, match="outside the model's 3 classes"):
        fit(_model(), TensorDataset(torch.randn(8, 1, 32, 20), torch.full((8,), 5)), None, _config())
    nan = torch.randn(8, 1, 32, 20)
    nan[0, 0, 0, 0] = float("nan")
    with pytest.raises(FloatingPointError, match="loss is nan"):
        fit(_model(), TensorDataset(nan, torch.arange(8) % 3), None, _config())
    with pytest.raises(ValueError, match="empty"):
        fit(_model(), TensorDataset(torch.zeros(0, 1, 32, 20), torch.zeros(0, dtype=torch.long)), None, _config())


def test_select_device():
    assert select_device("cpu") == torch.device("cpu")
    assert select_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if torch.cuda.is_available():
        assert select_device("cuda").type == "cuda"
    else:
        with pytest.raises(RuntimeError, match="no CUDA GPU"):
            select_device("cuda")


def test_class_weights_and_weighted_sampler():
    labels = torch.tensor([0] * 40 + [1] * 8 + [2] * 2)
    weights = compute_class_weights(labels)
    torch.testing.assert_close(weights, torch.tensor([50 / 120, 50 / 24, 50 / 6]))
    assert torch.allclose(compute_class_weights(torch.arange(9) % 3), torch.ones(3))
    with pytest.raises(ValueError, match=r"class\(es\) \[3\]"):
        compute_class_weights(labels, n_classes=4)
    sampler = make_weighted_sampler(labels, num_samples=3000, seed=0)
    counts = Counter(labels[list(sampler)].tolist())
    assert all(900 < counts[c] < 1100 for c in range(3))
    assert list(make_weighted_sampler(labels, seed=1)) == list(make_weighted_sampler(labels, seed=1))
    # with class weights in the loss and with the sampler, fit runs
    data = TensorDataset(torch.randn(50, 1, 32, 20), labels)
    assert fit(_model(), data, None, _config(epochs=1, class_weights="balanced")).epochs_run == 1
    assert fit(_model(), data, None, _config(epochs=1), sampler=make_weighted_sampler(labels)).epochs_run == 1


def test_history_round_trip(tmp_path):
    history = fit(_model(), _toy(), _toy(seed=1), _config(epochs=2))
    path = history.save_json(tmp_path / "h.json")
    import json

    again = History.from_dict(json.loads(path.read_text()))
    assert again == history and again["val_loss"] == history.val_loss
