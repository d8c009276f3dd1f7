"""The data pipeline: features computed once, in batches, cached; datasets and loaders over them.

Introduced in chapter 3 (``book/chapters/ch03_data_pipeline.ipynb``); every later chapter uses it.

The seed chapter decodes, resamples (building a new ``Resample`` kernel each time), and computes the
mel spectrogram for every clip *in every epoch*. Here the expensive work happens once:

1. :func:`cached_features` decodes each file once, mixes it to mono, cuts it to length and resamples
   it (soxr, see :func:`course_lib.audio_io.resample`), computes the log-mel spectrograms a batch
   of clips at a time without gradients, and standardises each example → ``(N, 1, n_mels, frames)``.
   Batches are processed by a few threads at once (decoding, resampling and the FFTs release
   Python's GIL), so every CPU core works, and only a few batches of waveforms are in memory at any
   time — never the whole dataset's audio;
2. :class:`FeatureCache` keeps those features on disk, keyed by the file (path, size, modification
   time) and the feature parameters, so a second run skips step 1 and a changed file or a changed
   parameter recomputes exactly what changed;
3. :class:`FeatureDataset` serves the cached tensors, a whole batch per call (one indexing operation
   and one :class:`course_lib.augment.SpecAugment` call per batch, not per clip);
   :func:`make_loader` wraps it in a seeded :class:`~torch.utils.data.DataLoader` with settings right
   for a small CPU.

:func:`load_clips` (waveforms of many files) and :func:`compute_features` (features of waveforms
already in memory) are the two halves of step 1 for data that is not on disk or not to be cached.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import warnings
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
import torchaudio
from torch import nn
from torch.utils.data import DataLoader, Dataset, Sampler, default_collate

from .audio_io import AudioFileError, fix_length, load_audio, resample, seconds_to_samples, to_mono
from .features import standardize

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

logger = logging.getLogger(__name__)


def _progress(iterable, *, total: int, desc: str, enabled: bool):
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, leave=False)


def _check_batch_size(batch_size: int) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")


def _module_device(module: nn.Module) -> torch.device:
    """Where a module's parameters / buffers live (the CPU for a module without any)."""
    tensors = list(module.parameters()) + list(module.buffers())
    return tensors[0].device if tensors else torch.device("cpu")


def compute_features(
    waveforms: torch.Tensor,
    feature: nn.Module,
    *,
    batch_size: int = 64,
    standardize: bool = True,
    progress: bool = False,
    device: str | torch.device | None = None,
) -> torch.Tensor:
    """Compute features for a whole set of waveforms, in batches, without gradients.

    Args:
        waveforms: ``(N, channels, samples)`` float tensor (e.g. ``SyntheticDataset.waveforms``).
        feature: a feature module mapping ``(batch, channels, samples)`` to
            ``(batch, channels, n_bins, frames)``, e.g. :class:`course_lib.features.LogMelSpectrogram`.
        batch_size: clips per batch (memory grows with it; 64 one-second clips need a few MB).
        standardize: standardise each example to zero mean and unit variance
            (:func:`course_lib.features.standardize`; a silent clip becomes zeros, never NaN).
        progress: show a tqdm progress bar.
        device: where to compute (default: where ``feature`` lives); the result is on the CPU.

    Returns:
        ``(N, channels, n_bins, frames)`` float32 on the CPU.

    Raises:
        ValueError: a wrong shape, an empty set, or NaN in the result (the message names the clips).
    """
    if not isinstance(waveforms, torch.Tensor) or not torch.is_floating_point(waveforms):
        raise TypeError(f"compute_features expects a float tensor of waveforms, got {type(waveforms).__name__}.")
    if waveforms.ndim != 3:
        raise ValueError(
            f"compute_features expects waveforms shaped (N, channels, samples), got {tuple(waveforms.shape)}. "
            "Fix: stack clips with torch.stack and give each a channel axis ((1, samples) for mono)."
        )
    if waveforms.shape[0] == 0:
        raise ValueError("compute_features got an empty set of waveforms (N = 0).")
    _check_batch_size(batch_size)
    if not isinstance(feature, nn.Module):
        raise TypeError(f"feature must be an nn.Module (e.g. LogMelSpectrogram), got {type(feature).__name__}.")
    if device is None:
        device = _module_device(feature)
    feature = feature.to(device)
    was_training = feature.training
    feature.eval()
    outputs: list[torch.Tensor] = []
    starts = range(0, waveforms.shape[0], batch_size)
    try:
        for start in _progress(starts, total=len(starts), desc="features", enabled=progress):
            outputs.append(_features_of_batch(waveforms[start : start + batch_size], feature, standardize, device))
    finally:
        feature.train(was_training)
    result = torch.cat(outputs)
    bad = (~torch.isfinite(result)).flatten(1).any(dim=1).nonzero().flatten().tolist()
    if bad:
        raise ValueError(f"compute_features: NaN or infinite features for clip(s) {bad[:10]}; check those waveforms.")
    return result


