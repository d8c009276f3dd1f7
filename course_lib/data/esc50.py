"""ESC-50 (Piczak, 2015): the metadata reader, the dataset, and a synthetic writer of the same layout.

Introduced in chapter 3 (``book/chapters/ch03_data_pipeline.ipynb``); chapter 6 measures leakage
on it and chapter 7 runs the five-fold case study on :class:`ESC50Dataset`. The layout is
``root/audio/{fold}-{src_file}-{take}-{target}.wav`` and ``root/meta/esc50.csv``
(:data:`ESC50_HEADER`). :func:`write_esc50_layout` writes synthetic data in exactly that layout,
so everything that runs on it runs unchanged on the real download: 5 folds, 5 s clips at 44.1 kHz,
several *takes* of one *source* in one fold, near-duplicates (the same event, shifted and with
fresh noise), so a split that separates takes of a source leaks.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from ..audio_io import save_audio
from ..augment import add_noise_at_snr
from .base import AudioFileDataset, DatasetError
from .synthetic import SyntheticConfig, generate_batch

__all__ = [
    "ESC50_HEADER",
    "ESC50Row",
    "read_esc50_meta",
    "ESC50Dataset",
    "esc50_config",
    "write_esc50_layout",
]

#: The header of ESC-50's ``meta/esc50.csv``, in order.
ESC50_HEADER: tuple[str, ...] = ("filename", "fold", "target", "category", "esc10", "src_file", "take")



@dataclass(frozen=True)
class ESC50Row:
    """One row of ESC-50's ``meta/esc50.csv``."""

    filename: str
    fold: int
    target: int
    category: str
    esc10: bool
    src_file: str
    take: str
    line: int = 0  #: line number in the CSV (1 is the header)


_ESC50_COLUMNS = ("filename", "fold", "target", "category", "esc10", "src_file", "take")



