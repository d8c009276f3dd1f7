"""Reading, writing and conditioning audio: the first step of every pipeline.

Introduced in chapter 1 (``book/chapters/ch01_audio_as_tensors.ipynb``); the data pipeline of
chapter 3 builds on it.

Conventions used everywhere in ``course_lib``:

* a waveform is a ``float32`` tensor shaped ``(channels, samples)``; a batch is
  ``(batch, channels, samples)``; a bare ``(samples,)`` vector is accepted where stated;
* sample rates are integers in Hz, durations are floats in seconds, lengths are integers in samples;
* files are decoded with `soundfile <https://python-soundfile.readthedocs.io>`_ (libsndfile), not
  ``torchaudio.load``: since torchaudio 2.9 the latter needs TorchCodec and FFmpeg.

Every public function validates its input at the boundary and raises an error that names the file
(or argument), the problem and the fix. No bare soundfile traceback reaches the user.
"""

from __future__ import annotations

import functools
import math
import os
import re
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np
import soundfile as sf
import soxr
import torch
import torchaudio

from ._checks import check_int

__all__ = [
    "AudioFileError",
    "AudioInfo",
    "SUPPORTED_EXTENSIONS",
    "audio_info",
    "check_not_truncated",
    "load_audio",
    "save_audio",
    "to_mono",
    "get_resampler",
    "resample",
    "fix_length",
    "normalize_peak",
    "normalize_rms",
    "seconds_to_samples",
]

#: File types the course reads (libsndfile decodes all of them without FFmpeg; AIFF is in the
#: CC0 recording library of :mod:`course_lib.sonicpi`).
SUPPORTED_EXTENSIONS: tuple[str, ...] = (".wav", ".flac", ".ogg", ".aiff", ".aif")

PathLike = str | os.PathLike

# Integer subtypes read as integers and scaled by 1 / 2**(bits - 1) (libsndfile's float scaling):
# 24-bit samples arrive in the top bits of an int32, so they are scaled by 2**-31 too.
_INTEGER_READS: dict[str, tuple[str, float]] = {"PCM_16": ("int16", 2.0**-15), "PCM_24": ("int32", 2.0**-31)}

# libsndfile reports a WAV whose data chunk is shorter than its header says as
# "data : 88200 (should be 44078)" in its log (an AIFF's sound chunk as "SSND : ..."); it would
# otherwise return the partial data silently.
_TRUNCATED_DATA = re.compile(r"^\s*(?:data|SSND)\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)


class AudioFileError(ValueError):
    """An audio file that cannot be used: missing, empty, undecodable or holding bad samples.

    The message always names the file, says what is wrong and how to fix it. ``path`` holds the
    offending file so that datasets can collect and report skipped files.
    """

    def __init__(self, path: PathLike, problem: str, fix: str = "") -> None:
        self.path = Path(path)
        self.problem = problem
        message = f"{self.path}: {problem}"
        if fix:
            message += f" Fix: {fix}"
        super().__init__(message)


class AudioInfo(NamedTuple):
    """What a file's header says, read without decoding the samples."""

    path: Path
    sample_rate: int  #: Hz
    num_channels: int
    num_frames: int  #: samples per channel
    subtype: str  #: e.g. ``PCM_16``, ``FLOAT``, ``VORBIS``

    @property
    def duration_s(self) -> float:
        """Duration in seconds."""
        return self.num_frames / self.sample_rate


def _check_readable(path: PathLike) -> Path:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: no such audio file. Fix: check the path (relative paths start from "
            f"{Path.cwd()}) or download / generate the dataset first."
        )
    if path.is_dir():
        raise AudioFileError(path, "is a folder, not an audio file.", "pass the path of a .wav, .flac or .ogg file.")
    if path.stat().st_size == 0:
        raise AudioFileError(path, "is empty (0 bytes).", "re-download or re-export the file.")
    return path


def _decode_error(path: Path, err: Exception) -> AudioFileError:
    return AudioFileError(
        path,
        f"cannot be decoded as audio ({type(err).__name__}: {err}).",
        f"make sure it is a real {', '.join(SUPPORTED_EXTENSIONS)} file (a renamed text or MP3 file is not); "
        "re-download it if it is truncated or corrupt.",
    )


def audio_info(path: PathLike) -> AudioInfo:
    """Read a file's header: sample rate (Hz), channels, frames and subtype, without decoding.

    Raises:
        FileNotFoundError: the file does not exist.
        AudioFileError: the file is empty or not a decodable audio file.
    """
    path = _check_readable(path)
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError) as err:
        raise _decode_error(path, err) from None
    return AudioInfo(path, int(info.samplerate), int(info.channels), int(info.frames), str(info.subtype))


