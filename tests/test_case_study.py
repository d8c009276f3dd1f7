"""The ESC-50 case study (chapter 7): data location, cross-validation runner, attention maps, references."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from course_lib.chapters import ch07_case_study as cs
from course_lib.chapters import ch07_transfer as tr
from course_lib.data.download import DATA_DIR_ENV, ESC50_ARCHIVE
from course_lib.data.esc50 import esc50_config, write_esc50_layout
from course_lib.models import build_model
from course_lib.recipe import RECOMMENDED

TINY = esc50_config(
    sample_rate=8000, duration_s=0.5, event_duration_s=(0.1, 0.3), n_distractors=0,
    class_names=("harmonic_tone", "rising_chirp", "white_noise_burst"),
)
TINY_CONFIG = cs.CaseStudyConfig(
    name="tiny",
    recipe=cs.FAST.recipe.replace(sample_rate=8000, n_mels=32, hop_s=0.02, window_s=0.04),
    test_folds=(1, 2),
    epochs=3,
    model_kwargs={"channels": (4, 8, 8, 8)},
)


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture(scope="module")
def tiny_features(tmp_path_factory):
    root = tmp_path_factory.mktemp("esc50_tiny")
    write_esc50_layout(root, sources_per_class=5, max_takes=2, config=TINY, seed=1)
    source = cs.locate_esc50(root)
    return cs.load_esc50_features(source, TINY_CONFIG.recipe, cache=False)


def test_locate_explicit_root_must_hold_metadata(tmp_path):
    with pytest.raises(FileNotFoundError, match="meta/esc50.csv"):
        cs.locate_esc50(tmp_path)


def test_locate_without_real_data_and_no_synthetic_says_how_to_download(data_dir):
    with pytest.raises(FileNotFoundError, match="download_esc50"):
        cs.locate_esc50(allow_synthetic=False)


def test_locate_prefers_the_real_download(data_dir):
    real = data_dir / ESC50_ARCHIVE.name / ESC50_ARCHIVE.folder
    write_esc50_layout(real, sources_per_class=5, max_takes=1, config=TINY, seed=0)
    source = cs.locate_esc50()
    assert source.kind == "real" and source.root == real
    assert "real ESC-50" in source.note


def test_locate_writes_the_synthetic_layout_once_and_says_so(data_dir, monkeypatch):
    calls = []
    real_writer = cs.write_esc50_layout

    def small_writer(root, **kwargs):  # the same writer, with tiny clips to keep the test fast
        calls.append(root)
        return real_writer(root, **{**kwargs, "config": TINY})

    monkeypatch.setattr(cs, "write_esc50_layout", small_writer)  # the module that calls it
    first = cs.locate_esc50()
    assert first.kind == "synthetic" and "SYNTHETIC" in first.note
    assert (first.root / "meta" / "esc50.csv").is_file()
    assert first.root == data_dir / cs.SYNTHETIC_FOLDER
    assert not [p for p in data_dir.iterdir() if p.name.startswith(".")]  # no temporary folder left
    second = cs.locate_esc50()
    assert second.root == first.root and len(calls) == 1


def test_feature_cache_is_used(data_dir, tiny_features):
    source = tiny_features.source
    first = cs.load_esc50_features(source, TINY_CONFIG.recipe, cache=True)
    assert any((data_dir / "feature_cache").rglob("*.npy"))
    second = cs.load_esc50_features(source, TINY_CONFIG.recipe, cache=True)
    assert torch.equal(first.dataset.features, second.dataset.features)
    assert first.folds == second.folds and first.groups == second.groups


def test_cross_validate_follows_the_official_folds(tiny_features):
    result = cs.cross_validate(tiny_features, "simple_cnn", TINY_CONFIG, seed=0)
    assert [f.fold for f in result.folds] == [1, 2]
    for fold in result.folds:
        assert fold.n_test == tiny_features.folds.count(fold.fold)
        assert fold.n_train + fold.n_val + fold.n_test == len(tiny_features.folds)
        assert fold.metrics["n_examples"] == fold.n_test
        assert 0.0 <= fold.metrics["accuracy"] <= 1.0
        assert fold.history.epochs_run <= TINY_CONFIG.epochs
    mean, std = result.mean_std("accuracy")
    values = result.values("accuracy")
    assert mean == pytest.approx(values.mean()) and std == pytest.approx(values.std())
    summary = result.summary()
    assert summary["folds"] == "1,2" and "±" in summary["accuracy"]


def test_cross_validate_is_deterministic(tiny_features):
    a = cs.cross_validate(tiny_features, "simple_cnn", dataclasses.replace(TINY_CONFIG, test_folds=(3,)), seed=4)
    b = cs.cross_validate(tiny_features, "simple_cnn", dataclasses.replace(TINY_CONFIG, test_folds=(3,)), seed=4)
    assert a.folds[0].history.train_loss == b.folds[0].history.train_loss
    assert a.folds[0].metrics["accuracy"] == b.folds[0].metrics["accuracy"]


def test_cross_validate_validates(tiny_features):
    with pytest.raises(ValueError, match="test_folds"):
        cs.cross_validate(tiny_features, "simple_cnn", dataclasses.replace(TINY_CONFIG, test_folds=(9,)))
    wrong = dataclasses.replace(TINY_CONFIG, recipe=TINY_CONFIG.recipe.replace(n_mels=16))
    with pytest.raises(ValueError, match="mel bands"):
        cs.cross_validate(tiny_features, "simple_cnn", wrong)


def test_attention_maps(tiny_features):
    torch.manual_seed(0)
    model = build_model("attention_cnn", n_classes=3, n_mels=32, channels=(4, 8, 8, 8))
    x = tiny_features.dataset.features[:3]
    probs, attention = cs.attention_maps(model, x)
    assert probs.shape == (3, 3) and attention.shape == (3, x.shape[-1])
    assert torch.allclose(attention.sum(dim=1), torch.ones(3), atol=1e-5)
    assert torch.allclose(probs.sum(dim=1), torch.ones(3), atol=1e-5)
    with pytest.raises(TypeError, match="no attention"):
        cs.attention_maps(build_model("simple_cnn", n_classes=3, n_mels=32), x)


def test_seed_style_loop_cannot_take_a_tuple_but_fit_explains():
    # The seed's loop did criterion(model(x), y) with a model returning (logits, attention).
    model = build_model("attention_cnn", n_classes=3, n_mels=32, channels=(4, 8, 8, 8))
    x, y = torch.randn(2, 1, 32, 40), torch.tensor([0, 1])
    with pytest.raises(TypeError):
        torch.nn.functional.cross_entropy(model(x, return_attention=True), y)
    assert model(x).shape == (2, 3)  # the fix: logits by default


def test_published_results_are_cited_and_plausible():
    assert len(cs.PUBLISHED_RESULTS) >= 4
    for r in cs.PUBLISHED_RESULTS:
        assert 0 < r.accuracy_percent < 100
        assert any(str(year) in r.source for year in range(2015, 2022)), r.source
    humans = [r for r in cs.PUBLISHED_RESULTS if "Human" in r.system]
    assert len(humans) == 1 and "Piczak" in humans[0].source


def test_fast_and_full_settings():
    assert cs.FULL.test_folds == (1, 2, 3, 4, 5) and cs.FULL.recipe == RECOMMENDED
    assert set(cs.FAST.test_folds) <= set(cs.FULL.test_folds)
    assert cs.FAST.epochs < cs.FULL.epochs


def test_transfer_recipe_follows_the_official_folds(tmp_path, data_dir):
    # The tiny layout at 8 kHz, 0.5 s: resampled to 44.1 kHz and padded to one encoder block.
    root = tmp_path / "esc50_tiny"
    write_esc50_layout(root, sources_per_class=5, max_takes=2, config=TINY, seed=1)
    source = cs.locate_esc50(root)
    config = dataclasses.replace(TINY_CONFIG, embed_seconds=0.5, head_epochs=5)
    data = tr.load_esc50_embeddings(source, config)
    assert data.embeddings.shape == (len(data.labels), 512) and data.embed_seconds == 0.5
    again = tr.load_esc50_embeddings(source, config)  # read from the feature cache
    assert torch.equal(again.embeddings, data.embeddings)
    assert list((data_dir / "feature_cache").iterdir()), "the embeddings are cached like the features"
    result = tr.cross_validate_transfer(data, config, seed=0)
    assert [f.fold for f in result.folds] == [1, 2] and result.model_name == "aiSFX frozen + linear head"
    for fold in result.folds:
        test_sources = {data.groups[i] for i, f in enumerate(data.folds) if f == fold.fold}
        assert fold.n_test == sum(1 for f in data.folds if f == fold.fold) and test_sources
        assert 0.0 <= fold.metrics["accuracy"] <= 1.0
    assert "±" in result.summary()["accuracy"]
    with pytest.raises(ValueError, match="test_folds"):
        tr.cross_validate_transfer(data, dataclasses.replace(config, test_folds=(9,)))
