"""Features of audio files computed once, in batches and threads, and kept on disk.

Step 2 of the data pipeline: introduced in chapter 2 (``book/chapters/ch02_first_cnn.ipynb``),
explained in chapter 3 (``book/chapters/ch03_data_pipeline.ipynb``).
:func:`cached_features` decodes each file once (:mod:`course_lib.data.decode`), computes the
features a batch of clips at a time without gradients (the per-batch step of
:func:`course_lib.features.compute_features`) and standardises them → ``(N, 1, n_mels, frames)``.
:class:`FeatureCache` keeps them on disk, keyed by the file (path, size, modification time) and the
feature parameters (:meth:`course_lib.frontend.FrontEnd.signature`), so a second run skips the work
and a changed file or parameter recomputes exactly what changed.

Give :func:`cached_features` a :class:`~course_lib.frontend.FrontEnd` (``recipe.front_end(duration_s)``):
it holds the sample rate, clip length, crop, log-mel settings and standardisation together. Any
other feature module still works (chapter 3's, the pretrained encoders'), with those settings passed
as keywords.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .._checks import check_int
from .._progress import progress as _progress
from ..features import _features_of_batch
from ..frontend import FrontEnd, feature_signature
from ..runtime import atomic_write, module_device
from .decode import _check_clip_settings, _check_workers, _in_threads, _load_chunk, report_skipped

__all__ = ["feature_signature", "FeatureCache", "cached_features"]


def _file_key(path: Path) -> str:
    stat = path.stat()
    text = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    return hashlib.sha256(text.encode()).hexdigest()[:24]


class FeatureCache:
    """Features of single files kept on disk, keyed by the file and the feature parameters.

    The key of a file is a hash of its absolute path, size and modification time; the folder of
    a feature configuration is its :func:`feature_signature`. So:

    * a second run with the same files and parameters reads the stored tensors (no decoding);
    * a file that changed (new size or modification time) gets a new key and is recomputed;
    * changed feature parameters (another ``n_mels``, hop, sample rate, ...) use another folder.

    Each entry is a NumPy ``.npy`` file (written and read about twice as fast as ``torch.save``, and
    loaded with ``allow_pickle=False``: never code). Entries are written atomically (a temporary
    file, then a rename), so an interrupted run never
    leaves a half-written entry; an unreadable entry is recomputed with a warning. Several threads
    may write at once (:func:`cached_features` does).

    Args:
        root: the cache folder (created on demand).
    """

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self.hits = 0
        self.misses = 0

    def entry_path(self, path: str | os.PathLike, signature: str) -> Path:
        """Where the features of ``path`` under ``signature`` are stored."""
        return self.root / signature / f"{_file_key(Path(path))}.npy"

    def get(self, path: str | os.PathLike, signature: str) -> torch.Tensor | None:
        """The cached tensor, or ``None`` when absent or unreadable."""
        return self.read_entry(self.entry_path(path, signature))

    def put(self, path: str | os.PathLike, signature: str, value: torch.Tensor) -> Path:
        """Store ``value`` atomically and return the entry's path."""
        return self.write_entry(self.entry_path(path, signature), value)

    @staticmethod
    def read_entry(entry: Path) -> torch.Tensor | None:
        """The tensor stored at ``entry`` (from :meth:`entry_path`), or ``None`` when absent or unreadable."""
        if not entry.exists():
            return None
        try:
            # allow_pickle=False: an entry holds plain numbers, never code.
            value = torch.from_numpy(np.load(entry, allow_pickle=False))
        except Exception as err:  # noqa: BLE001 - any unreadable entry is recomputed
            warnings.warn(f"feature cache entry {entry} is unreadable ({type(err).__name__}); recomputing it.", stacklevel=3)
            return None
        return value

    @staticmethod
    def write_entry(entry: Path, value: torch.Tensor) -> Path:
        """Store ``value`` at ``entry`` atomically (safe when several threads write the same entry)."""
        array = value.detach().cpu().numpy()

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as handle:  # a handle: np.save would add ".npy" to a path
                np.save(handle, array, allow_pickle=False)

        return atomic_write(entry, write)


