"""The Sonic Pi task: fixed-length windows of the labelled recordings, their cache and the grouped split.

Part of :mod:`course_lib.sonicpi` (introduced in chapter 1): :func:`load_task` cuts the windows from
the files :mod:`course_lib.sonicpi.library` finds, :func:`grouped_split` splits them by recording.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .._checks import check_int, check_number, check_positive_float
from ..audio_io import load_audio, resample, seconds_to_samples, to_mono
from ..runtime import atomic_write
from .labels import CLASS_REASONS, CLASSES, LABELS
from .library import _missing_message, find_recording, library_dir

__all__ = ["SonicPiTask", "load_task", "grouped_split"]

logger = logging.getLogger("course_lib.sonicpi")  # the messages come from course_lib.sonicpi


# --------------------------------------------------------------------------------------------
# The task


@dataclass
class SonicPiTask:
    """Fixed-length windows cut from the labelled recordings.

    Attributes:
        waveforms: ``(N, samples)`` float32 mono windows at ``sample_rate`` Hz.
        labels: ``(N,)`` int64 class index (``classes[label]``).
        groups: ``(N,)`` int64 index into ``files``: the recording a window comes from.
        offsets_s: ``(N,)`` float32 start of each window in its file, seconds.
        classes: class names.
        files: the recordings used (one per group).
        file_labels: ``(len(files),)`` int64 class of each file.
        durations_s: length of each file, seconds.
        sample_rate: Hz. window_s: seconds.
        missing: labelled stems not found in the library folder (empty for the pinned version).
    """

    waveforms: torch.Tensor
    labels: torch.Tensor
    groups: torch.Tensor
    offsets_s: torch.Tensor
    classes: tuple[str, ...]
    files: tuple[Path, ...]
    file_labels: torch.Tensor
    durations_s: tuple[float, ...]
    sample_rate: int
    window_s: float
    missing: tuple[str, ...] = field(default_factory=tuple)

    def __len__(self) -> int:
        return int(self.labels.numel())

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def counts(self):
        """Per class: files, windows, seconds of recordings, kind, and why the files are there (a ``pandas.DataFrame``)."""
        import pandas as pd

        rows = []
        for k, name in enumerate(self.classes):
            in_class = (self.file_labels == k).nonzero().flatten().tolist()
            rows.append({
                "class": name,
                "files": len(in_class),
                "windows": int((self.labels == k).sum()),
                "recorded_s": round(sum(self.durations_s[i] for i in in_class), 1),
                "kind": CLASS_REASONS[name][0],
                "why": CLASS_REASONS[name][1],
            })
        return pd.DataFrame(rows).set_index("class")

    def windows_of(self, file_index: int) -> torch.Tensor:
        """Indices of the windows cut from ``files[file_index]``."""
        return (self.groups == file_index).nonzero().flatten()

    def __repr__(self) -> str:
        return (
            f"SonicPiTask({len(self)} windows of {self.window_s:g} s at {self.sample_rate} Hz from {len(self.files)} "
            f"recordings, {self.n_classes} classes)"
        )


def _window_offsets(n_samples: int, window: int, kind: str, max_windows: int) -> list[int]:
    """Start samples of the windows of one file."""
    if kind == "one-shot" or n_samples <= window:
        return [0]
    n = max(1, min(max_windows, n_samples // window))
    return [int(round(v)) for v in np.linspace(0, n_samples - window, n)]


def _cut(waveform: torch.Tensor, offsets: Sequence[int], window: int, silence_db: float) -> tuple[list[torch.Tensor], list[int]]:
    """The windows at ``offsets`` (zero-padded), without those ``silence_db`` below the loudest one."""
    pieces = []
    for start in offsets:
        piece = waveform[start : start + window]
        if piece.numel() < window:
            piece = torch.nn.functional.pad(piece, (0, window - piece.numel()))
        pieces.append(piece)
    rms = torch.stack([p.pow(2).mean().sqrt() for p in pieces])
    level_db = 20 * torch.log10(rms + 1e-12)
    keep = [i for i in range(len(pieces)) if level_db[i] >= level_db.max() - silence_db]
    return [pieces[i] for i in keep], [offsets[i] for i in keep]


def _default_cache_dir() -> Path:
    from ..data.download import data_dir

    return data_dir() / "cache" / "sonicpi"


def _cache_key(files: Sequence[Path], settings: dict) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps(settings, sort_keys=True).encode())
    digest.update(json.dumps(sorted(LABELS.items())).encode())
    for f in files:
        stat = f.stat()
        digest.update(f"{f.name}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()[:20]


def _write_cache(path: Path, task: SonicPiTask) -> None:
    """Write atomically: a temporary file beside the target, then a rename."""
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as handle:  # a handle: np.savez would add ".npz" to a name
            np.savez(
                handle, waveforms=task.waveforms.numpy(), labels=task.labels.numpy(), groups=task.groups.numpy(),
                offsets_s=task.offsets_s.numpy(), durations_s=np.asarray(task.durations_s, dtype=np.float64),
            )

    try:
        atomic_write(path, write)
    except OSError as err:  # a read-only or full disk: the task is still returned, just not cached
        logger.warning("could not cache the Sonic Pi task in %s (%s).", path, err)


def load_task(
    sample_rate: int = 16000,
    window_s: float = 1.0,
    *,
    max_windows_per_file: int = 3,
    silence_db: float = 40.0,
    classes: Sequence[str] | None = None,
    cache: bool = True,
    cache_dir: str | os.PathLike | None = None,
) -> SonicPiTask:
    """The labelled recordings as fixed-length mono windows: the course's real classification task.

    Each file of :data:`LABELS` is decoded, mixed to mono and resampled to ``sample_rate`` (soxr);
    a one-shot gives one window from its start (zero-padded when shorter), a texture up to
    ``max_windows_per_file`` windows spread evenly over the file, leaving out windows more than
    ``silence_db`` dB quieter than the file's loudest window. The result is cached as a ``.npz``
    under ``$COURSE_DATA_DIR/cache/sonicpi`` (keyed by the settings, the label table and each file's
    name, size and modification time), so a second call takes milliseconds.

    Args:
        sample_rate: Hz (44100 keeps most files at their own rate).
        window_s: window length, seconds (> 0, at most 10).
        max_windows_per_file: cap for textures (>= 1).
        silence_db: how far below the loudest window of a file a window may be, dB (> 0).
        classes: a subset of :data:`CLASSES` (label order follows this argument); default all.
        cache: read and write the cache.
        cache_dir: where the cache lives.

    Returns:
        :class:`SonicPiTask`.

    Raises:
        FileNotFoundError: the library is not installed (the message says what to run).
        ValueError: a bad argument, or a labelled file that cannot be decoded (named).
    """
    check_int(sample_rate, "sample_rate", minimum=1, unit="Hz", allow_numpy=True)
    check_number(window_s, "window_s", minimum=0.0, include_minimum=False, maximum=10.0, unit="s")
    check_int(max_windows_per_file, "max_windows_per_file", minimum=1)
    check_positive_float(silence_db, "silence_db", unit="dB")
    chosen = tuple(classes) if classes is not None else CLASSES
    unknown = [c for c in chosen if c not in CLASS_REASONS]
    if unknown or len(set(chosen)) != len(chosen) or len(chosen) < 2:
        raise ValueError(f"classes must be at least two distinct names from {list(CLASSES)}, got {list(chosen)}.")

    folder = library_dir()
    files: list[Path] = []
    file_labels: list[int] = []
    missing: list[str] = []
    for stem, cls in LABELS.items():
        if cls not in chosen:
            continue
        path = folder / f"{stem}.flac"
        if not path.is_file():
            try:
                path = find_recording(stem, folder)
            except KeyError:
                missing.append(stem)
                continue
        files.append(path)
        file_labels.append(chosen.index(cls))
    order = sorted(range(len(files)), key=lambda i: (file_labels[i], files[i].name))
    files = [files[i] for i in order]
    file_labels = [file_labels[i] for i in order]
    if missing:
        logger.warning("%s: %d labelled recording(s) not found: %s", folder, len(missing), ", ".join(missing))
    if not files:
        raise FileNotFoundError(f"{folder}: none of the labelled recordings is there. {_missing_message()}")

    settings = {"sample_rate": int(sample_rate), "window_s": float(window_s), "max_windows": max_windows_per_file,
                "silence_db": float(silence_db), "classes": list(chosen), "format": 1}
    cache_path = None
    if cache:
        root = Path(cache_dir) if cache_dir is not None else _default_cache_dir()
        cache_path = root / f"sonicpi-{_cache_key(files, settings)}.npz"
        if cache_path.is_file():
            try:
                with np.load(cache_path) as stored:
                    return SonicPiTask(
                        torch.from_numpy(stored["waveforms"]), torch.from_numpy(stored["labels"]),
                        torch.from_numpy(stored["groups"]), torch.from_numpy(stored["offsets_s"]), chosen, tuple(files),
                        torch.tensor(file_labels, dtype=torch.long), tuple(float(d) for d in stored["durations_s"]),
                        int(sample_rate), float(window_s), tuple(missing),
                    )
            except (OSError, ValueError, KeyError) as err:
                logger.warning("%s: unreadable cache entry (%s); recomputing it.", cache_path, err)

    window = seconds_to_samples(window_s, sample_rate)
    waves: list[torch.Tensor] = []
    labels: list[int] = []
    groups: list[int] = []
    offsets_s: list[float] = []
    durations: list[float] = []
    for g, (path, label) in enumerate(zip(files, file_labels)):
        waveform, sr = load_audio(path)  # AudioFileError names the file
        durations.append(waveform.shape[-1] / sr)
        mono = resample(to_mono(waveform), sr, sample_rate)[0]
        offsets = _window_offsets(mono.numel(), window, CLASS_REASONS[chosen[label]][0], max_windows_per_file)
        pieces, kept = _cut(mono, offsets, window, silence_db)
        waves += pieces
        labels += [label] * len(pieces)
        groups += [g] * len(pieces)
        offsets_s += [o / sample_rate for o in kept]
    task = SonicPiTask(
        torch.stack(waves).contiguous(), torch.tensor(labels, dtype=torch.long), torch.tensor(groups, dtype=torch.long),
        torch.tensor(offsets_s, dtype=torch.float32), chosen, tuple(files), torch.tensor(file_labels, dtype=torch.long),
        tuple(durations), int(sample_rate), float(window_s), tuple(missing),
    )
    if cache_path is not None:
        _write_cache(cache_path, task)
    return task


def grouped_split(task: SonicPiTask, *, val_fraction: float = 0.15, test_fraction: float = 0.2, seed: int = 0):
    """Train / validation / test window indices, stratified by class and grouped by recording.

    All windows of one file land in the same part (:func:`course_lib.data.splits.stratified_grouped_split`):
    windows of one loop are near-copies, and a split that separates them rewards memorising
    recordings. Each class with three or more files has at least one file in validation and test.

    Returns:
        :class:`course_lib.data.splits.Split` of ``int64`` window indices.
    """
    from ..data.splits import stratified_grouped_split

    return stratified_grouped_split(
        task.labels, task.groups, val_fraction=val_fraction, test_fraction=test_fraction, seed=seed
    )
