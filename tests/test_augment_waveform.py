"""Tests of course_lib.augment's waveform steps shown in chapter 3: the seed's circular time shift
and its fix, time stretch, pitch shift, mixup, and the listening table."""

from __future__ import annotations

import math

import pytest
import torch

from course_lib.augment import (
    RandomPitchShift,
    RandomTimeShift,
    RandomTimeStretch,
    augmentation_table,
    mixup,
    pitch_shift,
    seed_time_shift,
    time_shift,
    time_stretch,
)

SR = 16000


def _tone(freq_hz: float, seconds: float = 1.0) -> torch.Tensor:
    t = torch.arange(round(seconds * SR)) / SR
    return (0.5 * torch.sin(2 * math.pi * freq_hz * t)).reshape(1, -1)


def _peak_hz(x: torch.Tensor, trim: int = 2000) -> float:
    core = x.reshape(-1)[trim:-trim]
    return float(torch.fft.rfft(core).abs().argmax()) * SR / core.numel()


def _hit_ringing_to_the_end() -> torch.Tensor:
    """A struck sound: silence, a sharp onset at 0.5 s, a slow decay still loud at the end (1 s)."""
    t = torch.arange(SR) / SR
    onset = SR // 2
    ring = torch.sin(2 * math.pi * 300 * t) * torch.exp(-(t - 0.5).clamp_min(0) / 0.4)
    return torch.where(t >= 0.5, ring, torch.zeros(())).reshape(1, -1), onset


def test_seed_time_shift_wraps_the_tail_before_the_onset_and_time_shift_does_not():
    x, onset = _hit_ringing_to_the_end()
    shift = SR // 5  # 0.2 s later
    rolled, fixed = seed_time_shift(x, shift), time_shift(x, shift)
    # the defect: the last 0.2 s (the ringing tail) is now the first 0.2 s, before the new onset
    assert torch.equal(rolled[..., :shift], x[..., -shift:])
    assert rolled[..., :shift].abs().max() > 0.1
    assert rolled[..., shift + onset - 1].abs() < 1e-6 < rolled[..., shift + onset + 5].abs()
    # the fix: silence where the clip had nothing, the onset 0.2 s later, the tail dropped
    assert torch.equal(fixed[..., : shift + onset], torch.zeros(1, shift + onset))
    assert torch.equal(fixed[..., shift:], x[..., : SR - shift])
    # both keep the sample count; the roll keeps every sample (energy), the fix drops the tail
    assert rolled.shape == fixed.shape == x.shape
    assert torch.allclose(rolled.pow(2).sum(), x.pow(2).sum())
    assert fixed.pow(2).sum() < x.pow(2).sum()


def test_time_shift_earlier_zero_and_longer_than_the_clip():
    x = torch.arange(1, 11, dtype=torch.float32).reshape(1, 10)
    assert torch.equal(time_shift(x, 0), x) and torch.equal(seed_time_shift(x, 0), x)
    assert time_shift(x, -3).tolist() == [[4, 5, 6, 7, 8, 9, 10, 0, 0, 0]]
    assert seed_time_shift(x, -3).tolist() == [[4, 5, 6, 7, 8, 9, 10, 1, 2, 3]]
    assert torch.equal(time_shift(x, 10), torch.zeros(1, 10))
    assert torch.equal(time_shift(x, -25), torch.zeros(1, 10))


def test_random_time_shift_applies_time_shift_with_a_shift_per_example():
    x = torch.randn(6, 1, 200)
    y = RandomTimeShift(max_shift_s=0.05, sample_rate=1000)(x, torch.Generator().manual_seed(4))
    shifts = torch.randint(-50, 51, (6,), generator=torch.Generator().manual_seed(4))
    for example, out, s in zip(x, y, shifts.tolist()):
        assert torch.equal(out, time_shift(example, s))
    assert len(set(shifts.tolist())) > 1


@pytest.mark.parametrize("bad", [0.5, "3", True])
def test_time_shifts_name_a_non_integer_shift(bad):
    for fn in (time_shift, seed_time_shift):
        with pytest.raises(TypeError, match="whole number of samples"):
            fn(torch.zeros(1, 10), bad)


