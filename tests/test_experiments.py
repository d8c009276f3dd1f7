"""The pitfall experiments of chapter 6: each fix does what the chapter claims, at a fixed seed.

The claims are checked on exactly the runs the chapter shows (``overfitting_demo``,
``imbalance_demo``, ``leakage_demo``, ``statistics_demo``: a few seconds each on a CPU), so a
change that breaks a sentence of the chapter breaks a test. The unit tests use tiny sets.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_lib import experiments as ex
from course_lib.features import LogMelSpectrogram, compute_features, standardize
from course_lib.synthetic import SyntheticConfig, make_synthetic_dataset

CLASSES = ("harmonic_tone", "rising_chirp", "white_noise_burst", "fast_click_train")
RATE = 8000
RECIPE = ex.EXPERIMENT_RECIPE.replace(sample_rate=RATE, n_mels=32)


def tiny_config(**overrides) -> SyntheticConfig:
    params = dict(sample_rate=RATE, duration_s=0.5, event_duration_s=(0.15, 0.3), n_distractors=1, class_names=CLASSES)
    params.update(overrides)
    return SyntheticConfig(**params)


@pytest.fixture(scope="module")
def pool():
    data = make_synthetic_dataset(30, config=tiny_config(), seed=0)
    features = compute_features(data.waveforms, RECIPE.feature_extractor())
    return data, features


def first_of_each(labels: torch.Tensor, start: int, stop: int) -> torch.Tensor:
    return torch.cat([(labels == c).nonzero().flatten()[start:stop] for c in torch.unique(labels).tolist()])


# ---------------------------------------------------------------------------------------------
# Normalisation


def test_seed_standardize_gives_nan_on_silence_and_the_fix_does_not():
    silent = LogMelSpectrogram(sample_rate=RATE, n_fft=256, hop_length=128, n_mels=32)(torch.zeros(1, RATE))
    assert torch.isfinite(silent).all()  # the dB floor is finite; the division is what breaks
    assert torch.isnan(ex.seed_standardize(silent)).all()
    fixed = standardize(silent)
    assert torch.isfinite(fixed).all() and torch.count_nonzero(fixed) == 0


def test_seed_standardize_rejects_non_float():
    with pytest.raises(TypeError, match="float tensor"):
        ex.seed_standardize(torch.zeros(3, 4, dtype=torch.long))


def test_band_statistics_from_test_set_differ_from_train_only(pool):
    data, _ = pool
    feature = RECIPE.feature_extractor()
    train = compute_features(data.waveforms[first_of_each(data.labels, 0, 10)], feature, standardize=False)
    test_wave = data.waveforms[first_of_each(data.labels, 20, 30)] * 10 ** (-12 / 20)  # recorded 12 dB quieter
    test = compute_features(test_wave, feature, standardize=False)
    train_mean, train_std = ex.band_statistics(train)
    test_mean, _ = ex.band_statistics(test)
    assert train_mean.shape == (1, 32, 1) and train_std.shape == (1, 32, 1)
    assert float((test_mean - train_mean).abs().max()) > 5.0  # dB
    normalised = ex.apply_band_statistics(train, (train_mean, train_std))
    assert abs(float(normalised.mean())) < 1e-3


def test_statistics_leak_inflates_the_score_under_a_level_shift(chapter_pool):
    out = ex.statistics_demo(chapter_pool, test_gain_db=-12.0, seed=0)
    assert out["max_mean_diff_db"]["train only"] == 0.0
    assert out["max_mean_diff_db"]["test only"] > out["max_mean_diff_db"]["train + test"] > 1.0
    # Normalising with the test set's own statistics hides the level shift: a better score than the
    # honest train-only pipeline gets.
    assert out["test_accuracy"]["test only"] > out["test_accuracy"]["train only"] + 0.05


def test_band_statistics_validates_shape():
    with pytest.raises(ValueError, match="n_mels, frames"):
        ex.band_statistics(torch.zeros(4, 32, 10))


# ---------------------------------------------------------------------------------------------
# Class imbalance


def test_make_imbalanced_indices_counts():
    labels = torch.arange(4).repeat_interleave(30)
    idx = ex.make_imbalanced_indices(labels, minority_classes=[3], n_majority=20, ratio=10, seed=0)
    counts = torch.bincount(labels[idx], minlength=4).tolist()
    assert counts == [20, 20, 20, 2]
    assert torch.equal(idx, ex.make_imbalanced_indices(labels, minority_classes=[3], n_majority=20, ratio=10, seed=0))
    with pytest.raises(ValueError, match="minority_classes"):
        ex.make_imbalanced_indices(labels, minority_classes=[7], n_majority=20)
    with pytest.raises(ValueError, match="fewer than"):
        ex.make_imbalanced_indices(labels, minority_classes=[3], n_majority=40)


@pytest.fixture(scope="module")
def chapter_pool():
    return ex.make_pitfall_pool(seed=0)


def test_class_weighted_loss_raises_minority_recall(chapter_pool):
    results, tests = ex.imbalance_demo(chapter_pool, seed=0)
    counts = torch.bincount(chapter_pool.labels[tests["imbalanced"]]).tolist()
    assert [counts[c] for c in ex.MINORITY_CLASSES] == [1, 1]
    none = results["no correction"].scores
    weighted = results["class-weighted loss"].scores
    sampler = results["weighted sampler"].scores
    # The chapter's claims: without correction the rare classes are (almost) never recognised;
    # both corrections raise their recall and the macro-F1 on the balanced test set.
    assert weighted["balanced/minority_recall"] > none["balanced/minority_recall"]
    assert sampler["balanced/minority_recall"] > none["balanced/minority_recall"]
    assert weighted["balanced/macro_f1"] > none["balanced/macro_f1"]
    # ... and plain accuracy on an imbalanced test set hides the problem.
    assert none["imbalanced/accuracy"] > none["imbalanced/balanced_accuracy"] + 0.1
    recall = results["class-weighted loss"].extra["balanced/per_class_recall"]
    assert recall.shape == (8,) and np.all((recall >= 0) & (recall <= 1))
    # The chapter's remark on am_tone (3 training clips, a twin with the same long-term spectrum):
    # no strategy recognises more than one of its ten balanced-test clips.
    am = chapter_pool.class_names.index("am_tone")
    assert am in ex.MINORITY_CLASSES
    assert all(r.extra["balanced/per_class_recall"][am] <= 0.1 for r in results.values())


def test_run_imbalance_rejects_overlapping_test_set(pool):
    data, features = pool
    idx = torch.arange(10)
    with pytest.raises(ValueError, match="share examples"):
        ex.run_imbalance(features, data.labels, idx, {"t": idx}, n_classes=4, minority_classes=[0], epochs=1)
    with pytest.raises(ValueError, match="unknown strategies"):
        ex.run_imbalance(features, data.labels, idx, {}, n_classes=4, minority_classes=[0], strategies=("smote",))


def test_classification_scores_accuracy_can_mislead():
    # 18 of class 0 and 2 of class 1; a model that always answers 0.
    y_true = [0] * 18 + [1] * 2
    s = ex.classification_scores(y_true, [0] * 20, n_classes=2)
    assert s["accuracy"] == pytest.approx(0.9)
    assert s["balanced_accuracy"] == pytest.approx(0.5)
    assert s["per_class_recall"].tolist() == [1.0, 0.0]


# ---------------------------------------------------------------------------------------------
# Leakage


@pytest.fixture(scope="module")
def leakage(tmp_path_factory):
    return ex.leakage_demo(tmp_path_factory.mktemp("esc50_leak"), seed=0)


def test_leaky_split_scores_higher_than_grouped(leakage):
    results, dataset = leakage
    leaky, grouped = results["leaky (random clips)"].scores, results["grouped by source"].scores
    assert grouped["overlap"] == 0.0
    assert leaky["overlap"] > 0.3
    assert leaky["n_test"] == pytest.approx(grouped["n_test"], abs=len(dataset.class_names))
    assert leaky["test_accuracy"] > grouped["test_accuracy"] + 0.05


def test_group_overlap():
    assert ex.group_overlap(["a", "b"], ["a", "c", "c", "b"]) == 0.5
    with pytest.raises(ValueError, match="empty"):
        ex.group_overlap(["a"], [])


def test_run_leakage_validates():
    features, labels = torch.zeros(6, 1, 32, 8), torch.tensor([0, 1, 0, 1, 0, 1])
    groups, folds = list("aabbcc"), [1, 1, 2, 2, 3, 3]
    with pytest.raises(ValueError, match="test_fold=9"):
        ex.run_leakage(features, labels, groups, folds=folds, test_fold=9, n_classes=2)
    with pytest.raises(ValueError, match="one entry per clip"):
        ex.run_leakage(features, labels, groups[:-1], n_classes=2)


# ---------------------------------------------------------------------------------------------
# Overfitting


def test_augmented_views_dataset():
    views = torch.arange(3 * 5 * 1 * 2 * 4, dtype=torch.float32).reshape(3, 5, 1, 2, 4)
    ds = ex.AugmentedViews(views, torch.arange(5))
    torch.manual_seed(0)
    seen = {int(ds[2][0][0, 0, 0]) for _ in range(30)}
    assert seen == {int(views[v, 2, 0, 0, 0]) for v in range(3)}  # every view of clip 2 is drawn
    with pytest.raises(ValueError, match="views must be"):
        ex.AugmentedViews(views[0], torch.arange(5))
    with pytest.raises(ValueError, match="labels must be"):
        ex.AugmentedViews(views, torch.arange(4))


def test_regularisation_narrows_the_gap(chapter_pool):
    results = ex.overfitting_demo(chapter_pool, seed=0)
    assert list(results) == ["no regularisation", "dropout + weight decay", "+ augmentation + early stopping"]
    plain, augmented = results["no regularisation"].scores, results["+ augmentation + early stopping"].scores
    assert plain["train_accuracy"] == 1.0  # a small training set is memorised
    assert augmented["gap"] < plain["gap"] - 0.05
    assert augmented["val_accuracy"] > plain["val_accuracy"] + 0.05
    assert results["no regularisation"].history.epochs_run == 40
    # The chapter's reading of the curves: the training loss falls far below a validation loss that
    # levels off (it is not restored: the last epoch's weights are kept).
    history = results["no regularisation"].history
    assert min(history.val_loss) > 10 * history.train_loss[-1]
    assert history.val_loss[-1] < 1.05 * min(history.val_loss)
    assert history.kept_epoch == 40 and history.best_epoch < 40
    # ... and its caution: on one seed, the arms are within about two sampling errors of each other.
    n_val = int(plain["n_val"])
    assert n_val == 80
    mean_val = np.mean([r.scores["val_accuracy"] for r in results.values()])
    spread = max(r.scores["val_accuracy"] for r in results.values()) - min(r.scores["val_accuracy"] for r in results.values())
    assert spread < 2 * ex.sampling_error(mean_val, n_val) + 1e-9


def test_run_overfitting_checks_sample_rate(pool):
    data, features = pool
    with pytest.raises(ValueError, match="sample_rate"):
        ex.run_overfitting(data.waveforms[:4], data.labels[:4], features[:4], data.labels[:4], n_classes=4, sample_rate=16000, recipe=RECIPE)


# ---------------------------------------------------------------------------------------------
# Reading the numbers


def test_percent_rounds_half_up_once_for_every_number():
    assert ex.percent(0.6125) == 61.3 and ex.percent(0.7125) == 71.3  # f"{:.1f}" gives 61.3 and 71.2
    assert ex.percent(float(torch.tensor(57 / 80, dtype=torch.float32))) == 71.3  # float32 noise ignored
    assert ex.percent(0.05, 0) == 5.0 and ex.percent(1.0) == 100.0
    with pytest.raises(ValueError, match="finite number"):
        ex.percent(float("nan"))
    with pytest.raises(ValueError, match="finite number"):
        ex.percent("0.5")


def test_sampling_error():
    assert ex.sampling_error(0.75, 80) == pytest.approx((0.75 * 0.25 / 80) ** 0.5)
    assert ex.sampling_error(1.0, 10) == 0.0
    with pytest.raises(ValueError, match="positive number of examples"):
        ex.sampling_error(0.5, 0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ex.sampling_error(1.5, 10)


def test_code_without_docstring_keeps_the_work_and_drops_docstring_and_checks():
    code = ex.code_without_docstring(ex.seed_standardize)
    assert code.splitlines()[0].startswith("def seed_standardize(")
    assert "return (features - features.mean()) / features.std()" in code  # the seed's formula is shown
    assert '"""' not in code and "raise" not in code and "1 input check left out" in code
    assert "raise TypeError" in ex.code_without_docstring(ex.seed_standardize, checks=True)
    for function in (ex.band_statistics, ex.experiment_model, ex.group_overlap, ex.overfitting_demo):
        code = ex.code_without_docstring(function)
        assert max(len(line) for line in code.splitlines()) <= 88
        compile(code, "<page>", "exec")  # still valid Python after wrapping
    with pytest.raises(TypeError, match="function or class"):
        ex.code_without_docstring(ex)
