"""``python -m course_lib train --encoder aisfx [--fine-tune]`` and ``python -m course_lib predict``, end to end.

Tiny folder datasets (three tone classes) keep most of these fast; one test trains and predicts on
a folder of real recordings (Sonic Pi's CC0 library, :mod:`course_lib.sonicpi`).
"""

from __future__ import annotations

import csv
import json
import math

import pytest
import torch

from course_lib import sonicpi
from course_lib.audio_io import save_audio
from course_lib.cli import main
from course_lib.inference import load_run, predict_files
from course_lib.train import load_checkpoint

SR = 16000
CLASSES = {"high": 3000.0, "low": 150.0, "mid": 900.0}
FAST = ["--epochs", "3", "--batch-size", "8", "--quiet"]


def _write_clips(folder, n_per_class, seed, duration_s=0.5):
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(int(SR * duration_s)) / SR
    files = []
    for name, freq in CLASSES.items():
        for i in range(n_per_class):
            f = freq * (1 + 0.05 * float(torch.rand(1, generator=g)))
            wave = 0.3 * torch.sin(2 * math.pi * f * t) * torch.exp(-4 * t) + 0.02 * torch.randn(len(t), generator=g)
            path = folder / name / f"{name}_{i:02d}.wav"
            save_audio(path, wave, SR)
            files.append(path)
    return files


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    _write_clips(root, 7, seed=0)
    new = tmp_path_factory.mktemp("new")
    _write_clips(new, 1, seed=5)
    (new / "broken.wav").write_bytes(b"RIFF but not really audio")
    (new / "empty.flac").write_bytes(b"")
    return root, new


@pytest.fixture(scope="module")
def aisfx_run(tmp_path_factory, data):
    """A transfer run (frozen encoder, linear head, embeddings cached), trained once for the module."""
    root, _ = data
    base = tmp_path_factory.mktemp("aisfx")
    run, cache = base / "run", base / "cache"
    assert main(["train", "--root", str(root), "--out", str(run), "--encoder", "aisfx", "--cache", str(cache), *FAST]) == 0
    return run, cache


