"""From files to waveforms: decode, mix to mono, fix the length, resample — in threads.

Step 1 of the data pipeline: introduced in chapter 2 (``book/chapters/ch02_first_cnn.ipynb``),
explained in chapter 3 (``book/chapters/ch03_data_pipeline.ipynb``). :func:`load_clips` keeps
every waveform in memory; to turn files into features, :func:`course_lib.data.cache.cached_features`
uses the same per-batch step (:func:`_load_chunk`) and thread pool (:func:`_in_threads`) but keeps
only a few batches of audio.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import torch

from .._checks import check_int
from .._progress import progress as _progress
from ..audio_io import AudioFileError, fix_length, load_audio, resample, seconds_to_samples, to_mono
from ..runtime import default_workers

__all__ = ["default_workers", "load_clip", "load_clips", "report_skipped"]

logger = logging.getLogger(__name__)


def _check_workers(workers: int | None) -> int:
    if workers is None:
        return default_workers()
    return check_int(workers, "workers", minimum=1, unit="threads")


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



def report_skipped(skipped: Sequence[str], *, who: str = "", stacklevel: int = 2) -> None:
    """Report the files that were left out, ONE log line and ONE warning for all of them.

    Args:
        skipped: descriptions (``"name (problem)"``); nothing is reported when empty.
        who: a prefix naming the caller (e.g. ``"ESC50Dataset: "``).
        stacklevel: as in :func:`warnings.warn`, counted from the caller of this function.
    """
    if skipped:
        message = f"{who}skipped {len(skipped)} file(s) that cannot be decoded: " + "; ".join(skipped)
        logger.warning(message)
        warnings.warn(message, stacklevel=stacklevel + 1)


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
    check_int(batch_size, "batch_size", minimum=1)
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
    report_skipped(skipped, stacklevel=2)
    n_samples = seconds_to_samples(duration_s, sample_rate)
    return (torch.cat(chunks) if chunks else torch.zeros(0, 1, n_samples)), kept


# --------------------------------------------------------------------------------------------
# On-disk cache.
