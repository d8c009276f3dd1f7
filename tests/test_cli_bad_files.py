"""Point 4 of issue 14: the folder dataset and the CLI read real recordings in every format of the CC0
library, and a folder with unreadable files gets ONE report listing every bad file (or, with
--skip-bad, trains without them and logs the list)."""

from __future__ import annotations

import json
import logging
import shutil

import pytest

from course_lib import sonicpi
from course_lib.audio_io import load_audio
from course_lib.cli import main
from course_lib.data.base import UnreadableFilesError, find_unreadable
from course_lib.data.folder import FolderDataset, scan_folder_dataset

FAST = ["--epochs", "2", "--sample-rate", "8000", "--n-mels", "32", "--batch-size", "8", "--quiet", "--duration", "0.5"]


def _library():
    if sonicpi.is_available():
        return sonicpi.library_dir()
    if sonicpi.real_audio_required():
        pytest.fail(f"{sonicpi.REQUIRE_ENV}=1 but the recordings are missing")
    pytest.skip("the recording library is not installed (run `npm ci`)")


def _real_folder(tmp_path, library):
    """kick vs tom vs hihat as copies (the CLI must not care where they came from), plus the AIFF file."""
    root = sonicpi.write_class_folders(tmp_path / "drums", classes=("kick", "tom", "hihat_cymbal"), mode="copy")
    shutil.copy2(library / "bd_haus.aiff", root / "kick" / "bd_haus_copy.aiff")
    return root


def _break_three(root, library):
    """Three kinds of bad file: truncated FLAC (valid header), a text file named .wav, an empty file."""
    data = (library / "loop_amen.flac").read_bytes()
    (root / "kick" / "cut_short.flac").write_bytes(data[: len(data) // 2])
    (root / "tom" / "notes.wav").write_text("this is not audio\n" * 20)
    (root / "hihat_cymbal" / "empty.flac").write_bytes(b"")
    return {"cut_short.flac", "notes.wav", "empty.flac"}


def test_folder_dataset_reads_every_format_of_the_library(tmp_path):
    library = _library()
    root = _real_folder(tmp_path, library)
    splits = scan_folder_dataset(root, seed=0)
    every = [f for part in ("train", "val", "test") for f in splits.part(part)[0]]
    assert {f.suffix for f in every} == {".flac", ".aiff"}
    assert find_unreadable(every) == []
    data = FolderDataset(root, "train", sample_rate=8000, duration_s=0.5, seed=0)
    wave, label = data[0]
    assert wave.shape == (1, 4000)


def test_find_unreadable_lists_every_bad_file_with_its_problem(tmp_path):
    library = _library()
    root = _real_folder(tmp_path, library)
    broken = _break_three(root, library)
    files = sorted(root.rglob("*.*"))
    bad = find_unreadable(files)
    assert {p.name for p, _ in bad} == broken
    problems = dict((p.name, problem) for p, problem in bad)
    assert "empty" in problems["empty.flac"] and "decoded" in problems["notes.wav"]
    assert "lost sync" in problems["cut_short.flac"]  # a valid header: only decoding finds it
    error = UnreadableFilesError(bad, len(files), "fix them")
    assert str(error).startswith(f"3 of {len(files)} audio files cannot be read:")
    assert all(name in str(error) for name in broken)


def test_cli_stops_with_one_report_of_every_bad_file(tmp_path, capsys):
    library = _library()
    root = _real_folder(tmp_path, library)
    broken = _break_three(root, library)
    out = tmp_path / "run"
    assert main(["train", "--root", str(root), "--out", str(out), *FAST]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and "3 of " in err and "--skip-bad" in err
    assert all(name in err for name in broken)
    assert not (out / "metrics.json").exists()


def test_cli_skip_bad_trains_without_them_and_logs_the_list(tmp_path, caplog):
    library = _library()
    root = _real_folder(tmp_path, library)
    broken = _break_three(root, library)
    out = tmp_path / "run"
    with caplog.at_level(logging.WARNING):
        assert main(["train", "--root", str(root), "--out", str(out), "--skip-bad", *FAST]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert {s.split(":")[0].rsplit("/", 1)[-1] for s in metrics["skipped_files"]} == broken
    assert metrics["classes"] == ["hihat_cymbal", "kick", "tom"]
    n_good = 32 + 20 + 1 + 7
    assert sum(metrics["n_files"].values()) == n_good
    reports = [r.getMessage() for r in caplog.records if "--skip-bad" in r.getMessage()]
    assert len(reports) == 1 and all(name in reports[0] for name in broken)
    # nothing else complained about those files: one report, not one per part or per file
    assert not [r for r in caplog.records if "cut_short" in r.getMessage() and r.getMessage() != reports[0]]


def test_cli_trains_on_the_installed_library_as_class_folders(tmp_path, capsys):
    """As a user would: lay the recordings out with `python -m course_lib.sonicpi DIR`, then `train --root DIR`."""
    _library()
    root = tmp_path / "sonicpi"
    assert sonicpi.main([str(root)]) == 0
    assert sorted(p.name for p in root.iterdir()) == sorted(sonicpi.CLASSES)
    out = tmp_path / "run"
    assert main(["train", "--root", str(root), "--out", str(out), *FAST]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["classes"] == sorted(sonicpi.CLASSES) and metrics["skipped_files"] == []
    assert sum(metrics["n_files"].values()) == len(sonicpi.LABELS)
    assert "Test:" in capsys.readouterr().out
    # the AIFF duplicate is not in the class folders: one recording counts once
    assert not list(root.rglob("*.aiff"))
    load_audio(next(root.rglob("*.flac")))


def test_truncated_aiff_is_an_error_not_silently_short(tmp_path):
    """libsndfile returns the part of a cut-short AIFF that is there; load_audio reads its log and refuses it."""
    from course_lib.audio_io import AudioFileError

    library = _library()
    data = (library / "bd_haus.aiff").read_bytes()
    cut = tmp_path / "cut.aiff"
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(AudioFileError, match="truncated"):
        load_audio(cut)
    whole, sr = load_audio(library / "bd_haus.aiff")
    flac, sr_flac = load_audio(library / "bd_haus.flac")
    assert sr == sr_flac and whole.shape == flac.shape and bool((whole == flac).all())  # the duplicate pair
