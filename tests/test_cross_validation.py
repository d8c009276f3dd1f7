"""The official ESC-50 cross-validation (chapter 7): folds disjoint, sources never split, every clip tested once.

Checked on the synthetic ESC-50 layout (written and read by
``course_lib.data.esc50``), on ``tests/data/esc50_meta_fixture.csv`` (ESC-50's format, written by us)
and, where ``../shared`` is beside the repository, on the real metadata sample
``../shared/data/esc50/esc50_meta_sample.csv`` read unchanged.
"""

from __future__ import annotations

from collections import Counter

import pytest
import torch

from course_lib.data.esc50 import ESC50Dataset, esc50_config, read_esc50_meta, write_esc50_layout
from course_lib.data.splits import esc50_cv_folds


def check_protocol(splits, folds: list[int], groups: list[str]) -> None:
    """Every property the chapter claims for the official protocol."""
    n = len(folds)
    fold_values = sorted(set(folds))
    assert len(splits) == len(fold_values)
    tested = Counter()
    for k, split in zip(fold_values, splits):
        train, val, test = (set(part.tolist()) for part in split)
        # The test set of split k is exactly fold k.
        assert test == {i for i in range(n) if folds[i] == k}
        # Train, validation and test are pairwise disjoint and together cover every clip.
        assert not train & test and not val & test and not train & val
        assert train | val | test == set(range(n))
        # No source recording (src_file) on both sides.
        train_groups = {groups[i] for i in train | val}
        test_groups = {groups[i] for i in test}
        assert not train_groups & test_groups, f"fold {k}: src_file on both sides: {sorted(train_groups & test_groups)[:5]}"
        if val:
            assert not {groups[i] for i in train} & {groups[i] for i in val}
        tested.update(test)
    # Every clip is tested exactly once over the folds.
    assert sorted(tested) == list(range(n))
    assert set(tested.values()) == {1}


@pytest.fixture(scope="module")
def synthetic_esc50(tmp_path_factory):
    root = tmp_path_factory.mktemp("esc50")
    config = esc50_config(
        sample_rate=8000, duration_s=0.5, event_duration_s=(0.1, 0.3), n_distractors=0,
        class_names=("harmonic_tone", "rising_chirp", "white_noise_burst"),
    )
    write_esc50_layout(root, sources_per_class=5, max_takes=3, config=config, seed=3)
    return ESC50Dataset(root, sample_rate=8000, duration_s=0.5)


def test_synthetic_layout_has_multi_take_sources(synthetic_esc50):
    # Without sources of several takes the group checks below would prove nothing.
    counts = Counter(synthetic_esc50.groups)
    assert max(counts.values()) >= 2
    assert sorted(set(synthetic_esc50.folds)) == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("val_fraction", [0.0, 0.25])
def test_cv_on_synthetic_layout(synthetic_esc50, val_fraction):
    folds, groups = synthetic_esc50.folds, synthetic_esc50.groups
    splits = esc50_cv_folds(folds, groups=groups, val_fraction=val_fraction, seed=0)
    check_protocol(splits, folds, groups)
    if val_fraction:
        assert all(len(s.val) > 0 for s in splits)


@pytest.mark.parametrize("val_fraction", [0.0, 0.2])
def test_cv_on_metadata_in_the_official_format(test_data, val_fraction):
    rows = read_esc50_meta(test_data / "esc50_meta_fixture.csv")
    folds = [r.fold for r in rows]
    groups = [r.src_file for r in rows]
    assert max(Counter(groups).values()) >= 2
    splits = esc50_cv_folds(folds, groups=groups, val_fraction=val_fraction, seed=0)
    check_protocol(splits, folds, groups)
    if val_fraction:
        assert all(len(s.val) > 0 for s in splits)


@pytest.mark.parametrize("val_fraction", [0.0, 0.2])
def test_cv_on_real_metadata_sample(shared_dir, val_fraction):
    rows = read_esc50_meta(shared_dir / "data" / "esc50" / "esc50_meta_sample.csv")
    assert len(rows) == 414
    folds = [r.fold for r in rows]
    groups = [r.src_file for r in rows]
    # Real sources with several takes exist in the sample, so the group check is meaningful.
    assert max(Counter(groups).values()) >= 2
    splits = esc50_cv_folds(folds, groups=groups, val_fraction=val_fraction, seed=0)
    check_protocol(splits, folds, groups)


def test_cv_is_deterministic(synthetic_esc50):
    folds, groups = synthetic_esc50.folds, synthetic_esc50.groups
    a = esc50_cv_folds(folds, groups=groups, val_fraction=0.25, seed=5)
    b = esc50_cv_folds(folds, groups=groups, val_fraction=0.25, seed=5)
    for sa, sb in zip(a, b):
        for pa, pb in zip(sa, sb):
            assert torch.equal(pa, pb)


def test_check_protocol_catches_a_random_split(synthetic_esc50):
    # The checker is not vacuous: a random (non-grouped) 5-way split of the same clips breaks it.
    folds, groups = synthetic_esc50.folds, synthetic_esc50.groups
    shuffled = torch.randperm(len(folds), generator=torch.Generator().manual_seed(0))
    random_folds = [1 + int(i) % 5 for i in torch.argsort(shuffled)]
    splits = esc50_cv_folds(random_folds, groups=groups)
    with pytest.raises(AssertionError, match="src_file on both sides"):
        check_protocol(splits, random_folds, groups)


def test_cv_rejects_bad_input():
    with pytest.raises(ValueError, match="at least 2 folds"):
        esc50_cv_folds([1, 1, 1])
    with pytest.raises(ValueError, match="groups has"):
        esc50_cv_folds([1, 2, 3], groups=["a", "b"])
