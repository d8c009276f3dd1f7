"""SpecAugment: frequency and time masks on (cached) log-mel spectrograms (chapter 3)."""

from __future__ import annotations

import torch
from torch import nn
from torchaudio.functional import mask_along_axis_iid

from .._checks import check_fraction, check_int


class SpecAugment(nn.Module):
    """Frequency and time masking (Park et al., 2019) with masks drawn independently per example.

    Each mask sets a band of up to ``freq_mask_param`` mel bins (or ``time_mask_param`` frames),
    of random width and position, to ``mask_value`` (0 is the mean of a standardised spectrogram).
    The largest width is given either in bins / frames (``freq_mask_param``, ``time_mask_param``) or
    as a share of the input's bands / frames (``freq_mask_fraction``, ``time_mask_fraction``: the
    width limit is ``int(fraction * size)`` of the spectrogram each call sees, as torchaudio's
    masking takes ``p``), so a SpecAugment built from fractions fits clips of any length.
    The masks are drawn by :func:`torchaudio.functional.mask_along_axis_iid` (what
    :class:`torchaudio.transforms.TimeMasking` with ``iid_masks=True`` calls), so two examples of a
    batch get different masks, and a width limit of ``w`` draws exactly the masks that
    ``TimeMasking(w, iid_masks=True)`` draws.

    Args:
        freq_mask_param: largest frequency mask width, mel bins (0 disables).
        time_mask_param: largest time mask width, frames (0 disables).
        n_freq_masks, n_time_masks: how many masks of each kind.
        mask_value: the value written into masked cells.
        freq_mask_fraction: instead of ``freq_mask_param``: the largest width as a share of the bands.
        time_mask_fraction: instead of ``time_mask_param``: the largest width as a share of the frames.

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
        freq_mask_param: int | None = None,
        time_mask_param: int | None = None,
        n_freq_masks: int = 1,
        n_time_masks: int = 1,
        mask_value: float = 0.0,
        *,
        freq_mask_fraction: float | None = None,
        time_mask_fraction: float | None = None,
    ) -> None:
        super().__init__()
        for axis, param, fraction in (
            ("freq", freq_mask_param, freq_mask_fraction),
            ("time", time_mask_param, time_mask_fraction),
        ):
            if (param is None) == (fraction is None):
                raise TypeError(
                    f"SpecAugment needs exactly one of {axis}_mask_param (bins or frames) and {axis}_mask_fraction "
                    f"(a share of them), got {axis}_mask_param={param!r}, {axis}_mask_fraction={fraction!r}. "
                    f"Fix: e.g. SpecAugment({axis}_mask_fraction=0.1, ...) or SpecAugment(8, 10)."
                )
            if param is not None:
                check_int(param, f"{axis}_mask_param", minimum=0, owner="SpecAugment")
            else:
                check_fraction(fraction, f"{axis}_mask_fraction", include_one=True, owner="SpecAugment")
        for name, value in (("n_freq_masks", n_freq_masks), ("n_time_masks", n_time_masks)):
            check_int(value, name, minimum=0, owner="SpecAugment")
        self.freq_mask_param = freq_mask_param
        self.time_mask_param = time_mask_param
        self.freq_mask_fraction = None if freq_mask_fraction is None else float(freq_mask_fraction)
        self.time_mask_fraction = None if time_mask_fraction is None else float(time_mask_fraction)
        self.n_freq_masks = n_freq_masks
        self.n_time_masks = n_time_masks
        self.mask_value = float(mask_value)

    def mask_widths(self, n_bins: int, frames: int) -> tuple[int, int]:
        """The largest ``(frequency, time)`` mask widths for a spectrogram of ``n_bins`` x ``frames``."""
        freq = self.freq_mask_param if self.freq_mask_fraction is None else int(self.freq_mask_fraction * n_bins)
        time = self.time_mask_param if self.time_mask_fraction is None else int(self.time_mask_fraction * frames)
        return int(freq), int(time)  # type: ignore[arg-type]

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        if not isinstance(spec, torch.Tensor) or not torch.is_floating_point(spec):
            raise TypeError(f"SpecAugment expects a float tensor, got {type(spec).__name__}.")
        if spec.ndim not in (3, 4):
            raise ValueError(
                "SpecAugment expects (batch, channels, n_mels, frames) or (channels, n_mels, frames), "
                f"got shape {tuple(spec.shape)}. Fix: add a channel axis with spec.unsqueeze(-3)."
            )
        freq_width, time_width = self.mask_widths(spec.shape[-2], spec.shape[-1])
        if freq_width > spec.shape[-2] or time_width > spec.shape[-1]:
            raise ValueError(
                f"SpecAugment: masks up to {freq_width} bins x {time_width} frames do not fit a "
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
        if freq_width > 0:
            probe = x.new_ones(batch, channels, n_bins, 1)
            for _ in range(self.n_freq_masks):
                probe = mask_along_axis_iid(probe, freq_width, 0.0, 2)
            masked |= probe == 0
        if time_width > 0:
            probe = x.new_ones(batch, channels, 1, frames)
            for _ in range(self.n_time_masks):
                probe = mask_along_axis_iid(probe, time_width, 0.0, 3)
            masked |= probe == 0
        x = x.masked_fill(masked, self.mask_value)
        return x.squeeze(0) if single else x

    def extra_repr(self) -> str:
        freq = (f"freq_mask_param={self.freq_mask_param}" if self.freq_mask_fraction is None
                else f"freq_mask_fraction={self.freq_mask_fraction:g}")
        time = (f"time_mask_param={self.time_mask_param}" if self.time_mask_fraction is None
                else f"time_mask_fraction={self.time_mask_fraction:g}")
        return (
            f"{freq}, {time}, n_freq_masks={self.n_freq_masks}, n_time_masks={self.n_time_masks}, "
            f"mask_value={self.mask_value}"
        )
