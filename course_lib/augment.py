"""Data augmentation: SpecAugment on cached features, and waveform augmentations before the features.

Introduced in chapter 3 (``book/chapters/ch03_data_pipeline.ipynb``); chapter 6 measures what it does
against overfitting, and exercise 2 asks the learner to write the masking.

Two places to augment:

* on the **features** (:class:`SpecAugment`): cheap, works on the cached log-mel spectrograms,
  so the expensive decoding and feature computation still happen once per clip;
* on the **waveform** (:class:`RandomTimeShift`, :class:`AddNoise`, :class:`RandomGain`,
  :class:`RandomTimeStretch`, :class:`RandomPitchShift`, :class:`WaveformAugment`): closer to the
  physics, but the features must then be recomputed for every example of every epoch;
* on a **batch** of examples and their labels (:func:`mixup`): each example becomes a weighted
  mix of two, and its target the same mix of their labels.

Each random module draws its settings per example; :func:`time_shift`, :func:`time_stretch`
and :func:`pitch_shift` are the deterministic steps they use, which chapter 3 plays one by one.

A warning the chapter demonstrates: a random *gain* on the waveform is invisible after a log-mel
spectrogram and per-example standardisation (a gain ``g`` adds ``20 log10 g`` dB to every bin, and
standardisation subtracts the mean again), so the seed chapter's "change volume" augmentation does
nothing at all. Chapter 3 measures it, and ``tests/test_augment.py`` keeps the proof.

A second seed defect: its time shift is ``torch.roll``, which is *circular* — the samples pushed
off the end come back at the start, so a sound's tail is heard before its onset.
:func:`seed_time_shift` keeps that behaviour to show it (chapter 3); :func:`time_shift` and
:class:`RandomTimeShift` pad with silence instead.

All modules are identity in ``eval()`` mode and draw their randomness per example.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torchaudio
from torch import nn

__all__ = [
    "SpecAugment",
    "RandomTimeShift",
    "AddNoise",
    "RandomGain",
    "WaveformAugment",
    "RandomTimeStretch",
    "RandomPitchShift",
    "add_noise_at_snr",
    "seed_time_shift",
    "time_shift",
    "time_stretch",
    "pitch_shift",
    "mixup",
    "augmentation_table",
]


def _check_nonneg_int(value: int, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}.")


class SpecAugment(nn.Module):
    """Frequency and time masking (Park et al., 2019) with masks drawn independently per example.

    Each mask sets a band of up to ``freq_mask_param`` mel bins (or ``time_mask_param`` frames),
    of random width and position, to ``mask_value`` (0 is the mean of a standardised spectrogram).
    Uses :class:`torchaudio.transforms.FrequencyMasking` / :class:`~torchaudio.transforms.TimeMasking`
    with ``iid_masks=True``, so two examples of a batch get different masks.

    Args:
        freq_mask_param: largest frequency mask width, mel bins (0 disables).
        time_mask_param: largest time mask width, frames (0 disables).
        n_freq_masks, n_time_masks: how many masks of each kind.
        mask_value: the value written into masked cells.

    Shape:
        ``(batch, channels, n_mels, frames)`` or ``(channels, n_mels, frames)`` → same shape.
        Identity in ``eval()`` mode. Masks come from PyTorch's global random state (seed it with
        :func:`course_lib.seeding.seed_everything`).

    ``accepts_batch = True`` tells :class:`course_lib.pipeline.FeatureDataset` to call it once per
    batch rather than once per clip.
    """

    accepts_batch = True

    def __init__(
        self,
        freq_mask_param: int,
        time_mask_param: int,
        n_freq_masks: int = 1,
        n_time_masks: int = 1,
        mask_value: float = 0.0,
    ) -> None:
        super().__init__()
        for name, value in (
            ("freq_mask_param", freq_mask_param),
            ("time_mask_param", time_mask_param),
            ("n_freq_masks", n_freq_masks),
            ("n_time_masks", n_time_masks),
        ):
            _check_nonneg_int(value, name)
        self.freq_mask_param = freq_mask_param
        self.time_mask_param = time_mask_param
        self.n_freq_masks = n_freq_masks
        self.n_time_masks = n_time_masks
        self.mask_value = float(mask_value)
        self.freq_mask = torchaudio.transforms.FrequencyMasking(freq_mask_param, iid_masks=True)
        self.time_mask = torchaudio.transforms.TimeMasking(time_mask_param, iid_masks=True)

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        if not isinstance(spec, torch.Tensor) or not torch.is_floating_point(spec):
            raise TypeError(f"SpecAugment expects a float tensor, got {type(spec).__name__}.")
        if spec.ndim not in (3, 4):
            raise ValueError(
                "SpecAugment expects (batch, channels, n_mels, frames) or (channels, n_mels, frames), "
                f"got shape {tuple(spec.shape)}. Fix: add a channel axis with spec.unsqueeze(-3)."
            )
        if self.freq_mask_param > spec.shape[-2] or self.time_mask_param > spec.shape[-1]:
            raise ValueError(
                f"SpecAugment: masks up to {self.freq_mask_param} bins x {self.time_mask_param} frames do not fit a "
                f"spectrogram of {spec.shape[-2]} bins x {spec.shape[-1]} frames; choose smaller mask parameters."
            )
        if not self.training:
            return spec
        single = spec.ndim == 3
        x = spec.unsqueeze(0) if single else spec  # iid masks need the 4-D layout
        batch, channels, n_bins, frames = x.shape
        # torchaudio draws the masks; they are drawn on a one-column (one-row) tensor of ones and
        # applied to the spectrogram once, together: the same masks (the draws depend only on the
        # batch, channel and axis sizes) for one pass over the data instead of one per mask.
        masked = torch.zeros(batch, channels, n_bins, frames, dtype=torch.bool, device=x.device)
        if self.freq_mask_param > 0:
            probe = x.new_ones(batch, channels, n_bins, 1)
            for _ in range(self.n_freq_masks):
                probe = self.freq_mask(probe, mask_value=0.0)
            masked |= probe == 0
        if self.time_mask_param > 0:
            probe = x.new_ones(batch, channels, 1, frames)
            for _ in range(self.n_time_masks):
                probe = self.time_mask(probe, mask_value=0.0)
            masked |= probe == 0
        x = x.masked_fill(masked, self.mask_value)
        return x.squeeze(0) if single else x

    def extra_repr(self) -> str:
        return (
            f"freq_mask_param={self.freq_mask_param}, time_mask_param={self.time_mask_param}, "
            f"n_freq_masks={self.n_freq_masks}, n_time_masks={self.n_time_masks}, mask_value={self.mask_value}"
        )


def _batch_view(waveform: torch.Tensor, who: str) -> tuple[torch.Tensor, bool]:
    if not isinstance(waveform, torch.Tensor) or not torch.is_floating_point(waveform):
        raise TypeError(f"{who} expects a float tensor waveform, got {type(waveform).__name__}.")
    if waveform.ndim == 2:
        return waveform.unsqueeze(0), True
    if waveform.ndim == 3:
        return waveform, False
    raise ValueError(f"{who} expects (channels, samples) or (batch, channels, samples), got shape {tuple(waveform.shape)}.")


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
        raise TypeError(
            f"{who}: shift_samples must be a whole number of samples, got {shift_samples!r}. "
            "Fix: convert seconds with round(seconds * sample_rate)."
        )


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


def _check_positive_finite(value: float, name: str, fix: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{name} must be a number, got {value!r}. Fix: {fix}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}. Fix: {fix}")
    return float(value)


def _check_n_fft(n_fft: int) -> None:
    if isinstance(n_fft, bool) or not isinstance(n_fft, int) or n_fft < 16 or n_fft % 4:
        raise ValueError(
            f"n_fft must be an integer >= 16 divisible by 4, got {n_fft!r}. Fix: use e.g. 512."
        )


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
    from .audio_io import fix_length, resample

    _check_waveform(waveform, "pitch_shift")
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)) or sample_rate <= 0:
        raise ValueError(f"sample_rate must be a positive integer number of Hz, got {sample_rate!r}.")
    if isinstance(n_steps, bool) or not isinstance(n_steps, (int, float, np.floating, np.integer)):
        raise TypeError(f"n_steps must be a number of semitones, got {n_steps!r}.")
    if not (math.isfinite(n_steps) and abs(n_steps) <= 12):
        raise ValueError(
            f"n_steps must be a finite number of semitones within one octave (-12 to 12), "
            f"got {n_steps!r}. Fix: augmentation uses a few semitones, e.g. -2 to 2."
        )
    n = waveform.shape[-1]
    factor = 2.0 ** (n_steps / 12.0)
    longer = time_stretch(waveform, 1.0 / factor, n_fft=n_fft)
    played_faster = resample(longer, max(1, round(sample_rate * factor)), int(sample_rate))
    return fix_length(played_faster, n, mode="start")


def _check_range(pair: tuple[float, float], name: str, fix: str) -> tuple[float, float]:
    if len(pair) != 2 or not all(math.isfinite(v) for v in pair) or not pair[0] <= pair[1]:
        raise ValueError(f"{name} must be a finite (low, high) pair with low <= high, got {pair!r}. Fix: {fix}")
    return float(pair[0]), float(pair[1])


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
        from .audio_io import fix_length

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
        if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate <= 0:
            raise ValueError(f"sample_rate must be a positive integer number of Hz, got {sample_rate!r}.")
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


# --------------------------------------------------------------------------------------------
# Mixup (introduced in chapter 3).


def mixup(
    inputs: torch.Tensor,
    labels: torch.Tensor,
    n_classes: int,
    *,
    alpha: float = 0.4,
    lam: float | None = None,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mixup (Zhang et al., 2018): mix every example with another one of the batch, and its label too.

    Example ``i`` becomes ``lam_i * x_i + (1 - lam_i) * x_j`` and its target
    ``lam_i * y_i + (1 - lam_i) * y_j``, with ``lam_i ~ Beta(alpha, alpha)`` drawn per example and
    the partners ``j`` a random cycle through the batch (no example is paired with itself).
    Small ``alpha`` (0.2–0.4) keeps most mixes close to one of the two examples. Train on the
    soft targets with ``torch.nn.functional.cross_entropy(logits, targets)``, which accepts class
    probabilities. Works on waveforms (two sounds heard at once) or on features.

    Args:
        inputs: ``(batch, ...)`` float, e.g. ``(batch, channels, samples)`` or
            ``(batch, 1, n_mels, frames)``.
        labels: ``(batch,)`` class indices, or ``(batch, n_classes)`` class probabilities.
        n_classes: number of classes.
        alpha: the Beta distribution's parameter, > 0.
        lam: one fixed weight in [0, 1] for every example instead of the Beta draws (to hear
            or test one mix); the partners are still drawn.
        generator: random source (the Beta draws use a NumPy generator seeded from it).

    Returns:
        ``(mixed, targets)``: ``mixed`` the shape of ``inputs``; ``targets`` ``(batch, n_classes)``,
        every row summing to 1. Introduced in chapter 3.
    """
    if not isinstance(inputs, torch.Tensor) or not torch.is_floating_point(inputs):
        raise TypeError(f"mixup expects float inputs (batch, ...), got {type(inputs).__name__}.")
    if inputs.ndim < 2:
        raise ValueError(
            f"mixup expects inputs (batch, ...), got shape {tuple(inputs.shape)}. "
            "Fix: stack the examples along a first axis."
        )
    batch = inputs.shape[0]
    if batch < 2:
        raise ValueError(f"mixup needs a batch of at least 2 examples to mix, got {batch}.")
    if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 2:
        raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}.")
    alpha = _check_positive_finite(alpha, "alpha", "use e.g. 0.2-0.4.")
    if lam is not None and not (isinstance(lam, (int, float)) and 0.0 <= lam <= 1.0):
        raise ValueError(f"lam must be a weight in [0, 1] or None (draw it), got {lam!r}.")
    if not isinstance(labels, torch.Tensor):
        raise TypeError(f"labels must be a tensor, got {type(labels).__name__}.")
    if labels.shape == (batch,) and not torch.is_floating_point(labels):
        if labels.min() < 0 or labels.max() >= n_classes:
            raise ValueError(
                f"labels must be class indices in [0, {n_classes}), got values from "
                f"{int(labels.min())} to {int(labels.max())}. Fix: pass the right n_classes."
            )
        targets = torch.nn.functional.one_hot(labels.long(), n_classes).to(inputs.dtype)
    elif labels.shape == (batch, n_classes) and torch.is_floating_point(labels):
        targets = labels.to(inputs.dtype)
    else:
        raise ValueError(
            f"labels must be ({batch},) class indices or ({batch}, {n_classes}) probabilities, "
            f"got {labels.dtype} of shape {tuple(labels.shape)}."
        )
    order = torch.randperm(batch, generator=generator)
    partner = torch.empty_like(order)
    partner[order] = order.roll(-1)  # order[k] is mixed with order[k + 1]: one cycle, no self-pairs
    seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    if lam is None:
        weights = torch.from_numpy(np.random.default_rng(seed).beta(alpha, alpha, size=batch))
    else:
        weights = torch.full((batch,), float(lam))
    lam = weights.to(device=inputs.device, dtype=inputs.dtype)
    partner = partner.to(inputs.device)
    lam_x = lam.view(batch, *([1] * (inputs.ndim - 1)))
    mixed = lam_x * inputs + (1 - lam_x) * inputs[partner]
    targets = targets.to(inputs.device)
    lam_y = lam.view(batch, 1)
    return mixed, lam_y * targets + (1 - lam_y) * targets[partner]


