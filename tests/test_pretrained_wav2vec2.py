"""wav2vec 2.0 encoder/classifier (course_lib.pretrained.wav2vec2), pooling and weight loading.

Everything but the download is tested offline: models are built by torchaudio with random
weights (``wav2vec2_base()`` for the real shapes, a tiny configuration for speed), and "no
network" is simulated by replacing torch.hub's downloader.
"""

from __future__ import annotations

import urllib.error

import pytest
import torch
import torchaudio

from course_lib.audio_io import resample
from course_lib.pretrained import (
    PretrainedWeightsError,
    Wav2Vec2Classifier,
    Wav2Vec2Encoder,
    bundle_checkpoint,
    bundle_summary,
    get_ssl_bundle,
    load_ssl_model,
    pool_over_time,
)

TINY_PARAMS = dict(
    extractor_mode="group_norm",
    extractor_conv_layer_config=[(16, 10, 5), (16, 3, 2), (16, 3, 2), (16, 3, 2), (16, 3, 2), (16, 2, 2), (16, 2, 2)],
    extractor_conv_bias=False,
    encoder_embed_dim=32,
    encoder_projection_dropout=0.1,
    encoder_pos_conv_kernel=16,
    encoder_pos_conv_groups=4,
    encoder_num_layers=3,
    encoder_num_heads=2,
    encoder_attention_dropout=0.1,
    encoder_ff_interm_features=64,
    encoder_ff_interm_dropout=0.1,
    encoder_dropout=0.1,
    encoder_layer_norm_first=False,
    encoder_layer_drop=0.0,
    aux_num_out=None,
)
BASE_FILE = "wav2vec2_fairseq_base_ls960.pth"


def tiny_model(seed: int = 0) -> torchaudio.models.Wav2Vec2Model:
    torch.manual_seed(seed)
    return torchaudio.models.wav2vec2_model(**TINY_PARAMS)


@pytest.fixture(scope="module")
def base_model() -> torchaudio.models.Wav2Vec2Model:
    torch.manual_seed(0)
    return torchaudio.models.wav2vec2_base().eval()


@pytest.fixture
def no_network(monkeypatch):
    """Make every torch.hub download fail as it does offline, and count the attempts."""
    calls = []

    def refuse(url, dst, *args, **kwargs):
        calls.append(url)
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torch.hub, "download_url_to_file", refuse)
    return calls


# --------------------------------------------------------------------------- shapes


def test_base_model_gives_768_features_per_20ms_frame(base_model):
    encoder = Wav2Vec2Encoder(base_model, layer=4)
    assert (encoder.output_dim, encoder.receptive_field, encoder.hop_length) == (768, 400, 320)
    waveforms = torch.randn(2, 8000)
    features, frame_lengths = encoder(waveforms, torch.tensor([8000, 4000]))
    assert features.shape == (2, 24, 768)
    assert frame_lengths.tolist() == [24, 12]
    # the frame count agrees with torchaudio's own computation
    _, reference_lengths = base_model.feature_extractor(waveforms, torch.tensor([8000, 4000]))
    assert frame_lengths.tolist() == reference_lengths.tolist()
    assert encoder.frame_lengths(torch.tensor([8000, 4000, 400, 399])).tolist() == [24, 12, 1, 0]


def test_chosen_layer_is_the_output_of_that_transformer_layer():
    model = tiny_model().eval()
    x = torch.randn(1, 4000)
    expected, _ = model.extract_features(x, num_layers=2)
    features, _ = Wav2Vec2Encoder(model, layer=2)(x)
    torch.testing.assert_close(features, expected[-1])
    top, _ = Wav2Vec2Encoder(model, layer=-1)(x)
    torch.testing.assert_close(top, model.extract_features(x)[0][-1])
    for bad in (0, 4, -4, 1.5, True):
        with pytest.raises(ValueError, match="layer must be in"):
            Wav2Vec2Encoder(model, layer=bad)


def test_classifier_logits_shape_and_accepts_dataset_layout():
    model = Wav2Vec2Classifier(Wav2Vec2Encoder(tiny_model()), n_classes=5, hidden_features=16)
    logits = model(torch.randn(3, 1, 6000))  # (batch, 1, samples), as the course's datasets give them
    assert logits.shape == (3, 5)
    assert torch.isfinite(logits).all()


def test_rejects_a_non_wav2vec2_model_and_multichannel_input():
    with pytest.raises(TypeError, match="Wav2Vec2Model"):
        Wav2Vec2Encoder(torch.nn.Linear(3, 3))
    encoder = Wav2Vec2Encoder(tiny_model())
    with pytest.raises(ValueError, match="to_mono"):
        encoder(torch.randn(2, 2, 4000))
    with pytest.raises(ValueError, match="NaN"):
        encoder(torch.full((1, 4000), float("nan")))


# --------------------------------------------------------------------------- train modes


