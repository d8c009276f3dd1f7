"""A folder of class sub-folders: scan it, read it as a dataset, or write a synthetic one like it.

The format of your own recordings: the training command line (``python -m course_lib train --root
DIR``) reads it with :func:`scan_folder_dataset`. Two layouts: ``root/<class>/*.wav`` (split here,
stratified and seeded) or ``root/{train,val,test}/<class>/*.wav`` (a fixed split).
:func:`write_folder_layout` writes synthetic clips in either.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from ..audio_io import SUPPORTED_EXTENSIONS, save_audio
from ..frontend import FrontEnd
from .base import AudioFileDataset, DatasetError
from .splits import stratified_split
from .synthetic import SyntheticConfig, make_synthetic_dataset

__all__ = ["FolderSplits", "scan_folder_dataset", "FolderDataset", "write_folder_layout"]


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
        front_end: the :class:`~course_lib.frontend.FrontEnd` (``recipe.front_end(duration_s)``); or
        sample_rate: Hz (default 16000); duration_s: seconds (default 1.0); crop; see
            :class:`AudioFileDataset` for the rest.
        val_fraction, test_fraction, seed: of the split made when there are no split folders.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        split: str = "train",
        *,
        front_end: FrontEnd | None = None,
        sample_rate: int | None = None,
        duration_s: float | None = None,
        crop: str | None = None,
        verify: str = "header",
        val_fraction: float = 0.15,
        test_fraction: float = 0.15,
        seed: int = 0,
    ) -> None:
        splits = scan_folder_dataset(root, val_fraction=val_fraction, test_fraction=test_fraction, seed=seed)
        files, labels = splits.part(split)
        if front_end is None:
            sample_rate = 16000 if sample_rate is None else sample_rate
            duration_s = 1.0 if duration_s is None else duration_s
        super().__init__(files, labels, splits.class_names, front_end=front_end, sample_rate=sample_rate,
                         duration_s=duration_s, crop=crop, verify=verify)
        self.root = Path(root)
        self.split = split
        self.layout = splits.layout


def write_folder_layout(
    root: str | os.PathLike,
    n_per_class: int = 10,
    *,
    config: SyntheticConfig | None = None,
    seed: int = 0,
    split_folders: Sequence[str] | None = None,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
) -> Path:
    """Write synthetic clips as ``root/<class>/<class>_NNNN.wav`` (or into split folders).

    Args:
        root: destination.
        n_per_class: clips per class.
        config: synthetic settings (default :class:`SyntheticConfig`).
        seed: random seed.
        split_folders: ``None`` for ``root/<class>/``; ``("train", "val", "test")`` or
            ``("train", "test")`` for a fixed split ``root/<split>/<class>/`` (stratified, seeded).
        val_fraction, test_fraction: shares of each class for the split folders.

    Returns:
        ``root``.
    """
    root = Path(root)
    data = make_synthetic_dataset(n_per_class, config=config, seed=seed)
    parts: dict[str, torch.Tensor]
    if split_folders is None:
        parts = {"": torch.arange(len(data))}
    else:
        split_folders = tuple(split_folders)
        if split_folders not in (("train", "val", "test"), ("train", "test")):
            raise ValueError(f"split_folders must be ('train', 'val', 'test') or ('train', 'test'), got {split_folders!r}.")
        has_val = "val" in split_folders
        split = stratified_split(data.labels, val_fraction=val_fraction if has_val else 0.0, test_fraction=test_fraction, seed=seed)
        parts = {"train": split.train, "test": split.test}
        if has_val:
            parts["val"] = split.val
    for part, indices in parts.items():
        for i in indices.tolist():
            name = data.class_names[int(data.labels[i])]
            save_audio(root / part / name / f"{name}_{i:04d}.wav", data.waveforms[i], data.sample_rate)
    return root
