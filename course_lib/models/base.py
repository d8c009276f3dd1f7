"""What every course model shares: input checks, pooled-size arithmetic, attention pooling.

Introduced in chapter 2 (``book/chapters/ch02_first_cnn.ipynb``); the attention pooling is explained
in chapter 4 (``book/chapters/ch04_beyond_cnn.ipynb``).

Every model in :mod:`course_lib.models` takes a batch of log-mel spectrograms shaped
``(batch, 1, n_mels, frames)`` and returns class logits ``(batch, n_classes)`` (unnormalised scores:
apply ``softmax`` for probabilities; ``nn.CrossEntropyLoss`` takes them as they are).
"""

from __future__ import annotations

import math
from typing import Literal, overload

import torch
from torch import nn

from .._checks import check_int

__all__ = [
    "AudioClassifier",
    "AttentionClassifier",
    "AttentionPool",
    "pooled_length",
    "spread_attention",
    "conv_block",
    "conv_stack",
]


def pooled_length(length: int, factors: tuple[int, ...]) -> int:
    """Length of an axis after max-pooling by each of ``factors`` in turn (floor division, as PyTorch does).

    >>> pooled_length(101, (2, 2, 1))
    25
    """
    for factor in factors:
        length //= factor
    return length


class AudioClassifier(nn.Module):
    """Base class of the course's spectrogram classifiers.

    Subclasses set ``n_mels``, ``n_classes``, ``freq_pools`` and ``time_pools`` (the pooling factor
    of each block along frequency and time), and call :meth:`check_input` first thing in ``forward``.

    Attributes:
        n_mels: mel bands the model was built for.
        n_classes: number of classes (size of the logits).
        min_frames: the shortest input (frames) the model accepts: every time pooling must leave at
            least one frame.
        returns_attention: whether ``forward(x, return_attention=True)`` returns
            ``(logits, attention)`` (``True`` for every :class:`AttentionClassifier`).
    """

    n_mels: int
    n_classes: int
    returns_attention: bool = False
    freq_pools: tuple[int, ...] = ()
    time_pools: tuple[int, ...] = ()

    def _init_sizes(self, n_classes: int, n_mels: int, min_mels: int = 16) -> None:
        self.n_classes = check_int(n_classes, "n_classes", minimum=2)
        self.n_mels = check_int(n_mels, "n_mels", minimum=min_mels)
        if pooled_length(n_mels, self.freq_pools) < 1:
            raise ValueError(
                f"n_mels={n_mels} is too small for {type(self).__name__}: its frequency pooling "
                f"{self.freq_pools} needs at least {math.prod(self.freq_pools)} mel bands."
            )

    @property
    def min_frames(self) -> int:
        return max(1, math.prod(self.time_pools))

    @property
    def time_stride(self) -> int:
        """Input frames per frame of the model's internal time axis."""
        return max(1, math.prod(self.time_pools))

    def check_input(self, x: torch.Tensor) -> None:
        """Raise a clear error unless ``x`` is a float ``(batch, 1, n_mels, frames)`` batch this model can take."""
        name = type(self).__name__
        if not isinstance(x, torch.Tensor) or not torch.is_floating_point(x):
            raise TypeError(f"{name} expects a float tensor, got {type(x).__name__} {getattr(x, 'dtype', '')}.")
        if x.ndim != 4 or x.shape[1] != 1:
            hint = ""
            if x.ndim == 3:
                hint = " Fix: add the channel axis with x.unsqueeze(1)."
            elif x.ndim == 2:
                hint = " Fix: add batch and channel axes with x[None, None]."
            raise ValueError(
                f"{name} expects log-mel input shaped (batch, 1, n_mels, frames), got {tuple(x.shape)}.{hint}"
            )
        if x.shape[2] != self.n_mels:
            raise ValueError(
                f"{name} was built for n_mels={self.n_mels} but the input has {x.shape[2]} mel bands "
                f"(shape {tuple(x.shape)}). Fix: build the model with n_mels={x.shape[2]} or compute features "
                f"with n_mels={self.n_mels}."
            )
        if x.shape[3] < self.min_frames:
            raise ValueError(
                f"{name} needs at least {self.min_frames} frames, got {x.shape[3]} (shape {tuple(x.shape)}). "
                "Fix: use longer clips (pad with course_lib.audio_io.fix_length) or a smaller hop_length."
            )
        if x.shape[0] == 0:
            raise ValueError(f"{name} got an empty batch (batch size 0).")


