"""Shapes, sizes and input checks of the course's models (course_lib.models)."""

from __future__ import annotations

import pytest
import torch

from course_lib.models import (
    MODELS,
    AttentionPool,
    AudioRNN,
    build_model,
    count_parameters,
    layer_shapes,
    pooled_length,
    spread_attention,
    supports_attention,
)
from course_lib.recipe import RECOMMENDED

N_CLASSES = 5


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("n_mels", [32, 64, 128])
@pytest.mark.parametrize("duration_s", [0.5, 1.0, 5.0])
@pytest.mark.parametrize("batch", [1, 3])
def test_shapes_over_mels_durations_batches(name, n_mels, duration_s, batch):
    torch.manual_seed(0)
    frames = RECOMMENDED.n_frames(duration_s)
    model = build_model(name, N_CLASSES, n_mels)
    x = torch.randn(batch, 1, n_mels, frames)
    if batch == 1 and duration_s <= 1.0:
        # A training step with a batch of one: batch norm in training mode must not fail.
        model.train()
        logits = model(x)
        assert logits.shape == (batch, N_CLASSES)
        logits.sum().backward()
        grads = [p.grad for p in model.parameters() if p.requires_grad]
        assert all(g is not None and torch.isfinite(g).all() for g in grads)
    model.eval()
    with torch.no_grad():
        out = model(x)
        assert out.shape == (batch, N_CLASSES) and torch.isfinite(out).all()
        if supports_attention(model):
            logits2, attention = model(x, return_attention=True)
            torch.testing.assert_close(logits2, out)
            assert attention.shape == (batch, frames)
            assert (attention >= 0).all()
            torch.testing.assert_close(attention.sum(dim=-1), torch.ones(batch))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_sizes_follow_configuration(name):
    small = build_model(name, N_CLASSES, 64)
    more_classes = build_model(name, N_CLASSES + 3, 64)
    assert count_parameters(more_classes) > count_parameters(small)
    assert small.n_classes == N_CLASSES and small.n_mels == 64
    assert small.build_spec == {"name": name, "n_classes": N_CLASSES, "n_mels": 64}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_wrong_input_gets_a_clear_error(name):
    model = build_model(name, N_CLASSES, 64)
    with pytest.raises(ValueError, match="n_mels=64"):
        model(torch.randn(2, 1, 40, 101))
    with pytest.raises(ValueError, match=r"unsqueeze\(1\)"):
        model(torch.randn(2, 64, 101))
    with pytest.raises(TypeError, match="float"):
        model(torch.zeros(2, 1, 64, 101, dtype=torch.long))
    with pytest.raises(ValueError, match="at least"):
        model(torch.randn(2, 1, 64, max(0, model.min_frames - 1)))


def test_build_model_rejects_unknown_names_and_arguments():
    with pytest.raises(ValueError, match="unknown model 'resnet'"):
        build_model("resnet", 3, 64)
    with pytest.raises(TypeError, match="build_model"):
        build_model("simple_cnn", 3, 64, no_such_argument=1)
    with pytest.raises(ValueError, match="n_classes"):
        build_model("crnn", 1, 64)
    with pytest.raises(ValueError, match="n_mels"):
        build_model("simple_cnn", 3, 8)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_build_model_seed_gives_the_weights_of_seeding_first_and_leaves_the_global_state(name):
    from course_lib.runtime import seed_everything

    seed_everything(3)
    seeded_first = build_model(name, N_CLASSES, 32)
    torch.manual_seed(11)
    before = torch.get_rng_state()
    with_seed = build_model(name, N_CLASSES, 32, seed=3)
    assert torch.equal(torch.get_rng_state(), before)  # the caller's random state is untouched
    for (key, a), (_, b) in zip(seeded_first.state_dict().items(), with_seed.state_dict().items()):
        assert torch.equal(a, b), key
    other = build_model(name, N_CLASSES, 32, seed=4)
    assert not all(torch.equal(a, b) for a, b in zip(with_seed.parameters(), other.parameters()))
    assert "seed" not in with_seed.build_spec
    with pytest.raises(ValueError, match="seed"):
        build_model(name, N_CLASSES, 32, seed=-1)


def test_registry_names_are_the_class_names_in_snake_case():
    import re

    for name, cls in MODELS.items():
        snake = re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", cls.__name__).lower()
        assert snake == name, (name, cls.__name__)


def test_layer_shapes_are_measured_by_running_the_model():
    model = build_model("simple_cnn", N_CLASSES, 64, channels=(8, 16))
    shapes = layer_shapes(model, torch.randn(1, 1, 64, 101))
    names = [name for name, _, _ in shapes]
    assert names[0] == "features.0.0" and names[-1] == "classifier"
    assert ("features.0.1", "MaxPool2d", (1, 8, 32, 50)) in shapes
    assert shapes[-1][2] == (1, N_CLASSES)
    assert model.training  # left in the mode it was in