def cached_features(
    paths: Sequence[str | os.PathLike],
    front_end: FrontEnd | nn.Module,
    *,
    sample_rate: int | None = None,
    duration_s: float | None = None,
    crop: str | None = None,
    standardize: bool | None = None,
    cache: FeatureCache | str | os.PathLike | None = None,
    batch_size: int = 16,
    on_error: str = "skip",
    progress: bool = False,
    workers: int | None = None,
    device: str | torch.device | None = None,
) -> tuple[torch.Tensor, list[int]]:
    """Features for a list of files, computed once and (optionally) cached on disk.

    Files already in the cache are read from it. The others are processed ``batch_size`` files at a
    time, by ``workers`` threads at once: decode, mono, cut to length, resample (soxr), features of
    the whole batch without gradients (the per-batch step of :func:`compute_features`), standardise,
    store in the cache. Decoding, resampling and the FFTs release the GIL, so the threads really run
    in parallel, and only about ``workers + 1`` batches of waveforms are in memory at any time. One
    more thread writes the cache entries meanwhile; all are on disk when the function returns.

    Args:
        paths: audio files.
        front_end: a :class:`~course_lib.frontend.FrontEnd` (``recipe.front_end(duration_s)``), which
            holds every setting below; or any feature module (e.g. ``LogMelSpectrogram(...)``, an
            encoder), with ``sample_rate`` and ``duration_s`` passed too. A module is put in ``eval()``
            mode while it works and its mode is restored afterwards.
        sample_rate: with a module only: rate the files are resampled to, Hz (must match the module's).
        duration_s: with a module only: clip length, seconds.
        crop: with a module only: how to fix the length (``"center"``, the default, or ``"start"``).
        standardize: with a module only: standardise each example (default ``True``).
        cache: a :class:`FeatureCache` or a folder for one; ``None`` keeps everything in memory.
        batch_size: clips per feature batch (one task for a thread). On a CPU, batches beyond
            8–16 clips of a few seconds make the FFTs *slower* (the data no longer fit the caches).
        on_error: ``"skip"`` (one warning listing the undecodable files) or ``"raise"``.
        progress: a tqdm progress bar over the batches.
        workers: threads (default :func:`default_workers`: the CPU cores, at most 4).
        device: where the features are computed (default: where a module lives; a FrontEnd's on the
            CPU); the result is on the CPU.

    Returns:
        ``(features, kept)``: ``(len(kept), 1, n_bins, frames)`` float32 and the indices into
        ``paths`` that were kept.

    Raises:
        TypeError: a FrontEnd together with the settings it already holds, or a module without them.
        ValueError: the feature module's rate differs from ``sample_rate``; no file could be used;
            NaN or infinite features (the message names the files).
    """
    if isinstance(front_end, FrontEnd):
        given = [k for k, v in (("sample_rate", sample_rate), ("duration_s", duration_s), ("crop", crop),
                                ("standardize", standardize)) if v is not None]
        if given:
            raise TypeError(
                f"cached_features: the FrontEnd already holds {', '.join(given)}; pass it alone, or change it "
                f"with front_end.replace({given[0]}=...)."
            )
        feature: nn.Module = front_end.extractor()
        sample_rate, duration_s, crop = front_end.sample_rate, front_end.duration_s, front_end.crop
        standardize = front_end.standardize
        signature = front_end.signature()
    else:
        feature = front_end
        if not isinstance(feature, nn.Module):
            raise TypeError(
                f"cached_features needs a FrontEnd (recipe.front_end(duration_s)) or a feature module, got {type(feature).__name__}."
            )
        if sample_rate is None or duration_s is None:
            raise TypeError(
                "cached_features with a feature module needs sample_rate= and duration_s=; or pass a FrontEnd "
                "(recipe.front_end(duration_s)), which holds them."
            )
        crop = "center" if crop is None else crop
        standardize = True if standardize is None else standardize
        module_rate = getattr(feature, "sample_rate", None)
        if module_rate is not None and int(module_rate) != int(sample_rate):
            raise ValueError(
                f"the feature module expects {module_rate} Hz but the clips are resampled to {sample_rate} Hz; "
                "pass the same rate to both (or a FrontEnd, which holds one rate for both)."
            )
        signature = feature_signature(
            feature, sample_rate=int(sample_rate), duration_s=float(duration_s), crop=crop, standardize=bool(standardize)
        )
    _check_clip_settings(on_error, crop)
    check_int(batch_size, "batch_size", minimum=1)
    workers = _check_workers(workers)
    if cache is not None and not isinstance(cache, FeatureCache):
        cache = FeatureCache(cache)
    results: dict[int, torch.Tensor] = {}
    todo: list[int] = []
    entries: dict[int, Path] = {}
    for i, path in enumerate(paths):
        if cache is not None and Path(path).exists():
            entries[i] = cache.entry_path(path, signature)
            hit = cache.read_entry(entries[i])
            if hit is not None:
                results[i] = hit
                cache.hits += 1
                continue
        todo.append(i)

    if device is None:
        device = module_device(feature)
    device = torch.device(device)
    feature = feature.to(device)

    def task(chunk: list[int]) -> tuple[list[int], torch.Tensor | None, list[str]]:
        waveforms, local, skipped = _load_chunk(
            [paths[i] for i in chunk], sample_rate=sample_rate, duration_s=duration_s, crop=crop, on_error=on_error
        )
        if waveforms is None:
            return [], None, skipped
        indices = [chunk[j] for j in local]
        feats = _features_of_batch(waveforms, feature, standardize, device)
        bad = (~torch.isfinite(feats)).flatten(1).any(dim=1).nonzero().flatten().tolist()
        if bad:
            names = ", ".join(str(paths[indices[j]]) for j in bad[:5])
            raise ValueError(f"NaN or infinite features for {len(bad)} file(s): {names}. Check those files.")
        return indices, feats, skipped

    chunks = [todo[start : start + batch_size] for start in range(0, len(todo), batch_size)]
    skipped: list[str] = []
    was_training = feature.training
    feature.eval()
    # Cache entries are written by one more thread while the workers compute: file-system calls
    # release the GIL and mostly wait on the kernel, so they overlap with the arithmetic.
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="course-lib-cache") if cache is not None and chunks else None
    writes: list[Future] = []
    try:
        if writer is not None:
            (cache.root / signature).mkdir(parents=True, exist_ok=True)  # type: ignore[union-attr]
        done = _in_threads([lambda chunk=chunk: task(chunk) for chunk in chunks], workers)
        for indices, feats, missed in _progress(done, total=len(chunks), desc="features", enabled=progress):
            skipped.extend(missed)
            for j, index in enumerate(indices):
                results[index] = feats[j]  # type: ignore[index]
                if writer is not None:
                    writes.append(writer.submit(FeatureCache.write_entry, entries[index], feats[j]))
            if cache is not None:
                cache.misses += len(indices)
        for write in writes:
            write.result()  # an error while writing (a full disk, no permission) is raised here
    finally:
        feature.train(was_training)
        if writer is not None:
            writer.shutdown(wait=True, cancel_futures=True)
    report_skipped(skipped, stacklevel=2)
    kept = sorted(results)
    if not kept:
        raise ValueError(f"none of the {len(paths)} files could be turned into features; see the warning above.")
    return torch.stack([results[i] for i in kept]), kept
