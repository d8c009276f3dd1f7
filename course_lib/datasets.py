"""Datasets over audio files: ESC-50, GTZAN and a folder of class sub-folders — real or synthetic.

Introduced in chapter 3 (``book/chapters/ch03_data_pipeline.ipynb``); chapter 7 runs the ESC-50
case study on :class:`ESC50Dataset`, exercise 1 uses :class:`GTZANDataset`, and the training command
line (``python -m course_lib train --root DIR``) uses :func:`scan_folder_dataset`.

The same code reads the real downloads and the synthetic layouts of :mod:`course_lib.layouts`.
Every dataset is an :class:`AudioFileDataset`: a list of files, their labels and the class names.

* ``dataset[i]`` decodes one clip → ``(waveform (1, samples), label)``: mono, resampled to
  ``sample_rate`` Hz (cached kernel), cut or padded to ``duration_s`` seconds;
* ``dataset.to_features(feature, cache=...)`` is the fast path of chapter 3: every clip decoded
  once, features in batches, optionally cached on disk → a
  :class:`course_lib.pipeline.FeatureDataset`.

Bad data never crashes an epoch halfway. At construction the metadata are checked (missing
columns, missing files, labels outside the class list, duplicate names, empty class folders: a
clear error naming the row or file) and every file's header is read; files that cannot be decoded
are left out with ONE warning listing them (``skipped`` holds them).
"""

from __future__ import annotations

import csv
import logging
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import Dataset

from .audio_io import SUPPORTED_EXTENSIONS, AudioFileError, audio_info, load_audio
from .pipeline import FeatureCache, FeatureDataset, cached_features, load_clip
from .splits import stratified_split

__all__ = [
    "DatasetError",
    "AudioFileDataset",
    "Esc50Row",
    "read_esc50_meta",
    "ESC50Dataset",
    "GTZANDataset",
    "gtzan_track_ids",
    "FolderSplits",
    "UnreadableFilesError",
    "describe_unreadable",
    "find_unreadable",
    "scan_folder_dataset",
    "FolderDataset",
]

logger = logging.getLogger(__name__)


class DatasetError(ValueError):
    """Metadata or a folder that cannot be used as a dataset; the message names the file or row."""


class UnreadableFilesError(DatasetError):
    """Files that cannot be decoded, reported together: ``bad`` holds every ``(path, problem)``."""

    def __init__(self, bad: Sequence[tuple[Path, str]], total: int, fix: str) -> None:
        self.bad = list(bad)
        self.total = int(total)
        super().__init__(describe_unreadable(self.bad, self.total) + f"\nFix: {fix}")


def describe_unreadable(bad: Sequence[tuple[Path, str]], total: int) -> str:
    """One report of every bad file: ``"3 of 40 audio files cannot be read:\n  path: problem ..."``."""
    lines = [f"{len(bad)} of {total} audio files cannot be read:"]
    lines += [f"  {path}: {problem}" for path, problem in bad]
    return "\n".join(lines)


def find_unreadable(paths: Sequence[str | os.PathLike], *, workers: int | None = None) -> list[tuple[Path, str]]:
    """Decode every file (in threads) and return each one that cannot be used, with its problem.

    A header check is not enough: a FLAC file cut short or a WAV whose samples are corrupt has a
    valid header. Decoding every file costs about as much as one epoch of the first feature pass
    (0.7 s for the 207 files of the CC0 library here), and gives ONE complete list instead of a
    failure at the first bad file.

    Returns:
        ``[(path, problem), ...]`` in the order of ``paths``; empty when every file decodes.
    """
    from concurrent.futures import ThreadPoolExecutor

    from .pipeline import default_workers

    paths = [Path(p) for p in paths]

    def check(path: Path) -> str | None:
        try:
            load_audio(path)
        except AudioFileError as err:
            return err.problem
        except FileNotFoundError:
            return "missing (deleted while being read?)"
        return None

    with ThreadPoolExecutor(max_workers=workers or default_workers()) as pool:
        problems = list(pool.map(check, paths))
    return [(p, problem) for p, problem in zip(paths, problems) if problem is not None]


def _check_not_truncated(path: Path) -> None:
    """libsndfile's header log says when a WAV's data chunk is shorter than promised (no decoding needed)."""
    import soundfile as sf

    from .audio_io import _TRUNCATED_DATA

    with sf.SoundFile(str(path)) as handle:
        truncated = _TRUNCATED_DATA.search(handle.extra_info)
    if truncated:
        raise AudioFileError(path, "is truncated (its data chunk is shorter than its header says).")


