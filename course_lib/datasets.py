"""Compatibility module: the datasets now live in :mod:`course_lib.data`, one file per format.

``course_lib.datasets`` re-exports the names it used to define, so existing imports keep working:

* :mod:`course_lib.data.base` — ``AudioFileDataset``, ``DatasetError``, the report of unreadable files;
* :mod:`course_lib.data.esc50` — ``ESC50Dataset``, ``ESC50Row``, ``read_esc50_meta``;
* :mod:`course_lib.data.gtzan` — ``GTZANDataset``, ``gtzan_track_ids``;
* :mod:`course_lib.data.folder` — ``FolderDataset``, ``FolderSplits``, ``scan_folder_dataset``.

Each format's reader sits beside its writer (the writers were in :mod:`course_lib.layouts`);
new code imports from those modules.
"""

from __future__ import annotations

from .data.base import AudioFileDataset, DatasetError, UnreadableFilesError, describe_unreadable, find_unreadable
from .data.esc50 import ESC50Dataset, ESC50Row, read_esc50_meta
from .data.folder import FolderDataset, FolderSplits, scan_folder_dataset
from .data.gtzan import GTZANDataset, gtzan_track_ids

__all__ = [
    "DatasetError",
    "AudioFileDataset",
    "ESC50Row",
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
