"""Using a trained run: class probabilities for new audio files (``python -m course_lib predict``).

Introduced in chapter 4 (``book/chapters/ch04_beyond_cnn.ipynb``) with the training command line;
chapter 5 uses it on a transfer-learning run.

A run folder written by ``python -m course_lib train`` holds everything needed to classify new files:
``metrics.json`` (the classes, the clip length and sample rate, the features or the encoder) and
``best_model.pt`` (the weights). :func:`load_run` rebuilds the model — a from-scratch spectrogram
classifier or a head on a pretrained encoder — and :func:`predict_files` prepares each file exactly
as the training files were prepared (mono, resampled, centre-cropped or zero-padded to the training
clip length, the same features or the same encoder) and returns its top-k classes.

A file that cannot be read (missing, empty, not audio) is reported in its row with the reason and
never stops the others.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ._checks import check_int
from .audio_io import SUPPORTED_EXTENSIONS, AudioFileError, audio_info
from .frontend import FrontEnd
from .runtime import module_device

__all__ = ["PREDICT_EXTENSIONS", "Run", "Prediction", "load_run", "collect_audio_files", "predict_files", "write_predictions"]

logger = logging.getLogger(__name__)

#: Extensions looked for inside a folder given to :func:`collect_audio_files` (libsndfile reads them all).
PREDICT_EXTENSIONS: tuple[str, ...] = tuple(sorted({*SUPPORTED_EXTENSIONS, ".aif", ".aiff"}))


@dataclass
class Run:
    """A trained run, ready to classify.

    Attributes:
        folder: the run folder.
        class_names: label ``i`` is ``class_names[i]``.
        sample_rate: Hz, duration_s: seconds — how each file is prepared.
        kind: ``"spectrogram"`` (a model trained from scratch on log-mel features) or ``"encoder"``
            (a head on a pretrained encoder's embeddings).
        model: the classifier (eval mode): it reads features (``"spectrogram"``) or embeddings.
        front_end: the :class:`~course_lib.frontend.FrontEnd` the model was trained with
            (``"spectrogram"``; rebuilt from ``metrics.json``), else ``None``.
        encoder: the encoder (``"encoder"``), else ``None``.
        metrics: the run's ``metrics.json``.
    """

    folder: Path
    class_names: list[str]
    sample_rate: int
    duration_s: float
    kind: str
    model: nn.Module
    front_end: FrontEnd | None
    encoder: nn.Module | None
    metrics: dict[str, Any] = field(repr=False)


@dataclass
class Prediction:
    """One file's result: ``top`` holds ``(class, probability)`` pairs, best first; or ``error`` says why not."""

    file: Path
    top: list[tuple[str, float]]
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def load_run(folder: str | os.PathLike, *, device: str | torch.device = "cpu") -> Run:
    """Rebuild the classifier of a run folder written by ``python -m course_lib train``.

    Raises:
        FileNotFoundError: the folder, its ``metrics.json`` or its ``best_model.pt`` is missing.
        ValueError: the files are not those of a training run.
    """
    folder = Path(folder)
    metrics_path = folder / "metrics.json"
    if not folder.is_dir():
        raise FileNotFoundError(f"--run {folder}: no such folder. Pass the --out folder of a `python -m course_lib train` run.")
    if not metrics_path.is_file():
        raise FileNotFoundError(f"{metrics_path} is missing: {folder} is not the folder of a training run (train writes it).")
    try:
        metrics = json.loads(metrics_path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{metrics_path} is not valid JSON ({err}); rerun the training.") from None
    for key in ("classes", "features", "checkpoint"):
        if key not in metrics:
            raise ValueError(f"{metrics_path} has no {key!r} entry: not written by `python -m course_lib train`.")
    checkpoint = folder / metrics["checkpoint"]
    if not checkpoint.is_file():
        raise FileNotFoundError(f"{checkpoint} is missing (metrics.json names it); rerun the training.")
    settings = metrics["features"]
    class_names = [str(c) for c in metrics["classes"]]
    if metrics.get("encoder"):
        from .transfer import load_transfer_model

        head, encoder, _ = load_transfer_model(checkpoint, device=device)
        return Run(folder, class_names, int(settings["sample_rate"]), float(settings["duration_s"]), "encoder",
                   head, None, encoder, metrics)
    from .models import build_model
    from .train import load_checkpoint

    payload = load_checkpoint(checkpoint)
    if "build_spec" not in payload:
        raise ValueError(f"{checkpoint}: no build_spec; it was not written by `python -m course_lib train`.")
    model = build_model(**payload["build_spec"])
    load_checkpoint(checkpoint, model)
    try:  # runs written before window and crop were stored get their defaults, what they used
        front_end = FrontEnd.from_settings(settings)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{metrics_path}: its 'features' entry does not describe a front end ({err}); rerun the training.") from None
    return Run(folder, class_names, front_end.sample_rate, front_end.duration_s, "spectrogram",
               model.to(device).eval(), front_end, None, metrics)


def collect_audio_files(inputs: Sequence[str | os.PathLike]) -> list[Path]:
    """Files named on the command line, and the audio files inside named folders (recursively, sorted).

    A named file is kept whatever its extension (if it is not audio, its row says so); a path that
    does not exist is kept too, and reported as missing.
    """
    files: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in PREDICT_EXTENSIONS
                                and not p.name.startswith(".")))
        else:
            files.append(path)
    return files