def test_pooled_length_and_spread_attention():
    assert pooled_length(101, (2, 2, 1)) == 25
    weights = torch.softmax(torch.randn(2, 25), dim=-1)
    spread = spread_attention(weights, 4, 101)
    assert spread.shape == (2, 101)
    torch.testing.assert_close(spread.sum(-1), torch.ones(2))
    assert (spread[:, 100] == 0).all()  # the frame dropped by the floor of pooling
    torch.testing.assert_close(spread[:, 0:4].sum(-1), weights[:, 0])


def test_attention_pool_is_a_convex_combination():
    torch.manual_seed(0)
    pool = AttentionPool(6)
    frames = torch.randn(3, 6, 10)
    pooled, weights = pool(frames)
    torch.testing.assert_close(pooled, (frames * weights[:, None, :]).sum(-1))
    assert pooled.shape == (3, 6) and weights.shape == (3, 10)


# --- AudioRNN's frame encoder (chapter 4) ---------------------------------------------------------


def test_audio_rnn_encoder_reads_each_frame_on_its_own():
    """The encoder mixes no frames beyond the delta window and the time pooling: changing one input
    frame changes only the LSTM steps whose frames lie within DELTA_WIN_FRAMES // 2 of it."""
    from course_lib.models.audio_rnn import DELTA_WIN_FRAMES

    torch.manual_seed(0)
    model = AudioRNN(N_CLASSES, n_mels=32, filters=8, time_pool=2).eval()
    x = torch.randn(1, 1, 32, 40)
    changed = x.clone()
    changed[..., 20] += 3.0
    with torch.no_grad():
        differs = (model.encoder(x) - model.encoder(changed)).abs().amax(dim=-1)[0] > 1e-6  # (steps,)
    reach = DELTA_WIN_FRAMES // 2
    touched = set(range((20 - reach) // 2, (20 + reach) // 2 + 1))
    assert {int(i) for i in differs.nonzero()} <= touched and differs.any()


def test_audio_rnn_encoder_filters_are_shared_along_frequency():
    """A pattern moved up by one region (16 of 64 bands) gives the same features, one region up:
    what is learnt at one pitch is found at another."""
    torch.manual_seed(0)
    model = AudioRNN(N_CLASSES, n_mels=64, filters=8, freq_regions=4).eval()
    low = torch.zeros(1, 1, 64, 20)
    low[0, 0, 4:10] = torch.randn(6, 20)  # inside region 0, clear of its edges
    high = torch.roll(low, shifts=16, dims=2)  # the same pattern in region 1
    with torch.no_grad():
        f_low = model.encoder(low).unflatten(-1, (8, 4))  # (1, steps, filters, regions)
        f_high = model.encoder(high).unflatten(-1, (8, 4))
    torch.testing.assert_close(f_high[..., 1], f_low[..., 0])
    torch.testing.assert_close(f_high[..., 0], f_low[..., 1])


@pytest.mark.parametrize("time_pool", [1, 2, 3])
def test_audio_rnn_attention_covers_the_input_frames(time_pool):
    torch.manual_seed(0)
    model = AudioRNN(N_CLASSES, n_mels=32, filters=8, hidden=8, num_layers=1, time_pool=time_pool).eval()
    assert model.min_frames == model.time_stride == time_pool
    with torch.no_grad():
        _, attention = model(torch.randn(2, 1, 32, 31), return_attention=True)
    assert attention.shape == (2, 31) and (attention >= 0).all()
    torch.testing.assert_close(attention.sum(-1), torch.ones(2))
    dropped = 31 % time_pool
    if dropped:
        assert (attention[:, -dropped:] == 0).all()  # frames the pooling drops get no weight
    # the shortest clip, batch of one, training mode
    model.train()
    model(torch.randn(1, 1, 32, time_pool)).sum().backward()


def test_audio_rnn_sizes_follow_configuration_and_bad_sizes_are_named():
    model = AudioRNN(N_CLASSES, n_mels=48, filters=12, freq_regions=3, hidden=10)
    assert model.lstm.input_size == 12 * 3 and model.lstm.hidden_size == 10
    assert model.encoder.layers[0].kernel_size == (5, 1)  # along frequency only: one frame at a time
    with pytest.raises(ValueError, match="kernel_bands must be odd"):
        AudioRNN(N_CLASSES, n_mels=64, kernel_bands=4)
    with pytest.raises(ValueError, match="n_mels"):
        AudioRNN(N_CLASSES, n_mels=3, freq_regions=4)
    for name, value in (("filters", 0), ("freq_regions", 0), ("time_pool", 0), ("kernel_bands", 0)):
        with pytest.raises(ValueError, match=name):
            AudioRNN(N_CLASSES, n_mels=64, **{name: value})
