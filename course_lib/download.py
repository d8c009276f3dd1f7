"""Compatibility module: the dataset downloads now live in :mod:`course_lib.data.download`.

``course_lib.download`` re-exports its public names so that existing imports keep working; new code
imports from :mod:`course_lib.data.download`.
"""

from __future__ import annotations

from .data.download import (
    DATA_DIR_ENV,
    ESC50_ARCHIVE,
    GTZAN_ARCHIVE,
    DownloadError,
    RemoteArchive,
    UnsafeArchiveError,
    data_dir,
    download_esc50,
    download_file,
    download_gtzan,
    find_esc50,
    find_gtzan,
    safe_extract,
    sha256_of,
)

__all__ = [
    "DATA_DIR_ENV",
    "DownloadError",
    "UnsafeArchiveError",
    "RemoteArchive",
    "ESC50_ARCHIVE",
    "GTZAN_ARCHIVE",
    "data_dir",
    "sha256_of",
    "download_file",
    "safe_extract",
    "download_esc50",
    "download_gtzan",
    "find_esc50",
    "find_gtzan",
]
