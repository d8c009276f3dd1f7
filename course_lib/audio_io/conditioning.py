"""Conditioning a waveform: mono, a fixed length, peak or loudness levels; seconds to samples.

Part of :mod:`course_lib.audio_io` (introduced in chapter 1). The input checks every function of
the package shares (:func:`_as_tensor`, :func:`_check_sample_rate`) live here, at its bottom.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import torch

from .._checks import check_int

__all__ = ["to_mono", "fix_length", "normalize_peak", "normalize_rms", "seconds_to_samples"]


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