def check_not_truncated(path: PathLike) -> None:
    """Raise when a file's data chunk is shorter than its header says, without decoding it.

    libsndfile's header log names the shortfall (see :data:`_TRUNCATED_DATA`); reading it costs a
    header read, so a dataset can check every file when it is built.

    Raises:
        AudioFileError: the file is truncated (``problem`` says so).
    """
    with sf.SoundFile(str(path)) as handle:
        truncated = _TRUNCATED_DATA.search(handle.extra_info)
    if truncated:
        raise AudioFileError(path, "is truncated (its data chunk is shorter than its header says).")


def load_audio(path: PathLike, *, allow_empty: bool = False) -> tuple[torch.Tensor, int]:
    """Decode a WAV, FLAC, OGG or AIFF file into a ``float32`` tensor.

    Integer files (8, 16, 24, 32-bit PCM) are scaled to ``[-1, 1)``; float files are returned as
    stored. Any channel count is kept as it is (use :func:`to_mono` to mix down).

    Args:
        path: the audio file.
        allow_empty: return a ``(channels, 0)`` tensor for a file with a valid header and no
            samples instead of raising.

    Returns:
        ``(waveform, sample_rate)``: ``waveform`` is ``(channels, samples)``, ``float32``;
        ``sample_rate`` is in Hz.

    Raises:
        FileNotFoundError: the file does not exist.
        AudioFileError: the file is empty, truncated (shorter than its header says), not audio,
            holds no samples, or holds NaN / infinite samples (which would silently poison every feature).
    """
    path = _check_readable(path)
    try:
        with sf.SoundFile(str(path)) as handle:
            log = handle.extra_info
            sample_rate = handle.samplerate
            subtype = handle.subtype
            integer = _INTEGER_READS.get(subtype)
            if integer is None:
                data = handle.read(dtype="float32", always_2d=True)
            else:
                # Read the integers and scale them here: the same float32 values as libsndfile's
                # own conversion (a power-of-two scale is exact), about three times faster.
                dtype, scale = integer
                data = handle.read(dtype=dtype, always_2d=True).astype(np.float32)
                data *= np.float32(scale)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as err:
        raise _decode_error(path, err) from None
    truncated = _TRUNCATED_DATA.search(log)
    if truncated:
        promised, present = (int(v) for v in truncated.groups())
        raise AudioFileError(
            path,
            f"is truncated: its header promises {promised} bytes of samples but only {present} are present.",
            "re-download or re-export the file (an interrupted download or copy leaves such files).",
        )
    if data.shape[0] == 0 and not allow_empty:
        raise AudioFileError(path, "has a valid header but contains no samples.", "re-export or remove the file.")
    # Integer PCM (WAV, FLAC) cannot hold NaN or inf: only float files need the check.
    finite = np.isfinite(data) if not subtype.startswith("PCM_") else None
    if finite is not None and not finite.all():
        bad = int(data.size - finite.sum())
        raise AudioFileError(
            path,
            f"contains {bad} NaN or infinite sample(s) out of {data.size}.",
            "re-export the file from its source; NaN would turn every feature computed from it into NaN.",
        )
    waveform = torch.from_numpy(np.ascontiguousarray(data.T))
    return waveform, int(sample_rate)


def save_audio(
    path: PathLike,
    waveform: torch.Tensor,
    sample_rate: int,
    *,
    subtype: str | None = None,
) -> Path:
    """Write a waveform to a WAV / FLAC / OGG file (the format follows the file extension).

    Args:
        path: destination; parent folders are created.
        waveform: ``(channels, samples)`` or ``(samples,)``, float values in ``[-1, 1]``.
        sample_rate: in Hz.
        subtype: libsndfile subtype, e.g. ``"PCM_16"`` (default for WAV/FLAC) or ``"FLOAT"``.

    Returns:
        The path written.
    """
    path = Path(path)
    if path.suffix.lower() not in SUPPORTED_EXTENSIONS:
        raise ValueError(f"{path}: unsupported extension {path.suffix!r}; use one of {SUPPORTED_EXTENSIONS}.")
    _check_sample_rate(sample_rate, "sample_rate")
    waveform = _as_tensor(waveform, "waveform")
    if waveform.ndim == 1:
        waveform = waveform.unsqueeze(0)
    if waveform.ndim != 2:
        raise ValueError(f"waveform must be (channels, samples) or (samples,), got shape {tuple(waveform.shape)}.")
    if not torch.isfinite(waveform).all():
        raise ValueError(f"{path}: refusing to write a waveform that contains NaN or infinite values.")
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), waveform.detach().cpu().numpy().T, int(sample_rate), subtype=subtype)
    return path