class AttentionPool(nn.Module):
    """Attention pooling over time: a learned weighted average of a sequence of frame vectors.

    A small network scores every frame, ``softmax`` over time turns the scores into weights that
    are non-negative and **sum to 1 over time**, and the output is the weighted sum of the frames.
    (The seed chapter used a sigmoid per position instead: weights that do not sum to anything,
    followed by an average — a gate, not an attention distribution.)

    Args:
        channels: size of each frame vector.
        hidden: size of the scoring network's hidden layer.

    Shape:
        ``(batch, channels, time)`` → ``pooled (batch, channels)``, ``weights (batch, time)``.
    """

    def __init__(self, channels: int, hidden: int | None = None) -> None:
        super().__init__()
        hidden = hidden or max(8, channels // 2)
        self.score = nn.Sequential(nn.Conv1d(channels, hidden, 1), nn.Tanh(), nn.Conv1d(hidden, 1, 1))

    def forward(self, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # (batch, time): one weight per time step, summing to 1 over time
        weights = torch.softmax(self.score(frames).squeeze(1), dim=-1)
        # (batch, channels): the weighted sum of the frames
        pooled = torch.bmm(frames, weights.unsqueeze(-1)).squeeze(-1)
        return pooled, weights


class AttentionClassifier(AudioClassifier):
    """Base class of the models that pool a sequence over time with :class:`AttentionPool`.

    A subclass supplies :meth:`sequence` (input → one vector per internal time step) and sets
    ``self.attention`` (an :class:`AttentionPool`) and ``self.classifier``; this class runs
    ``check_input`` → ``sequence`` → attention pooling → :meth:`classify`, and maps the attention
    back onto the input frames with :func:`spread_attention` when asked.

    Shape:
        ``(batch, 1, n_mels, frames)`` → logits ``(batch, n_classes)``; with ``return_attention=True``
        also ``attention (batch, frames)``: one weight per **input** frame, non-negative, summing to 1.
    """

    returns_attention = True
    attention: AttentionPool
    classifier: nn.Module

    def sequence(self, x: torch.Tensor) -> torch.Tensor:
        """The checked input ``(batch, 1, n_mels, frames)`` → ``(batch, channels, time_steps)``."""
        raise NotImplementedError(f"{type(self).__name__} must define sequence(x).")

    def classify(self, pooled: torch.Tensor) -> torch.Tensor:
        """Pooled vectors ``(batch, channels)`` → logits ``(batch, n_classes)``."""
        return self.classifier(pooled)

    @overload
    def forward(self, x: torch.Tensor, return_attention: Literal[False] = ...) -> torch.Tensor: ...
    @overload
    def forward(
        self, x: torch.Tensor, return_attention: Literal[True]
    ) -> tuple[torch.Tensor, torch.Tensor]: ...

    def forward(self, x: torch.Tensor, return_attention: bool = False):
        """Logits ``(batch, n_classes)``; with ``return_attention=True`` also attention ``(batch, frames)``."""
        self.check_input(x)
        pooled, weights = self.attention(self.sequence(x))  # (B, C), (B, T')
        logits = self.classify(pooled)
        if return_attention:
            return logits, spread_attention(weights, self.time_stride, x.shape[-1])
        return logits


def spread_attention(weights: torch.Tensor, stride: int, n_frames: int) -> torch.Tensor:
    """Map attention over a model's internal time axis back onto the input frames.

    Internal frame ``t`` summarises input frames ``[t * stride, (t + 1) * stride)``; its weight is
    shared equally among them. Input frames beyond ``internal_length * stride`` (dropped by the
    floor of max-pooling) get weight 0, so the result still sums to 1.

    Args:
        weights: ``(batch, internal_frames)``, each row summing to 1.
        stride: input frames per internal frame.
        n_frames: number of input frames.

    Returns:
        ``(batch, n_frames)``, non-negative, each row summing to 1.
    """
    if stride == 1 and weights.shape[-1] == n_frames:
        return weights
    spread = weights.repeat_interleave(stride, dim=-1) / stride
    missing = n_frames - spread.shape[-1]
    if missing > 0:
        spread = nn.functional.pad(spread, (0, missing))
    return spread[..., :n_frames]


def conv_block(in_channels: int, out_channels: int, pool: tuple[int, int]) -> nn.Sequential:
    """3×3 convolution → max-pool by ``pool`` = (frequency, time) → batch norm → ReLU.

    Pooling comes before the normalisation and the ReLU so that those run on a quarter of the
    values: on a CPU this makes a block about twice as fast. (Max-pooling commutes with the ReLU, and
    batch norm only rescales each channel, so the network can learn the same functions.)
    """
    layers: list[nn.Module] = [nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False)]
    if pool != (1, 1):
        layers.append(nn.MaxPool2d(pool))
    layers += [nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True)]
    return nn.Sequential(*layers)


def conv_stack(channels: tuple[int, ...], n_time_pools: int) -> tuple[nn.Module, tuple[int, ...], tuple[int, ...]]:
    """A stack of :func:`conv_block` s that halve frequency in every block and time in the first ``n_time_pools``.

    Args:
        channels: output channels of each block (at least one block).
        n_time_pools: how many of the first blocks also halve the time axis (0 … ``len(channels)``).

    Returns:
        ``(stack, freq_pools, time_pools)``: the blocks in ``channels_last`` layout, mapping
        ``(batch, 1, n_mels, frames)`` to ``(batch, channels[-1], n_mels // 2**len(channels), frames // 2**n_time_pools)``,
        and the pooling factor of each block along frequency and time (for
        :class:`AudioClassifier`'s ``freq_pools`` / ``time_pools``).
    """
    channels = tuple(channels)
    if not channels:
        raise ValueError("channels must name at least one convolution block.")
    for i, c in enumerate(channels):
        check_int(c, f"channels[{i}]", minimum=1)
    check_int(n_time_pools, "n_time_pools", minimum=0, maximum=len(channels))
    freq_pools = (2,) * len(channels)
    time_pools = tuple(2 if i < n_time_pools else 1 for i in range(len(channels)))
    blocks = []
    in_channels = 1
    for out_channels, time_pool in zip(channels, time_pools):
        blocks.append(conv_block(in_channels, out_channels, (2, time_pool)))
        in_channels = out_channels
    return channels_last(nn.Sequential(*blocks)), freq_pools, time_pools


def channels_last(module: nn.Module) -> nn.Module:
    """Store a convolution stack's weights in the ``channels_last`` layout (faster on CPU with oneDNN)."""
    return module.to(memory_format=torch.channels_last)
