"""SpecAugment: frequency and time masks on (cached) log-mel spectrograms (chapter 3)."""

from __future__ import annotations

import torch
import torchaudio
from torch import nn

from .._checks import check_int


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
        :func:`course_lib.runtime.seed_everything`).

    ``accepts_batch = True`` tells :class:`course_lib.data.loader.FeatureDataset` to call it once per
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
            check_int(value, name, minimum=0, owner="SpecAugment")
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
