"""Compatibility module: seeded synthetic sound events now live in :mod:`course_lib.data.synthetic`.

``course_lib.synthetic`` re-exports its public names so that existing imports keep working; new code
imports from :mod:`course_lib.data.synthetic`.
"""

from __future__ import annotations

from .data.synthetic import (
    CLASS_NAMES,
    ClipInfo,
    SyntheticConfig,
    SyntheticDataset,
    generate_batch,
    generate_clip,
    make_synthetic_dataset,
)

__all__ = [
    "CLASS_NAMES",
    "SyntheticConfig",
    "ClipInfo",
    "SyntheticDataset",
    "generate_clip",
    "generate_batch",
    "make_synthetic_dataset",
]