# features.standardize is shadowed by the keyword argument of compute_features.
_standardize = standardize


def _features_of_batch(batch: torch.Tensor, feature: nn.Module, standardize: bool, device: torch.device) -> torch.Tensor:
    """``feature`` (already in eval mode) on one batch, without gradients; standardised; float32 on the CPU."""
    with torch.no_grad():  # thread-local: every worker thread enters it itself
        out = feature(batch.to(device))
    if out.ndim != 4:
        raise ValueError(
            f"the feature module {type(feature).__name__} returned shape {tuple(out.shape)} for a batch "
            f"{tuple(batch.shape)}; compute_features needs (batch, channels, n_bins, frames)."
        )
    if standardize:
        out = _standardize(out)
    return out.float().cpu()


class FeatureDataset(Dataset):
    """A dataset over precomputed features: ``dataset[i]`` is ``(transform(features[i]), labels[i])``.

    Args:
        features: ``(N, channels, n_bins, frames)`` tensor (from :func:`compute_features`).
        labels: ``(N,)`` integer class indices.
        transform: applied to the features when they are read, e.g. a
            :class:`course_lib.augment.SpecAugment` for the training set (leave it ``None`` for the
            validation and test sets). A module in ``eval()`` mode does nothing.

    Batches: a :class:`~torch.utils.data.DataLoader` asks for a whole batch of indices at once
    (:meth:`__getitems__`); the dataset answers with one indexing operation, and a transform whose
    ``accepts_batch`` attribute is true (:class:`~course_lib.augment.SpecAugment`) is called once on
    the ``(batch, channels, n_bins, frames)`` tensor — masks are still drawn per example. Any other
    callable is applied item by item to ``(channels, n_bins, frames)``, so a function written for
    one example keeps working. Calling the dataset per item in Python, as the seed's pipeline does,
    costs more than the indexing itself (``benchmarks/pipeline.py`` measures it).

    The features are shared, not copied: indexing a subset costs no memory.
    """

    def __init__(
        self,
        features: torch.Tensor,
        labels: torch.Tensor | Sequence[int],
        transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> None:
        if not isinstance(features, torch.Tensor) or features.ndim != 4:
            raise ValueError(
                "FeatureDataset expects features shaped (N, channels, n_bins, frames), got "
                f"{tuple(features.shape) if isinstance(features, torch.Tensor) else type(features).__name__}."
            )
        labels = torch.as_tensor(labels)
        if labels.ndim != 1 or labels.shape[0] != features.shape[0]:
            raise ValueError(f"labels must be (N,) with N = {features.shape[0]} features, got shape {tuple(labels.shape)}.")
        if labels.dtype.is_floating_point or labels.dtype == torch.bool:
            raise TypeError(f"labels must be integer class indices, got dtype {labels.dtype}.")
        if labels.numel() and int(labels.min()) < 0:
            raise ValueError(f"labels must be >= 0, got a minimum of {int(labels.min())}.")
        if transform is not None and not callable(transform):
            raise TypeError(f"transform must be callable (e.g. SpecAugment(...)), got {type(transform).__name__}.")
        self.features = features
        self.labels = labels.long()
        self.transform = transform

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.features[index]
        if self.transform is not None:
            x = self.transform(x)
        return x, self.labels[index]

    def __getitems__(self, indices: Sequence[int]) -> "FeatureBatch":
        """Items ``indices`` in one call: what a DataLoader uses to fetch a batch.

        Returns a :class:`FeatureBatch`: a list of ``(features, label)`` pairs, like
        ``[dataset[i] for i in indices]``, so any ``collate_fn`` works, which also holds the batch
        tensors themselves, so that :func:`collate` (the collate function of :func:`make_loader`)
        passes them on without stacking the pairs again.
        """
        idx = torch.as_tensor(indices, dtype=torch.long)
        x = self.features[idx]
        if self.transform is not None:
            if getattr(self.transform, "accepts_batch", False):
                x = self.transform(x)
            else:
                x = torch.stack([self.transform(item) for item in x])
        return FeatureBatch(x, self.labels[idx])

    def subset(self, indices: Sequence[int] | torch.Tensor, transform: Callable | None = None) -> "FeatureDataset":
        """A new dataset over ``indices`` (e.g. one split), with its own ``transform``."""
        idx = torch.as_tensor(indices, dtype=torch.long)
        return FeatureDataset(self.features[idx], self.labels[idx], transform)


class FeatureBatch(list):
    """A batch fetched by :meth:`FeatureDataset.__getitems__`: the ``(features, label)`` pairs, and the
    batch tensors ``inputs`` ``(batch, channels, n_bins, frames)`` and ``labels`` ``(batch,)`` they view."""

    def __init__(self, inputs: torch.Tensor, labels: torch.Tensor) -> None:
        super().__init__(zip(inputs.unbind(0), labels.unbind(0)))
        self.inputs = inputs
        self.labels = labels


def collate(batch: list) -> object:
    """The collate function of :func:`make_loader`: a :class:`FeatureBatch` as its ready tensors
    ``(inputs, labels)``; anything else through PyTorch's ``default_collate``."""
    if isinstance(batch, FeatureBatch):
        return batch.inputs, batch.labels
    return default_collate(batch)


def make_loader(
    dataset: Dataset,
    *,
    batch_size: int,
    shuffle: bool,
    seed: int = 0,
    sampler: Sampler | None = None,
    num_workers: int = 0,
    drop_last: bool = False,
) -> DataLoader:
    """A :class:`~torch.utils.data.DataLoader` with settings right for a small CPU (and a GPU when present).

    * ``num_workers=0``: the data are tensors in memory, so worker processes would only add start-up
      time and copies (on 2 cores they are slower). Pass more workers for a dataset that decodes files.
    * ``pin_memory`` only when CUDA is available (it does nothing useful without a GPU and warns).
    * A seeded ``torch.Generator`` for the shuffling, so the order of batches is the same on a re-run.

    Args:
        dataset: any map-style dataset.
        batch_size: examples per batch.
        shuffle: reshuffle every epoch (training); ``False`` for evaluation. Must be ``False`` when a
            ``sampler`` is given (the sampler decides the order).
        seed: seed of the loader's generator.
        sampler: e.g. a :class:`~torch.utils.data.WeightedRandomSampler` for imbalanced classes.
        num_workers: worker processes.
        drop_last: drop a last, smaller batch (useful with BatchNorm and a batch of 1).
    """
    _check_batch_size(batch_size)
    if sampler is not None and shuffle:
        raise ValueError("make_loader: pass shuffle=False with a sampler; the sampler already decides the order.")
    if len(dataset) == 0:  # type: ignore[arg-type]
        raise ValueError("make_loader: the dataset is empty; check the split or the data folder.")
    generator = torch.Generator().manual_seed(int(seed))
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle if sampler is None else False,
        sampler=sampler,
        num_workers=num_workers,
        pin_memory=torch.cuda.is_available(),
        drop_last=drop_last,
        generator=generator,
        collate_fn=collate,
        persistent_workers=num_workers > 0,
    )


