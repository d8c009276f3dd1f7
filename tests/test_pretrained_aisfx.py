"""The aiSFX sound-event encoder (course_lib.pretrained.aisfx) against the aisfx wheel it comes from.

The package is installed by ``make install`` (``requirements-aisfx.txt``, hash-pinned, ``--no-deps``).
Its own network (``aisfx.models.cnn2d``) and its own librosa front end
(``aisfx.spectrogram.spectrogram_librosa``) are the references: our reimplementation must give
their numbers, and random weights must not.
"""

from __future__ import annotations

import importlib.util
import warnings

import numpy as np
import pytest
import soundfile as sf
import torch

from course_lib.data.cache import FeatureCache
from course_lib.pretrained import (
    AISFX_EMBEDDING_DIM,
    AISFX_SAMPLE_RATE,
    CREDIT,
    AisfxClassifier,
    AisfxEncoder,
    AisfxNetwork,
    aisfx_checkpoint_path,
    cached_embeddings,
    embed_clips,
    load_aisfx_checkpoint,
    load_aisfx_encoder,
    load_aisfx_network,
)
from course_lib.pretrained.aisfx import spectrogram_blocks

SR = AISFX_SAMPLE_RATE


@pytest.fixture(scope="module")
def encoder() -> AisfxEncoder:
    return load_aisfx_encoder()


@pytest.fixture(scope="module")
def reference():
    """The package's own CrossNet with the wheel's weights (its loader, weights_only=False: the
    package's code path, used here only as the reference)."""
    from aisfx.models.cnn2d import CrossNet, EmbeddingNet

    weights, datasets = load_aisfx_checkpoint()
    model = CrossNet(EmbeddingNet("max", 3, 1, 64), datasets, "cpu")
    model.load_state_dict(weights)
    return model.eval()


def _sound_event(seconds: float, seed: int) -> np.ndarray:
    """A deterministic sound event: a decaying noise burst, a chirp and a click, float32 at 44.1 kHz."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * SR)) / SR
    burst = rng.standard_normal(t.size) * np.exp(-3.0 * t)
    chirp = 0.5 * np.sin(2 * np.pi * (200 + 2000 * t) * t)
    y = 0.3 * burst + chirp
    y[t.size // 3] += 3.0
    return (0.4 * y / np.abs(y).max()).astype(np.float32)


def _package_spectrogram(path) -> np.ndarray:
    """The package's librosa front end, then its 'original' min-max scaling: ``(frames, 96)``."""
    from aisfx import inference, preprocessing
    from aisfx.spectrogram import spectrogram_librosa

    spec = spectrogram_librosa.compute_spectrogram(
        filename=str(path), sr=inference.SAMPLE_RATE, block_size=inference.SPEC_BLOCK_LENGTH,
        hop_size=inference.SPEC_HOP_LENGTH, n_mels=inference.MEL_BINS, f_min=inference.F_MIN, f_max=inference.F_MAX,
    )
    # The package's librosa path returns (bands, frames); the network reads time first (as its
    # Essentia path, used for training, returns): transpose.
    return preprocessing.spectrogram_normalize(spec.T, spec_norm="original")


def test_credit_names_the_authors_the_paper_and_the_licence():
    for part in ("Ma", "Lerch", "Representation Learning for the Automatic Indexing of Sound Effects Libraries", "ISMIR 2022", "CC BY 4.0"):
        assert part in CREDIT
    licence = (aisfx_checkpoint_path().parents[2] / "aisfx-0.1.2.dist-info" / "licenses" / "LICENSE").read_text()
    assert licence.startswith("Attribution 4.0 International")


