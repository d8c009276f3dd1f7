"""Compatibility module: the data pipeline now lives in :mod:`course_lib.data`.

``course_lib.pipeline`` re-exports the names it used to define, so existing imports keep working:

* decoding in threads — :mod:`course_lib.data.decode` (``load_clip``, ``load_clips``,
  ``default_workers``);
* the on-disk feature cache — :mod:`course_lib.data.cache` (``FeatureCache``,
  ``feature_signature``, ``cached_features``);
* datasets and loaders over features — :mod:`course_lib.data.loader` (``FeatureDataset``,
  ``FeatureBatch``, ``collate``, ``make_loader``);
* features of waveforms in memory — :func:`course_lib.features.compute_features`;
* the seed's per-item pipeline, measured in chapter 3 —
  :class:`course_lib.chapters.ch03_data_pipeline.PerItemDataset`.

New code imports from those modules.
"""

from __future__ import annotations

from .chapters.ch03_data_pipeline import PerItemDataset
from .data.cache import FeatureCache, cached_features, feature_signature
from .data.decode import default_workers, load_clip, load_clips
from .data.loader import FeatureBatch, FeatureDataset, collate, make_loader
from .features import compute_features

__all__ = [
    "compute_features",
    "default_workers",
    "FeatureDataset",
    "FeatureBatch",
    "collate",
    "make_loader",
    "load_clip",
    "load_clips",
    "feature_signature",
    "FeatureCache",
    "cached_features",
    "PerItemDataset",
]