def read_esc50_meta(path: str | os.PathLike) -> list[ESC50Row]:
    """Parse and check ESC-50's ``meta/esc50.csv`` (the official format, read unchanged).

    Checks: every column of the official header present; ``fold`` and ``target`` integers,
    ``fold >= 1``, ``target >= 0``; ``esc10`` ``True`` / ``False``; one category per target; no
    duplicate file names. Every error names the file and the row (1 = the header line).

    Returns:
        One :class:`ESC50Row` per data row, in file order.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: ESC-50 metadata not found. Fix: point root at the ESC-50 folder (it holds meta/esc50.csv and "
            "audio/), download it with course_lib.data.download.download_esc50(), or write a synthetic one with "
            "course_lib.data.esc50.write_esc50_layout()."
        )
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        missing = [c for c in ESC50_HEADER if c not in header]
        if missing:
            raise DatasetError(
                f"{path}: missing column(s) {missing}; the header is {header}. ESC-50's header is "
                f"{','.join(ESC50_HEADER)}."
            )
        rows: list[ESC50Row] = []
        seen: dict[str, int] = {}
        category_of: dict[int, tuple[str, int]] = {}
        for line, record in enumerate(reader, start=2):
            where = f"{path}, row {line}"
            try:
                fold = int(record["fold"])
                target = int(record["target"])
            except (TypeError, ValueError):
                raise DatasetError(f"{where}: fold and target must be integers, got {record['fold']!r}, {record['target']!r}.") from None
            if fold < 1 or target < 0:
                raise DatasetError(f"{where}: fold must be >= 1 and target >= 0, got fold={fold}, target={target}.")
            esc10 = (record["esc10"] or "").strip()
            if esc10 not in ("True", "False"):
                raise DatasetError(f"{where}: esc10 must be True or False, got {esc10!r}.")
            filename = (record["filename"] or "").strip()
            category = (record["category"] or "").strip()
            if not filename or not category:
                raise DatasetError(f"{where}: empty filename or category.")
            if filename in seen:
                raise DatasetError(f"{where}: duplicate file name {filename!r} (first on row {seen[filename]}).")
            seen[filename] = line
            if target in category_of and category_of[target][0] != category:
                first_category, first_line = category_of[target]
                raise DatasetError(
                    f"{where}: target {target} is {category!r} here but {first_category!r} on row {first_line}; "
                    "a label must mean one class."
                )
            category_of.setdefault(target, (category, line))
            rows.append(
                ESC50Row(
                    filename, fold, target, category, esc10 == "True",
                    str(record["src_file"]).strip(), str(record["take"]).strip(), line,
                )
            )
    if not rows:
        raise DatasetError(f"{path}: no data rows.")
    return rows


def _esc50_class_names(rows: Sequence[ESC50Row], meta_path: Path) -> tuple[str, ...]:
    names = {r.target: r.category for r in rows}
    expected = list(range(len(names)))
    outside = [r for r in rows if r.target >= len(names)]
    if outside:
        r = outside[0]
        raise DatasetError(
            f"{meta_path}, row {r.line}: target {r.target} ({r.category!r}, {r.filename}) is outside the class list "
            f"0..{len(names) - 1} ({len(names)} categories); targets must number the categories 0..K-1. "
            "Fix the target of that row."
        )
    if sorted(names) != expected:
        raise DatasetError(
            f"{meta_path}: targets must be 0..{len(names) - 1} with no gaps, found {sorted(names)}; "
            "a label outside the class list would be silently wrong."
        )
    return tuple(names[t] for t in expected)


class ESC50Dataset(AudioFileDataset):
    """ESC-50 (Piczak, 2015) or its synthetic layout: ``root/audio/*.wav`` + ``root/meta/esc50.csv``.

    Labels are ESC-50's ``target`` column; class names its ``category`` column.

    Args:
        root: the ESC-50 folder.
        folds: the folds to include (default all). For the official cross-validation use
            :func:`course_lib.data.splits.esc50_cv_folds` on ``dataset.folds`` (or pass the folds).
        sample_rate: Hz (ESC-50 is recorded at 44.1 kHz; 22.05 kHz is plenty for classification).
        duration_s: seconds (ESC-50 clips are 5 s).
        verify: see :class:`AudioFileDataset`.

    Attributes:
        rows: the metadata rows of the kept clips; ``folds`` and ``groups`` (``src_file``) as lists.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        *,
        folds: Sequence[int] | None = None,
        sample_rate: int = 22050,
        duration_s: float = 5.0,
        crop: str = "center",
        verify: str = "header",
    ) -> None:
        root = Path(root)
        meta = root / "meta" / "esc50.csv"
        all_rows = read_esc50_meta(meta)
        class_names = _esc50_class_names(all_rows, meta)
        available = sorted({r.fold for r in all_rows})
        if folds is not None:
            unknown = sorted(set(folds) - set(available))
            if unknown:
                raise ValueError(f"folds {unknown} are not in {meta} (it has folds {available}).")
        rows = [r for r in all_rows if folds is None or r.fold in set(folds)]
        super().__init__(
            [root / "audio" / r.filename for r in rows], [r.target for r in rows], class_names,
            sample_rate=sample_rate, duration_s=duration_s, crop=crop, verify=verify,
        )
        self.root = root
        self.rows = [rows[i] for i in self._kept_indices]

    @property
    def folds(self) -> list[int]:
        """Fold of each clip."""
        return [r.fold for r in self.rows]

    @property
    def groups(self) -> list[str]:
        """``src_file`` of each clip: takes of one source recording share it."""
        return [r.src_file for r in self.rows]



def esc50_config(**overrides) -> SyntheticConfig:
    """The synthetic settings of the ESC-50 layout: 5 s clips at 44.1 kHz, events of 0.5–3 s."""
    params = dict(sample_rate=44100, duration_s=5.0, event_duration_s=(0.5, 3.0), n_distractors=4)
    params.update(overrides)
    return SyntheticConfig(**params)


def _take_letter(i: int) -> str:
    return "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[i]


def write_esc50_layout(
    root: str | os.PathLike,
    *,
    sources_per_class: int = 10,
    max_takes: int = 3,
    n_folds: int = 5,
    config: SyntheticConfig | None = None,
    seed: int = 0,
    chunk: int = 16,
) -> Path:
    """Write a synthetic dataset in ESC-50's layout and return the path of ``meta/esc50.csv``.

    Each class gets ``sources_per_class`` source recordings spread evenly over the folds; each
    source has 1 to ``max_takes`` takes (A, B, C, ...), all in the source's fold. A take is the
    source clip shifted in time by up to 0.5 s, with fresh noise at 25 dB SNR and a gain of
    ±3 dB: close enough to leak if takes are split apart.

    Args:
        root: destination folder (``root/audio``, ``root/meta/esc50.csv``).
        sources_per_class: source recordings per class (>= n_folds gives every fold every class).
        max_takes: most takes per source (>= 1).
        n_folds: number of folds (ESC-50 has 5).
        config: synthetic settings (default :func:`esc50_config`: 5 s, 44.1 kHz).
        seed: random seed.
        chunk: clips generated per batch (bounds memory: 16 clips of 5 s at 44.1 kHz ≈ 30 MB).

    Returns:
        The path of ``meta/esc50.csv``.
    """
    if sources_per_class < 1 or max_takes < 1 or n_folds < 1:
        raise ValueError(
            f"sources_per_class, max_takes and n_folds must be >= 1, got {sources_per_class}, {max_takes}, {n_folds}."
        )
    config = esc50_config() if config is None else config
    root = Path(root)
    (root / "audio").mkdir(parents=True, exist_ok=True)
    (root / "meta").mkdir(parents=True, exist_ok=True)
    generator = torch.Generator().manual_seed(seed)
    sr = config.sample_rate
    max_shift = int(0.5 * sr)
    rows: list[dict[str, object]] = []
    src_id = 100000 + 1000 * (seed % 100)
    for target, category in enumerate(config.class_names):
        sources: list[torch.Tensor] = []
        for start in range(0, sources_per_class, chunk):
            n = min(chunk, sources_per_class - start)
            waveforms, _ = generate_batch(target, n, config=config, generator=generator)
            sources.extend(waveforms)
        for s, source in enumerate(sources):
            fold = 1 + s % n_folds
            src_id += 1
            n_takes = 1 + int(torch.randint(0, max_takes, (1,), generator=generator))
            for take in range(n_takes):
                clip = source
                if take > 0:
                    shift = int(torch.randint(-max_shift, max_shift + 1, (1,), generator=generator))
                    clip = torch.roll(source, shift, dims=-1)
                    if shift > 0:
                        clip[..., :shift] = 0.0
                    elif shift < 0:
                        clip[..., shift:] = 0.0
                    clip = add_noise_at_snr(clip, 25.0, generator=generator)
                    gain_db = float(torch.empty(1).uniform_(-3.0, 3.0, generator=generator))
                    clip = (clip * 10 ** (gain_db / 20)).clamp(-0.999, 0.999)
                filename = f"{fold}-{src_id}-{_take_letter(take)}-{target}.wav"
                save_audio(root / "audio" / filename, clip, sr)
                rows.append(
                    {
                        "filename": filename,
                        "fold": fold,
                        "target": target,
                        "category": category,
                        "esc10": "False",
                        "src_file": src_id,
                        "take": _take_letter(take),
                    }
                )
    meta = root / "meta" / "esc50.csv"
    with open(meta, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(ESC50_HEADER))
        writer.writeheader()
        writer.writerows(rows)
    return meta