# --------------------------------------------------------------------------------------------
# From files to tensors, once.


def default_workers() -> int:
    """Threads used to decode and compute features: the CPU cores, at most 4 (``os.cpu_count()``)."""
    return max(1, min(4, os.cpu_count() or 1))


def _check_workers(workers: int | None) -> int:
    if workers is None:
        return default_workers()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer (threads), got {workers!r}.")
    return workers


def load_clip(
    path: str | os.PathLike,
    *,
    sample_rate: int,
    duration_s: float,
    crop: str = "center",
) -> torch.Tensor:
    """Decode one file, mix to mono, fix its length and resample it to ``sample_rate`` Hz.

    The length is fixed at the file's own rate *before* resampling, so no time is spent resampling
    audio that is then thrown away.

    Returns:
        ``(1, samples)`` float32 with ``samples = round(duration_s * sample_rate)``.

    Raises:
        FileNotFoundError, AudioFileError: the file is missing or cannot be used (names the file).
    """
    waveform, sr = load_audio(path)
    waveform = fix_length(to_mono(waveform), seconds_to_samples(duration_s, sr), mode=crop)  # type: ignore[arg-type]
    waveform = resample(waveform, sr, sample_rate)
    return fix_length(waveform, seconds_to_samples(duration_s, sample_rate), mode="start")


