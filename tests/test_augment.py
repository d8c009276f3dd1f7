"""Tests of course_lib.augment: SpecAugment and the waveform augmentations."""

from __future__ import annotations

import pytest
import torch
import torchaudio

from course_lib.augment import AddNoise, RandomGain, RandomTimeShift, SpecAugment, WaveformAugment, add_noise_at_snr
from course_lib.features import LogMelSpectrogram, compute_features, standardize


def test_specaugment_masks_each_example_differently_and_only_along_freq_and_time():
    torch.manual_seed(0)
    spec = torch.ones(16, 1, 32, 50)
    out = SpecAugment(freq_mask_param=8, time_mask_param=10)(spec)
    assert out.shape == spec.shape
    masked = out == 0
    # Masks are whole rows (frequency) or whole columns (time) of each example.
    for example in masked[:, 0]:
        rows = example.all(dim=1)
        cols = example.all(dim=0)
        rebuilt = rows[:, None] | cols[None, :]
        assert torch.equal(rebuilt, example)
    # Drawn per example, not once per batch.
    patterns = {tuple(m.flatten().nonzero().flatten().tolist()) for m in masked}
    assert len(patterns) > 8
    # Never along the batch or channel axis: no example is entirely masked.
    assert not masked.flatten(1).all(dim=1).any()


def test_specaugment_identity_in_eval_and_accepts_one_example():
    aug = SpecAugment(4, 4)
    x = torch.randn(1, 20, 30)
    torch.manual_seed(1)
    y = aug(x)
    assert y.shape == x.shape and (y == 0).any()
    aug.eval()
    assert torch.equal(aug(x), x)


def test_specaugment_mask_widths_respect_parameters():
    torch.manual_seed(2)
    aug = SpecAugment(freq_mask_param=3, time_mask_param=0)
    out = aug(torch.ones(64, 1, 40, 20))
    widths = (out == 0).all(dim=-1).sum(dim=-1).flatten()
    assert widths.max() <= 3 and (out == 0).all(dim=-2).sum() == 0


@pytest.mark.parametrize("shape", [(40, 20), (2, 1, 1, 40, 20)])
def test_specaugment_rejects_wrong_layout(shape):
    with pytest.raises(ValueError, match="SpecAugment expects"):
        SpecAugment(2, 2)(torch.zeros(shape))


def test_specaugment_rejects_masks_wider_than_the_spectrogram():
    with pytest.raises(ValueError, match="do not fit"):
        SpecAugment(50, 2)(torch.zeros(1, 1, 40, 20))
    with pytest.raises(ValueError, match="freq_mask_param"):
        SpecAugment(-1, 2)


def test_noise_is_added_at_the_requested_snr():
    g = torch.Generator().manual_seed(0)
    x = torch.sin(torch.linspace(0, 500, 16000)).reshape(1, 1, -1) * 0.3
    for snr in (0.0, 10.0, 20.0):
        y = add_noise_at_snr(x, snr, generator=g)
        noise = y - x
        measured = 10 * torch.log10(x.pow(2).mean() / noise.pow(2).mean())
        assert measured.item() == pytest.approx(snr, abs=1e-3)


def test_noise_on_silence_stays_finite():
    y = add_noise_at_snr(torch.zeros(1, 100), 10.0)
    assert torch.isfinite(y).all() and torch.equal(y, torch.zeros(1, 100))


def test_time_shift_pads_with_zeros_instead_of_wrapping():
    x = torch.arange(1, 101, dtype=torch.float32).reshape(1, 1, 100).repeat(8, 1, 1)
    shift = RandomTimeShift(max_shift_s=0.2, sample_rate=100)
    y = shift(x, torch.Generator().manual_seed(0))
    for row in y[:, 0]:
        nz = row[row != 0]
        # the kept samples are a contiguous run of the original, in order: no wrap-around.
        assert torch.all(nz[1:] - nz[:-1] == 1)
    shift.eval()
    assert torch.equal(shift(x), x)


def test_waveform_augment_changes_training_examples_only():
    x = torch.randn(4, 1, 1600) * 0.1
    aug = WaveformAugment(16000, max_shift_s=0.01, snr_db=(10.0, 10.0), gain_db=(-3.0, 3.0), p=1.0)
    y = aug(x, torch.Generator().manual_seed(0))
    assert y.shape == x.shape and not torch.allclose(y, x)
    aug.eval()
    assert torch.equal(aug(x), x)
    with pytest.raises(ValueError, match="p must be"):
        WaveformAugment(16000, p=1.5)
    with pytest.raises(ValueError, match="snr_db"):
        AddNoise((20.0, 10.0))