def test_time_stretch_changes_length_not_pitch_and_is_identity_at_rate_one():
    tone = _tone(440.0)
    for rate in (0.8, 1.25):
        y = time_stretch(tone, rate)
        assert y.shape == (1, round(SR / rate)) and torch.isfinite(y).all()
        assert _peak_hz(y) == pytest.approx(440.0, abs=2.0)
    batch = torch.randn(3, 2, 4000) * 0.1
    same = time_stretch(batch, 1.0)
    assert same.shape == batch.shape
    assert torch.allclose(same, batch, atol=1e-5)
    assert time_stretch(batch, 1.1).shape == (3, 2, round(4000 / 1.1))


def test_pitch_shift_moves_the_frequency_by_semitones_and_keeps_the_length():
    tone = _tone(440.0)
    for steps in (2.0, -3.0, 12.0):
        y = pitch_shift(tone, SR, steps)
        assert y.shape == tone.shape and torch.isfinite(y).all()
        assert _peak_hz(y) == pytest.approx(440.0 * 2 ** (steps / 12), abs=2.5)
    batch = torch.randn(2, 1, 8000) * 0.1
    assert torch.allclose(pitch_shift(batch, SR, 0.0), batch, atol=1e-5)


def test_stretch_and_pitch_validation_names_the_value_and_the_fix():
    x = torch.zeros(1, 4000)
    with pytest.raises(ValueError, match=r"rate must be a finite number > 0, got -1.*Fix"):
        time_stretch(x, -1)
    with pytest.raises(ValueError, match=r"\[0.25, 4\].*got 10"):
        time_stretch(x, 10)
    with pytest.raises(ValueError, match="n_fft"):
        time_stretch(x, 1.1, n_fft=100.0)
    with pytest.raises(ValueError, match="at least n_fft=512 samples, got 100"):
        time_stretch(torch.zeros(1, 100), 1.1)
    with pytest.raises(ValueError, match=r"within one octave.*got 24"):
        pitch_shift(x, SR, 24)
    with pytest.raises(ValueError, match="sample_rate"):
        pitch_shift(x, 16000.0, 2)
    with pytest.raises(TypeError, match="float tensor"):
        time_stretch(torch.zeros(1, 4000, dtype=torch.int16), 1.1)
    with pytest.raises(ValueError, match="rates"):
        RandomTimeStretch((1.25, 0.8))
    with pytest.raises(ValueError, match="semitones"):
        RandomPitchShift(SR, (-20.0, 2.0))


@pytest.mark.parametrize("make", [lambda: RandomTimeStretch((0.8, 1.25)),
                                  lambda: RandomPitchShift(SR, (-2.0, 2.0))])
def test_random_stretch_and_pitch_are_seeded_per_example_and_identity_in_eval(make):
    aug = make()
    x = torch.randn(1, 1, 4000).repeat(4, 1, 1) * 0.1  # four copies of one clip
    first = aug(x, torch.Generator().manual_seed(0))
    again = aug(x, torch.Generator().manual_seed(0))
    other = aug(x, torch.Generator().manual_seed(1))
    assert first.shape == x.shape and torch.isfinite(first).all()
    assert torch.equal(first, again) and not torch.equal(first, other)
    assert not torch.allclose(first[0], first[1])  # a different setting for each example
    assert not torch.allclose(first, x)
    assert aug(x[0], torch.Generator().manual_seed(0)).shape == x[0].shape
    aug.eval()
    assert torch.equal(aug(x), x)