def _check_files(paths: Sequence[Path], verify: str) -> tuple[list[int], list[str]]:
    """Indices of usable files and descriptions of the skipped ones."""
    if verify not in ("header", "decode", "none"):
        raise ValueError(f"verify must be 'header', 'decode' or 'none', got {verify!r}.")
    kept: list[int] = []
    skipped: list[str] = []
    for i, path in enumerate(paths):
        if verify != "none":
            try:
                info = audio_info(path)
                if info.num_frames == 0:
                    raise AudioFileError(path, "holds no samples.")
                if verify == "decode":
                    load_audio(path)
                else:
                    _check_not_truncated(path)
            except AudioFileError as err:
                skipped.append(f"{path.name} ({err.problem})")
                continue
        kept.append(i)
    return kept, skipped


class AudioFileDataset(Dataset):
    """Labelled audio files, decoded on demand or turned into cached features in one go.

    Args:
        files: audio files.
        labels: class index of each file.
        class_names: label ``i`` is ``class_names[i]``.
        sample_rate: rate clips are resampled to, Hz.
        duration_s: clip length, seconds (longer files are cut, shorter ones padded with zeros).
        crop: where to cut or pad (``"center"`` or ``"start"``; see :func:`course_lib.audio_io.fix_length`).
        verify: ``"header"`` (default: read each file's header once; files whose header cannot be
            read, that hold no samples or whose data are shorter than the header says are skipped
            with one warning), ``"decode"`` (decode every file now: slower, catches truncated files too)
            or ``"none"``.

    Attributes:
        files, labels, class_names, sample_rate, duration_s: as given, minus skipped files.
        skipped: descriptions of the files left out.
    """

    def __init__(
        self,
        files: Sequence[str | os.PathLike],
        labels: Sequence[int],
        class_names: Sequence[str],
        *,
        sample_rate: int,
        duration_s: float,
        crop: str = "center",
        verify: str = "header",
    ) -> None:
        files = [Path(f) for f in files]
        labels = [int(v) for v in labels]
        if len(files) != len(labels):
            raise ValueError(f"got {len(files)} files but {len(labels)} labels.")
        bad = [(f, v) for f, v in zip(files, labels) if not 0 <= v < len(class_names)]
        if bad:
            raise DatasetError(
                f"{len(bad)} file(s) have a label outside 0..{len(class_names) - 1} ({len(class_names)} classes), "
                f"first: {bad[0][0]} with label {bad[0][1]}. Fix the metadata or the class list."
            )
        missing = [f for f in files if not f.exists()]
        if missing:
            raise DatasetError(
                f"{len(missing)} listed file(s) are not on disk, first: {missing[0]}. "
                "Fix: complete the download (see course_lib.download) or correct the metadata."
            )
        kept, skipped = _check_files(files, verify)
        if skipped:
            message = (
                f"{type(self).__name__}: skipped {len(skipped)} file(s) that cannot be decoded: " + "; ".join(skipped)
            )
            logger.warning(message)
            warnings.warn(message, stacklevel=3)
        self.files = [files[i] for i in kept]
        self.labels = [labels[i] for i in kept]
        self.class_names = tuple(class_names)
        self.sample_rate = int(sample_rate)
        self.duration_s = float(duration_s)
        self.crop = crop
        self.skipped = skipped
        self._kept_indices = kept

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        waveform = load_clip(self.files[index], sample_rate=self.sample_rate, duration_s=self.duration_s, crop=self.crop)
        return waveform, self.labels[index]

    def targets(self) -> torch.Tensor:
        """The labels as a ``(N,)`` LongTensor."""
        return torch.tensor(self.labels, dtype=torch.long)

    def to_features(
        self,
        feature: nn.Module,
        *,
        cache: FeatureCache | str | os.PathLike | None = None,
        standardize: bool = True,
        transform=None,
        batch_size: int = 16,
        progress: bool = False,
        workers: int | None = None,
    ) -> tuple[FeatureDataset, list[int]]:
        """Decode every clip once, compute features in batches and threads, optionally cache them on disk.

        See :func:`course_lib.pipeline.cached_features` for ``cache``, ``standardize``, ``batch_size``,
        ``progress`` and ``workers``; ``transform`` is the returned dataset's (e.g. SpecAugment).

        Returns:
            ``(features, kept)``: a :class:`~course_lib.pipeline.FeatureDataset` and the indices into
            this dataset of the clips it holds (a clip that fails to decode is skipped with one
            warning, so ``kept`` says which labels / groups belong to which features).
        """
        feats, kept = cached_features(
            self.files, feature, sample_rate=self.sample_rate, duration_s=self.duration_s, crop=self.crop,
            standardize=standardize, cache=cache, batch_size=batch_size, progress=progress, workers=workers,
        )
        labels = torch.tensor([self.labels[i] for i in kept], dtype=torch.long)
        return FeatureDataset(feats, labels, transform), kept

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({len(self)} clips, {len(self.class_names)} classes, "
            f"{self.duration_s:g} s at {self.sample_rate} Hz)"
        )


