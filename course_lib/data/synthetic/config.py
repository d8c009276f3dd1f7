"""What a synthetic dataset is: its classes, its settings, each clip's metadata, the dataset.

Part of :mod:`course_lib.data.synthetic` (introduced in chapter 2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from ..._checks import check_int
from ...audio_io import seconds_to_samples

__all__ = ["CLASS_NAMES", "SyntheticConfig", "ClipInfo", "SyntheticDataset"]

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

