"""Tests of course_lib.sonicpi: finding the CC0 recording library, the label table, the windowed task,
the grouped split, the fallback note, and the CI rule that the book must not fall back."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from course_lib import sonicpi
from course_lib.data.splits import stratified_grouped_split


def _library() -> Path:
    """The installed library; skipped without it, except in CI (COURSE_REQUIRE_REAL_AUDIO=1), where it fails."""
    if sonicpi.is_available():
        return sonicpi.library_dir()
    if sonicpi.real_audio_required():
        pytest.fail(f"{sonicpi.REQUIRE_ENV}=1 but the recordings are missing: {sonicpi.library._missing_message()}")
    pytest.skip("the recording library is not installed (run `npm ci`)")


@pytest.fixture(scope="module")
def task(tmp_path_factory) -> sonicpi.SonicPiTask:
    _library()
    return sonicpi.load_task(16000, 1.0, cache_dir=tmp_path_factory.mktemp("sonicpi-cache"))


# ------------------------------------------------------------------ CI must use the real recordings


def test_ci_build_uses_the_real_recordings_not_the_fallback():
    """With COURSE_REQUIRE_REAL_AUDIO=1 (.ci/run exports it) the library must be there; pages would fall back otherwise."""
    if not sonicpi.real_audio_required():
        pytest.skip(f"{sonicpi.REQUIRE_ENV} is not set (only CI requires the real recordings)")
    assert sonicpi.is_available(), sonicpi.library._missing_message()
    assert len(sonicpi.library_files()) == 207


def test_missing_library_falls_back_with_a_visible_note(monkeypatch, tmp_path):
    monkeypatch.setattr(sonicpi.library, "_candidates", lambda: [tmp_path / "nowhere"])
    monkeypatch.delenv(sonicpi.REQUIRE_ENV, raising=False)
    assert not sonicpi.is_available()
    with pytest.raises(FileNotFoundError, match="npm ci"):
        sonicpi.library_dir()
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    assert sonicpi.available_or_note("Chapter 1") is False
    assert len(shown) == 1 and "Chapter 1 uses synthetic sound" in shown[0].data
    assert shown[0].data.startswith("```{warning}") and "make book" in shown[0].data


def test_missing_library_is_an_error_when_real_audio_is_required(monkeypatch, tmp_path):
    monkeypatch.setattr(sonicpi.library, "_candidates", lambda: [tmp_path / "nowhere"])
    monkeypatch.setenv(sonicpi.REQUIRE_ENV, "1")
    with pytest.raises(FileNotFoundError, match=sonicpi.REQUIRE_ENV):
        sonicpi.available_or_note()
    monkeypatch.setenv(sonicpi.REQUIRE_ENV, "0")
    assert not sonicpi.real_audio_required()


def test_course_data_dir_copy_is_preferred(monkeypatch, tmp_path):
    library = _library()
    copy = tmp_path / sonicpi.PACKAGE / "samples"
    copy.mkdir(parents=True)
    for name in ("bd_808.flac", "bd_haus.aiff", "bd_haus.flac", "hat_sci.flac"):
        shutil.copy2(library / name, copy / name)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    assert sonicpi.library_dir() == copy
    assert [f.name for f in sonicpi.library_files()] == ["bd_808.flac", "bd_haus.aiff", "bd_haus.flac", "hat_sci.flac"]
    wave, sr = sonicpi.load_recording("hat_sci", sample_rate=44100)  # a 192 kHz file
    assert sr == 44100 and wave.shape[0] == 1 and wave.dtype == torch.float32
    assert sonicpi.find_recording("bd_haus").suffix == ".flac"
    assert sonicpi.find_recording("bd_haus.aiff").suffix == ".aiff"
    with pytest.raises(KeyError, match="bd_80"):
        sonicpi.find_recording("bd_80")


# ------------------------------------------------------------------ the label table


def test_every_file_is_labelled_or_excluded_with_a_reason():
    library = _library()
    stems = {f.stem for f in sonicpi.library_files(library)}
    names = {f.name for f in sonicpi.library_files(library)}
    assert not set(sonicpi.LABELS) & set(sonicpi.EXCLUDED)
    unaccounted = sorted(s for s in stems if s not in sonicpi.LABELS and s not in sonicpi.EXCLUDED)
    assert unaccounted == []
    assert set(sonicpi.LABELS) <= stems
    assert all(e in stems or e in names for e in sonicpi.EXCLUDED)
    assert set(sonicpi.LABELS.values()) == set(sonicpi.CLASSES)
    assert all(reason for _, reason in sonicpi.CLASS_REASONS.values()) and all(sonicpi.EXCLUDED.values())


def test_credit_names_the_library_the_licence_and_the_link():
    for text in (sonicpi.CREDIT, sonicpi.CREDIT_MARKDOWN):
        assert "Sonic Pi" in text and "CC0-1.0" in text and sonicpi.PACKAGE in text and sonicpi.HOMEPAGE in text


# ------------------------------------------------------------------ the task


def test_task_shapes_and_counts(task):
    n = len(task)
    assert task.waveforms.shape == (n, 16000) and task.waveforms.dtype == torch.float32
    assert task.labels.dtype == torch.long and task.groups.dtype == torch.long
    assert torch.isfinite(task.waveforms).all()
    assert task.classes == sonicpi.CLASSES and len(task.files) == len(sonicpi.LABELS)
    # every window carries the label of its file
    assert torch.equal(task.labels, task.file_labels[task.groups])
    counts = task.counts()
    assert counts["files"].sum() == len(task.files) and counts["windows"].sum() == n
    for name, row in counts.iterrows():
        if row["kind"] == "one-shot":
            assert row["windows"] == row["files"], name  # one window per one-shot
        else:
            assert row["files"] <= row["windows"] <= 3 * row["files"], name  # capped per file
    per_file = torch.bincount(task.groups, minlength=len(task.files))
    assert per_file.min() >= 1 and per_file.max() <= 3
    # no silent windows
    assert (task.waveforms.abs().amax(dim=1) > 1e-4).all()


def test_windows_are_cut_from_their_files(task):
    k = next(i for i, f in enumerate(task.files) if f.stem == "loop_amen_full")
    idx = task.windows_of(k)
    assert len(idx) == 3
    wave, sr = sonicpi.load_recording("loop_amen_full", sample_rate=16000)
    for i in idx.tolist():
        start = int(round(float(task.offsets_s[i]) * 16000))
        torch.testing.assert_close(task.waveforms[i], wave[0, start : start + 16000])
    # a one-shot shorter than the window is zero-padded at the end
    k = next(i for i, f in enumerate(task.files) if f.stem == "bd_ada")
    (i,) = task.windows_of(k).tolist()
    assert float(task.offsets_s[i]) == 0.0 and task.waveforms[i, 4000:].abs().max() == 0


def test_task_is_cached_and_identical(task, tmp_path):
    first = sonicpi.load_task(16000, 1.0, classes=("kick", "tabla"), cache_dir=tmp_path)
    assert len(list(tmp_path.glob("sonicpi-*.npz"))) == 1
    second = sonicpi.load_task(16000, 1.0, classes=("kick", "tabla"), cache_dir=tmp_path)
    assert torch.equal(first.waveforms, second.waveforms) and torch.equal(first.groups, second.groups)
    assert first.classes == ("kick", "tabla") and set(first.labels.tolist()) == {0, 1}
    # another setting is another entry, never a stale one
    other = sonicpi.load_task(8000, 0.5, classes=("kick", "tabla"), cache_dir=tmp_path)
    assert other.waveforms.shape[1] == 4000 and len(list(tmp_path.glob("sonicpi-*.npz"))) == 2


def test_task_rejects_bad_arguments():
    _library()
    with pytest.raises(ValueError, match="window_s"):
        sonicpi.load_task(16000, 0.0)
    with pytest.raises(ValueError, match="classes"):
        sonicpi.load_task(16000, 1.0, classes=("kick", "dog"))
    with pytest.raises(ValueError, match="sample_rate"):
        sonicpi.load_task(0, 1.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_split_is_grouped_by_recording_and_keeps_every_class(task, seed):
    split = sonicpi.grouped_split(task, val_fraction=0.15, test_fraction=0.2, seed=seed)
    parts = [set(task.groups[idx].tolist()) for idx in split]
    assert not parts[0] & parts[1] and not parts[0] & parts[2] and not parts[1] & parts[2]
    everything = torch.cat(list(split)).sort()[0]
    assert torch.equal(everything, torch.arange(len(task)))
    for idx in split:
        assert set(task.labels[idx].tolist()) == set(range(task.n_classes))


def test_split_is_seeded(task):
    a = sonicpi.grouped_split(task, seed=3)
    b = sonicpi.grouped_split(task, seed=3)
    c = sonicpi.grouped_split(task, seed=4)
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert not torch.equal(a.test, c.test)


def test_stratified_grouped_split_on_toy_data():
    labels = [0] * 10 + [1] * 6
    groups = [g // 2 for g in range(10)] + [10 + g // 2 for g in range(6)]  # 5 groups of class 0, 3 of class 1
    split = stratified_grouped_split(labels, groups, val_fraction=0.2, test_fraction=0.2, seed=0)
    group_parts = [{groups[i] for i in idx.tolist()} for idx in split]
    assert not group_parts[0] & group_parts[2] and not group_parts[0] & group_parts[1]
    for idx in split:
        assert {labels[i] for i in idx.tolist()} == {0, 1}
    with pytest.raises(ValueError, match="group 0"):
        stratified_grouped_split([0, 1], [0, 0])
    with pytest.raises(ValueError, match="groups"):
        stratified_grouped_split([0, 1], [0])


# ------------------------------------------------------------------ the folder layout for the CLI


def test_class_folders_read_by_the_folder_dataset(tmp_path):
    _library()
    from course_lib.data.folder import scan_folder_dataset

    root = sonicpi.write_class_folders(tmp_path / "sonicpi", classes=("kick", "tom"))
    assert sorted(p.name for p in root.iterdir()) == ["kick", "tom"]
    assert len(list((root / "kick").iterdir())) == 20
    splits = scan_folder_dataset(root, seed=0)
    assert splits.class_names == ("kick", "tom")
    assert sum(len(splits.part(p)[0]) for p in ("train", "val", "test")) == 27


def test_hide_switch_simulates_a_missing_library(monkeypatch):
    monkeypatch.setenv(sonicpi.HIDE_ENV, "1")
    monkeypatch.delenv(sonicpi.REQUIRE_ENV, raising=False)
    assert not sonicpi.is_available()
    with pytest.raises(FileNotFoundError, match=sonicpi.HIDE_ENV):
        sonicpi.library_dir()