def _check_clip_settings(on_error: str, crop: str) -> None:
    if on_error not in ("skip", "raise"):
        raise ValueError(f"on_error must be 'skip' or 'raise', got {on_error!r}.")
    if crop not in ("center", "start"):
        raise ValueError(f"crop must be 'center' or 'start' for a reproducible dataset, got {crop!r}.")


def _load_chunk(
    paths: Sequence[str | os.PathLike], *, sample_rate: int, duration_s: float, crop: str, on_error: str
) -> tuple[torch.Tensor | None, list[int], list[str]]:
    """Decode a few files (one batch): ``(waveforms (n, 1, samples) or None, kept positions, skipped files)``."""
    clips: list[torch.Tensor] = []
    kept: list[int] = []
    skipped: list[str] = []
    for i, path in enumerate(paths):
        try:
            clips.append(load_clip(path, sample_rate=sample_rate, duration_s=duration_s, crop=crop))
        except (AudioFileError, FileNotFoundError) as err:
            if on_error == "raise":
                raise
            skipped.append(f"{path} ({err.problem if isinstance(err, AudioFileError) else 'missing'})")
            continue
        kept.append(i)
    return (torch.stack(clips) if clips else None), kept, skipped


def _warn_skipped(skipped: list[str]) -> None:
    if skipped:
        message = f"skipped {len(skipped)} file(s) that cannot be decoded: " + "; ".join(skipped)
        logger.warning(message)
        warnings.warn(message, stacklevel=3)


