"""Audio files: read (soundfile), write, and check them before a long run (header, truncation).

Part of :mod:`course_lib.audio_io` (introduced in chapter 1). Every function names the file, the
problem and the fix in its errors (:class:`AudioFileError`); no bare soundfile traceback reaches
the user.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import NamedTuple

import numpy as np
import soundfile as sf
import torch

from .conditioning import _as_tensor, _check_sample_rate

__all__ = ["AudioFileError", "AudioInfo", "SUPPORTED_EXTENSIONS", "audio_info", "check_not_truncated", "load_audio", "save_audio"]

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
