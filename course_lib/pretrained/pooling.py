"""Pooling frame-level encoder features over time, ignoring padding.

Introduced in chapter 5 (``book/chapters/ch05_pretrained_models.ipynb``).

An encoder turns a clip into one feature vector per frame, ``(batch, frames, dim)``. A clip
classifier needs one vector per clip. When clips of different lengths share a batch, the short
ones are zero-padded, and the frames computed from that padding are not part of the sound: an
average over *all* frames (the seed chapter's ``features.mean(dim=1)``) mixes them in, so the
same clip gets a different embedding depending on what it was batched with. Here every statistic
is taken over the valid frames only.
"""

from __future__ import annotations

from typing import Literal

import torch

__all__ = ["PoolingMethod", "lengths_to_mask", "pool_over_time", "pooled_dim"]

PoolingMethod = Literal["mean", "max", "mean_std"]
_METHODS = ("mean", "max", "mean_std")


def lengths_to_mask(lengths: torch.Tensor, max_frames: int) -> torch.Tensor:
    """Boolean mask ``(batch, max_frames)``: ``True`` for the first ``lengths[b]`` frames of row ``b``."""
    frames = torch.arange(max_frames, device=lengths.device)
    return frames.unsqueeze(0) < lengths.unsqueeze(1)


def pooled_dim(frame_dim: int, method: PoolingMethod) -> int:
    """Size of the pooled vector for per-frame features of size ``frame_dim``."""
    if method not in _METHODS:
        raise ValueError(f"pooling must be one of {_METHODS}, got {method!r}.")
    return 2 * frame_dim if method == "mean_std" else frame_dim


def pool_over_time(
    features: torch.Tensor,
    lengths: torch.Tensor | None = None,
    method: PoolingMethod = "mean",
) -> torch.Tensor:
    """Summarise ``(batch, frames, dim)`` features into ``(batch, dim)`` over the valid frames.

    Args:
        features: frame features, ``(batch, frames, dim)``.
        lengths: ``(batch,)`` number of valid frames per clip (the rest is padding); ``None`` means
            all frames are valid.
        method: ``"mean"`` (average), ``"max"`` (largest value per dimension) or ``"mean_std"``
            (average and standard deviation concatenated, ``(batch, 2 * dim)``: the deviation
            says how much a feature changes during the clip).

    Returns:
        ``(batch, dim)`` (``(batch, 2 * dim)`` for ``"mean_std"``).

    Raises:
        ValueError: wrong shape, unknown method, or a clip with no valid frame (its average
            would be 0 / 0 = NaN).
    """
    pooled_dim(1, method)  # validates the method
    if features.ndim != 3:
        raise ValueError(f"pool_over_time expects (batch, frames, dim) features, got shape {tuple(features.shape)}.")
    batch, n_frames, _ = features.shape
    if lengths is None:
        lengths = torch.full((batch,), n_frames, dtype=torch.long, device=features.device)
    lengths = torch.as_tensor(lengths, device=features.device).to(torch.long)
    if lengths.shape != (batch,):
        raise ValueError(f"lengths must be (batch,) = ({batch},), got shape {tuple(lengths.shape)}.")
    if (lengths < 1).any() or (lengths > n_frames).any():
        raise ValueError(
            f"every clip needs between 1 and {n_frames} valid frames, got lengths {lengths.tolist()}; a clip "
            "with no valid frame has no embedding. Fix: drop it or give the encoder a longer clip."
        )
    mask = lengths_to_mask(lengths, n_frames).unsqueeze(-1).to(features.dtype)  # (batch, frames, 1)
    count = lengths.to(features.dtype).unsqueeze(-1)  # (batch, 1)
    if method == "max":
        fill = torch.finfo(features.dtype).min
        return features.masked_fill(mask == 0, fill).amax(dim=1)
    mean = (features * mask).sum(dim=1) / count
    if method == "mean":
        return mean
    var = (((features - mean.unsqueeze(1)) * mask) ** 2).sum(dim=1) / count
    # eps keeps the gradient of sqrt finite when a feature is constant over the clip.
    return torch.cat([mean, (var + 1e-8).sqrt()], dim=-1)