def _read_predictions(run, n_rows):
    with open(run / "predictions.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    records = json.loads((run / "predictions.json").read_text())
    assert len(rows) == len(records) == n_rows
    return rows, records


def _check_predictions(run, new, capsys, top_k=2):
    missing = new / "missing.wav"
    assert main(["predict", "--run", str(run), str(new), str(missing), "--top-k", str(top_k)]) == 0
    printed = capsys.readouterr().out
    rows, records = _read_predictions(run, 3 + 3)  # 3 good files, broken, empty, missing
    by_name = {r["file"].rsplit("/", 1)[-1]: r for r in rows}
    for name in ("high_00.wav", "low_00.wav", "mid_00.wav"):
        row = by_name[name]
        assert row["error"] == "" and row["class_1"] in CLASSES and row["class_2"] in CLASSES
        assert 1.0 >= float(row["probability_1"]) >= float(row["probability_2"]) >= 0.0
    for name, reason in (("broken.wav", "cannot be decoded"), ("empty.flac", "empty"), ("missing.wav", "no such file")):
        assert reason in by_name[name]["error"] and by_name[name]["class_1"] == ""
        assert "ERROR: " in printed and name in printed
    good = [r for r in records if r["error"] is None]
    assert len(good) == 3 and all(len(r["top"]) == top_k for r in good)
    assert all(abs(sum(t["probability"] for t in r["top"]) - 1.0) < 1.0 for r in good)
    assert "Classified 3 of 6 file(s)" in printed
    return by_name


def test_from_scratch_run_then_predict(tmp_path, data, capsys):
    root, new = data
    run = tmp_path / "scratch"
    assert main(["train", "--root", str(root), "--out", str(run), "--sample-rate", str(SR), "--n-mels", "32", *FAST]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["model"] == "simple_cnn" and "encoder" not in metrics
    capsys.readouterr()
    _check_predictions(run, new, capsys)
    # the probabilities are the model's: the same files through the library give the same numbers
    loaded = load_run(run)
    assert loaded.kind == "spectrogram"
    again = predict_files(loaded, [new / "low" / "low_00.wav"], top_k=3)
    assert again[0].ok and abs(sum(p for _, p in again[0].top) - 1.0) < 1e-5


def test_transfer_run_with_cache_then_predict(tmp_path, data, aisfx_run, capsys):
    root, new = data
    run, cache = aisfx_run
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["model"] == "aisfx+linear"
    assert metrics["encoder"]["name"] == "aisfx" and metrics["encoder"]["fine_tune"] is False
    assert metrics["encoder"]["package"] == "aisfx==0.1.2" and "ISMIR 2022" in metrics["encoder"]["credit"]
    assert metrics["features"]["sample_rate"] == 44100 and metrics["n_used"]["train"] == metrics["n_files"]["train"]
    assert 0.0 <= metrics["test"]["accuracy"] <= 1.0
    checkpoint = load_checkpoint(run / "best_model.pt")
    assert checkpoint["model_class"] == "ClassificationHead"
    entries = list(cache.rglob("*.npy"))
    assert len(entries) == 21  # every file embedded once
    # A second run reads the cached embeddings: no file is embedded again, and the result repeats.
    stamps = {p: p.stat().st_mtime_ns for p in entries}
    assert main(["train", "--root", str(root), "--out", str(tmp_path / "again"), "--encoder", "aisfx", "--cache", str(cache), *FAST]) == 0
    printed = capsys.readouterr().out
    assert "Ma and Alexander Lerch" in printed and "CC BY 4.0" in printed
    assert {p: p.stat().st_mtime_ns for p in cache.rglob("*.npy")} == stamps
    assert json.loads((tmp_path / "again" / "metrics.json").read_text())["test"] == metrics["test"]
    by_name = _check_predictions(run, new, capsys, top_k=3)
    assert {by_name[f"{c}_00.wav"]["class_1"] for c in CLASSES} <= set(CLASSES)


def test_fine_tune_run_then_predict(tmp_path, data, capsys):
    root, new = data
    run = tmp_path / "fine"
    assert main(["train", "--root", str(root), "--out", str(run), "--encoder", "aisfx", "--head", "mlp",
                 "--fine-tune", "--unfreeze", "1", "--fine-tune-epochs", "1", *FAST]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["model"] == "aisfx+mlp+fine-tune"
    assert metrics["encoder"]["fine_tune"] is True and metrics["encoder"]["unfrozen_blocks"] == ["block4"]
    assert metrics["encoder"]["head"]["hidden_features"] == 128
    assert set(metrics["head_only"]) == {"train", "val", "test"}
    checkpoint = load_checkpoint(run / "best_model.pt")
    assert checkpoint["model_class"] == "AisfxClassifier"
    # the fine-tuned top block differs from the pretrained one; the blocks below do not
    from course_lib.pretrained import load_aisfx_network

    pretrained = load_aisfx_network().state_dict()
    state = checkpoint["state_dict"]
    assert not torch.equal(state["encoder.network.blocks.3.conv2.weight"], pretrained["blocks.3.conv2.weight"])
    assert torch.equal(state["encoder.network.blocks.2.conv2.weight"], pretrained["blocks.2.conv2.weight"])
    capsys.readouterr()
    _check_predictions(run, new, capsys)
    loaded = load_run(run)
    assert loaded.kind == "encoder"
    assert torch.equal(loaded.encoder.network.blocks[3].conv2.weight, state["encoder.network.blocks.3.conv2.weight"])


def test_predict_errors(tmp_path, data, capsys):
    root, new = data
    assert main(["predict", "--run", str(tmp_path / "nope"), str(new)]) == 2
    assert "no such folder" in capsys.readouterr().err
    (tmp_path / "empty_run").mkdir()
    assert main(["predict", "--run", str(tmp_path / "empty_run"), str(new)]) == 2
    assert "metrics.json" in capsys.readouterr().err
    assert main(["train", "--root", str(root), "--out", str(tmp_path / "x"), "--encoder", "aisfx", "--fine-tune",
                 "--unfreeze", "5", "--quiet"]) == 2
    assert "--unfreeze" in capsys.readouterr().err


def test_predict_with_only_bad_files_exits_1(tmp_path, aisfx_run, capsys):
    run, _ = aisfx_run
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"nope")
    out_csv, out_json = tmp_path / "p.csv", tmp_path / "p.json"
    assert main(["predict", "--run", str(run), str(bad), "--csv", str(out_csv), "--json", str(out_json)]) == 1
    assert "Classified 0 of 1" in capsys.readouterr().out
    with open(out_csv, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1 and rows[0]["error"] and json.loads(out_json.read_text())[0]["error"]


def _real_library():
    if sonicpi.is_available():
        return sonicpi.library_dir()
    if sonicpi.real_audio_required():
        pytest.fail(f"{sonicpi.REQUIRE_ENV}=1 but the recordings are missing")
    pytest.skip("the recording library is not installed (run `npm ci`)")


def test_transfer_and_predict_on_a_folder_of_real_recordings(tmp_path, capsys):
    """Five recordings per class of three real classes: train --encoder aisfx, then predict on held-out recordings."""
    library = _real_library()
    root, held_out = tmp_path / "real", tmp_path / "held_out"
    held_out.mkdir()
    for cls in ("kick", "hihat_cymbal", "tabla"):
        stems = sorted(stem for stem, label in sonicpi.LABELS.items() if label == cls)
        for stem in stems[:5]:
            source = sonicpi.find_recording(stem, library)
            (root / cls).mkdir(parents=True, exist_ok=True)
            (root / cls / source.name).symlink_to(source)
        source = sonicpi.find_recording(stems[-1], library)
        (held_out / f"{cls}__{source.name}").symlink_to(source)
    run = tmp_path / "run"
    assert main(["train", "--root", str(root), "--out", str(run), "--encoder", "aisfx", "--duration", "1.0", *FAST]) == 0
    assert json.loads((run / "metrics.json").read_text())["n_used"]["train"] >= 6
    capsys.readouterr()
    assert main(["predict", "--run", str(run), str(held_out), "--top-k", "3"]) == 0
    rows, _ = _read_predictions(run, 3)
    assert all(r["error"] == "" and r["class_1"] in ("kick", "hihat_cymbal", "tabla") for r in rows)
    assert "Classified 3 of 3" in capsys.readouterr().out
