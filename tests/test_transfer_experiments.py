"""Cached encoder outputs, top-block fine-tuning and learning curves (course_lib.transfer_experiments)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest
import torch
from torch.utils.data import TensorDataset

from course_lib.pretrained import embed_clips, load_aisfx_encoder
from course_lib.train import TrainConfig, fit
from course_lib.transfer_experiments import (
    TopBlocksClassifier,
    encode_clips,
    fit_and_score,
    learning_curve,
    plot_learning_curve,
    real_or_synthetic_task,
    recordings_per_class,
    summarise_curve,
)

SR = 44100


@pytest.fixture(scope="module")
def encoder():
    return load_aisfx_encoder()


@pytest.fixture(scope="module")
def clips():
    g = torch.Generator().manual_seed(0)
    t = torch.arange(int(3.5 * SR)) / SR
    tones = torch.stack([torch.sin(2 * torch.pi * f * t) * torch.exp(-3 * t) for f in (110.0, 440.0, 1760.0)])
    noise = 0.3 * torch.randn(2, t.numel(), generator=g)
    return torch.cat([tones, noise])  # (5, 3.5 s): 151 frames, two blocks of 100 frames each


def test_encode_clips_gives_the_encoders_embeddings_and_the_top_blocks_reproduce_them(encoder, clips, tmp_path):
    encoded = encode_clips(clips, encoder=encoder, n_top=1, cache_dir=tmp_path)
    reference = embed_clips(clips, encoder=encoder)
    assert encoded.embeddings.shape == (5, 512) and not encoded.from_cache
    assert torch.allclose(encoded.embeddings, reference, atol=1e-5)
    assert encoded.top_inputs.shape[:3] == (5, 2, 256)  # the embedding averages both blocks
    model = TopBlocksClassifier(encoder.network, 3, n_top=1)
    with torch.no_grad():
        assert torch.allclose(model.encoder(encoded.top_inputs), reference, atol=1e-5)
    # top two blocks: their input is block 2's output
    two = encode_clips(clips, encoder=encoder, n_top=2, cache=False)
    with torch.no_grad():
        assert torch.allclose(TopBlocksClassifier(encoder.network, 3, n_top=2).encoder(two.top_inputs), reference, atol=1e-5)


def test_encode_clips_cache_is_read_back_and_keyed_by_weights_and_audio(encoder, clips, tmp_path):
    first = encode_clips(clips, encoder=encoder, n_top=1, cache_dir=tmp_path)
    (entry,) = tmp_path.glob("encoded-*.pt")
    again = encode_clips(clips, encoder=encoder, n_top=1, cache_dir=tmp_path)
    assert again.from_cache and torch.equal(first.embeddings, again.embeddings) and torch.equal(first.top_inputs, again.top_inputs)
    torch.manual_seed(0)
    random = load_aisfx_encoder(pretrained=False)
    other = encode_clips(clips, encoder=random, n_top=1, cache_dir=tmp_path)
    assert not other.from_cache and not torch.allclose(other.embeddings, first.embeddings, atol=1e-3)
    changed = encode_clips(clips * 0.5 + 0.01, encoder=encoder, n_top=1, cache_dir=tmp_path)
    assert not changed.from_cache
    assert len(list(tmp_path.glob("encoded-*.pt"))) == 3
    entry.write_bytes(b"truncated")  # a damaged entry is recomputed, not trusted
    repaired = encode_clips(clips, encoder=encoder, n_top=1, cache_dir=tmp_path)
    assert not repaired.from_cache and torch.allclose(repaired.embeddings, first.embeddings, atol=1e-6)


def test_encode_clips_rejects_bad_input(encoder, clips):
    bad = clips.clone()
    bad[1, 10] = float("nan")
    with pytest.raises(ValueError, match=r"clip\(s\) \[1\]"):
        encode_clips(bad, encoder=encoder, cache=False)
    with pytest.raises(ValueError, match="n_top"):
        encode_clips(clips, encoder=encoder, n_top=5, cache=False)
    with pytest.raises(ValueError, match="N, samples"):
        encode_clips(clips[0], encoder=encoder, cache=False)
    with pytest.raises(TypeError, match="AisfxEncoder"):
        encode_clips(clips, encoder=torch.nn.Linear(2, 2), cache=False)


def test_top_blocks_start_frozen_keep_batch_norm_statistics_and_fine_tune(encoder, clips):
    encoded = encode_clips(clips, encoder=encoder, n_top=1, cache=False)
    model = TopBlocksClassifier(encoder.network, 2, n_top=1)
    assert not any(p.requires_grad for p in model.encoder.parameters())
    assert all(p.requires_grad for p in model.head.parameters())
    model.encoder.requires_grad_(True)
    stats = {k: v.clone() for k, v in model.encoder.state_dict().items() if "running" in k}
    before = {k: v.clone() for k, v in model.encoder.state_dict().items() if "running" not in k and "num_batches" not in k}
    labels = torch.tensor([0, 0, 1, 1, 1])
    fit(model, TensorDataset(encoded.top_inputs, labels), None,
        TrainConfig(epochs=2, batch_size=5, progress=False, early_stopping_patience=None))
    after = model.encoder.state_dict()
    assert all(torch.equal(v, after[k]) for k, v in stats.items()), "batch norm statistics must stay pretrained"
    assert any(not torch.equal(v, after[k]) for k, v in before.items()), "the unfrozen block must learn"
    assert torch.equal(encoder.network.blocks[3].conv1.weight, load_aisfx_encoder().network.blocks[3].conv1.weight), \
        "the encoder itself is not changed (the top blocks are copies)"


def test_recordings_per_class_draws_whole_recordings():
    labels = torch.tensor([0, 0, 0, 0, 1, 1, 1, 2, 2])
    groups = torch.tensor([0, 0, 1, 2, 3, 4, 5, 6, 7])
    candidates = torch.arange(9)
    picked = recordings_per_class(labels, groups, candidates, 1, seed=0)
    recs = groups[picked]
    for cls in (0, 1, 2):
        assert len(set(groups[picked][labels[picked] == cls].tolist())) == 1
    for g in set(recs.tolist()):  # every window of a chosen recording comes along
        assert set((groups == g).nonzero().flatten().tolist()) <= set(picked.tolist())
    assert torch.equal(picked, recordings_per_class(labels, groups, candidates, 1, seed=0))
    assert torch.equal(recordings_per_class(labels, groups, candidates, None, seed=0), candidates)
    assert len(recordings_per_class(labels, groups, candidates, 10, seed=0)) == 9  # fewer than n: all
    with pytest.raises(ValueError, match="positive integer"):
        recordings_per_class(labels, groups, candidates, 0, seed=0)


def test_learning_curve_never_trains_on_a_test_recording_and_summarises():
    labels = torch.arange(60) % 3
    groups = torch.arange(60) // 2  # two windows per recording, one class per recording
    labels = labels[groups * 2]
    seen = []

    def method(train, test, seed):
        assert not set(groups[train].tolist()) & set(groups[test].tolist())
        seen.append((len(train), seed))
        return len(train) / 60

    curve = learning_curve({"a": method, "b": method}, labels, groups, sizes=(1, 2, None), seeds=(0, 1, 2),
                           only_sizes={"b": (1,)})
    assert len(curve) == 3 * 3 + 3 and set(curve["size"]) == {1, 2, "all"}
    assert (curve.loc[curve["size"] == 1, "n_train_clips"] == 6).all()  # 1 recording x 3 classes x 2 windows
    summary = summarise_curve(curve)
    assert summary.loc[("a", 2), "seeds"] == 3 and summary.loc[("a", 2), "std"] == 0
    ax = plot_learning_curve(curve, chance=1 / 3)
    assert len(ax.get_lines()) == 3  # two methods and chance
    with pytest.raises(ValueError, match="not in methods"):
        learning_curve({"a": method}, labels, groups, only_sizes={"c": (1,)})


def test_fit_and_score_and_the_synthetic_fallback(monkeypatch):
    from course_lib import sonicpi

    monkeypatch.setenv(sonicpi.HIDE_ENV, "1")  # as if the recordings were not installed
    monkeypatch.delenv(sonicpi.REQUIRE_ENV, raising=False)
    task = real_or_synthetic_task(16000, 1.0, synthetic_per_class=2)
    assert task.kind == "synthetic" and task.waveforms.ndim == 2 and len(set(task.groups.tolist())) == len(task.labels)
    monkeypatch.setenv(sonicpi.REQUIRE_ENV, "1")
    with pytest.raises(FileNotFoundError):
        real_or_synthetic_task(16000, 1.0)
    x = torch.randn(40, 4)
    y = (x[:, 0] > 0).long()
    acc = fit_and_score(torch.nn.Linear(4, 2), TensorDataset(x, y), x, y,
                        TrainConfig(epochs=30, batch_size=8, lr=0.05, progress=False, early_stopping_patience=None))
    assert 0.8 <= acc <= 1.0