def test_weights_are_read_with_weights_only(monkeypatch):
    path = aisfx_checkpoint_path()
    # Without the allow-list, weights_only=True refuses the file (it pickles NumPy scalars) ...
    with pytest.raises(Exception, match="numpy"):
        torch.load(path, map_location="cpu", weights_only=True)
    # ... and our loader reads it with weights_only=True, nothing else.
    calls = []
    real_load = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs.get("weights_only"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    weights, datasets = load_aisfx_checkpoint()
    assert calls == [True]
    assert len(datasets) == 9 and all(isinstance(v, tuple) for v in datasets.values())
    ours = AisfxNetwork.state_dict_from_checkpoint(weights)
    assert set(ours) == set(AisfxNetwork().state_dict())
    assert sum(v.numel() for k, v in ours.items() if "num_batches" not in k and "running" not in k) == sum(
        p.numel() for p in AisfxNetwork().parameters()
    )


def test_network_size_follows_its_config():
    net = AisfxNetwork()
    assert [b.conv1.out_channels for b in net.blocks] == [64, 128, 256, 512]
    assert net.output_dim == AISFX_EMBEDDING_DIM == net.config.embedding_dim
    assert 4_600_000 < sum(p.numel() for p in net.parameters()) < 4_800_000
    with pytest.raises(ValueError, match="time first"):
        net(torch.zeros(2, 96, 100 + 1))


def test_our_network_gives_the_package_models_embeddings(encoder, reference):
    torch.manual_seed(0)
    spec = [torch.rand(3, 100, 96)]  # spectrogram-like values in [0, 1]
    spec.append(spectrogram_blocks(encoder.spectrogram(torch.from_numpy(_sound_event(3.0, 1))[None]))[0])
    for blocks in spec:
        with torch.no_grad():
            ours = encoder.network(blocks)
            theirs = reference.get_embedding(blocks)
        assert ours.shape == theirs.shape == (blocks.shape[0], 512)
        assert (ours - theirs).abs().max().item() <= 1e-5
        assert theirs.abs().max().item() > 0.1  # not a trivial all-zero output


def test_random_weights_do_not_give_the_package_models_embeddings(reference):
    torch.manual_seed(0)
    random_net = load_aisfx_network(pretrained=False)
    blocks = torch.rand(3, 100, 96)
    with torch.no_grad():
        diff = (random_net(blocks) - reference.get_embedding(blocks)).abs().max().item()
    assert diff > 0.1


def test_front_end_gives_the_packages_librosa_spectrogram(encoder, tmp_path):
    for seconds, seed in ((3.0, 0), (1.0, 1), (5.0, 2), (0.5, 3)):
        y = _sound_event(seconds, seed)
        path = tmp_path / f"event_{seed}.wav"
        sf.write(path, y, SR, subtype="FLOAT")
        theirs = _package_spectrogram(path)
        ours = encoder.spectrogram(torch.from_numpy(sf.read(path, dtype="float32")[0])[None])[0].numpy()
        assert ours.shape == theirs.shape == (1 + y.size // 1024, 96)
        # float32 tolerance on values up to ~1 (the STFTs and mel products round differently)
        np.testing.assert_allclose(ours, theirs, atol=2e-5, rtol=0)
        assert theirs.max() > 0.3


def test_clip_embedding_equals_the_package_pipeline(encoder, reference, tmp_path):
    """Our end-to-end clip embedding == the package's spectrogram → its blocking → its network → mean."""
    from aisfx import preprocessing

    for seconds, seed in ((5.0, 4), (1.0, 5)):  # several blocks; shorter than one block (padded)
        y = _sound_event(seconds, seed)
        path = tmp_path / f"clip_{seed}.wav"
        sf.write(path, y, SR, subtype="FLOAT")
        blocks = preprocessing.blocking(_package_spectrogram(path), block_size=100, hop_size=50, drop_partial_block=True)
        with torch.no_grad():
            theirs = reference.get_embedding(torch.tensor(blocks, dtype=torch.float32)).mean(dim=0)
        ours = embed_clips(torch.from_numpy(y)[None], encoder=encoder)
        assert ours.shape == (1, 512)
        assert encoder.frame_lengths(torch.tensor([y.size])).item() == blocks.shape[0]
        assert (ours[0] - theirs).abs().max().item() <= 1e-4


@pytest.mark.parametrize("n_frames", [1, 60, 99, 100, 101, 149, 150, 151, 216, 430])
def test_blocks_are_cut_as_the_package_cuts_them(n_frames):
    from aisfx import preprocessing

    spec = np.random.default_rng(n_frames).random((n_frames, 96)).astype(np.float32)
    theirs = preprocessing.blocking(spec, block_size=100, hop_size=50, drop_partial_block=True)
    ours = spectrogram_blocks(torch.from_numpy(spec)[None])[0].numpy()
    np.testing.assert_array_equal(ours, theirs.astype(np.float32))


def test_embed_clips_shapes_resampling_and_validation(encoder):
    clips = torch.stack([torch.from_numpy(_sound_event(2.0, s)) for s in range(3)])
    emb = embed_clips(clips, encoder=encoder, batch_size=2)
    assert emb.shape == (3, 512) and emb.dtype == torch.float32 and torch.isfinite(emb).all()
    assert not torch.allclose(emb[0], emb[1])
    # (N, 1, samples) is accepted; a louder copy gives the same embedding (peak normalisation)
    torch.testing.assert_close(embed_clips(3.0 * clips[:, None], encoder=encoder), emb, atol=1e-5, rtol=1e-5)
    # audio at 22.05 kHz is resampled to 44.1 kHz first
    half = embed_clips(clips[:, ::2].contiguous(), encoder=encoder, sample_rate=22050)
    assert half.shape == (3, 512) and torch.isfinite(half).all()
    # silence: zeros in, a finite embedding out (no 0/0)
    assert torch.isfinite(embed_clips(torch.zeros(1, SR), encoder=encoder)).all()
    with pytest.raises(ValueError, match="NaN"):
        embed_clips(torch.full((1, SR), float("nan")), encoder=encoder)


def test_cached_embeddings_are_computed_once(encoder, tmp_path):
    files = []
    for seed in range(3):
        path = tmp_path / f"f{seed}.wav"
        sf.write(path, _sound_event(1.5, seed), SR, subtype="PCM_16")
        files.append(path)
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"not audio")
    cache = FeatureCache(tmp_path / "cache")
    with pytest.warns(UserWarning, match="broken.wav"):
        first, kept = cached_embeddings([files[0], bad, files[1], files[2]], duration_s=1.5, encoder=encoder, cache=cache, workers=1)
    assert kept == [0, 2, 3] and first.shape == (3, 512)
    assert cache.misses == 3 and cache.hits == 0
    expected = embed_clips(torch.stack([torch.from_numpy(sf.read(f, dtype="float32")[0]) for f in files]), encoder=encoder)
    torch.testing.assert_close(first, expected, atol=1e-5, rtol=1e-5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        second, kept2 = cached_embeddings(files, duration_s=1.5, encoder=encoder, cache=cache)
    assert kept2 == [0, 1, 2] and cache.hits == 3 and cache.misses == 3
    torch.testing.assert_close(second, first)
    # random weights never read the pretrained entries
    torch.manual_seed(0)
    random_encoder = load_aisfx_encoder(pretrained=False)
    third, _ = cached_embeddings(files, duration_s=1.5, encoder=random_encoder, cache=cache)
    assert cache.misses == 6
    assert (third - first).abs().max() > 1e-2


def test_train_modes_unfreeze_the_top_blocks(encoder):
    model = AisfxClassifier(load_aisfx_encoder(), 3, mode="partial", n_unfrozen=1)
    enc = model.encoder
    assert enc.trainable_block_names() == ["block4"]
    trainable = {n for n, p in enc.named_parameters() if p.requires_grad}
    assert trainable and all(n.startswith("network.blocks.3.") for n in trainable)
    model.train()
    assert all(not m.training for m in enc.modules() if isinstance(m, torch.nn.BatchNorm2d))
    clips = torch.stack([torch.from_numpy(_sound_event(1.0, s)) for s in range(3)])
    loss = torch.nn.functional.cross_entropy(model(clips), torch.tensor([0, 1, 2]))
    loss.backward()
    assert enc.network.blocks[3].conv2.weight.grad is not None
    assert enc.network.blocks[2].conv2.weight.grad is None
    model.set_train_mode("frozen")
    assert not any(p.requires_grad for p in enc.parameters())
    with pytest.raises(TypeError, match="AisfxEncoder"):
        AisfxClassifier(object(), 3)  # type: ignore[arg-type]
    # the helpers say the same in words
    assert enc.unfreeze_top(2).trainable_block_names() == ["block3", "block4"]
    assert enc.unfreeze_top(4).train_mode == "full" and all(p.requires_grad for p in enc.parameters())
    assert enc.freeze().trainable_block_names() == [] and not any(p.requires_grad for p in enc.parameters())
    with pytest.raises(ValueError, match="freeze"):
        enc.unfreeze_top(0)


def test_missing_package_says_what_to_install(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "aisfx" else real_find_spec(name, *a))
    with pytest.raises(ImportError, match="requirements-aisfx.txt") as info:
        load_aisfx_encoder()
    assert "make install" in str(info.value)


def test_missing_or_damaged_weights_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="requirements-aisfx.txt"):
        load_aisfx_network(checkpoint=tmp_path / "nothing.pth")
    damaged = tmp_path / "damaged.pth"
    damaged.write_bytes(aisfx_checkpoint_path().read_bytes()[:1000])
    from course_lib.pretrained import PretrainedWeightsError

    with pytest.raises(PretrainedWeightsError, match="damaged.pth"):
        load_aisfx_network(checkpoint=damaged)
    assert damaged.exists()
