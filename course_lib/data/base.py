"""Labelled audio files as a dataset: the base of every dataset the course reads.

Introduced in chapter 3 (``book/chapters/ch03_data_pipeline.ipynb``). ESC-50
(:mod:`course_lib.data.esc50`), GTZAN (:mod:`course_lib.data.gtzan`) and a folder of class
sub-folders (:mod:`course_lib.data.folder`) are each an :class:`AudioFileDataset`: a list of
files, their labels and the class names.

* ``dataset[i]`` decodes one clip → ``(waveform (1, samples), label)``: mono, resampled to
  ``sample_rate`` Hz, cut or padded to ``duration_s`` seconds;
* ``dataset.to_features(cache=...)`` is the fast path of chapter 3: every clip decoded
  once, features in batches, optionally cached on disk → a
  :class:`course_lib.data.loader.FeatureDataset`.

Build a dataset with a :class:`~course_lib.frontend.FrontEnd` (``front_end=recipe.front_end(duration_s)``)
and it owns the whole front end: the rate, the clip length and crop it decodes with are those of the
features ``to_features()`` computes. ``sample_rate=`` / ``duration_s=`` without a front end still work
(chapter 3 pairs them with its own feature modules: ``to_features(feature)``).

Bad data never crashes an epoch halfway. At construction the metadata are checked (missing
columns, missing files, labels outside the class list, duplicate names, empty class folders: a
clear error naming the row or file) and every file's header is read; files that cannot be decoded
are left out with ONE warning listing them (``skipped`` holds them).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import Dataset

from ..audio_io import AudioFileError, audio_info, check_not_truncated, load_audio
from ..frontend import FrontEnd
from .cache import FeatureCache, cached_features
from .decode import default_workers, load_clip, report_skipped
from .loader import FeatureDataset

__all__ = [
    "DatasetError",
    "UnreadableFilesError",
    "describe_unreadable",
    "find_unreadable",
    "AudioFileDataset",
]


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
                    check_not_truncated(path)
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
        front_end: the :class:`~course_lib.frontend.FrontEnd` (``recipe.front_end(duration_s)``): the
            rate, clip length and crop come from it, and :meth:`to_features` computes its features.
            Give it, or ``sample_rate`` and ``duration_s``.
        sample_rate: without a front end: rate clips are resampled to, Hz.
        duration_s: without a front end: clip length, seconds (longer files are cut, shorter ones
            padded with zeros).
        crop: without a front end: where to cut or pad (``"center"`` or ``"start"``; see
            :func:`course_lib.audio_io.fix_length`).
        verify: ``"header"`` (default: read each file's header once; files whose header cannot be
            read, that hold no samples or whose data are shorter than the header says are skipped
            with one warning), ``"decode"`` (decode every file now: slower, catches truncated files too)
            or ``"none"``.

    Attributes:
        files, labels, class_names, sample_rate, duration_s, crop: as given (or the front end's),
            minus skipped files.
        front_end: the :class:`~course_lib.frontend.FrontEnd`, or ``None``.
        skipped: descriptions of the files left out.
    """

    def __init__(
        self,
        files: Sequence[str | os.PathLike],
        labels: Sequence[int],
        class_names: Sequence[str],
        *,
        front_end: FrontEnd | None = None,
        sample_rate: int | None = None,
        duration_s: float | None = None,
        crop: str | None = None,
        verify: str = "header",
    ) -> None:
        if front_end is not None:
            if not isinstance(front_end, FrontEnd):
                raise TypeError(f"front_end must be a FrontEnd (recipe.front_end(duration_s)), got {type(front_end).__name__}.")
            given = [k for k, v in (("sample_rate", sample_rate), ("duration_s", duration_s), ("crop", crop)) if v is not None]
            if given:
                raise TypeError(
                    f"{type(self).__name__}: the front end already holds {', '.join(given)}; pass it alone "
                    f"(front_end.replace({given[0]}=...) changes it)."
                )
            sample_rate, duration_s, crop = front_end.sample_rate, front_end.duration_s, front_end.crop
        elif sample_rate is None or duration_s is None:
            raise TypeError(
                f"{type(self).__name__} needs front_end=recipe.front_end(duration_s), or sample_rate= and duration_s=."
            )
        crop = "center" if crop is None else crop
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
                "Fix: complete the download (see course_lib.data.download) or correct the metadata."
            )
        kept, skipped = _check_files(files, verify)
        report_skipped(skipped, who=f"{type(self).__name__}: ", stacklevel=3)
        self.files = [files[i] for i in kept]
        self.labels = [labels[i] for i in kept]
        self.class_names = tuple(class_names)
        self.sample_rate = int(sample_rate)
        self.duration_s = float(duration_s)
        self.crop = crop
        self.front_end = front_end
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
        feature: nn.Module | None = None,
        *,
        cache: FeatureCache | str | os.PathLike | None = None,
        standardize: bool | None = None,
        transform=None,
        batch_size: int = 16,
        progress: bool = False,
        workers: int | None = None,
    ) -> tuple[FeatureDataset, list[int]]:
        """Decode every clip once, compute features in batches and threads, optionally cache them on disk.

        Without ``feature``, the features are the dataset's front end's (``front_end=`` when it was
        built; its standardisation too). With a feature module, the clips are decoded at the
        dataset's rate and length, and ``standardize`` (default ``True``) says whether to standardise.
        See :func:`course_lib.data.cache.cached_features` for ``cache``, ``batch_size``,
        ``progress`` and ``workers``; ``transform`` is the returned dataset's (e.g. SpecAugment).

        Returns:
            ``(features, kept)``: a :class:`~course_lib.data.loader.FeatureDataset` and the indices into
            this dataset of the clips it holds (a clip that fails to decode is skipped with one
            warning, so ``kept`` says which labels / groups belong to which features).
        """
        if feature is None:
            if self.front_end is None:
                raise TypeError(
                    f"{type(self).__name__}.to_features() needs a feature module, "
                    "or the dataset built with front_end=recipe.front_end(duration_s)."
                )
            if standardize is not None:
                raise TypeError(
                    "to_features(): standardize is the front end's; build the dataset with "
                    f"front_end.replace(standardize={standardize})."
                )
            feats, kept = cached_features(
                self.files, self.front_end, cache=cache, batch_size=batch_size, progress=progress, workers=workers,
            )
        else:
            feats, kept = cached_features(
                self.files, feature, sample_rate=self.sample_rate, duration_s=self.duration_s, crop=self.crop,
                standardize=True if standardize is None else standardize, cache=cache, batch_size=batch_size,
                progress=progress, workers=workers,
            )
        labels = torch.tensor([self.labels[i] for i in kept], dtype=torch.long)
        return FeatureDataset(feats, labels, transform), kept

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({len(self)} clips, {len(self.class_names)} classes, "
            f"{self.duration_s:g} s at {self.sample_rate} Hz)"
        )