def _in_threads(tasks: Sequence[Callable[[], object]], workers: int) -> Iterator[object]:
    """Run ``tasks`` in ``workers`` threads and yield their results in order, with at most
    ``workers + 1`` unfinished at a time (so memory holds a few batches, not all of them).
    The first exception is raised here, and the tasks not yet started are cancelled."""
    if workers == 1:
        for task in tasks:
            yield task()
        return
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="course-lib-features")
    pending: deque[Future] = deque()
    try:
        queue = iter(tasks)
        for task in queue:
            pending.append(pool.submit(task))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def load_clips(
    paths: Sequence[str | os.PathLike],
    *,
    sample_rate: int,
    duration_s: float,
    crop: str = "center",
    on_error: str = "skip",
    progress: bool = False,
    batch_size: int = 32,
    workers: int | None = None,
) -> tuple[torch.Tensor, list[int]]:
    """Decode many files into one ``(N, 1, samples)`` tensor (see :func:`load_clip`), in parallel threads.

    Every waveform is kept in memory: 2000 five-second clips at 22.05 kHz are almost 1 GB. To turn
    files into features, use :func:`cached_features`, which keeps only a few batches of audio at a time.

    Args:
        paths: audio files.
        sample_rate: target rate, Hz.
        duration_s: target length, seconds.
        crop: how to fix the length (``"center"``, ``"start"``); see :func:`course_lib.audio_io.fix_length`.
        on_error: ``"skip"`` leaves out files that cannot be decoded and gives ONE warning listing
            them all; ``"raise"`` stops at the first.
        progress: show a tqdm progress bar.
        batch_size: files per task given to a thread.
        workers: threads (default :func:`default_workers`).

    Returns:
        ``(waveforms, kept)``: ``waveforms`` is ``(len(kept), 1, samples)`` float32 and ``kept`` holds
        the indices into ``paths`` of the files that were decoded, so labels can be filtered to match.
    """
    _check_clip_settings(on_error, crop)
    _check_batch_size(batch_size)
    workers = _check_workers(workers)
    starts = range(0, len(paths), batch_size)
    tasks = [
        (lambda start=start: _load_chunk(paths[start : start + batch_size], sample_rate=sample_rate,
                                         duration_s=duration_s, crop=crop, on_error=on_error))
        for start in starts
    ]
    chunks: list[torch.Tensor] = []
    kept: list[int] = []
    skipped: list[str] = []
    results = _in_threads(tasks, workers)
    for start, (waveforms, local, missed) in zip(starts, _progress(results, total=len(tasks), desc="decoding", enabled=progress)):
        if waveforms is not None:
            chunks.append(waveforms)
        kept.extend(start + i for i in local)
        skipped.extend(missed)
    _warn_skipped(skipped)
    n_samples = seconds_to_samples(duration_s, sample_rate)
    return (torch.cat(chunks) if chunks else torch.zeros(0, 1, n_samples)), kept


# --------------------------------------------------------------------------------------------
# On-disk cache.


def _describe(module: nn.Module) -> object:
    """A JSON-able description of a feature module: its class, public settings and buffers' hashes."""
    settings: dict[str, object] = {"class": f"{type(module).__module__}.{type(module).__qualname__}"}
    for key, value in sorted(vars(module).items()):
        if key.startswith("_") or key == "training":
            continue
        if isinstance(value, (int, float, str, bool, type(None))):
            settings[key] = value
        elif isinstance(value, (tuple, list)) and all(isinstance(v, (int, float, str, bool)) for v in value):
            settings[key] = list(value)
    for name, child in module.named_children():
        settings[f"child:{name}"] = _describe(child)
    for name, buffer in module.named_buffers(recurse=False):
        settings[f"buffer:{name}"] = hashlib.sha256(buffer.detach().cpu().contiguous().numpy().tobytes()).hexdigest()[:16]
    return settings


