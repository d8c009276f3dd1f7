"""What each class sounds like: the vectorised building blocks of the events and the background.

Part of :mod:`course_lib.data.synthetic` (introduced in chapter 2). :func:`_event` draws ``n``
events of one class at once; :mod:`course_lib.data.synthetic.generate` places them in clips.
"""

from __future__ import annotations

import math

import torch

__all__: list[str] = []

# --------------------------------------------------------------------------------------------
# Vectorised building blocks, in float32 (phases stay below ~1e5 rad for clips up to 30 s, where
# float32's rounding error is ~0.01 rad: inaudible, and twice as fast as float64).
# Every tensor of per-clip parameters is shaped (n, 1) so that it broadcasts against a time
# axis (1, samples).
_DTYPE = torch.float32


def _uniform(n: int, low_high: tuple[float, float], generator: torch.Generator) -> torch.Tensor:
    low, high = low_high
    return low + (high - low) * torch.rand(n, 1, generator=generator, dtype=_DTYPE)


def _log_uniform(n: int, low: float, high: float, generator: torch.Generator) -> torch.Tensor:
    return torch.exp(_uniform(n, (math.log(low), math.log(high)), generator))


def _shaped_noise(n: int, n_samples: int, sample_rate: int, gain: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """White noise filtered in the frequency domain by ``gain(freqs_hz)`` of shape (n, bins)."""
    white = torch.randn(n, n_samples, generator=generator, dtype=_DTYPE)
    spectrum = torch.fft.rfft(white, dim=-1)
    return torch.fft.irfft(spectrum * gain, n=n_samples, dim=-1)


def _freqs(n_samples: int, sample_rate: int) -> torch.Tensor:
    return torch.fft.rfftfreq(n_samples, d=1.0 / sample_rate, dtype=_DTYPE).unsqueeze(0)


def _envelope(t: torch.Tensor, onset: torch.Tensor, duration: torch.Tensor, ramp_s: float = 0.01) -> torch.Tensor:
    """1 inside [onset, onset + duration] with raised-cosine ramps of ``ramp_s`` seconds; 0 outside."""
    rel = t - onset
    ramp = torch.minimum(torch.full_like(duration, ramp_s), duration / 4)
    up = torch.clamp(rel / ramp, 0.0, 1.0)
    down = torch.clamp((duration - rel) / ramp, 0.0, 1.0)
    shape = torch.minimum(up, down)
    return 0.5 - 0.5 * torch.cos(math.pi * shape)


def _clicks(rel: torch.Tensor, rate_hz: torch.Tensor, phase: torch.Tensor, click_s: float = 0.0015) -> torch.Tensor:
    """A train of short decaying clicks at ``rate_hz`` per second, ``rel`` seconds after the onset."""
    period = 1.0 / rate_hz
    since_click = torch.remainder(rel + phase * period, period)
    return torch.exp(-since_click / click_s) * (rel >= 0)


def _event(name: str, n: int, t: torch.Tensor, onset: torch.Tensor, dur: torch.Tensor, sr: int, g: torch.Generator) -> torch.Tensor:
    """``n`` events of class ``name`` on the time axis ``t`` (1, samples): (n, samples)."""
    rel = t - onset
    n_samples = t.shape[-1]
    two_pi = 2 * math.pi
    phase0 = two_pi * torch.rand(n, 1, generator=g, dtype=_DTYPE)
    if name == "harmonic_tone":
        f0 = _log_uniform(n, 150.0, 500.0, g)
        x = sum((1.0 / k) * torch.sin(two_pi * k * f0 * rel + k * phase0) for k in range(1, 6))
    elif name in ("rising_chirp", "falling_chirp"):
        low = _log_uniform(n, 300.0, 900.0, g)
        high = low * _log_uniform(n, 2.3, 4.0, g)
        f_start, f_end = (low, high) if name == "rising_chirp" else (high, low)
        ratio = f_end / f_start
        u = rel / dur
        # Exponential sweep: f(u) = f_start * ratio**u; the phase is its integral over time.
        x = torch.sin(two_pi * f_start * dur * (torch.pow(ratio, u) - 1.0) / torch.log(ratio) + phase0)
    elif name == "am_tone":
        fc = _log_uniform(n, 500.0, 2000.0, g)
        fm = _uniform(n, (6.0, 14.0), g)
        depth = _uniform(n, (0.5, 0.85), g)
        x = torch.sin(two_pi * fc * rel + phase0) * (1.0 - depth * 0.5 * (1.0 - torch.cos(two_pi * fm * rel)))
    elif name == "fm_tone":
        fc = _log_uniform(n, 500.0, 2000.0, g)
        fm = _uniform(n, (5.0, 9.0), g)
        deviation = fc * _uniform(n, (0.06, 0.12), g)  # one to two semitones either way
        x = torch.sin(two_pi * fc * rel + (deviation / fm) * torch.sin(two_pi * fm * rel) + phase0)
    elif name in ("white_noise_burst", "low_noise_burst", "high_noise_burst"):
        freqs = _freqs(n_samples, sr)
        if name == "white_noise_burst":
            gain = torch.ones(n, freqs.shape[-1], dtype=_DTYPE)
        elif name == "low_noise_burst":
            cutoff = _log_uniform(n, 300.0, 800.0, g)
            gain = 1.0 / torch.sqrt(1.0 + (freqs / cutoff) ** 4)
        else:
            cutoff = _log_uniform(n, 2500.0, min(5000.0, 0.35 * sr), g)
            gain = 1.0 / torch.sqrt(1.0 + (cutoff / freqs.clamp_min(1.0)) ** 4)
        x = _shaped_noise(n, n_samples, sr, gain, g)
    elif name in ("slow_click_train", "fast_click_train"):
        rate = _uniform(n, (4.0, 7.0) if name == "slow_click_train" else (14.0, 24.0), g)
        phase = torch.rand(n, 1, generator=g, dtype=_DTYPE) * 0.3
        x = _clicks(rel, rate, phase) * torch.randn(n, n_samples, generator=g, dtype=_DTYPE)
    elif name == "damped_knock":
        f_res = _log_uniform(n, 250.0, 1500.0, g)
        tau = _uniform(n, (0.03, 0.08), g)
        x = torch.exp(-rel.clamp_min(0.0) / tau) * torch.sin(two_pi * f_res * rel + phase0)
        x = x * (1.0 + 0.5 * torch.sin(two_pi * 2.7 * f_res * rel))  # an inharmonic partial
    else:  # pragma: no cover - guarded by SyntheticConfig
        raise ValueError(f"unknown class {name!r}")
    return x


def _rms(x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    if mask is None:
        return x.pow(2).mean(dim=-1, keepdim=True).sqrt()
    return ((x.pow(2) * mask).sum(dim=-1, keepdim=True) / mask.sum(dim=-1, keepdim=True).clamp_min(1.0)).sqrt()

