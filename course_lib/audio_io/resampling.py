"""Resampling: soxr on the CPU, a cached torchaudio resampler on the GPU.

Part of :mod:`course_lib.audio_io` (introduced in chapter 1; chapter 3 measures what it costs).
"""

from __future__ import annotations

import functools

import numpy as np
import soxr
import torch
import torchaudio

from .conditioning import _as_tensor, _check_sample_rate

__all__ = ["get_resampler", "resample"]


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
