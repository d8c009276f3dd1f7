"""One regression test per defect of the seed chapter's models, training loop and evaluation.

Each test is named for the defect and would fail on the seed's version (described in its docstring).
Chapter 4 (``book/chapters/ch04_beyond_cnn.ipynb``) shows each defect and its fix.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from course_lib.evaluation import classification_metrics, predict
from course_lib.models import CRNN, AttentionCNN, AttentionPool, AudioRNN, build_model
from course_lib.train import TrainConfig, fit

FAST = dict(epochs=2, batch_size=8, progress=False, early_stopping_patience=None)


def _toy(n=24, n_classes=3, n_mels=32, frames=24, seed=0):
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % n_classes
    x = torch.randn(n, 1, n_mels, frames, generator=g)
    x[:, :, :, :] += labels.view(-1, 1, 1, 1).float()  # learnable: the class shifts the level
    return TensorDataset(x, labels)


def test_attention_cnn_tuple_output_broke_the_training_loop():
    """Seed: AttentionCNN.forward returned (logits, attention), so criterion(outputs, targets) failed."""
    model = AttentionCNN(n_classes=3, n_mels=32)
    data = _toy()
    out = model(data.tensors[0][:4])
    assert isinstance(out, torch.Tensor)
    nn.CrossEntropyLoss()(out, data.tensors[1][:4])  # the seed's own loop line now works
    history = fit(model, data, data, TrainConfig(**FAST))
    assert history.epochs_run == 2
    assert predict(model, data).probabilities.shape == (24, 3)


def test_tuple_returning_model_gets_a_clear_error_instead_of_a_crash():
    """Seed: a tuple output crashed deep inside the loss; fit and predict now name the problem."""

    class SeedStyle(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Flatten(), nn.Linear(32 * 24, 3))

        def forward(self, x):
            return self.net(x), torch.ones(len(x))

    with pytest.raises(TypeError, match="return_attention=True"):
        fit(SeedStyle(), _toy(), None, TrainConfig(**FAST))
    with pytest.raises(TypeError, match="return_attention=True"):
        predict(SeedStyle(), _toy())


@pytest.mark.parametrize("name", ["attention_cnn", "audio_rnn", "crnn"])
def test_sigmoid_attention_was_not_normalised(name):
    """Seed: AttentionCNN's attention was a sigmoid per position (values in (0, 1) with any sum)."""
    model = build_model(name, 3, 32).eval()
    _, attention = model(torch.randn(4, 1, 32, 50), return_attention=True)
    assert (attention >= 0).all()
    torch.testing.assert_close(attention.sum(dim=-1), torch.ones(4))


def test_gated_features_were_average_pooled_instead_of_weighted_sum():
    """Seed: features * attention, then AdaptiveAvgPool: the result shrinks with the clip length
    (mean of a_t * h_t), so a constant sequence h_t = v did not come out as v. Attention pooling is
    a convex combination: a constant sequence comes out unchanged whatever the weights."""
    torch.manual_seed(0)
    pool = AttentionPool(4)
    v = torch.randn(2, 4, 1)
    pooled, _ = pool(v.expand(2, 4, 37))
    torch.testing.assert_close(pooled, v[..., 0])
    seed_style = (v.expand(2, 4, 37) * torch.sigmoid(torch.randn(2, 1, 37))).mean(-1)
    assert not torch.allclose(seed_style, v[..., 0])


