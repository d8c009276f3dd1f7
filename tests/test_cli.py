"""The training command line, end to end on tiny folder datasets in both layouts."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
import torch

from course_lib.audio_io import save_audio
from course_lib.cli import main
from course_lib.models import build_model
from course_lib.train import load_checkpoint

SR = 8000
CLASSES = {"high": 2000.0, "low": 300.0, "mid": 900.0}


def _write_clips(folder, n_per_class, seed, duration_s=0.5):
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(int(SR * duration_s)) / SR
    for name, freq in CLASSES.items():
        for i in range(n_per_class):
            f = freq * (1 + 0.05 * float(torch.rand(1, generator=g)))
            wave = 0.3 * torch.sin(2 * math.pi * f * t) + 0.05 * torch.randn(len(t), generator=g)
            save_audio(folder / name / f"{name}_{i:02d}.wav", wave, SR)


FAST = ["--epochs", "2", "--sample-rate", str(SR), "--n-mels", "32", "--batch-size", "8", "--quiet"]


def _check_outputs(out, model_name):
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["model"] == model_name
    assert metrics["classes"] == sorted(CLASSES)
    assert 1 <= metrics["epochs_run"] <= 2
    assert 0.0 <= metrics["test"]["accuracy"] <= 1.0 and 0.0 <= metrics["test"]["macro_f1"] <= 1.0
    assert (out / "history.png").stat().st_size > 0 and (out / "confusion_matrix.png").stat().st_size > 0
    checkpoint = load_checkpoint(out / "best_model.pt")
    model = build_model(**checkpoint["build_spec"])
    load_checkpoint(out / "best_model.pt", model)
    assert checkpoint["metadata"]["class_names"] == sorted(CLASSES)
    return metrics


def test_class_folder_layout(tmp_path, capsys):
    root = tmp_path / "data"
    _write_clips(root, 8, seed=0)
    out = tmp_path / "run"
    assert main(["train", "--root", str(root), "--out", str(out), *FAST]) == 0
    metrics = _check_outputs(out, "simple_cnn")
    assert metrics["layout"] == "class-folders"
    assert metrics["features"]["duration_s"] == pytest.approx(0.5)  # the median file length
    printed = capsys.readouterr().out
    assert "Test:" in printed and "macro-F1" in printed


def test_split_folder_layout_with_val_carved_from_train(tmp_path):
    root = tmp_path / "data"
    _write_clips(root / "train", 6, seed=1)
    _write_clips(root / "test", 2, seed=2)
    out = tmp_path / "run"
    assert main(["train", "--root", str(root), "--out", str(out), "--model", "attention_cnn", "--duration", "0.4", *FAST]) == 0
    metrics = _check_outputs(out, "attention_cnn")
    assert metrics["layout"] == "split-folders"
    assert metrics["n_files"]["test"] == 6 and metrics["n_files"]["val"] > 0
    assert metrics["test"]["n_examples"] == 6


def test_wrong_path_exits_with_code_2(tmp_path, capsys):
    assert main(["train", "--root", str(tmp_path / "nope"), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "no such folder" in capsys.readouterr().err


def test_empty_class_folder_exits_with_code_2(tmp_path, capsys):
    root = tmp_path / "data"
    _write_clips(root, 3, seed=0)
    (root / "silence").mkdir()
    assert main(["train", "--root", str(root), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "empty class folder" in err and "silence" in err


def test_too_few_mel_bands_exits_with_code_2_and_the_recipes_message(tmp_path, capsys):
    _write_clips(tmp_path / "data", 3, seed=0)
    assert main(["train", "--root", str(tmp_path / "data"), "--out", str(tmp_path / "o"), "--n-mels", "8", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "--n-mels" in err and "n_mels" in err and "16" in err and "8" in err


def test_bad_option_exits_with_code_2(tmp_path):
    with pytest.raises(SystemExit) as info:
        main(["train", "--root", str(tmp_path), "--out", str(tmp_path), "--model", "resnet"])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["train", "--root", str(tmp_path), "--out", str(tmp_path), "--epochs", "0"])
    assert info.value.code == 2


def test_help_documents_every_option():
    result = subprocess.run([sys.executable, "-m", "course_lib", "train", "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    for option in ("--root", "--out", "--model", "--epochs", "--sample-rate", "--duration", "--n-mels", "--seed", "--device"):
        assert option in result.stdout
    for name in ("simple_cnn", "attention_cnn", "audio_rnn", "crnn"):
        assert name in result.stdout
