"""The data pipeline: features computed once, in batches, cached; datasets and loaders over them.

Introduced in chapter 3 (``book/chapters/ch03_data_pipeline.ipynb``); every later chapter uses it.

The seed chapter decodes, resamples (building a new ``Resample`` kernel each time), and computes the
mel spectrogram for every clip *in every epoch*. Here the expensive work happens once:

1. :func:`load_clips` decodes, mixes to mono, resamples (cached kernel) and fixes the length of every
   file once → a ``(N, 1, samples)`` tensor;
2. :func:`compute_features` computes the log-mel spectrograms of the whole set in batches, without
   gradients, and standardises each example → ``(N, 1, n_mels, frames)``;
3. :class:`FeatureCache` keeps those features on disk, keyed by the file (path, size, modification
   time) and the feature parameters, so a second run skips steps 1–2 and a changed file or a changed
   parameter recomputes exactly what changed;
4. :class:`FeatureDataset` serves the cached tensors, applying a cheap per-item ``transform`` such
   as :class:`course_lib.augment.SpecAugment`; :func:`make_loader` wraps it in a seeded
   :class:`~torch.utils.data.DataLoader` with settings right for a small CPU.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
import torchaudio
from torch import nn
from torch.utils.data import DataLoader, Dataset, Sampler

from .audio_io import AudioFileError, fix_length, load_audio, resample, seconds_to_samples, to_mono
from .features import standardize

__all__ = [
    "compute_features",
    "FeatureDataset",
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
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
    if not isinstance(feature, nn.Module):
        raise TypeError(f"feature must be an nn.Module (e.g. LogMelSpectrogram), got {type(feature).__name__}.")
    if device is None:
        params = list(feature.parameters()) + list(feature.buffers())
        device = params[0].device if params else torch.device("cpu")
    feature = feature.to(device)
    was_training = feature.training
    feature.eval()
    outputs: list[torch.Tensor] = []
    starts = range(0, waveforms.shape[0], batch_size)
    try:
        with torch.no_grad():
            for start in _progress(starts, total=len(starts), desc="features", enabled=progress):
                batch = waveforms[start : start + batch_size].to(device)
                out = feature(batch)
                if out.ndim != 4:
                    raise ValueError(
                        f"the feature module {type(feature).__name__} returned shape {tuple(out.shape)} for a batch "
                        f"{tuple(batch.shape)}; compute_features needs (batch, channels, n_bins, frames)."
                    )
                if standardize:
                    out = _standardize(out)
                outputs.append(out.float().cpu())
    finally:
        feature.train(was_training)
    result = torch.cat(outputs)
    bad = (~torch.isfinite(result)).flatten(1).any(dim=1).nonzero().flatten().tolist()
    if bad:
        raise ValueError(f"compute_features: NaN or infinite features for clip(s) {bad[:10]}; check those waveforms.")
    return result


# features.standardize is shadowed by the keyword argument of compute_features.
_standardize = standardize


class FeatureDataset(Dataset):
    """A dataset over precomputed features: ``dataset[i]`` is ``(transform(features[i]), labels[i])``.

    Args:
        features: ``(N, channels, n_bins, frames)`` tensor (from :func:`compute_features`).
        labels: ``(N,)`` integer class indices.
        transform: applied to each item ``(channels, n_bins, frames)`` when it is read, e.g. a
            :class:`course_lib.augment.SpecAugment` for the training set (leave it ``None`` for the
            validation and test sets). A module in ``eval()`` mode does nothing.

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

    def subset(self, indices: Sequence[int] | torch.Tensor, transform: Callable | None = None) -> "FeatureDataset":
        """A new dataset over ``indices`` (e.g. one split), with its own ``transform``."""
        idx = torch.as_tensor(indices, dtype=torch.long)
        return FeatureDataset(self.features[idx], self.labels[idx], transform)


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
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
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
        persistent_workers=num_workers > 0,
    )