def _snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _one_step(model: Wav2Vec2Classifier, lr: float = 0.1) -> None:
    torch.manual_seed(1)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.1)
    loss = torch.nn.functional.cross_entropy(model(torch.randn(4, 4000)), torch.tensor([0, 1, 2, 0]))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def _changed(before: dict[str, torch.Tensor], after: dict[str, torch.Tensor], prefix: str) -> bool:
    keys = [k for k in before if k.startswith(prefix)]
    assert keys, f"no parameter under {prefix}"
    return any(not torch.equal(before[k], after[k]) for k in keys)


def test_frozen_encoder_has_no_gradient_and_does_not_change_after_a_step():
    model = Wav2Vec2Classifier(Wav2Vec2Encoder(tiny_model()), n_classes=3, mode="frozen", hidden_features=8)
    assert not any(p.requires_grad for p in model.encoder.parameters())
    before = _snapshot(model)
    _one_step(model)
    assert all(p.grad is None for p in model.encoder.parameters())
    after = _snapshot(model)
    assert not _changed(before, after, "encoder.")
    assert _changed(before, after, "head.")


def test_frozen_encoder_stays_in_eval_mode_inside_model_train():
    model = Wav2Vec2Classifier(Wav2Vec2Encoder(tiny_model()), n_classes=3, mode="frozen", hidden_features=8)
    model.train()
    assert model.head.training
    assert not any(m.training for m in model.encoder.modules() if isinstance(m, torch.nn.Dropout))
    x = torch.randn(2, 4000)
    first, _ = model.encoder(x)
    second, _ = model.encoder(x)
    torch.testing.assert_close(first, second)  # no dropout noise


def test_full_fine_tuning_changes_every_block():
    model = Wav2Vec2Classifier(Wav2Vec2Encoder(tiny_model()), n_classes=3, mode="full", hidden_features=8)
    assert all(p.requires_grad for p in model.encoder.model.feature_extractor.parameters())
    before = _snapshot(model)
    _one_step(model)
    after = _snapshot(model)
    for prefix in (
        "encoder.model.feature_extractor.",
        "encoder.model.encoder.transformer.layers.0.",
        "encoder.model.encoder.transformer.layers.2.",
        "head.",
    ):
        assert _changed(before, after, prefix), prefix


def test_partial_unfreezing_trains_only_the_top_blocks():
    encoder = Wav2Vec2Encoder(tiny_model(), layer=2)
    model = Wav2Vec2Classifier(encoder, n_classes=3, mode="partial", n_unfrozen=1, hidden_features=8)
    assert encoder.trainable_block_names() == ["layer2"]
    model.train()
    layers = encoder.model.encoder.transformer.layers
    assert layers[1].training and not layers[0].training
    before = _snapshot(model)
    _one_step(model)
    after = _snapshot(model)
    assert _changed(before, after, "encoder.model.encoder.transformer.layers.1.")
    for prefix in (
        "encoder.model.feature_extractor.",
        "encoder.model.encoder.feature_projection.",
        "encoder.model.encoder.transformer.layers.0.",
        "encoder.model.encoder.transformer.layers.2.",  # above the chosen layer: never used, never trained
    ):
        assert not _changed(before, after, prefix), prefix
    with pytest.raises(ValueError, match=r"n_unfrozen must be an integer in \[1, 4\]"):
        model.set_train_mode("partial", n_unfrozen=5)
    model.set_train_mode("frozen")
    assert not any(p.requires_grad for p in encoder.parameters())


# --------------------------------------------------------------------------- pooling, rates, lengths


