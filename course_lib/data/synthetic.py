"""A seeded synthetic sound-event dataset: the data every chapter trains on when no download exists.

Introduced in chapter 2 (``book/chapters/ch02_first_cnn.ipynb``, which trains on it; chapter 3
explains it); chapters 4, 5 and 6 train on it too, and the writers of :mod:`course_lib.data.esc50`,
:mod:`course_lib.data.gtzan` and :mod:`course_lib.data.folder` lay it out like ESC-50, GTZAN or a
class folder.

Each clip holds one *event* of a known class, placed at a random onset inside a longer clip over
coloured background noise, at a random signal-to-noise ratio, plus optional short *distractor* blips
that belong to no class. The metadata of every clip (:class:`ClipInfo`) records the class, the
event's onset and offset in seconds and the SNR in dB, so that later chapters can check where an
attention model looks.

The classes are chosen so that a time-averaged spectrum cannot separate all of them: a rising and a
falling chirp cover the same frequencies, an amplitude-modulated and a frequency-modulated tone
have nearly the same long-term spectrum, and two click trains differ only in their rate. A model
has to use the time axis of the spectrogram, which is what the book's models are about.

Everything is generated with vectorised tensor operations (one batch per class), from an explicit
``torch.Generator``, so a seed gives the same dataset on the same machine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from .._checks import check_int
from ..audio_io import seconds_to_samples

__all__ = [
    "CLASS_NAMES",
    "SyntheticConfig",
    "ClipInfo",
    "SyntheticDataset",
    "generate_clip",
    "generate_batch",
    "make_synthetic_dataset",
]

#: The event classes, in label order (label ``i`` is ``CLASS_NAMES[i]``).
CLASS_NAMES: tuple[str, ...] = (
    "harmonic_tone",  # a steady tone with 5 harmonics, f0 150–500 Hz
    "rising_chirp",  # exponential sweep upwards over 1.2–2 octaves
    "falling_chirp",  # the same sweep downwards: same average spectrum as rising_chirp
    "am_tone",  # a tone whose loudness pulses at 6–14 Hz
    "fm_tone",  # a tone whose pitch wobbles (vibrato) at 5–9 Hz: same average spectrum as am_tone
    "white_noise_burst",  # broadband noise
    "low_noise_burst",  # low-passed noise (rumble)
    "high_noise_burst",  # high-passed noise (hiss)
    "slow_click_train",  # broadband clicks at 4–7 per second
    "fast_click_train",  # the same clicks at 14–24 per second
    "damped_knock",  # a single decaying resonance (a knock on wood)
)


@dataclass
class SyntheticConfig:
    """How the synthetic clips are made. The defaults are what the whole book trains on.

    Attributes:
        sample_rate: Hz.
        duration_s: clip length, seconds.
        snr_db: ``(low, high)`` range of the event-to-background ratio, dB, drawn uniformly per
            clip. The event's power is measured over its own span (onset to offset), the
            background's over the whole clip.
        event_duration_s: ``(low, high)`` range of the event length, seconds (clipped to the clip).
        n_distractors: short tone blips per clip that belong to no class (0 disables them).
        distractor_snr_db: ``(low, high)`` level of each distractor above the background, dB.
        distractor_duration_s: ``(low, high)`` length of each distractor, seconds.
        level_dbfs: ``(low, high)`` RMS level of the finished clip, dB re full scale: clips come
            at different loudness, as recordings do.
        background_tilt: ``(low, high)`` spectral slope of the background noise (0 white, 1 pink,
            2 brown), drawn per clip.
        class_names: the classes to generate (a subset of :data:`CLASS_NAMES`, in any order;
            labels follow this order).
    """

    sample_rate: int = 16000
    duration_s: float = 1.0
    snr_db: tuple[float, float] = (0.0, 12.0)
    event_duration_s: tuple[float, float] = (0.25, 0.6)
    n_distractors: int = 2
    distractor_snr_db: tuple[float, float] = (0.0, 10.0)
    distractor_duration_s: tuple[float, float] = (0.04, 0.12)
    level_dbfs: tuple[float, float] = (-32.0, -14.0)
    background_tilt: tuple[float, float] = (0.0, 1.5)
    class_names: tuple[str, ...] = field(default_factory=lambda: CLASS_NAMES)

    def __post_init__(self) -> None:
        check_int(self.sample_rate, "sample_rate", minimum=4000, owner="SyntheticConfig", unit="Hz")
        if not (self.duration_s > 0):
            raise ValueError(f"SyntheticConfig.duration_s must be > 0 seconds, got {self.duration_s!r}.")
        for name in ("snr_db", "event_duration_s", "distractor_snr_db", "distractor_duration_s", "level_dbfs", "background_tilt"):
            low_high = getattr(self, name)
            if len(low_high) != 2 or not low_high[0] <= low_high[1] or not all(math.isfinite(v) for v in low_high):
                raise ValueError(f"SyntheticConfig.{name} must be a finite (low, high) pair with low <= high, got {low_high!r}.")
            setattr(self, name, (float(low_high[0]), float(low_high[1])))
        if self.event_duration_s[0] <= 0 or self.event_duration_s[1] > self.duration_s:
            raise ValueError(
                f"SyntheticConfig.event_duration_s={self.event_duration_s} must lie in (0, duration_s={self.duration_s}] "
                "seconds. Fix: shorten the events or lengthen the clip."
            )
        if self.distractor_duration_s[0] <= 0 or self.distractor_duration_s[1] > self.duration_s:
            raise ValueError(f"SyntheticConfig.distractor_duration_s={self.distractor_duration_s} must lie in (0, duration_s].")
        check_int(self.n_distractors, "n_distractors", minimum=0, owner="SyntheticConfig")
        self.class_names = tuple(self.class_names)
        unknown = [c for c in self.class_names if c not in CLASS_NAMES]
        if unknown or not self.class_names or len(set(self.class_names)) != len(self.class_names):
            raise ValueError(
                f"SyntheticConfig.class_names must be distinct names from CLASS_NAMES; unknown: {unknown}, "
                f"got {self.class_names!r}. Known classes: {CLASS_NAMES}."
            )

    @property
    def n_samples(self) -> int:
        """Clip length in samples."""
        return seconds_to_samples(self.duration_s, self.sample_rate)


@dataclass
class ClipInfo:
    """What is in one synthetic clip.

    Attributes:
        label: class index into the config's ``class_names``.
        class_name: the class's name.
        onset_s, offset_s: where the event starts and ends, seconds from the clip start.
        snr_db: event-to-background ratio, dB.
    """

    label: int
    class_name: str
    onset_s: float
    offset_s: float
    snr_db: float


class SyntheticDataset(torch.utils.data.Dataset):
    """Synthetic clips held in memory.

    Attributes:
        waveforms: ``(N, 1, samples)`` float32.
        labels: ``(N,)`` int64.
        info: one :class:`ClipInfo` per clip.
        class_names: label ``i`` is ``class_names[i]``.
        sample_rate: Hz.
        config: the :class:`SyntheticConfig` that made it.

    ``dataset[i]`` is ``(waveform (1, samples), label)``.
    """

    def __init__(
        self,
        waveforms: torch.Tensor,
        labels: torch.Tensor,
        info: list[ClipInfo],
        class_names: tuple[str, ...],
        sample_rate: int,
        config: SyntheticConfig | None = None,
    ) -> None:
        if waveforms.ndim != 3 or waveforms.shape[0] != labels.shape[0] or len(info) != labels.shape[0]:
            raise ValueError(
                f"waveforms (N, 1, samples), labels (N,) and info (N) must agree; got {tuple(waveforms.shape)}, "
                f"{tuple(labels.shape)} and {len(info)}."
            )
        self.waveforms = waveforms
        self.labels = labels
        self.info = info
        self.class_names = tuple(class_names)
        self.sample_rate = int(sample_rate)
        self.config = config

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.waveforms[index], int(self.labels[index])

    def __repr__(self) -> str:
        return (
            f"SyntheticDataset({len(self)} clips, {len(self.class_names)} classes, "
            f"{self.waveforms.shape[-1] / self.sample_rate:g} s at {self.sample_rate} Hz)"
        )


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


def generate_batch(
    label: int, n: int, *, config: SyntheticConfig, generator: torch.Generator
) -> tuple[torch.Tensor, list[ClipInfo]]:
    """Generate ``n`` clips of class ``label`` at once (vectorised).

    Args:
        label: class index into ``config.class_names``.
        n: number of clips (>= 1).
        config: the generator's settings.
        generator: the random source; the same generator state gives the same clips.

    Returns:
        ``(waveforms, info)``: ``waveforms`` is ``(n, 1, samples)`` float32 with samples in ``[-1, 1]``;
        ``info`` holds one :class:`ClipInfo` per clip.
    """
    if not isinstance(config, SyntheticConfig):
        raise TypeError(f"config must be a SyntheticConfig, got {type(config).__name__}.")
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator (e.g. torch.Generator().manual_seed(0)), got {type(generator).__name__}.")
    check_int(label, "label", minimum=0, maximum=len(config.class_names) - 1, fix="pass an index into config.class_names")
    check_int(n, "n", minimum=1)
    sr = config.sample_rate
    n_samples = config.n_samples
    clip_s = n_samples / sr
    t = (torch.arange(n_samples, dtype=_DTYPE) / sr).unsqueeze(0)

    # The event: length, onset, signal, envelope.
    dur = _uniform(n, config.event_duration_s, generator).clamp(max=clip_s)
    onset = torch.rand(n, 1, generator=generator, dtype=_DTYPE) * (clip_s - dur)
    envelope = _envelope(t, onset, dur)
    event = _event(config.class_names[label], n, t, onset, dur, sr, generator) * envelope
    inside = ((t >= onset) & (t < onset + dur)).to(_DTYPE)

    # Background: noise with a random spectral tilt (white ... brown), unit RMS.
    freqs = _freqs(n_samples, sr)
    tilt = _uniform(n, config.background_tilt, generator)
    gain = torch.pow(freqs.clamp_min(20.0) / 1000.0, -tilt / 2)
    background = _shaped_noise(n, n_samples, sr, gain, generator)
    background = background / _rms(background).clamp_min(1e-12)

    snr_db = _uniform(n, config.snr_db, generator)
    event = event / _rms(event, inside).clamp_min(1e-12) * torch.pow(10.0, snr_db / 20)
    clip = background + event

    # Distractors: short pure-tone blips at random places, belonging to no class. Each is computed
    # on its own short window and added in place (cheap even for 30 s clips).
    if config.n_distractors:
        win = max(1, int(math.ceil(config.distractor_duration_s[1] * sr)))
        local_t = (torch.arange(win, dtype=_DTYPE) / sr).unsqueeze(0)  # (1, win)
        rows = torch.arange(n).unsqueeze(1)
        for _ in range(config.n_distractors):
            d_dur = _uniform(n, config.distractor_duration_s, generator)
            d_onset = torch.rand(n, 1, generator=generator, dtype=_DTYPE) * (clip_s - d_dur)
            d_freq = _log_uniform(n, 300.0, min(4000.0, 0.4 * sr), generator)
            d_level = torch.pow(10.0, _uniform(n, config.distractor_snr_db, generator) / 20)
            start = torch.round(d_onset * sr).long()  # (n, 1) first sample
            blip = torch.sin(2 * math.pi * d_freq * local_t) * _envelope(local_t, torch.zeros_like(d_dur), d_dur, ramp_s=0.005)
            index = (start + torch.arange(win).unsqueeze(0)).clamp(max=n_samples - 1)
            inside_clip = (start + torch.arange(win).unsqueeze(0)) < n_samples
            clip.index_put_((rows.expand_as(index), index), math.sqrt(2.0) * d_level * blip * inside_clip, accumulate=True)

    # Loudness: a random RMS level, then make sure nothing clips.
    level = torch.pow(10.0, _uniform(n, config.level_dbfs, generator) / 20)
    clip = clip / _rms(clip).clamp_min(1e-12) * level
    peak = clip.abs().amax(dim=-1, keepdim=True)
    clip = torch.where(peak > 0.99, clip * (0.99 / peak), clip)

    name = config.class_names[label]
    info = [
        ClipInfo(
            label=label,
            class_name=name,
            onset_s=round(float(onset[i]), 6),
            offset_s=round(float(onset[i] + dur[i]), 6),
            snr_db=round(float(snr_db[i]), 4),
        )
        for i in range(n)
    ]
    return clip.to(torch.float32).contiguous().unsqueeze(1), info


def generate_clip(label: int, *, config: SyntheticConfig, generator: torch.Generator) -> tuple[torch.Tensor, ClipInfo]:
    """Generate one clip of class ``label``.

    Returns:
        ``(waveform, info)``: ``waveform`` is ``(1, samples)`` float32; ``info`` a :class:`ClipInfo`.
    """
    waveforms, info = generate_batch(label, 1, config=config, generator=generator)
    return waveforms[0], info[0]


def make_synthetic_dataset(
    n_per_class: int,
    *,
    config: SyntheticConfig | None = None,
    seed: int = 0,
) -> SyntheticDataset:
    """Make a balanced synthetic dataset: ``n_per_class`` clips of every class in ``config.class_names``.

    Clips are ordered class by class (all of class 0, then class 1, ...); shuffle with a loader or
    split with :func:`course_lib.data.splits.stratified_split`. The same ``seed`` and config give the
    same dataset on the same machine.

    Args:
        n_per_class: clips per class (>= 1).
        config: generator settings (default: :class:`SyntheticConfig()`, the book's default data).
        seed: random seed (a non-negative integer).

    Returns:
        A :class:`SyntheticDataset` with ``waveforms (N, 1, samples)``, ``labels (N,)``, ``info``.
    """
    check_int(n_per_class, "n_per_class", minimum=1)
    check_int(seed, "seed", minimum=0)
    config = SyntheticConfig() if config is None else config
    generator = torch.Generator().manual_seed(seed)
    waveforms: list[torch.Tensor] = []
    info: list[ClipInfo] = []
    for label in range(len(config.class_names)):
        w, i = generate_batch(label, n_per_class, config=config, generator=generator)
        waveforms.append(w)
        info.extend(i)
    labels = torch.tensor([clip.label for clip in info], dtype=torch.long)
    return SyntheticDataset(torch.cat(waveforms), labels, info, config.class_names, config.sample_rate, config)
