"""The Sonic Pi task: fixed-length windows of the labelled recordings, their cache and the grouped split."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .runtime import atomic_write
from .sonicpi_labels import CLASS_REASONS, LABELS

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
    from .data.download import data_dir

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


def grouped_split(task: SonicPiTask, *, val_fraction: float = 0.15, test_fraction: float = 0.2, seed: int = 0):
    """Train / validation / test window indices, stratified by class and grouped by recording.

    All windows of one file land in the same part (:func:`course_lib.data.splits.stratified_grouped_split`):
    windows of one loop are near-copies, and a split that separates them rewards memorising
    recordings. Each class with three or more files has at least one file in validation and test.

    Returns:
        :class:`course_lib.data.splits.Split` of ``int64`` window indices.
    """
    from .data.splits import stratified_grouped_split

    return stratified_grouped_split(
        task.labels, task.groups, val_fraction=val_fraction, test_fraction=test_fraction, seed=seed
    )