def feature_signature(feature: nn.Module, **settings: object) -> str:
    """A short hash of everything that determines the features: the module's parameters and ``settings``.

    Two feature modules with the same class and settings (sample rate, n_fft, hop, n_mels, window
    and filterbank buffers, ...) give the same signature; changing any of them changes it.
    ``settings`` adds what happens before the module (target sample rate, duration, crop,
    standardisation).
    """
    description = {"feature": _describe(feature), "settings": {k: settings[k] for k in sorted(settings)}}
    text = json.dumps(description, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


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
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = entry.with_name(f"{entry.name}.tmp{os.getpid()}-{threading.get_ident()}")
        with open(tmp, "wb") as handle:
            np.save(handle, value.detach().cpu().numpy(), allow_pickle=False)
        os.replace(tmp, entry)
        return entry


def cached_features(
    paths: Sequence[str | os.PathLike],
    feature: nn.Module,
    *,
    sample_rate: int,
    duration_s: float,
    crop: str = "center",
    standardize: bool = True,
    cache: FeatureCache | str | os.PathLike | None = None,
    batch_size: int = 16,
    on_error: str = "skip",
    progress: bool = False,
    workers: int | None = None,
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
        feature: the feature module (e.g. ``LogMelSpectrogram(sample_rate=sample_rate, ...)``); it is
            put in ``eval()`` mode while it works and its mode is restored afterwards.
        sample_rate: rate the files are resampled to, Hz (must match the feature module's).
        duration_s: clip length, seconds.
        crop: how to fix the length (``"center"`` or ``"start"``).
        standardize: standardise each example.
        cache: a :class:`FeatureCache` or a folder for one; ``None`` keeps everything in memory.
        batch_size: clips per feature batch (one task for a thread). On a CPU, batches beyond
            8–16 clips of a few seconds make the FFTs *slower* (the data no longer fit the caches).
        on_error: ``"skip"`` (one warning listing the undecodable files) or ``"raise"``.
        progress: a tqdm progress bar over the batches.
        workers: threads (default :func:`default_workers`: the CPU cores, at most 4).

    Returns:
        ``(features, kept)``: ``(len(kept), 1, n_bins, frames)`` float32 and the indices into
        ``paths`` that were kept.

    Raises:
        ValueError: the feature module's rate differs from ``sample_rate``; no file could be used;
            NaN or infinite features (the message names the files).
    """
    module_rate = getattr(feature, "sample_rate", None)
    if module_rate is not None and int(module_rate) != int(sample_rate):
        raise ValueError(
            f"the feature module expects {module_rate} Hz but the clips are resampled to {sample_rate} Hz; "
            "pass the same rate to both."
        )
    if not isinstance(feature, nn.Module):
        raise TypeError(f"feature must be an nn.Module (e.g. LogMelSpectrogram), got {type(feature).__name__}.")
    _check_clip_settings(on_error, crop)
    _check_batch_size(batch_size)
    workers = _check_workers(workers)
    if cache is not None and not isinstance(cache, FeatureCache):
        cache = FeatureCache(cache)
    signature = feature_signature(
        feature, sample_rate=int(sample_rate), duration_s=float(duration_s), crop=crop, standardize=bool(standardize)
    )
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

    device = _module_device(feature)

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
    _warn_skipped(skipped)
    kept = sorted(results)
    if not kept:
        raise ValueError(f"none of the {len(paths)} files could be turned into features; see the warning above.")
    return torch.stack([results[i] for i in kept]), kept


class PerItemDataset(Dataset):
    """The seed chapter's per-item pipeline, kept only to measure it (chapter 3, ``benchmarks/pipeline.py``).

    ``dataset[i]`` decodes file ``i``, builds a **new** :class:`torchaudio.transforms.Resample`
    (recomputing its kernel), mixes to mono, keeps the first ``duration_s`` seconds, computes a mel
    spectrogram in dB and standardises it — in every epoch, for every item. Two of the seed's bugs
    are fixed so that only the speed differs: files are decoded with
    :func:`course_lib.audio_io.load_audio` (``torchaudio.load`` needs TorchCodec), and the
    standardisation has an ``eps`` (the seed's ``/ std()`` gives NaN on silence).

    Use :func:`cached_features` / :meth:`course_lib.datasets.AudioFileDataset.to_features` instead.
    """

    def __init__(
        self,
        files: Sequence[str | os.PathLike],
        labels: Sequence[int],
        *,
        sample_rate: int,
        duration_s: float,
        n_fft: int = 1024,
        hop_length: int = 512,
        n_mels: int = 128,
    ) -> None:
        if len(files) != len(labels):
            raise ValueError(f"got {len(files)} files but {len(labels)} labels.")
        self.files = [Path(f) for f in files]
        self.labels = [int(v) for v in labels]
        self.sample_rate = int(sample_rate)
        self.n_samples = seconds_to_samples(duration_s, sample_rate)
        self.mel = torchaudio.transforms.MelSpectrogram(sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels)
        self.to_db = torchaudio.transforms.AmplitudeToDB(top_db=80.0)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        waveform, sr = load_audio(self.files[index])
        if sr != self.sample_rate:
            waveform = torchaudio.transforms.Resample(sr, self.sample_rate)(waveform)  # a new kernel every time
        if waveform.shape[0] > 1:
            waveform = waveform.mean(dim=0, keepdim=True)
        waveform = fix_length(waveform, self.n_samples, mode="start")
        spec = self.to_db(self.mel(waveform))
        return _standardize(spec), self.labels[index]