def _problem(path: Path) -> str | None:
    """Why ``path`` cannot be classified (from its header), or ``None``."""
    try:
        info = audio_info(path)
    except FileNotFoundError:
        return "no such file"
    except AudioFileError as err:
        return err.problem
    if info.num_frames == 0:
        return "the file holds no samples"
    return None


def predict_files(
    run: Run, files: Sequence[str | os.PathLike], *, top_k: int = 3, batch_size: int = 16
) -> list[Prediction]:
    """Top-``top_k`` classes and probabilities of each file, in the order given.

    Each file is decoded, mixed to mono, resampled to ``run.sample_rate``, centre-cropped or
    zero-padded to ``run.duration_s`` (as in training), turned into the run's features or embeddings
    and classified. Unreadable files get a :class:`Prediction` with ``error`` set.
    """
    check_int(top_k, "top_k", minimum=1)
    top_k = min(top_k, len(run.class_names))
    paths = [Path(f) for f in files]
    results: dict[int, Prediction] = {}
    good: list[int] = []
    for i, path in enumerate(paths):
        problem = _problem(path)
        if problem is None:
            good.append(i)
        else:
            results[i] = Prediction(path, [], problem)
    if good:
        from .data.cache import cached_features

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                if run.kind == "encoder":
                    from .pretrained.aisfx import cached_embeddings

                    inputs, kept = cached_embeddings(
                        [paths[i] for i in good], duration_s=run.duration_s, encoder=run.encoder,  # type: ignore[arg-type]
                        sample_rate=run.sample_rate, batch_size=batch_size,
                    )
                else:
                    inputs, kept = cached_features(  # the features computed where the model runs
                        [paths[i] for i in good], run.front_end, batch_size=batch_size,  # type: ignore[arg-type]
                        device=module_device(run.model),
                    )
            except ValueError:  # none of them could be decoded
                inputs, kept = None, []
        details = {}
        for warning in caught:
            # "skipped N file(s) that cannot be decoded: PATH (problem); PATH (problem)"
            text = str(warning.message)
            if "cannot be decoded:" in text:
                for item in text.split("cannot be decoded:", 1)[1].split("; "):
                    name, _, why = item.strip().rpartition(" (")
                    details[name] = why.rstrip(")")
        for j in set(range(len(good))) - set(kept):
            path = paths[good[j]]
            results[good[j]] = Prediction(path, [], details.get(str(path), "cannot be decoded"))
        if kept:
            with torch.no_grad():
                device = module_device(run.model)
                logits = torch.cat([run.model(inputs[s : s + batch_size].to(device)).cpu()
                                    for s in range(0, len(kept), batch_size)])  # type: ignore[index]
            probabilities = torch.softmax(logits.float(), dim=1)
            values, indices = probabilities.topk(top_k, dim=1)
            for row, j in enumerate(kept):
                top = [(run.class_names[int(c)], float(p)) for p, c in zip(values[row], indices[row])]
                results[good[j]] = Prediction(paths[good[j]], top)
    return [results[i] for i in range(len(paths))]


def write_predictions(predictions: Sequence[Prediction], csv_path: str | os.PathLike, json_path: str | os.PathLike) -> None:
    """Write one row per file: ``file, rank1, p1, ..., rankk, pk, error`` (CSV) and a list of records (JSON)."""
    k = max((len(p.top) for p in predictions), default=0)
    csv_path, json_path = Path(csv_path), Path(json_path)
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    with open(csv_path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", *[x for r in range(1, k + 1) for x in (f"class_{r}", f"probability_{r}")], "error"])
        for p in predictions:
            cells: list[Any] = [str(p.file)]
            for r in range(k):
                cells += [p.top[r][0], f"{p.top[r][1]:.6f}"] if r < len(p.top) else ["", ""]
            writer.writerow([*cells, p.error or ""])
    records = [
        {"file": str(p.file), "top": [{"class": c, "probability": round(v, 6)} for c, v in p.top], "error": p.error}
        for p in predictions
    ]
    json_path.write_text(json.dumps(records, indent=2))