def _as_tensor(x: torch.Tensor | np.ndarray, name: str) -> torch.Tensor:
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(x)
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor or numpy array, got {type(x).__name__}.")
    if not torch.is_floating_point(x):
        raise TypeError(f"{name} must hold floating-point samples, got dtype {x.dtype}; divide integer PCM by its full scale first.")
    return x


def _check_sample_rate(sample_rate: int, name: str) -> None:
    check_int(sample_rate, name, minimum=1, unit="Hz", allow_numpy=True)


def to_mono(waveform: torch.Tensor) -> torch.Tensor:
    """Mix all channels down to one by averaging.

    Args:
        waveform: ``(channels, samples)`` or ``(batch, channels, samples)``.

    Returns:
        ``(1, samples)`` or ``(batch, 1, samples)``. A mono input is returned unchanged.
    """
    waveform = _as_tensor(waveform, "waveform")
    if waveform.ndim not in (2, 3):
        raise ValueError(
            f"to_mono expects (channels, samples) or (batch, channels, samples), got shape {tuple(waveform.shape)}; "
            "add a channel axis with waveform.unsqueeze(0)."
        )
    if waveform.shape[-2] == 1:
        return waveform
    return waveform.mean(dim=-2, keepdim=True)


@functools.lru_cache(maxsize=32)
def get_resampler(orig_sr: int, target_sr: int) -> torchaudio.transforms.Resample:
    """Return the torchaudio resampling module for ``orig_sr`` → ``target_sr`` Hz, built once and cached.

    Building a :class:`torchaudio.transforms.Resample` computes a windowed-sinc kernel; doing that
    for every clip (as the seed chapter's dataset does) repeats work whose result never changes. One
    module per ``(orig_sr, target_sr)`` pair is kept for the life of the process. :func:`resample` uses
    it for tensors on a GPU or that need gradients.
    """
    _check_sample_rate(orig_sr, "orig_sr")
    _check_sample_rate(target_sr, "target_sr")
    return torchaudio.transforms.Resample(orig_freq=int(orig_sr), new_freq=int(target_sr))