def test_seed_gain_augmentation_does_nothing_under_per_example_standardisation():
    """The seed chapter's 'change volume' step: log-mel + per-example standardisation removes it.

    A gain g multiplies the power spectrogram by g**2, i.e. adds 20*log10(g) dB to every bin; the
    per-example mean absorbs that constant. (top_db=None: with clipping at top_db below the
    maximum the same holds, since the clip moves with the maximum.)
    """
    g = torch.Generator().manual_seed(0)
    x = torch.randn(6, 1, 8000, generator=g) * 0.1
    feature = LogMelSpectrogram(sample_rate=16000, n_fft=512, hop_length=160, n_mels=40, top_db=80.0)
    gain = RandomGain((-12.0, 12.0))
    louder = gain(x, torch.Generator().manual_seed(1))
    assert not torch.allclose(louder, x)  # the waveforms really differ ...
    plain = compute_features(x, feature)
    augmented = compute_features(louder, feature)
    assert torch.allclose(plain, augmented, atol=1e-3)  # ... the model's input does not.
    # Without standardisation the gain is visible: the check above is not vacuous.
    raw_plain = compute_features(x, feature, standardize=False)
    raw_aug = compute_features(louder, feature, standardize=False)
    assert (raw_plain - raw_aug).abs().max() > 1.0
    assert torch.allclose(standardize(raw_plain), standardize(raw_aug), atol=1e-3)


@pytest.mark.parametrize("shape", [(4, 1, 32, 50), (2, 3, 16, 20), (1, 32, 50)])
def test_specaugment_equals_torchaudio_masks_applied_one_after_another(shape):
    """SpecAugment draws its masks with torchaudio on a probe and applies them in one pass: exactly the
    result of applying torchaudio's FrequencyMasking / TimeMasking to the spectrogram one by one."""
    spec = torch.randn(shape)
    augment = SpecAugment(freq_mask_param=8, time_mask_param=12, n_freq_masks=2, n_time_masks=2, mask_value=-1.5)
    torch.manual_seed(3)
    fast = augment(spec)
    torch.manual_seed(3)
    assert torch.equal(fast, _torchaudio_masks(spec, 8, 12, 2, 2, -1.5)) and (fast == -1.5).any()


def _torchaudio_masks(spec, freq_width, time_width, n_freq, n_time, mask_value=0.0):
    """torchaudio's FrequencyMasking / TimeMasking (iid masks) applied one after another: what
    SpecAugment did before its widths could be fractions (it held these two modules)."""
    freq_mask = torchaudio.transforms.FrequencyMasking(freq_width, iid_masks=True)
    time_mask = torchaudio.transforms.TimeMasking(time_width, iid_masks=True)
    out = spec.unsqueeze(0) if spec.ndim == 3 else spec
    for _ in range(n_freq if freq_width > 0 else 0):
        out = freq_mask(out, mask_value=mask_value)
    for _ in range(n_time if time_width > 0 else 0):
        out = time_mask(out, mask_value=mask_value)
    return out.squeeze(0) if spec.ndim == 3 else out


@pytest.mark.parametrize("shape", [(8, 1, 64, 101), (3, 1, 32, 51), (1, 64, 501), (2, 1, 16, 7)])
def test_specaugment_fractions_draw_the_masks_of_the_widths_they_give(shape):
    """A width given as a share of the bands / frames draws exactly the masks of the width it
    stands for: int(fraction * size), the number the recipe used to pass in frames and bins."""
    spec = torch.randn(shape)
    by_fraction = SpecAugment(freq_mask_fraction=0.125, time_mask_fraction=0.10, n_freq_masks=2, n_time_masks=2)
    widths = (int(0.125 * shape[-2]), int(0.10 * shape[-1]))
    assert by_fraction.mask_widths(shape[-2], shape[-1]) == widths
    by_width = SpecAugment(*widths, n_freq_masks=2, n_time_masks=2)
    for seed in range(3):
        torch.manual_seed(seed)
        fractions = by_fraction(spec)
        torch.manual_seed(seed)
        assert torch.equal(fractions, by_width(spec))
        torch.manual_seed(seed)
        assert torch.equal(fractions, _torchaudio_masks(spec, *widths, 2, 2))


def test_recipe_augmentation_needs_no_frame_count_and_masks_as_before():
    """``RECOMMENDED.augmentation()`` (no frame count) masks the features of the book's clips (64 bands,
    101 and 501 frames) exactly as ``augmentation(n_frames)`` did with its widths in bins and frames."""
    from course_lib.recipe import RECOMMENDED

    augment = RECOMMENDED.augmentation()
    assert augment.freq_mask_fraction == RECOMMENDED.freq_mask_fraction
    for frames in (101, 501):
        spec = torch.randn(16, 1, RECOMMENDED.n_mels, frames)
        before = SpecAugment(
            int(RECOMMENDED.freq_mask_fraction * RECOMMENDED.n_mels), int(RECOMMENDED.time_mask_fraction * frames),
            n_freq_masks=RECOMMENDED.n_freq_masks, n_time_masks=RECOMMENDED.n_time_masks,
        )
        torch.manual_seed(0)
        now = augment(spec)
        torch.manual_seed(0)
        assert torch.equal(now, before(spec)) and (now == 0).any()


def test_specaugment_needs_one_width_per_axis():
    with pytest.raises(TypeError, match="exactly one of time_mask_param"):
        SpecAugment(4)
    with pytest.raises(TypeError, match="exactly one of freq_mask_param"):
        SpecAugment(4, 4, freq_mask_fraction=0.1)
    with pytest.raises(ValueError, match="time_mask_fraction"):
        SpecAugment(freq_mask_fraction=0.1, time_mask_fraction=1.5)
    assert "time_mask_fraction=0.1" in repr(SpecAugment(4, time_mask_fraction=0.1))
