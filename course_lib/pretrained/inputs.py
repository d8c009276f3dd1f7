"""Checking and conditioning the waveforms that go into a pretrained encoder.

Introduced in chapter 5 (``book/chapters/ch05_pretrained_models.ipynb``).

A pretrained encoder was trained at one sample rate (16 kHz for wav2vec 2.0 and CREPE) and sees
the world through a window of a fixed number of samples (its *receptive field*). Audio at another
rate is resampled here with :func:`course_lib.audio_io.resample` (one cached kernel per rate pair),
and a clip shorter than the receptive field is refused with an error that names it: the encoder
could not produce a single frame from it.
"""

from __future__ import annotations

import math

import torch

from ..audio_io import resample

__all__ = ["prepare_waveforms", "lengths_after_resampling"]


def lengths_after_resampling(lengths: torch.Tensor, orig_sr: int, target_sr: int) -> torch.Tensor:
    """Valid lengths in samples after resampling from ``orig_sr`` to ``target_sr`` Hz.

    Matches the output length of :func:`course_lib.audio_io.resample`:
    ``ceil(samples * target_sr / orig_sr)``. Integer arithmetic, so no rounding surprises.
    """
    if orig_sr == target_sr:
        return lengths
    return (lengths * int(target_sr) + int(orig_sr) - 1) // int(orig_sr)


def prepare_waveforms(
    waveforms: torch.Tensor,
    lengths: torch.Tensor | None,
    *,
    sample_rate: int,
    model_sample_rate: int,
    min_samples: int,
    who: str,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Validate a batch, resample it to the encoder's rate and check it is long enough.

    Args:
        waveforms: ``(samples,)``, ``(batch, samples)`` or ``(batch, 1, samples)`` float audio at
            ``sample_rate`` Hz. Several channels are refused (mix down with
            :func:`course_lib.audio_io.to_mono` first).
        lengths: ``(batch,)`` number of valid (non-padding) samples per clip at ``sample_rate``;
            ``None`` means every clip fills the whole row.
        sample_rate: rate of ``waveforms``, Hz.
        model_sample_rate: rate the encoder was trained at, Hz.
        min_samples: the encoder's receptive field in samples at ``model_sample_rate``.
        who: the caller's name, used in error messages.

    Returns:
        ``(waveforms, lengths)``: ``(batch, samples')`` at ``model_sample_rate`` and ``(batch,)``
        int64 valid lengths in samples at ``model_sample_rate``.

    Raises:
        TypeError: not a floating-point tensor.
        ValueError: wrong shape, several channels, NaN / inf samples, bad ``lengths``, or a clip
            shorter than the receptive field.
    """
    if not isinstance(waveforms, torch.Tensor) or not torch.is_floating_point(waveforms):
        raise TypeError(
            f"{who} expects a floating-point torch.Tensor waveform, got {type(waveforms).__name__} "
            f"{getattr(waveforms, 'dtype', '')}. Fix: convert integer PCM with x.float() / 32768."
        )
    if waveforms.ndim == 1:
        waveforms = waveforms.unsqueeze(0)
    elif waveforms.ndim == 3:
        if waveforms.shape[1] != 1:
            raise ValueError(
                f"{who} expects mono audio, got {waveforms.shape[1]} channels in shape {tuple(waveforms.shape)}. "
                "Fix: mix down with course_lib.audio_io.to_mono(waveforms)."
            )
        waveforms = waveforms[:, 0]
    elif waveforms.ndim != 2:
        raise ValueError(
            f"{who} expects (samples,), (batch, samples) or (batch, 1, samples), got shape {tuple(waveforms.shape)}."
        )
    if not torch.isfinite(waveforms).all():
        raise ValueError(f"{who}: the waveforms contain NaN or infinite samples; clean the input first.")
    batch, n_samples = waveforms.shape
    if lengths is None:
        lengths = torch.full((batch,), n_samples, dtype=torch.long)
    else:
        lengths = torch.as_tensor(lengths).to(torch.long).cpu()
        if lengths.shape != (batch,):
            raise ValueError(f"{who}: lengths must have shape ({batch},), one per clip, got {tuple(lengths.shape)}.")
        if (lengths < 0).any() or (lengths > n_samples).any():
            raise ValueError(
                f"{who}: every length must lie in [0, {n_samples}] samples (the padded clip length), got "
                f"{lengths.tolist()}."
            )
    waveforms = resample(waveforms, int(sample_rate), int(model_sample_rate))
    lengths = lengths_after_resampling(lengths, int(sample_rate), int(model_sample_rate)).clamp(max=waveforms.shape[-1])
    short = (lengths < min_samples).nonzero().flatten().tolist()
    if short:
        i = short[0]
        have_ms = 1000.0 * int(lengths[i]) / model_sample_rate
        need_ms = 1000.0 * min_samples / model_sample_rate
        raise ValueError(
            f"{who}: clip {i} of the batch ({len(short)} clip(s) in all) has {int(lengths[i])} valid samples "
            f"({have_ms:.1f} ms at {model_sample_rate} Hz), shorter than the encoder's receptive field of "
            f"{min_samples} samples ({need_ms:.1f} ms), so it cannot produce a single frame. Fix: drop clips "
            f"shorter than {math.ceil(need_ms)} ms, or pad them with course_lib.audio_io.fix_length (the padding is "
            "silence, so the embedding then describes mostly silence)."
        )
    return waveforms, lengths