# --------------------------------------------------------------------------------------------
# Seeing and hearing augmentations side by side (introduced in chapter 3).


def augmentation_table(
    rows: "list[tuple[str, str, torch.Tensor]]",
    sample_rate: int,
    *,
    n_mels: int = 64,
    caption: str | None = None,
):
    """A table that shows and plays augmented versions of a clip next to the original.

    Unlike :func:`course_lib.plots.listening_grid` (which scales each row to full level), every
    row here shares one colour scale (dB, the same 80 dB range below the loudest bin of the
    *first* row) and one playback level (all players scaled by the same factor), so a gain is
    seen as a brighter or darker picture and heard as a louder or softer player.

    Args:
        rows: ``(name, setting, waveform)`` per row, the original first; ``waveform`` is
            ``(samples,)`` or ``(1, samples)`` at ``sample_rate`` Hz, any length.
        sample_rate: Hz.
        n_mels: mel bands of the thumbnails (25 ms windows every 10 ms).
        caption: a caption above the table.

    Returns:
        An ``IPython.display.HTML`` table (PNG thumbnails with ``alt`` texts and WAV players as
        data URIs, so it works in the static book). Introduced in chapter 3.
    """
    import base64
    import html
    import io

    import matplotlib.pyplot as plt
    from IPython.display import HTML

    from .plots import audio_player

    if not rows:
        raise ValueError("augmentation_table needs at least one row (the original first).")
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate <= 0:
        raise ValueError(f"sample_rate must be a positive integer number of Hz, got {sample_rate!r}.")
    waves = []
    for name, _, waveform in rows:
        data = torch.as_tensor(waveform, dtype=torch.float32).reshape(-1)
        if data.numel() == 0 or not torch.isfinite(data).all():
            raise ValueError(f"augmentation_table: the waveform of {name!r} is empty or not finite.")
        waves.append(data)
    win = round(0.025 * sample_rate)
    to_mel = torchaudio.transforms.MelSpectrogram(
        sample_rate=sample_rate, n_fft=2 ** math.ceil(math.log2(win)), win_length=win,
        hop_length=round(0.010 * sample_rate), n_mels=n_mels,
    )
    with torch.no_grad():
        mels = [10 * torch.log10(to_mel(w) + 1e-10) for w in waves]
    top = float(mels[0].max())
    peak = max(float(w.abs().max()) for w in waves)
    scale = 0.9 / peak if peak > 0 else 1.0
    cells = []
    for (name, setting, _), wave, mel in zip(rows, waves, mels):
        fig, ax = plt.subplots(figsize=(2.6, 0.9), dpi=80)
        duration = wave.numel() / sample_rate
        ax.imshow(mel.numpy(), origin="lower", aspect="auto", cmap="magma", vmin=top - 80, vmax=top,
                  extent=(0, duration, 0, n_mels), interpolation="nearest")
        ax.set_axis_off()
        fig.subplots_adjust(0, 0, 1, 1)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        plt.close(fig)
        png = base64.b64encode(buffer.getvalue()).decode("ascii")
        player = audio_player(wave * scale, sample_rate, normalize=False)._repr_html_()
        alt = html.escape(f"log-mel spectrogram, {name} ({setting}), {duration:.2f} s", quote=True)
        cells.append(
            f"<tr><td><b>{html.escape(name)}</b></td><td>{html.escape(setting)}</td>"
            f'<td><img src="data:image/png;base64,{png}" alt="{alt}" width="208" height="72"></td>'
            f"<td>{player}</td></tr>"
        )
    head = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return HTML(
        '<table class="listening-grid">' + head
        + "<thead><tr><th>augmentation</th><th>setting</th><th>log-mel (one dB scale)</th>"
        + "<th>listen (one level)</th></tr></thead><tbody>" + "".join(cells) + "</tbody></table>"
    )
