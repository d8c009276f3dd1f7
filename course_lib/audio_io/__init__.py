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

One module per job: :mod:`~course_lib.audio_io.files` (read, write, check files),
:mod:`~course_lib.audio_io.resampling` and :mod:`~course_lib.audio_io.conditioning` (mono, length,
levels). Every name is importable from ``course_lib.audio_io``.
"""

from __future__ import annotations

from .conditioning import fix_length, normalize_peak, normalize_rms, seconds_to_samples, to_mono
from .files import (
    SUPPORTED_EXTENSIONS,
    AudioFileError,
    AudioInfo,
    audio_info,
    check_not_truncated,
    load_audio,
    save_audio,
)
from .resampling import get_resampler, resample

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