# --------------------------------------------------------------------------------------------
# From files to tensors, once.


def load_clip(
    path: str | os.PathLike,
    *,
    sample_rate: int,
    duration_s: float,
    crop: str = "center",
) -> torch.Tensor:
    """Decode one file, mix to mono, resample to ``sample_rate`` Hz and fix its length.

    Returns:
        ``(1, samples)`` float32 with ``samples = round(duration_s * sample_rate)``.

    Raises:
        FileNotFoundError, AudioFileError: the file is missing or cannot be used (names the file).
    """
    waveform, sr = load_audio(path)
    waveform = resample(to_mono(waveform), sr, sample_rate)
    return fix_length(waveform, seconds_to_samples(duration_s, sample_rate), mode=crop)  # type: ignore[arg-type]


def load_clips(
    paths: Sequence[str | os.PathLike],
    *,
    sample_rate: int,
    duration_s: float,
    crop: str = "center",
    on_error: str = "skip",
    progress: bool = False,
    batch_size: int = 32,
) -> tuple[torch.Tensor, list[int]]:
    """Decode many files into one ``(N, 1, samples)`` tensor (see :func:`load_clip`), resampling in batches.

    Each file is decoded, mixed to mono and cut or padded to ``duration_s`` at its *own* rate (so
    no time is spent resampling audio that is then thrown away); the clips are then grouped by
    sample rate and resampled ``batch_size`` at a time with the cached kernel, which is several
    times faster on a CPU than one call per clip.

    Args:
        paths: audio files.
        sample_rate: target rate, Hz.
        duration_s: target length, seconds.
        crop: how to fix the length (``"center"``, ``"start"``); see :func:`course_lib.audio_io.fix_length`.
        on_error: ``"skip"`` leaves out files that cannot be decoded and gives ONE warning listing
            them all; ``"raise"`` stops at the first.
        progress: show a tqdm progress bar.
        batch_size: clips per resampling call.

    Returns:
        ``(waveforms, kept)``: ``waveforms`` is ``(len(kept), 1, samples)`` float32 and ``kept`` holds
        the indices into ``paths`` of the files that were decoded, so labels can be filtered to match.
    """
    if on_error not in ("skip", "raise"):
        raise ValueError(f"on_error must be 'skip' or 'raise', got {on_error!r}.")
    if crop not in ("center", "start"):
        raise ValueError(f"crop must be 'center' or 'start' for a reproducible dataset, got {crop!r}.")
    n_samples = seconds_to_samples(duration_s, sample_rate)
    by_rate: dict[int, list[tuple[int, torch.Tensor]]] = {}
    skipped: list[str] = []
    for i, path in enumerate(_progress(paths, total=len(paths), desc="decoding", enabled=progress)):
        try:
            waveform, sr = load_audio(path)
        except (AudioFileError, FileNotFoundError) as err:
            if on_error == "raise":
                raise
            skipped.append(f"{path} ({err.problem if isinstance(err, AudioFileError) else 'missing'})")
            continue
        waveform = fix_length(to_mono(waveform), seconds_to_samples(duration_s, sr), mode=crop)  # type: ignore[arg-type]
        by_rate.setdefault(sr, []).append((i, waveform))
    if skipped:
        message = f"skipped {len(skipped)} file(s) that cannot be decoded: " + "; ".join(skipped)
        logger.warning(message)
        warnings.warn(message, stacklevel=2)
    out: dict[int, torch.Tensor] = {}
    for sr, items in by_rate.items():
        for start in range(0, len(items), batch_size):
            chunk = items[start : start + batch_size]
            batch = torch.stack([w for _, w in chunk])  # (batch, 1, samples at sr)
            batch = fix_length(resample(batch, sr, sample_rate), n_samples, mode="start")
            for (i, _), w in zip(chunk, batch):
                out[i] = w
    kept = sorted(out)
    waveforms = torch.stack([out[i] for i in kept]) if kept else torch.zeros(0, 1, n_samples)
    return waveforms, kept


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

    Entries are written atomically (a temporary file, then a rename), so an interrupted run never
    leaves a half-written entry; an unreadable entry is recomputed with a warning.

    Args:
        root: the cache folder (created on demand).
    """

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self.hits = 0
        self.misses = 0

    def entry_path(self, path: str | os.PathLike, signature: str) -> Path:
        """Where the features of ``path`` under ``signature`` are stored."""
        return self.root / signature / f"{_file_key(Path(path))}.pt"

    def get(self, path: str | os.PathLike, signature: str) -> torch.Tensor | None:
        """The cached tensor, or ``None`` when absent or unreadable."""
        entry = self.entry_path(path, signature)
        if not entry.exists():
            return None
        try:
            value = torch.load(entry, weights_only=True)
        except Exception as err:  # noqa: BLE001 - any unreadable entry is recomputed
            warnings.warn(f"feature cache entry {entry} is unreadable ({type(err).__name__}); recomputing it.", stacklevel=2)
            return None
        if not isinstance(value, torch.Tensor):
            return None
        return value

    def put(self, path: str | os.PathLike, signature: str, value: torch.Tensor) -> Path:
        """Store ``value`` atomically and return the entry's path."""
        entry = self.entry_path(path, signature)
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = entry.with_suffix(f".tmp{os.getpid()}")
        torch.save(value.detach().cpu().clone(), tmp)
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
    batch_size: int = 64,
    on_error: str = "skip",
    progress: bool = False,
) -> tuple[torch.Tensor, list[int]]:
    """Features for a list of files, computed once and (optionally) cached on disk.

    Files already in the cache are read from it; the others are decoded, resampled, cut to length,
    turned into features in batches (:func:`compute_features`) and stored.

    Args:
        paths: audio files.
        feature: the feature module (e.g. ``LogMelSpectrogram(sample_rate=sample_rate, ...)``).
        sample_rate: rate the files are resampled to, Hz (must match the feature module's).
        duration_s: clip length, seconds.
        crop: how to fix the length.
        standardize: standardise each example.
        cache: a :class:`FeatureCache` or a folder for one; ``None`` keeps everything in memory.
        batch_size: clips per feature batch.
        on_error: ``"skip"`` (one warning listing the undecodable files) or ``"raise"``.
        progress: tqdm progress bars.

    Returns:
        ``(features, kept)``: ``(len(kept), 1, n_bins, frames)`` and the indices into ``paths`` that
        were kept.
    """
    module_rate = getattr(feature, "sample_rate", None)
    if module_rate is not None and int(module_rate) != int(sample_rate):
        raise ValueError(
            f"the feature module expects {module_rate} Hz but the clips are resampled to {sample_rate} Hz; "
            "pass the same rate to both."
        )
    if cache is not None and not isinstance(cache, FeatureCache):
        cache = FeatureCache(cache)
    signature = feature_signature(
        feature, sample_rate=int(sample_rate), duration_s=float(duration_s), crop=crop, standardize=bool(standardize)
    )
    results: dict[int, torch.Tensor] = {}
    todo: list[int] = []
    for i, path in enumerate(paths):
        hit = cache.get(path, signature) if cache is not None and Path(path).exists() else None
        if hit is not None:
            results[i] = hit
            cache.hits += 1  # type: ignore[union-attr]
        else:
            todo.append(i)
    if todo:
        waveforms, kept_local = load_clips(
            [paths[i] for i in todo], sample_rate=sample_rate, duration_s=duration_s, crop=crop,
            on_error=on_error, progress=progress,
        )
        if kept_local:
            feats = compute_features(waveforms, feature, batch_size=batch_size, standardize=standardize, progress=progress)
            for j, local in enumerate(kept_local):
                index = todo[local]
                results[index] = feats[j]
                if cache is not None:
                    cache.put(paths[index], signature, feats[j])
                    cache.misses += 1
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
