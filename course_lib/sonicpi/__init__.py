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
:data:`LABELS` is our label table, in :mod:`course_lib.sonicpi.labels` (nine classes, each with the
reason its files belong there, :data:`CLASS_REASONS`; files that fit none are in :data:`EXCLUDED`).
:mod:`course_lib.sonicpi.library` finds the library and reads its recordings;
:mod:`course_lib.sonicpi.task` cuts the windows, caches them and splits them by recording. Every
name is importable from ``course_lib.sonicpi``.

:func:`load_task` cuts fixed-length windows from the variable-length files: a **one-shot** (a drum
hit, a tabla stroke, a bass note, a blip) gives one window from its start, where its attack is,
zero-padded when shorter; a **texture** (ambient sounds and loops) gives up to
``max_windows_per_file`` windows spread over the file, without near-silent ones, so long loops do
not dominate. Windows of one file are never independent examples: :func:`grouped_split` keeps every
file's windows on one side of the split (``tests/test_sonicpi.py`` checks it).

Credit the library wherever it is used: print :data:`CREDIT` (or show :data:`CREDIT_MARKDOWN`).
"""

from __future__ import annotations

from .labels import (
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
from .library import (
    AUDIO_EXTENSIONS,
    HIDE_ENV,
    REQUIRE_ENV,
    available_or_note,
    fallback_note,
    find_recording,
    is_available,
    library_dir,
    library_files,
    load_recording,
    main,  # noqa: F401 (not in __all__, as before: ``sonicpi.main``)
    real_audio_required,
    write_class_folders,
)
from .task import SonicPiTask, grouped_split, load_task

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