def _resample_soxr(waveform: torch.Tensor, orig_sr: int, target_sr: int) -> torch.Tensor:
    """soxr's high-quality resampler, one row at a time; the length matches torchaudio's (ceil)."""
    n_out = -(-waveform.shape[-1] * target_sr // orig_sr)
    work = waveform.detach() if waveform.dtype in (torch.float32, torch.float64) else waveform.detach().float()
    rows = work.reshape(-1, waveform.shape[-1]).numpy()
    dtype = rows.dtype
    # soxr releases the GIL, so clips resampled in parallel threads use every core.
    outs = [soxr.resample(np.ascontiguousarray(row), orig_sr, target_sr, quality="HQ") for row in rows]
    if all(y.shape[0] == n_out for y in outs):
        out = outs[0][None] if len(outs) == 1 else np.stack(outs)
    else:
        out = np.zeros((rows.shape[0], n_out), dtype=dtype)
        for y, target in zip(outs, out):
            target[: min(n_out, y.shape[0])] = y[:n_out]
    return torch.from_numpy(out).to(waveform.dtype).reshape(*waveform.shape[:-1], n_out)


def resample(waveform: torch.Tensor, orig_sr: int, target_sr: int) -> torch.Tensor:
    """Resample a waveform from ``orig_sr`` to ``target_sr`` Hz.

    On the CPU this uses `soxr <https://github.com/dofuuz/python-soxr>`_ (the resampler behind
    ``librosa.resample``; quality "HQ", a steep anti-aliasing filter): about four times faster than
    torchaudio's windowed-sinc convolution here, and it releases the GIL, so clips decoded in parallel
    threads are resampled in parallel too (:func:`course_lib.data.cache.cached_features`). Tensors on a
    GPU, or that need gradients, go through torchaudio's :class:`~torchaudio.transforms.Resample`
    with a cached kernel (:func:`get_resampler`).

    Args:
        waveform: ``(..., samples)`` float tensor.
        orig_sr, target_sr: sample rates in Hz.

    Returns:
        ``(..., ceil(samples * target_sr / orig_sr))``; the input itself when the rates are equal.
    """
    waveform = _as_tensor(waveform, "waveform")
    _check_sample_rate(orig_sr, "orig_sr")
    _check_sample_rate(target_sr, "target_sr")
    if orig_sr == target_sr:
        return waveform
    if waveform.device.type == "cpu" and not waveform.requires_grad and waveform.shape[-1] > 0:
        return _resample_soxr(waveform, int(orig_sr), int(target_sr))
    resampler = get_resampler(int(orig_sr), int(target_sr))
    kernel = resampler.kernel
    if kernel.dtype != waveform.dtype or kernel.device != waveform.device:
        resampler = resampler.to(device=waveform.device, dtype=waveform.dtype)
    return resampler(waveform)


def seconds_to_samples(duration_s: float, sample_rate: int) -> int:
    """Convert a duration in seconds to a whole number of samples (rounded to nearest)."""
    _check_sample_rate(sample_rate, "sample_rate")
    if not math.isfinite(duration_s) or duration_s < 0:
        raise ValueError(f"duration_s must be a finite number of seconds >= 0, got {duration_s!r}.")
    return int(round(duration_s * sample_rate))


CropMode = Literal["start", "center", "random"]


def fix_length(
    waveform: torch.Tensor,
    n_samples: int,
    *,
    mode: CropMode = "center",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Trim or zero-pad the last axis to exactly ``n_samples``.

    Args:
        waveform: ``(..., samples)``.
        n_samples: target length in samples (``seconds_to_samples`` converts from seconds).
        mode: where the kept window / the original signal sits:

            * ``"start"`` – keep the beginning, pad at the end (the seed chapter's behaviour: an
              event late in a long clip is cut away);
            * ``"center"`` – keep the middle, pad equally on both sides (deterministic; use for
              evaluation);
            * ``"random"`` – a random window / random position (augmentation for training; pass a
              seeded ``generator`` for reproducible runs).
        generator: random source for ``mode="random"``.

    Returns:
        ``(..., n_samples)``.
    """
    waveform = _as_tensor(waveform, "waveform")
    check_int(n_samples, "n_samples", minimum=1, allow_numpy=True)
    if mode not in ("start", "center", "random"):
        raise ValueError(f"mode must be 'start', 'center' or 'random', got {mode!r}.")
    length = waveform.shape[-1]
    if length == n_samples:
        return waveform
    spare = abs(length - n_samples)
    if mode == "start":
        offset = 0
    elif mode == "center":
        offset = spare // 2
    else:
        offset = int(torch.randint(0, spare + 1, (1,), generator=generator).item())
    if length > n_samples:
        return waveform[..., offset : offset + n_samples]
    return torch.nn.functional.pad(waveform, (offset, spare - offset))


def _reduce_dims(waveform: torch.Tensor) -> tuple[int, ...]:
    # One example is (samples,) or (channels, samples); a batch is (batch, channels, samples).
    if waveform.ndim in (1, 2):
        return tuple(range(waveform.ndim))
    if waveform.ndim == 3:
        return (1, 2)
    raise ValueError(f"expected (samples,), (channels, samples) or (batch, channels, samples), got {tuple(waveform.shape)}.")


def normalize_peak(waveform: torch.Tensor, *, peak: float = 1.0, eps: float = 1e-8) -> torch.Tensor:
    """Scale each example so that its largest absolute sample equals ``peak``.

    The statistic is taken over all channels of one example (a batch is normalised per example).
    Silence stays silence: dividing by ``max|x| + eps`` never produces NaN.
    """
    waveform = _as_tensor(waveform, "waveform")
    dims = _reduce_dims(waveform)
    scale = waveform.abs().amax(dim=dims, keepdim=True)
    return waveform * (peak / (scale + eps))


def normalize_rms(waveform: torch.Tensor, *, target_dbfs: float = -20.0, eps: float = 1e-8) -> torch.Tensor:
    """Scale each example to a root-mean-square level of ``target_dbfs`` dB relative to full scale.

    ``-20`` dBFS is an RMS of 0.1. Silence stays silence (``eps`` guards the division). The result
    may exceed ±1 for very peaky signals; clip or peak-normalise before writing it to a file.
    """
    waveform = _as_tensor(waveform, "waveform")
    dims = _reduce_dims(waveform)
    rms = waveform.pow(2).mean(dim=dims, keepdim=True).sqrt()
    target_rms = 10.0 ** (target_dbfs / 20.0)
    return waveform * (target_rms / (rms + eps))
