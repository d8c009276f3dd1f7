"""Generating clips: a batch of one class, one clip, or a whole seeded dataset.

Part of :mod:`course_lib.data.synthetic` (introduced in chapter 2).
"""

from __future__ import annotations

import math

import torch

from ..._checks import check_int
from .config import ClipInfo, SyntheticConfig, SyntheticDataset
from .sounds import _DTYPE, _envelope, _event, _freqs, _log_uniform, _rms, _shaped_noise, _uniform

__all__ = ["generate_clip", "generate_batch", "make_synthetic_dataset"]


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
