"""Argument checks shared by the augmentations (waveform shape, shifts, STFT sizes, ranges)."""

from __future__ import annotations

import math

import numpy as np
import torch

from .._checks import check_int, check_number, format_error


def _batch_view(waveform: torch.Tensor, who: str) -> tuple[torch.Tensor, bool]:
    if not isinstance(waveform, torch.Tensor) or not torch.is_floating_point(waveform):
        raise TypeError(f"{who} expects a float tensor waveform, got {type(waveform).__name__}.")
    if waveform.ndim == 2:
        return waveform.unsqueeze(0), True
    if waveform.ndim == 3:
        return waveform, False
    raise ValueError(f"{who} expects (channels, samples) or (batch, channels, samples), got shape {tuple(waveform.shape)}.")


def _check_waveform(waveform: torch.Tensor, who: str) -> None:
    if not isinstance(waveform, torch.Tensor) or not torch.is_floating_point(waveform):
        raise TypeError(
            f"{who} expects a float tensor waveform (..., samples), got {type(waveform).__name__}."
        )
    if waveform.ndim == 0 or waveform.shape[-1] == 0:
        raise ValueError(
            f"{who} expects a waveform (..., samples) with at least one sample, "
            f"got shape {tuple(waveform.shape)}."
        )


def _check_shift(shift_samples: int, who: str) -> None:
    if isinstance(shift_samples, bool) or not isinstance(shift_samples, (int, np.integer)):
        raise TypeError(format_error(
            "shift_samples", "a whole number of samples", shift_samples,
            "convert seconds with round(seconds * sample_rate).", owner=who,
        ))


def _check_positive_finite(value: float, name: str, fix: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(format_error(name, "a number", value, fix))
    return check_number(value, name, minimum=0, include_minimum=False, expected="a finite number > 0", fix=fix)


def _check_n_fft(n_fft: int) -> None:
    check_int(n_fft, "n_fft", minimum=16, fix="use a multiple of 4, e.g. 512.")
    if n_fft % 4:
        raise ValueError(format_error("n_fft", "an integer >= 16 divisible by 4", n_fft, "use a multiple of 4, e.g. 512."))


def _check_range(pair: tuple[float, float], name: str, fix: str) -> tuple[float, float]:
    if len(pair) != 2 or not all(math.isfinite(v) for v in pair) or not pair[0] <= pair[1]:
        raise ValueError(f"{name} must be a finite (low, high) pair with low <= high, got {pair!r}. Fix: {fix}")
    return float(pair[0]), float(pair[1])
