"""Waveform augmentations: time shift (the seed's circular one too), noise, gain, time stretch
and pitch shift, as functions and as random per-example modules (chapter 3)."""

from __future__ import annotations

import math

import numpy as np
import torch
import torchaudio
from torch import nn

from .._checks import check_int, check_number, format_error
from ._validate import (
    _batch_view,
    _check_n_fft,
    _check_positive_finite,
    _check_range,
    _check_shift,
    _check_waveform,
)


def add_noise_at_snr(
    waveform: torch.Tensor, snr_db: torch.Tensor | float, *, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Add white Gaussian noise so that signal power / noise power equals ``snr_db`` dB.

    Args:
        waveform: ``(channels, samples)`` or ``(batch, channels, samples)``.
        snr_db: one SNR in dB, or one per example ``(batch,)``.
        generator: random source for the noise.

    Returns:
        The noisy waveform, same shape. A silent example stays silent (no noise is added to it,
        since an SNR relative to silence is undefined).
    """
    x, single = _batch_view(waveform, "add_noise_at_snr")
    snr = torch.as_tensor(snr_db, dtype=x.dtype, device=x.device).reshape(-1, 1, 1)
    if not torch.isfinite(snr).all():
        raise ValueError(f"snr_db must be finite, got {snr_db!r}.")
    signal_power = x.pow(2).mean(dim=(1, 2), keepdim=True)
    noise = torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)
    noise_power = noise.pow(2).mean(dim=(1, 2), keepdim=True).clamp_min(1e-20)
    scale = torch.sqrt(signal_power / (noise_power * torch.pow(10.0, snr / 10)))
    out = x + noise * scale
    return out.squeeze(0) if single else out


def seed_time_shift(waveform: torch.Tensor, shift_samples: int) -> torch.Tensor:
    """The seed chapter's time shift, ``torch.roll`` — kept to show its defect.

    ``torch.roll`` is circular: the last ``shift_samples`` samples, pushed off the end, come
    back at the start. A sound whose tail is still ringing at the end of the clip is then heard
    *before* its own onset, and a click appears where the two ends meet. Use :func:`time_shift`.

    Args:
        waveform: ``(..., samples)``.
        shift_samples: samples to move the signal later (negative: earlier).

    Returns:
        ``(..., samples)``, the same samples in a rotated order. Introduced in chapter 3.
    """
    _check_waveform(waveform, "seed_time_shift")
    _check_shift(shift_samples, "seed_time_shift")
    return torch.roll(waveform, int(shift_samples), dims=-1)


def time_shift(waveform: torch.Tensor, shift_samples: int) -> torch.Tensor:
    """Move a waveform later by ``shift_samples`` (earlier if negative), padding with silence.

    What leaves the clip at one end is dropped; the other end is filled with zeros, so nothing
    wraps around (compare :func:`seed_time_shift`).

    Args:
        waveform: ``(..., samples)``.
        shift_samples: samples to move the signal later (negative: earlier); a shift as long as
            the clip or longer leaves only silence.

    Returns:
        ``(..., samples)``. Introduced in chapter 3.
    """
    _check_waveform(waveform, "time_shift")
    _check_shift(shift_samples, "time_shift")
    shift, n = int(shift_samples), waveform.shape[-1]
    out = torch.zeros_like(waveform)
    if abs(shift) >= n:
        return out
    if shift >= 0:
        out[..., shift:] = waveform[..., : n - shift]
    else:
        out[..., : n + shift] = waveform[..., -shift:]
    return out


class RandomTimeShift(nn.Module):
    """Shift each example in time by up to ``max_shift_s`` seconds either way, padding with zeros.

    Unlike ``torch.roll`` (the seed chapter, :func:`seed_time_shift`), nothing from the end wraps
    around to the start: it applies :func:`time_shift` with a shift drawn per example.

    Shape: ``(channels, samples)`` or ``(batch, channels, samples)`` → same. Identity in eval mode.
    """

    def __init__(self, max_shift_s: float, sample_rate: int) -> None:
        super().__init__()
        if not (max_shift_s >= 0 and math.isfinite(max_shift_s)):
            raise ValueError(f"max_shift_s must be a finite number of seconds >= 0, got {max_shift_s!r}.")
        self.max_shift = int(round(max_shift_s * sample_rate))

    def forward(self, waveform: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        x, single = _batch_view(waveform, "RandomTimeShift")
        if not self.training or self.max_shift == 0:
            return waveform
        n = x.shape[-1]
        shifts = torch.randint(-self.max_shift, self.max_shift + 1, (x.shape[0],), generator=generator)
        # Gather with an index per example; positions that fall outside the clip read zeros.
        positions = torch.arange(n).unsqueeze(0) - shifts.unsqueeze(1)  # (batch, samples)
        valid = (positions >= 0) & (positions < n)
        gathered = torch.gather(x, 2, positions.clamp(0, n - 1).unsqueeze(1).expand(-1, x.shape[1], -1).to(x.device))
        out = gathered * valid.unsqueeze(1).to(x.device, x.dtype)
        return out.squeeze(0) if single else out


class AddNoise(nn.Module):
    """Add white noise at an SNR drawn uniformly from ``snr_db`` per example (see :func:`add_noise_at_snr`)."""

    def __init__(self, snr_db: tuple[float, float] = (10.0, 30.0)) -> None:
        super().__init__()
        if len(snr_db) != 2 or not snr_db[0] <= snr_db[1]:
            raise ValueError(f"snr_db must be a (low, high) pair in dB with low <= high, got {snr_db!r}.")
        self.snr_db = (float(snr_db[0]), float(snr_db[1]))

    def forward(self, waveform: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        x, single = _batch_view(waveform, "AddNoise")
        if not self.training:
            return waveform
        low, high = self.snr_db
        snr = low + (high - low) * torch.rand(x.shape[0], generator=generator)
        out = add_noise_at_snr(x, snr, generator=generator)
        return out.squeeze(0) if single else out


class RandomGain(nn.Module):
    """Multiply each example by a gain drawn uniformly in dB from ``gain_db``.

    Useful only when the model sees absolute level (no per-example standardisation); under
    per-example standardisation of log-mel features it has no effect at all.
    """

    def __init__(self, gain_db: tuple[float, float] = (-6.0, 6.0)) -> None:
        super().__init__()
        if len(gain_db) != 2 or not gain_db[0] <= gain_db[1]:
            raise ValueError(f"gain_db must be a (low, high) pair in dB with low <= high, got {gain_db!r}.")
        self.gain_db = (float(gain_db[0]), float(gain_db[1]))

    def forward(self, waveform: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        x, single = _batch_view(waveform, "RandomGain")
        if not self.training:
            return waveform
        low, high = self.gain_db
        gain_db = low + (high - low) * torch.rand(x.shape[0], 1, 1, generator=generator)
        out = x * torch.pow(10.0, gain_db / 20).to(x.device, x.dtype)
        return out.squeeze(0) if single else out


class WaveformAugment(nn.Module):
    """Time shift, then noise, then gain, each applied with probability ``p`` per example.

    Args:
        sample_rate: Hz.
        max_shift_s: largest time shift, seconds (0 disables).
        snr_db: ``(low, high)`` SNR of the added noise, dB, or ``None`` to disable.
        gain_db: ``(low, high)`` gain, dB, or ``None`` to disable.
        p: probability of each step per example.

    Shape: ``(channels, samples)`` or ``(batch, channels, samples)`` → same. Identity in eval mode.
    """

    def __init__(
        self,
        sample_rate: int,
        *,
        max_shift_s: float = 0.1,
        snr_db: tuple[float, float] | None = (10.0, 30.0),
        gain_db: tuple[float, float] | None = None,
        p: float = 0.5,
    ) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p must be a probability in [0, 1], got {p!r}.")
        self.p = p
        self.shift = RandomTimeShift(max_shift_s, sample_rate) if max_shift_s > 0 else None
        self.noise = AddNoise(snr_db) if snr_db is not None else None
        self.gain = RandomGain(gain_db) if gain_db is not None else None

    def forward(self, waveform: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        x, single = _batch_view(waveform, "WaveformAugment")
        if not self.training:
            return waveform
        for step in (self.shift, self.noise, self.gain):
            if step is None:
                continue
            step.train(self.training)
            apply = (torch.rand(x.shape[0], generator=generator) < self.p).to(x.device).view(-1, 1, 1)
            x = torch.where(apply, step(x, generator), x)
        return x.squeeze(0) if single else x


# --------------------------------------------------------------------------------------------
# Time stretch and pitch shift (introduced in chapter 3).


def time_stretch(waveform: torch.Tensor, rate: float, *, n_fft: int = 512) -> torch.Tensor:
    """Play a waveform ``rate`` times faster without changing its pitch (a phase vocoder).

    The waveform's complex STFT (Hann window of ``n_fft`` samples, hop ``n_fft // 4``) is
    stretched in time by :class:`torchaudio.transforms.TimeStretch`, which keeps each bin's
    frequency by advancing its phase as the frames are resampled, and turned back into a
    waveform with the inverse STFT. ``rate > 1`` shortens the sound (faster tempo), ``rate < 1``
    lengthens it. A phase vocoder smears sharp attacks a little ("phasiness"): listen to a drum
    hit stretched by 0.8.

    Args:
        waveform: ``(..., samples)``, any sample rate.
        rate: speed factor, e.g. 0.8–1.25 for augmentation; 1 returns the input (to within
            the STFT round trip, about 1e-6).
        n_fft: STFT window, samples (512 is 32 ms at 16 kHz).

    Returns:
        ``(..., round(samples / rate))``: a different length. :class:`RandomTimeStretch` crops
        or pads it back to the clip length. Introduced in chapter 3.
    """
    _check_waveform(waveform, "time_stretch")
    rate = _check_positive_finite(rate, "rate", "pass a speed factor such as 0.8 or 1.25.")
    if not 0.25 <= rate <= 4.0:
        raise ValueError(
            f"rate must lie in [0.25, 4] (a phase vocoder beyond that is mostly artefacts), "
            f"got {rate!r}. Fix: use a factor near 1, e.g. 0.8-1.25."
        )
    _check_n_fft(n_fft)
    n = waveform.shape[-1]
    if n < n_fft:
        raise ValueError(
            f"time_stretch needs at least n_fft={n_fft} samples, got {n}. Fix: a smaller n_fft."
        )
    hop = n_fft // 4
    flat = waveform.reshape(-1, n)
    window = torch.hann_window(n_fft, dtype=flat.dtype, device=flat.device)
    spec = torch.stft(flat, n_fft, hop, window=window, return_complex=True)  # (B, freq, frames)
    stretch = torchaudio.transforms.TimeStretch(hop_length=hop, n_freq=n_fft // 2 + 1)
    stretched = stretch.to(flat.device)(spec, rate)
    length = max(1, round(n / rate))
    out = torch.istft(stretched, n_fft, hop, window=window, length=length)
    return out.reshape(*waveform.shape[:-1], length)


def pitch_shift(
    waveform: torch.Tensor, sample_rate: int, n_steps: float, *, n_fft: int = 512
) -> torch.Tensor:
    """Raise (or lower) the pitch by ``n_steps`` semitones, keeping the duration.

    Two steps: :func:`time_stretch` makes the sound ``2 ** (n_steps / 12)`` times longer at the
    same pitch, then resampling (:func:`course_lib.audio_io.resample`, soxr) plays it back that
    much faster, which raises every frequency by the same factor and restores the length. This is
    what :func:`torchaudio.functional.pitch_shift` does too; its resampler is torchaudio's
    windowed-sinc kernel, which for a fractional ratio is built anew and large (section 3.4).

    Args:
        waveform: ``(..., samples)`` at ``sample_rate``.
        sample_rate: Hz.
        n_steps: semitones, may be fractional (12 = one octave up, -2 = a whole tone down);
            0 returns the input (to within the STFT round trip).
        n_fft: STFT window of the stretch, samples.

    Returns:
        ``(..., samples)``: the same length. Introduced in chapter 3.
    """
    from ..audio_io import fix_length, resample

    _check_waveform(waveform, "pitch_shift")
    sample_rate = check_int(sample_rate, "sample_rate", minimum=1, unit="Hz", allow_numpy=True)
    fix = "augmentation uses a few semitones, e.g. -2 to 2."
    if isinstance(n_steps, bool) or not isinstance(n_steps, (int, float, np.floating, np.integer)):
        raise TypeError(format_error("n_steps", "a number of semitones", n_steps, fix))
    n_steps = check_number(
        n_steps, "n_steps", minimum=-12, maximum=12, fix=fix,
        expected="a finite number of semitones within one octave (-12 to 12)",
    )
    n = waveform.shape[-1]
    factor = 2.0 ** (n_steps / 12.0)
    longer = time_stretch(waveform, 1.0 / factor, n_fft=n_fft)
    played_faster = resample(longer, max(1, round(sample_rate * factor)), int(sample_rate))
    return fix_length(played_faster, n, mode="start")


class RandomTimeStretch(nn.Module):
    """Stretch each example by a rate drawn log-uniformly from ``rates``, keeping its length.

    A log-uniform draw makes 0.8 (25 % longer) as likely as 1.25 (25 % shorter). The stretched
    clip is cropped (rate < 1) or zero-padded (rate > 1) at its end back to the input length.

    Args:
        rates: ``(low, high)`` speed factors, e.g. ``(0.8, 1.25)``.
        n_fft: STFT window of :func:`time_stretch`, samples.

    Shape: ``(channels, samples)`` or ``(batch, channels, samples)`` → same. Identity in eval
    mode. Randomness from ``generator`` (or PyTorch's global state when ``None``).
    """

    def __init__(self, rates: tuple[float, float] = (0.8, 1.25), *, n_fft: int = 512) -> None:
        super().__init__()
        low, high = _check_range(rates, "rates", "e.g. (0.8, 1.25).")
        if low < 0.25 or high > 4.0:
            raise ValueError(f"rates must lie in [0.25, 4], got {rates!r}. Fix: e.g. (0.8, 1.25).")
        _check_n_fft(n_fft)
        self.rates, self.n_fft = (low, high), n_fft

    def forward(self, waveform: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        from ..audio_io import fix_length

        x, single = _batch_view(waveform, "RandomTimeStretch")
        if not self.training:
            return waveform
        low, high = (math.log(r) for r in self.rates)
        rates = torch.exp(low + (high - low) * torch.rand(x.shape[0], generator=generator))
        n = x.shape[-1]
        out = torch.stack([
            fix_length(time_stretch(example, float(rate), n_fft=self.n_fft), n, mode="start")
            for example, rate in zip(x, rates)
        ])
        return out.squeeze(0) if single else out

    def extra_repr(self) -> str:
        return f"rates={self.rates}, n_fft={self.n_fft}"


class RandomPitchShift(nn.Module):
    """Shift each example's pitch by a number of semitones drawn uniformly from ``semitones``.

    Args:
        sample_rate: Hz.
        semitones: ``(low, high)``, e.g. ``(-2.0, 2.0)``; within one octave.
        n_fft: STFT window of :func:`pitch_shift`, samples.

    Shape: ``(channels, samples)`` or ``(batch, channels, samples)`` → same. Identity in eval
    mode. Randomness from ``generator`` (or PyTorch's global state when ``None``).
    """

    def __init__(
        self, sample_rate: int, semitones: tuple[float, float] = (-2.0, 2.0), *, n_fft: int = 512
    ) -> None:
        super().__init__()
        check_int(sample_rate, "sample_rate", minimum=1, unit="Hz", owner="RandomPitchShift")
        low, high = _check_range(semitones, "semitones", "e.g. (-2.0, 2.0).")
        if low < -12 or high > 12:
            raise ValueError(f"semitones must lie within one octave, got {semitones!r}. Fix: e.g. (-2.0, 2.0).")
        _check_n_fft(n_fft)
        self.sample_rate, self.semitones, self.n_fft = sample_rate, (low, high), n_fft

    def forward(self, waveform: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        x, single = _batch_view(waveform, "RandomPitchShift")
        if not self.training:
            return waveform
        low, high = self.semitones
        steps = low + (high - low) * torch.rand(x.shape[0], generator=generator)
        out = torch.stack([
            pitch_shift(example, self.sample_rate, float(step), n_fft=self.n_fft)
            for example, step in zip(x, steps)
        ])
        return out.squeeze(0) if single else out

    def extra_repr(self) -> str:
        return f"sample_rate={self.sample_rate}, semitones={self.semitones}, n_fft={self.n_fft}"