def test_mixup_mixes_inputs_and_labels_with_the_same_weights():
    x = torch.randn(8, 1, 50)
    labels = torch.arange(8) % 4
    mixed, targets = mixup(x, labels, 4, alpha=0.4, generator=torch.Generator().manual_seed(0))
    assert mixed.shape == x.shape and targets.shape == (8, 4) and torch.isfinite(mixed).all()
    assert torch.allclose(targets.sum(dim=1), torch.ones(8))
    assert (targets >= 0).all()
    # every mixed example is lam * x_i + (1 - lam) * x_j for one partner j != i; targets agree
    found = []
    for i in range(8):
        fits = []
        for j in range(8):
            if j == i:
                continue
            d = x[i] - x[j]
            lam = float(((mixed[i] - x[j]) * d).sum() / d.pow(2).sum())
            if torch.allclose(mixed[i], lam * x[i] + (1 - lam) * x[j], atol=1e-5):
                fits.append((j, lam))
        assert len(fits) == 1
        j, lam = fits[0]
        expected = torch.zeros(4)
        expected[labels[i]] += lam
        expected[labels[j]] += 1 - lam
        assert torch.allclose(targets[i], expected, atol=1e-5)
        found.append(j)
    assert sorted(found) == list(range(8))  # the partners are a permutation of the batch
    again = mixup(x, labels, 4, alpha=0.4, generator=torch.Generator().manual_seed(0))
    assert torch.equal(again[0], mixed) and torch.equal(again[1], targets)


def test_mixup_accepts_soft_labels_and_validates():
    x = torch.randn(4, 3)
    soft = torch.full((4, 2), 0.5)
    _, targets = mixup(x, soft, 2, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(targets, soft)
    with pytest.raises(ValueError, match="at least 2 examples"):
        mixup(x[:1], torch.tensor([0]), 2)
    with pytest.raises(ValueError, match=r"class indices in \[0, 2\).*Fix"):
        mixup(x, torch.tensor([0, 1, 2, 3]), 2)
    with pytest.raises(ValueError, match="alpha must be a finite number > 0, got 0"):
        mixup(x, torch.tensor([0, 1, 0, 1]), 2, alpha=0)
    with pytest.raises(ValueError, match=r"labels must be \(4,\)"):
        mixup(x, torch.zeros(4, 3), 2)
    with pytest.raises(TypeError, match="float inputs"):
        mixup(torch.zeros(4, 3, dtype=torch.long), torch.tensor([0, 1, 0, 1]), 2)


def test_augmentation_table_one_row_per_version_on_one_level():
    tone = _tone(440.0, 0.5)
    table = augmentation_table([("original", "-", tone), ("gain", "-12 dB", tone * 0.25)], SR,
                               caption="c")
    html = table.data
    assert html.count("<tr>") == 3 and html.count("<audio") == 2 and html.count("<img") == 2
    assert "gain" in html and "-12 dB" in html and "<caption>c</caption>" in html
    with pytest.raises(ValueError, match="at least one row"):
        augmentation_table([], SR)
    with pytest.raises(ValueError, match="not finite"):
        augmentation_table([("x", "y", torch.full((1, 100), float("nan")))], SR)


def test_mixup_with_a_fixed_weight_and_the_spread_of_its_draws():
    a, b = torch.ones(1, 10), torch.zeros(1, 10)
    mixed, targets = mixup(torch.stack([a, b]), torch.tensor([0, 1]), 2, lam=0.6,
                           generator=torch.Generator().manual_seed(0))
    assert torch.allclose(mixed[0], torch.full((1, 10), 0.6))
    assert torch.allclose(mixed[1], torch.full((1, 10), 0.4))
    assert torch.allclose(targets, torch.tensor([[0.6, 0.4], [0.4, 0.6]]))
    with pytest.raises(ValueError, match=r"lam must be a weight in \[0, 1\].*got 1.5"):
        mixup(torch.stack([a, b]), torch.tensor([0, 1]), 2, lam=1.5)
    # Beta(alpha, alpha) draws: a small alpha puts most weights near 0 or 1, alpha = 1 is uniform
    labels = torch.arange(2000)  # every example its own class: its weight is t[i, i]
    for alpha, low, high in ((0.2, 0.55, 0.75), (1.0, 0.17, 0.23)):
        _, t = mixup(torch.zeros(2000, 1), labels, 2000, alpha=alpha,
                     generator=torch.Generator().manual_seed(2))
        weight = t.diagonal()
        lopsided = (torch.maximum(weight, 1 - weight) > 0.9).float().mean().item()
        assert low < lopsided < high
