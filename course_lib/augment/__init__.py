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

The package, by job: :mod:`.spec` (SpecAugment), :mod:`.waveform` (time shift, noise, gain,
time stretch, pitch shift), :mod:`.mix` (mixup), :mod:`.table` (the listening table).
"""

from __future__ import annotations

from .mix import mixup
from .spec import SpecAugment
from .table import augmentation_table
from .waveform import (
    AddNoise,
    RandomGain,
    RandomPitchShift,
    RandomTimeShift,
    RandomTimeStretch,
    WaveformAugment,
    add_noise_at_snr,
    pitch_shift,
    seed_time_shift,
    time_shift,
    time_stretch,
)

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
