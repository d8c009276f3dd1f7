"""Real recordings, offline: Sonic Pi's CC0 sample library as a labelled dataset.

Introduced in chapter 1 (``book/chapters/ch01_audio_as_tensors.ipynb``), where real recordings sit
beside the synthetic clips; chapter 3 runs the data pipeline on the real files and chapters 2, 4 and
5 train on the task defined here.

The library
-----------
The npm package ``supersonic-scsynth-samples`` (version 0.84.2, licence CC0-1.0) holds the sample
library of `Sonic Pi <https://sonic-pi.net>`_: 207 files of real recordings (drums, tabla strokes,
bass notes, ambient textures, drum loops, ...), most from Freesound.org uploaders, some donated by
Arovane and The Black Dog, all placed in the public domain. ``make book`` and ``make test`` install
it with ``npm ci`` (pinned, SHA-512 checked by npm, in ``package.json`` / ``package-lock.json``);
nothing is downloaded when a notebook runs. It arrives as real data does: FLAC and one AIFF, mono
and stereo, 16- and 24-bit, 44.1 kHz except one 96 kHz and one 192 kHz file, 0.02 s to 14.8 s long.

:func:`library_dir` finds it: ``$COURSE_DATA_DIR/supersonic-scsynth-samples/samples`` (for a copy
kept elsewhere), else the repository's ``node_modules/supersonic-scsynth-samples/samples``. Pages
call :func:`available_or_note`: without the library they fall back to synthetic data and show a
visible note; with ``COURSE_REQUIRE_REAL_AUDIO=1`` (set in CI) a missing library is an error instead.

The task
--------
:data:`LABELS` is our label table, in :mod:`course_lib.sonicpi_labels` (nine classes, each with the
reason its files belong there, :data:`CLASS_REASONS`; files that fit none are in :data:`EXCLUDED`).
This module finds the library and cuts the task from it; :mod:`course_lib.sonicpi_task` holds the
windows, their cache and the grouped split. Every name is importable from here.

:func:`load_task` cuts fixed-length windows from the variable-length files: a **one-shot** (a drum
hit, a tabla stroke, a bass note, a blip) gives one window from its start, where its attack is,
zero-padded when shorter; a **texture** (ambient sounds and loops) gives up to
``max_windows_per_file`` windows spread over the file, without near-silent ones, so long loops do
not dominate. Windows of one file are never independent examples: :func:`grouped_split` keeps every
file's windows on one side of the split (``tests/test_sonicpi.py`` checks it).

Credit the library wherever it is used: print :data:`CREDIT` (or show :data:`CREDIT_MARKDOWN`).
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from ._checks import check_int, check_number, check_positive_float
from .audio_io import load_audio, resample, seconds_to_samples, to_mono
from .sonicpi_labels import (  # noqa: F401 (LICENSE, HOMEPAGE, CREDIT_MARKDOWN: re-exported)
    CLASS_REASONS,
    CLASSES,
    CREDIT,
    CREDIT_MARKDOWN,
    EXCLUDED,
    HOMEPAGE,
    LABELS,
    LICENSE,
    PACKAGE,
    VERSION,
)
from .sonicpi_task import (  # noqa: F401 (grouped_split: re-exported)
    SonicPiTask,
    _cache_key,
    _cut,
    _default_cache_dir,
    _window_offsets,
    _write_cache,
    grouped_split,
)

__all__ = [
    "PACKAGE",
    "VERSION",
    "LICENSE",
    "HOMEPAGE",
    "CREDIT",
    "CREDIT_MARKDOWN",
    "REQUIRE_ENV",
    "HIDE_ENV",
    "CLASSES",
    "CLASS_REASONS",
    "LABELS",
    "EXCLUDED",
    "AUDIO_EXTENSIONS",
    "library_dir",
    "is_available",
    "real_audio_required",
    "fallback_note",
    "available_or_note",
    "library_files",
    "find_recording",
    "load_recording",
    "SonicPiTask",
    "load_task",
    "grouped_split",
    "write_class_folders",
]

logger = logging.getLogger(__name__)

#: Environment variable: when ``1``, a missing library is an error, never a silent fallback (CI sets it).
REQUIRE_ENV = "COURSE_REQUIRE_REAL_AUDIO"

#: Environment variable: when ``1``, behave as if the library were not installed (to build and check
#: the synthetic fallback of the pages on a machine that has it).
HIDE_ENV = "COURSE_HIDE_REAL_AUDIO"

#: Formats found in the library (libsndfile decodes all of them).
AUDIO_EXTENSIONS: tuple[str, ...] = (".flac", ".aiff", ".aif", ".wav", ".ogg")

_REPO_ROOT = Path(__file__).resolve().parents[1]

# --------------------------------------------------------------------------------------------
# Finding the library


def _candidates() -> list[Path]:
    """Folders that may hold the samples, in order of preference."""
    found: list[Path] = []
    if os.environ.get(HIDE_ENV, "").strip() not in ("", "0"):
        return found
    data = os.environ.get("COURSE_DATA_DIR", "").strip()
    if data:
        base = Path(data).expanduser() / PACKAGE
        found += [base / "samples", base]
    found.append(_REPO_ROOT / "node_modules" / PACKAGE / "samples")
    return found


def _holds_audio(folder: Path) -> bool:
    return folder.is_dir() and any(f.suffix.lower() in AUDIO_EXTENSIONS for f in folder.iterdir())


def _missing_message() -> str:
    where = "\n".join(f"  {p}" for p in _candidates()) or f"  nowhere: {HIDE_ENV}=1 hides the library"
    return (
        f"the real recordings ({PACKAGE} {VERSION}) are not installed; looked in:\n{where}\n"
        "Fix: run `make book` (or `npm ci` in the repository root; it needs Node.js and npm), or copy the package's "
        f"samples/ folder to $COURSE_DATA_DIR/{PACKAGE}/samples."
    )


def library_dir() -> Path:
    """The folder holding the library's audio files (``.../supersonic-scsynth-samples/samples``).

    Looks in ``$COURSE_DATA_DIR/supersonic-scsynth-samples/samples`` (or that package folder itself)
    when ``COURSE_DATA_DIR`` is set, then in the repository's ``node_modules``.

    Raises:
        FileNotFoundError: the library is in none of them; the message says what to run.
    """
    for folder in _candidates():
        if _holds_audio(folder):
            return folder
    raise FileNotFoundError(_missing_message())


def is_available() -> bool:
    """Whether :func:`library_dir` finds the library."""
    try:
        library_dir()
    except FileNotFoundError:
        return False
    return True


def real_audio_required() -> bool:
    """``True`` when ``COURSE_REQUIRE_REAL_AUDIO=1`` (CI): pages must not fall back to synthetic data."""
    return os.environ.get(REQUIRE_ENV, "").strip() not in ("", "0")


def fallback_note(what: str = "This page") -> str:
    """The Markdown note a page shows when it falls back to synthetic data (an admonition)."""
    return (
        "```{warning}\n"
        f"**{what} uses synthetic sound instead of real recordings.** The CC0 recording library "
        f"(npm package `{PACKAGE}` {VERSION}) is not installed here, so the real-recording parts were left out "
        "and the figures and numbers come from synthetic clips. To hear and use the real recordings, install Node.js "
        "and npm, then run `make book` again (it runs `npm ci`).\n"
        "```"
    )


def available_or_note(what: str = "This page") -> bool:
    """For a chapter: ``True`` when the library is installed; otherwise show a visible note and return ``False``.

    With ``COURSE_REQUIRE_REAL_AUDIO=1`` (set by ``.ci/run``) a missing library raises instead, so a book
    built in CI can never fall back silently.

    Raises:
        FileNotFoundError: the library is missing and real audio is required.
    """
    if is_available():
        return True
    if real_audio_required():
        raise FileNotFoundError(f"{REQUIRE_ENV}=1 but {_missing_message()}")
    logger.info("%s falls back to synthetic data: %s", what, _missing_message())
    try:
        from IPython.display import Markdown, display

        display(Markdown(fallback_note(what)))
    except ImportError:  # pragma: no cover - IPython ships with the course's environment
        print(fallback_note(what))
    return False


def library_files(folder: str | os.PathLike | None = None) -> list[Path]:
    """Every audio file of the library (all formats), sorted by name."""
    folder = Path(folder) if folder is not None else library_dir()
    return sorted(f for f in folder.iterdir() if f.is_file() and f.suffix.lower() in AUDIO_EXTENSIONS)


def find_recording(name: str, folder: str | os.PathLike | None = None) -> Path:
    """The file of one recording: ``"tabla_ghe3"`` or ``"tabla_ghe3.flac"`` (a stem prefers the FLAC file).

    Raises:
        KeyError: no such recording (the message lists similar names).
    """
    folder = Path(folder) if folder is not None else library_dir()
    path = folder / name
    if path.suffix.lower() in AUDIO_EXTENSIONS and path.is_file():
        return path
    for ext in AUDIO_EXTENSIONS:
        path = folder / f"{name}{ext}"
        if path.is_file():
            return path
    import difflib

    stems = sorted({f.stem for f in library_files(folder)})
    close = difflib.get_close_matches(name, stems, n=5, cutoff=0.5)
    raise KeyError(f"no recording named {name!r} in {folder}; similar names: {close or stems[:5]}.")


def load_recording(
    name: str, *, sample_rate: int | None = None, mono: bool = True, max_seconds: float | None = None
) -> tuple[torch.Tensor, int]:
    """Decode one recording of the library by name.

    Args:
        name: stem (``"bd_808"``) or file name (``"bd_haus.aiff"``).
        sample_rate: resample to this rate in Hz (``None``: keep the file's rate).
        mono: mix the channels down.
        max_seconds: keep at most this many seconds from the start.

    Returns:
        ``(waveform, sample_rate)``: ``(channels, samples)`` float32 (``(1, samples)`` when ``mono``), Hz.
    """
    waveform, sr = load_audio(find_recording(name))
    if mono:
        waveform = to_mono(waveform)
    if max_seconds is not None:
        waveform = waveform[..., : seconds_to_samples(max_seconds, sr)]
    if sample_rate is not None and sample_rate != sr:
        waveform, sr = resample(waveform, sr, sample_rate), int(sample_rate)
    return waveform, sr


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


def write_class_folders(
    dest: str | os.PathLike, *, classes: Sequence[str] | None = None, mode: str = "symlink"
) -> Path:
    """Lay the labelled recordings out as a folder dataset: ``dest/<class>/<file>`` (formats kept).

    This is the layout ``python -m course_lib train --root DIR`` reads, as it would read your own
    recordings. ``mode="symlink"`` links to the installed files (falls back to copying where links
    are not allowed); ``"copy"`` copies them. Existing class folders in ``dest`` are replaced.

    Returns:
        ``dest``.
    """
    if mode not in ("symlink", "copy"):
        raise ValueError(f"mode must be 'symlink' or 'copy', got {mode!r}.")
    chosen = tuple(classes) if classes is not None else CLASSES
    unknown = [c for c in chosen if c not in CLASS_REASONS]
    if unknown:
        raise ValueError(f"unknown class(es) {unknown}; choose from {list(CLASSES)}.")
    folder = library_dir()
    dest = Path(dest)
    for cls in chosen:
        target = dest / cls
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        for stem, label in LABELS.items():
            if label != cls:
                continue
            try:
                source = find_recording(stem, folder)
            except KeyError:
                continue
            link = target / source.name
            if mode == "symlink":
                try:
                    link.symlink_to(source.resolve())
                    continue
                except OSError:
                    pass
            shutil.copy2(source, link)
    return dest


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m course_lib.sonicpi [DIR]``: say where the library is, its classes and counts; with DIR,
    lay it out as class folders for ``python -m course_lib train --root DIR``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m course_lib.sonicpi", description=main.__doc__)
    parser.add_argument("dest", nargs="?", type=Path, help="write DIR/<class>/<file> links here")
    parser.add_argument("--copy", action="store_true", help="copy the files instead of linking them")
    args = parser.parse_args(argv)
    try:
        folder = library_dir()
    except FileNotFoundError as err:
        print(f"error: {err}")
        return 2
    print(CREDIT)
    print(f"{len(library_files(folder))} files in {folder}; {len(LABELS)} labelled in {len(CLASSES)} classes, "
          f"{len(EXCLUDED)} left out.")
    if args.dest is not None:
        write_class_folders(args.dest, mode="copy" if args.copy else "symlink")
        print(f"wrote {args.dest}/<class>/<file>; train with: python -m course_lib train --root {args.dest} --out runs/sonicpi")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
