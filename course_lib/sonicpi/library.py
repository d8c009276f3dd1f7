"""Where Sonic Pi's sample library is installed, and its recordings read by name.

Part of :mod:`course_lib.sonicpi` (introduced in chapter 1). :func:`library_dir` looks in
``$COURSE_DATA_DIR/supersonic-scsynth-samples/samples``, then in the repository's ``node_modules``;
pages call :func:`available_or_note`. :func:`write_class_folders` (and ``python -m course_lib.sonicpi
DIR``, :func:`main`) lay the labelled recordings out as a folder dataset.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import torch

from ..audio_io import load_audio, resample, seconds_to_samples, to_mono
from .labels import CLASS_REASONS, CLASSES, CREDIT, EXCLUDED, LABELS, PACKAGE, VERSION

__all__ = [
    "REQUIRE_ENV",
    "HIDE_ENV",
    "AUDIO_EXTENSIONS",
    "library_dir",
    "is_available",
    "real_audio_required",
    "fallback_note",
    "available_or_note",
    "library_files",
    "find_recording",
    "load_recording",
    "write_class_folders",
    "main",
]

logger = logging.getLogger("course_lib.sonicpi")  # the messages come from course_lib.sonicpi

#: Environment variable: when ``1``, a missing library is an error, never a silent fallback (CI sets it).
REQUIRE_ENV = "COURSE_REQUIRE_REAL_AUDIO"

#: Environment variable: when ``1``, behave as if the library were not installed (to build and check
#: the synthetic fallback of the pages on a machine that has it).
HIDE_ENV = "COURSE_HIDE_REAL_AUDIO"

#: Formats found in the library (libsndfile decodes all of them).
AUDIO_EXTENSIONS: tuple[str, ...] = (".flac", ".aiff", ".aif", ".wav", ".ogg")

_REPO_ROOT = Path(__file__).resolve().parents[2]

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
