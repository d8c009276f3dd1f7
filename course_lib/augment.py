"""Data augmentation: SpecAugment on cached features, and waveform augmentations before the features.

Introduced in chapter 3 (``book/chapters/ch03_data_pipeline.ipynb``); chapter 6 measures what it does
against overfitting, and exercise 2 asks the learner to write the masking.

Two places to augment:

* on the **features** (:class:`SpecAugment`): cheap, works on the cached log-mel spectrograms,
  so the expensive decoding and feature computation still happen once per clip;
* on the **waveform** (:class:`RandomTimeShift`, :class:`AddNoise`, :class:`RandomGain`,
  :class:`WaveformAugment`): closer to the physics, but the features must then be recomputed for
  every example of every epoch.

A warning the chapter demonstrates: a random *gain* on the waveform is invisible after a log-mel
spectrogram and per-example standardisation (a gain ``g`` adds ``20 log10 g`` dB to every bin, and
standardisation subtracts the mean again), so the seed chapter's "change volume" augmentation does
nothing at all. Chapter 3 measures it, and ``tests/test_augment.py`` keeps the proof.

All modules are identity in ``eval()`` mode and draw their randomness per example.
"""

from __future__ import annotations

import math

import torch
import torchaudio
from torch import nn

__all__ = [
    "SpecAugment",
    "RandomTimeShift",
    "AddNoise",
    "RandomGain",
    "WaveformAugment",
    "add_noise_at_snr",
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


class RandomTimeShift(nn.Module):
    """Shift each example in time by up to ``max_shift_s`` seconds either way, padding with zeros.

    Unlike ``torch.roll`` (the seed chapter), nothing from the end wraps around to the start.

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