def test_pooling_uses_only_valid_frames():
    features = torch.randn(2, 6, 4)
    lengths = torch.tensor([6, 3])
    pooled = pool_over_time(features, lengths, "mean")
    torch.testing.assert_close(pooled[1], features[1, :3].mean(0))
    garbage = features.clone()
    garbage[1, 3:] = 1e6  # what sits in padded frames must not matter
    for method in ("mean", "max", "mean_std"):
        torch.testing.assert_close(pool_over_time(features, lengths, method), pool_over_time(garbage, lengths, method))
    mean_std = pool_over_time(features, lengths, "mean_std")
    assert mean_std.shape == (2, 8)
    torch.testing.assert_close(mean_std[1, 4:], features[1, :3].std(0, unbiased=False), atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(pool_over_time(features, lengths, "max")[1], features[1, :3].amax(0))
    with pytest.raises(ValueError, match="no valid frame"):
        pool_over_time(features, torch.tensor([6, 0]))


def test_classifier_pools_only_over_the_frames_of_the_real_audio():
    model = Wav2Vec2Classifier(Wav2Vec2Encoder(tiny_model()), n_classes=3, hidden_features=8).eval()
    x = torch.randn(2, 8000)
    lengths = torch.tensor([8000, 4000])
    features, frame_lengths = model.encoder(x, lengths)
    torch.testing.assert_close(model.embed(x, lengths)[1], features[1, : frame_lengths[1]].mean(0))
    assert frame_lengths[1] < features.shape[1]


def test_input_at_another_rate_is_resampled_to_16k():
    model = tiny_model().eval()
    at_16k = Wav2Vec2Encoder(model)
    at_8k = Wav2Vec2Encoder(model, input_sample_rate=8000)
    x = torch.randn(2, 4000)  # 0.5 s at 8 kHz
    expected, expected_lengths = at_16k(resample(x, 8000, 16000))
    got, got_lengths = at_8k(x)
    torch.testing.assert_close(got, expected)
    assert got_lengths.tolist() == expected_lengths.tolist()
    # a per-call rate overrides the configured one
    torch.testing.assert_close(at_16k(x, sample_rate=8000)[0], expected)
    with pytest.raises(ValueError, match="input_sample_rate"):
        Wav2Vec2Encoder(model, input_sample_rate=0)


def test_clip_shorter_than_the_receptive_field_is_refused():
    encoder = Wav2Vec2Encoder(tiny_model())
    with pytest.raises(ValueError, match=r"clip 0 .*399 valid samples.*receptive field of 400 samples"):
        encoder(torch.randn(1, 399))
    with pytest.raises(ValueError, match=r"clip 1 .*200 valid samples"):
        encoder(torch.randn(2, 4000), torch.tensor([4000, 200]))
    # at 8 kHz, 25 ms is 200 samples: 199 are too few once resampled
    with pytest.raises(ValueError, match="receptive field"):
        encoder(torch.randn(1, 199), sample_rate=8000)


# --------------------------------------------------------------------------- weights: offline, cache, damage


def test_offline_error_names_bundle_file_folder_and_alternative(tmp_path, no_network):
    with pytest.raises(PretrainedWeightsError) as info:
        load_ssl_model("WAV2VEC2_BASE", model_dir=tmp_path)
    message = str(info.value)
    assert no_network, "the download must have been attempted"
    for part in ("WAV2VEC2_BASE", "download failed", "URLError", str(tmp_path / BASE_FILE), "torch.hub.get_dir()/checkpoints",
                 "https://download.pytorch.org/torchaudio/models/" + BASE_FILE, "CrepeEncoder"):
        assert part in message, part
    assert not (tmp_path / BASE_FILE).exists()


def test_offline_error_points_at_torch_hub_checkpoint_folder_by_default(tmp_path, monkeypatch, no_network):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    expected = tmp_path / "hub" / "checkpoints" / BASE_FILE
    assert bundle_checkpoint("WAV2VEC2_BASE")[1] == expected
    with pytest.raises(PretrainedWeightsError, match="no network|download failed") as info:
        Wav2Vec2Classifier.from_bundle(n_classes=3, bundle="WAV2VEC2_BASE")
    assert str(expected) in str(info.value)
    assert info.value.path == expected


def test_download_false_never_touches_the_network(tmp_path, no_network):
    with pytest.raises(PretrainedWeightsError, match="download=False"):
        load_ssl_model("HUBERT_BASE", model_dir=tmp_path, download=False)
    assert no_network == []


def test_damaged_checkpoint_gives_a_clear_error_and_is_not_deleted(tmp_path, no_network):
    damaged = tmp_path / BASE_FILE
    damaged.write_bytes(b"PK\x03\x04 this is not a checkpoint" * 10)
    content = damaged.read_bytes()
    with pytest.raises(PretrainedWeightsError) as info:
        load_ssl_model("WAV2VEC2_BASE", model_dir=tmp_path)
    message = str(info.value)
    assert "damaged" in message and str(damaged) in message and "left in place" in message
    assert damaged.read_bytes() == content
    assert no_network == []


def test_a_file_placed_by_hand_is_loaded_without_download(tmp_path, no_network):
    bundle = torchaudio.pipelines.Wav2Vec2Bundle(
        _path="tiny_ssl_for_tests.pth", _params=TINY_PARAMS, _sample_rate=16000, _normalize_waveform=False, _model_type="Wav2Vec2"
    )
    source = tiny_model(seed=3)
    torch.save(source.state_dict(), tmp_path / "tiny_ssl_for_tests.pth")
    loaded = load_ssl_model(bundle, model_dir=tmp_path, download=False)
    for key, value in source.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[key], value)
    assert not loaded.training
    assert no_network == []


def test_asr_bundles_are_refused_with_the_reason():
    with pytest.raises(ValueError, match=r"ASR bundle.*29 character logits.*WAV2VEC2_BASE"):
        get_ssl_bundle("WAV2VEC2_ASR_BASE_960H")
    with pytest.raises(ValueError, match="unknown bundle"):
        get_ssl_bundle("WAV2VEC3_HUGE")
    assert get_ssl_bundle("WAVLM_BASE")[0] == "WAVLM_BASE"


def test_bundle_summary_tells_ssl_from_asr():
    ssl, asr = bundle_summary("WAV2VEC2_BASE"), bundle_summary("WAV2VEC2_ASR_BASE_960H")
    assert ssl["kind"] == "self-supervised" and (ssl["values per frame"], ssl["model(x) returns"]) == (768, "features")
    assert asr["kind"].startswith("ASR") and (asr["values per frame"], asr["model(x) returns"]) == (29, "character logits")
    assert ssl["sample rate (Hz)"] == asr["sample rate (Hz)"] == 16000
    with pytest.raises(ValueError, match="unknown bundle"):
        bundle_summary("NOT_A_BUNDLE")