@pytest.mark.parametrize("n_mels", [40, 64, 96])
def test_crnn_hard_coded_128_times_16_gru_input(n_mels):
    """Seed: nn.GRU(input_size=128 * 16) only fitted 128 mel bands; other sizes crashed."""
    model = CRNN(n_classes=4, n_mels=n_mels)
    assert model.rnn.input_size == model.channels[-1] * (n_mels // 8)
    assert model(torch.randn(2, 1, n_mels, 60)).shape == (2, 4)


def test_crnn_last_time_step_of_bidirectional_gru():
    """Seed: classify from rnn_out[:, -1]; its backward half has seen only the last frame.
    Here the backward direction contributes from the whole clip: with the forward direction
    silenced, changing the first frames still changes the output — while the seed's readout
    (backward half at the last step) does not change at all."""
    torch.manual_seed(0)
    model = CRNN(n_classes=3, n_mels=32, channels=(8, 16, 32), n_time_pools=0, num_layers=1).eval()
    with torch.no_grad():
        for pname, param in model.rnn.named_parameters():
            if not pname.endswith("_reverse"):
                param.zero_()  # forward direction outputs stay 0
    x = torch.randn(1, 1, 32, 40)
    x2 = x.clone()
    x2[..., :10] = torch.randn(1, 1, 32, 10)

    def gru_outputs(inp):
        maps = model.features(inp)
        b, c, f, t = maps.shape
        return model.rnn(maps.permute(0, 3, 1, 2).reshape(b, t, c * f))[0]

    with torch.no_grad():
        assert not torch.allclose(model(x), model(x2))
        hidden = model.hidden
        seed_readout = gru_outputs(x)[:, -1, hidden:], gru_outputs(x2)[:, -1, hidden:]
        torch.testing.assert_close(*seed_readout)


@pytest.mark.parametrize("n_mels", [40, 64, 96])
def test_audio_rnn_input_size_hard_coded_to_128(n_mels):
    """Seed: AudioRNN(input_size=128) was separate from the features; 64-band input crashed in the LSTM.
    Now the frame encoder is built for the model's n_mels and the LSTM's input size is the size of
    the encoder's output (filters x frequency regions), checked by running both."""
    model = AudioRNN(n_classes=3, n_mels=n_mels)
    assert model.encoder.n_mels == n_mels
    assert model.lstm.input_size == model.encoder.output_size == model.filters * model.freq_regions
    x = torch.randn(2, 1, n_mels, 30)
    assert model.encoder(x).shape == (2, 30 // model.time_stride, model.lstm.input_size)
    assert model(x).shape == (2, 3)


def test_audio_rnn_wrong_shape_comment_and_silent_squeeze():
    """Seed: the comment said (batch, n_mels, time) while the code squeezed a channel axis; a 3-D
    input went through squeeze(1) unchanged and was misread. Now the layout is checked."""
    model = AudioRNN(n_classes=3, n_mels=64)
    with pytest.raises(ValueError, match=r"\(batch, 1, n_mels, frames\).*unsqueeze\(1\)"):
        model(torch.randn(2, 64, 30))
    assert "(batch, 1, n_mels, frames)" in AudioRNN.__doc__


def test_evaluation_reported_weighted_averages_only():
    """Seed: precision/recall/F1 with average='weighted' only; a never-recognised minority class
    hardly moved them. Macro averages and balanced accuracy expose it."""
    y_true = np.array([0] * 90 + [1] * 10)
    y_pred = np.zeros(100, dtype=int)
    metrics = classification_metrics(y_true, y_pred, class_names=["common", "rare"])
    assert metrics["weighted_recall"] == pytest.approx(0.9)
    assert metrics["balanced_accuracy"] == pytest.approx(0.5)
    assert metrics["macro_recall"] == pytest.approx(0.5)
    assert metrics["macro_f1"] < metrics["weighted_f1"]
    assert metrics["per_class"]["rare"]["recall"] == 0.0


def test_training_loop_printed_every_ten_batches(capsys):
    """Seed: print(...) every 10 batches; fit is silent without a progress bar."""
    fit(build_model("simple_cnn", 3, 32, channels=(4, 8)), _toy(), _toy(seed=1), TrainConfig(**FAST))
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_training_was_not_seeded():
    """Seed: no seeding anywhere; two runs differed. fit seeds everything: identical histories."""
    histories = []
    for _ in range(2):
        torch.manual_seed(0)
        model = build_model("attention_cnn", 3, 32, channels=(4, 8))
        histories.append(fit(model, _toy(), _toy(seed=1), TrainConfig(**FAST, seed=3)).to_dict())
    for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr"):
        assert histories[0][key] == histories[1][key]


def test_validation_loss_averaged_over_batches_not_examples():
    """Seed: val_loss = sum of batch means / number of batches, so a last batch of 1 clip weighed
    as much as a full batch. fit averages over examples."""
    torch.manual_seed(0)
    model = build_model("simple_cnn", 3, 32, channels=(4, 8))
    val = _toy(n=9, seed=2)
    loader = DataLoader(val, batch_size=4)  # batches of 4, 4, 1
    history = fit(model, _toy(), loader, TrainConfig(epochs=1, batch_size=8, progress=False))
    with torch.no_grad():
        losses = nn.functional.cross_entropy(model(val.tensors[0]), val.tensors[1], reduction="none")
    assert history.val_loss[0] == pytest.approx(float(losses.mean()), rel=1e-5)
    batch_mean = float(torch.stack([losses[:4].mean(), losses[4:8].mean(), losses[8:].mean()]).mean())
    assert batch_mean != pytest.approx(float(losses.mean()), rel=1e-3)


def test_last_epoch_returned_instead_of_best():
    """Seed: the model of the last epoch was returned, however much validation got worse. fit
    restores the best epoch's weights."""
    torch.manual_seed(0)
    model = build_model("simple_cnn", 3, 32, channels=(4, 8))
    val = _toy(n=12, seed=5)
    history = fit(model, _toy(), val, TrainConfig(epochs=6, batch_size=8, lr=0.05, progress=False, early_stopping_patience=None))
    with torch.no_grad():
        loss = float(nn.functional.cross_entropy(model(val.tensors[0]), val.tensors[1]))
    assert loss == pytest.approx(min(history.val_loss), rel=1e-5)
    assert history.val_loss[history.best_epoch - 1] == min(history.val_loss)
