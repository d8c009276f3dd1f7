"""Compatibility module: the synthetic-layout writers now live beside their readers in :mod:`course_lib.data`.

``course_lib.layouts`` re-exports the names it used to define, so existing imports keep working:

* :mod:`course_lib.data.esc50` — ``ESC50_HEADER``, ``esc50_config``, ``write_esc50_layout``;
* :mod:`course_lib.data.gtzan` — ``GTZAN_GENRES``, ``gtzan_split_ids``, ``write_gtzan_layout``;
* :mod:`course_lib.data.folder` — ``write_folder_layout``.

New code imports from those modules.
"""

from __future__ import annotations

from .data.esc50 import ESC50_HEADER, esc50_config, write_esc50_layout
from .data.folder import write_folder_layout
from .data.gtzan import GTZAN_GENRES, gtzan_split_ids, write_gtzan_layout

__all__ = [
    "ESC50_HEADER",
    "GTZAN_GENRES",
    "esc50_config",
    "write_esc50_layout",
    "write_gtzan_layout",
    "write_folder_layout",
    "gtzan_split_ids",
]