# --------------------------------------------------------------------------------------------
# ESC-50


@dataclass(frozen=True)
class Esc50Row:
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


def read_esc50_meta(path: str | os.PathLike) -> list[Esc50Row]:
    """Parse and check ESC-50's ``meta/esc50.csv`` (the official format, read unchanged).

    Checks: every column of the official header present; ``fold`` and ``target`` integers,
    ``fold >= 1``, ``target >= 0``; ``esc10`` ``True`` / ``False``; one category per target; no
    duplicate file names. Every error names the file and the row (1 = the header line).

    Returns:
        One :class:`Esc50Row` per data row, in file order.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: ESC-50 metadata not found. Fix: point root at the ESC-50 folder (it holds meta/esc50.csv and "
            "audio/), download it with course_lib.download.download_esc50(), or write a synthetic one with "
            "course_lib.layouts.write_esc50_layout()."
        )
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        missing = [c for c in _ESC50_COLUMNS if c not in header]
        if missing:
            raise DatasetError(
                f"{path}: missing column(s) {missing}; the header is {header}. ESC-50's header is "
                f"{','.join(_ESC50_COLUMNS)}."
            )
        rows: list[Esc50Row] = []
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
                Esc50Row(
                    filename, fold, target, category, esc10 == "True",
                    str(record["src_file"]).strip(), str(record["take"]).strip(), line,
                )
            )
    if not rows:
        raise DatasetError(f"{path}: no data rows.")
    return rows


def _esc50_class_names(rows: Sequence[Esc50Row], meta_path: Path) -> tuple[str, ...]:
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
            :func:`course_lib.splits.esc50_cv_folds` on ``dataset.folds`` (or pass the folds).
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


# --------------------------------------------------------------------------------------------
# GTZAN


def gtzan_track_ids(split: str) -> list[str]:
    """Track ids (``"blues.00029"``) of one part of the fault-filtered GTZAN split shipped in torchaudio.

    Args:
        split: ``"train"`` (443 tracks), ``"valid"`` (197) or ``"test"`` (290).
    """
    from torchaudio.datasets import gtzan

    lists = {"train": gtzan.filtered_train, "valid": gtzan.filtered_valid, "test": gtzan.filtered_test}
    if split not in lists:
        raise ValueError(f"split must be 'train', 'valid' or 'test', got {split!r}.")
    return list(lists[split])


_GTZAN_GENRES = ("blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock")


class GTZANDataset(AudioFileDataset):
    """GTZAN (Tzanetakis & Cook, 2002) or its synthetic layout: ``genres/<genre>/<genre>.000NN.wav``.

    By default the fault-filtered, artist-disjoint split (Kereliuk, Sturm & Larsen, 2015; the lists
    in ``torchaudio.datasets.gtzan``): repeated tracks, distorted tracks and mislabelled tracks
    removed, and no artist in two parts. A random split (``split_mode="random"``) is available
    for comparison only: it puts tracks of one artist on both sides, which inflates the test score,
    and warns so.

    Args:
        root: the folder holding ``genres/`` (or ``genres/`` itself).
        split: ``"train"``, ``"valid"`` or ``"test"``.
        split_mode: ``"filtered"`` (default) or ``"random"`` (all tracks on disk, stratified by genre).
        seed, val_fraction, test_fraction: of the random split.
        sample_rate: Hz (GTZAN: 22050).
        duration_s: seconds (GTZAN tracks are 30 s; a shorter crop is faster to train on).
        verify: see :class:`AudioFileDataset`. The known corrupt ``jazz.00054.wav`` is skipped with a
            warning.
        missing: what to do when the split lists a track that is not on disk: ``"error"`` (default:
            an incomplete download must not pass unnoticed) or ``"skip"`` (one warning with the
            count; for the small synthetic layouts, which hold a few tracks per genre).
    """

    def __init__(
        self,
        root: str | os.PathLike,
        split: str = "train",
        *,
        split_mode: str = "filtered",
        seed: int = 0,
        val_fraction: float = 0.2,
        test_fraction: float = 0.3,
        sample_rate: int = 22050,
        duration_s: float = 30.0,
        crop: str = "center",
        verify: str = "header",
        missing: str = "error",
    ) -> None:
        root = Path(root)
        genres_dir = root if root.name == "genres" and not (root / "genres").is_dir() else root / "genres"
        if not genres_dir.is_dir():
            raise FileNotFoundError(
                f"{genres_dir}: GTZAN folder not found. Fix: point root at the folder holding genres/, download it with "
                "course_lib.download.download_gtzan(), or write a synthetic one with course_lib.layouts.write_gtzan_layout()."
            )
        if split not in ("train", "valid", "test"):
            raise ValueError(f"split must be 'train', 'valid' or 'test', got {split!r}.")
        if split_mode == "filtered":
            ids = gtzan_track_ids(split)
            files = [genres_dir / i.split(".")[0] / f"{i}.wav" for i in ids]
            if missing not in ("error", "skip"):
                raise ValueError(f"missing must be 'error' or 'skip', got {missing!r}.")
            absent = [f for f in files if not f.exists()]
            if absent and missing == "skip":
                warnings.warn(
                    f"GTZANDataset: {len(absent)} of the {len(files)} tracks of the filtered {split!r} split are not in "
                    f"{genres_dir} (first: {absent[0].name}); using the {len(files) - len(absent)} present.",
                    stacklevel=2,
                )
                files = [f for f in files if f.exists()]
        elif split_mode == "random":
            warnings.warn(
                "GTZANDataset(split_mode='random'): a random split puts tracks of the same artist in training and test "
                "sets; the test score is inflated. Use the default fault-filtered split for results you report.",
                stacklevel=2,
            )
            all_files = sorted(genres_dir.glob("*/*.wav"))
            all_labels = [_GTZAN_GENRES.index(f.parent.name) for f in all_files if f.parent.name in _GTZAN_GENRES]
            all_files = [f for f in all_files if f.parent.name in _GTZAN_GENRES]
            if not all_files:
                raise DatasetError(f"{genres_dir}: no .wav files under genres/<genre>/.")
            parts = stratified_split(all_labels, val_fraction=val_fraction, test_fraction=test_fraction, seed=seed)
            chosen = {"train": parts.train, "valid": parts.val, "test": parts.test}[split].tolist()
            files = [all_files[i] for i in chosen]
        else:
            raise ValueError(f"split_mode must be 'filtered' or 'random', got {split_mode!r}.")
        labels = [_GTZAN_GENRES.index(f.parent.name) for f in files]
        super().__init__(files, labels, _GTZAN_GENRES, sample_rate=sample_rate, duration_s=duration_s, crop=crop, verify=verify)
        self.root = genres_dir
        self.split = split
        self.split_mode = split_mode

    @property
    def track_ids(self) -> list[str]:
        """Track ids (``"jazz.00012"``) of the kept clips."""
        return [f.stem for f in self.files]


# --------------------------------------------------------------------------------------------
# A folder of class sub-folders


@dataclass
class FolderSplits:
    """The files of a folder dataset, split into train / validation / test.

    Attributes:
        class_names: sorted class folder names (label ``i`` is ``class_names[i]``).
        train, val, test: ``(files, labels)`` pairs, file lists sorted within each class.
        layout: ``"split-folders"`` (``root/{train,val,test}/<class>/``) or ``"class-folders"``
            (``root/<class>/``, split here, stratified and seeded).
    """

    class_names: tuple[str, ...]
    train: tuple[list[Path], list[int]]
    val: tuple[list[Path], list[int]]
    test: tuple[list[Path], list[int]]
    layout: str

    def part(self, name: str) -> tuple[list[Path], list[int]]:
        """``(files, labels)`` of ``"train"``, ``"val"`` or ``"test"``."""
        if name not in ("train", "val", "test"):
            raise ValueError(f"part must be 'train', 'val' or 'test', got {name!r}.")
        return getattr(self, name)


def _class_folders(folder: Path, extensions: tuple[str, ...], exclude: frozenset[Path] = frozenset()) -> dict[str, list[Path]]:
    classes = sorted(d for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not classes:
        raise DatasetError(
            f"{folder}: no class folders. Expected {folder}/<class>/*.wav (one sub-folder per class), "
            f"or {folder}/train/<class>/*.wav and {folder}/test/<class>/*.wav."
        )
    found: dict[str, list[Path]] = {}
    for d in classes:
        files = sorted(f for f in d.iterdir() if f.is_file() and f.suffix.lower() in extensions)
        left = [f for f in files if f not in exclude]
        if files and not left:
            raise DatasetError(f"{d}: all {len(files)} file(s) of this class are left out as unreadable; a class needs at least one.")
        files = left
        if not files:
            raise DatasetError(
                f"{d}: empty class folder (no {', '.join(extensions)} files). Fix: add recordings or remove the folder."
            )
        found[d.name] = files
    return found


def scan_folder_dataset(
    root: str | os.PathLike,
    *,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    seed: int = 0,
    extensions: Sequence[str] = SUPPORTED_EXTENSIONS,
    exclude: Sequence[str | os.PathLike] = (),
) -> FolderSplits:
    """Find the files, labels and class names of a folder dataset, split into train / val / test.

    Two layouts:

    * ``root/{train,val,test}/<class>/*.wav`` – a fixed split, used as it is; with only
      ``train/`` and ``test/``, validation is carved from train (stratified, ``val_fraction`` of it);
    * ``root/<class>/*.wav`` – split here, stratified by class and seeded.

    Args:
        root: the dataset folder.
        val_fraction, test_fraction: shares for the split made here.
        seed: seed of that split.
        extensions: audio file extensions to include (default WAV, FLAC, OGG and AIFF).
        exclude: files to leave out before splitting (e.g. those :func:`find_unreadable` found), so
            the split is the one a folder without them would get.

    Raises:
        FileNotFoundError: ``root`` does not exist.
        DatasetError: no class folders, an empty class folder, or split folders whose classes differ.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: dataset folder not found. Expected {root}/<class>/*.wav.")
    extensions = tuple(e.lower() for e in extensions)
    skip = frozenset(Path(p) for p in exclude)
    has_train = (root / "train").is_dir()
    if has_train:
        train = _class_folders(root / "train", extensions, skip)
        class_names = tuple(sorted(train))
        if not (root / "test").is_dir():
            raise DatasetError(f"{root}: has train/ but no test/. Add {root}/test/<class>/ or use {root}/<class>/ only.")
        parts: dict[str, dict[str, list[Path]]] = {"train": train, "test": _class_folders(root / "test", extensions, skip)}
        if (root / "val").is_dir():
            parts["val"] = _class_folders(root / "val", extensions, skip)
        for name, found in parts.items():
            extra = sorted(set(found) - set(class_names))
            if extra:
                raise DatasetError(
                    f"{root / name}: class folder(s) {extra} are not in {root / 'train'} (classes {list(class_names)}); "
                    "every class needs training examples."
                )

        def flat(found: dict[str, list[Path]]) -> tuple[list[Path], list[int]]:
            files = [f for c in class_names for f in found.get(c, [])]
            labels = [class_names.index(c) for c in class_names for _ in found.get(c, [])]
            return files, labels

        train_files, train_labels = flat(parts["train"])
        test_part = flat(parts["test"])
        if "val" in parts:
            return FolderSplits(class_names, (train_files, train_labels), flat(parts["val"]), test_part, "split-folders")
        carve = stratified_split(train_labels, val_fraction=val_fraction, test_fraction=0.0, seed=seed)
        pick = lambda idx: ([train_files[i] for i in idx.tolist()], [train_labels[i] for i in idx.tolist()])  # noqa: E731
        return FolderSplits(class_names, pick(carve.train), pick(carve.val), test_part, "split-folders")
    found = _class_folders(root, extensions, skip)
    class_names = tuple(sorted(found))
    files = [f for c in class_names for f in found[c]]
    labels = [class_names.index(c) for c in class_names for _ in found[c]]
    split = stratified_split(labels, val_fraction=val_fraction, test_fraction=test_fraction, seed=seed)
    pick = lambda idx: ([files[i] for i in idx.tolist()], [labels[i] for i in idx.tolist()])  # noqa: E731
    return FolderSplits(class_names, pick(split.train), pick(split.val), pick(split.test), "class-folders")


class FolderDataset(AudioFileDataset):
    """One part of a folder dataset (see :func:`scan_folder_dataset`).

    Args:
        root: the dataset folder.
        split: ``"train"``, ``"val"`` or ``"test"``.
        sample_rate: Hz; duration_s: seconds; see :class:`AudioFileDataset` for the rest.
        val_fraction, test_fraction, seed: of the split made when there are no split folders.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        split: str = "train",
        *,
        sample_rate: int = 16000,
        duration_s: float = 1.0,
        crop: str = "center",
        verify: str = "header",
        val_fraction: float = 0.15,
        test_fraction: float = 0.15,
        seed: int = 0,
    ) -> None:
        splits = scan_folder_dataset(root, val_fraction=val_fraction, test_fraction=test_fraction, seed=seed)
        files, labels = splits.part(split)
        super().__init__(files, labels, splits.class_names, sample_rate=sample_rate, duration_s=duration_s, crop=crop, verify=verify)
        self.root = Path(root)
        self.split = split
        self.layout = splits.layout
