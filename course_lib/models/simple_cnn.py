"""A first CNN for spectrograms: four convolution blocks and a global pooling head.

Introduced in chapter 2 (``book/chapters/ch02_first_cnn.ipynb``), where it is built and run layer by
layer.
"""

from __future__ import annotations

import torch
from torch import nn

from .._checks import check_fraction, check_int
from .base import AudioClassifier, channels_last, conv_block

__all__ = ["SimpleCNN"]


class SimpleCNN(AudioClassifier):
    """A plain CNN classifier for log-mel spectrograms.

    Each block is a 3×3 convolution, batch norm, ReLU and 2×2 max-pooling, so every block halves
    both the frequency and the time axis and the receptive field grows. The head then

    1. averages over the remaining frequency bins (``(batch, C, F', T')`` → ``(batch, C, T')``),
    2. takes the **maximum plus the mean over time** (``(batch, C)``): the maximum lets a short event
       anywhere in the clip dominate, the mean keeps information about sounds that last,
    3. applies dropout and one linear layer to the logits.

    Unlike the seed chapter's version, every size follows from the arguments (the width of the last
    block sets the linear layer), and the input is checked with a message that names the fix.

    Args:
        n_classes: number of classes (>= 2).
        n_mels: mel bands of the input (>= 16; a multiple of 16 avoids dropping bands at the pools).
        channels: output channels of each convolution block; the number of blocks is ``len(channels)``.
        dropout: dropout probability before the linear layer.

    Shape:
        ``(batch, 1, n_mels, frames)`` → ``(batch, n_classes)`` logits; ``frames >= 2 ** len(channels)``.

    Until December 2026 the class was called ``SimpleAudioClassifier``; checkpoints saved under that
    name still load into it (:attr:`former_names`).
    """

    #: Earlier class names, accepted by :func:`course_lib.train.checkpoint.load_checkpoint`.
    former_names: tuple[str, ...] = ("SimpleAudioClassifier",)

    def __init__(
        self,
        n_classes: int,
        n_mels: int = 64,
        channels: tuple[int, ...] = (16, 32, 64, 128),
        dropout: float = 0.3,
    ) -> None:
        super().__init__()
        channels = tuple(channels)
        if not channels:
            raise ValueError("channels must name at least one convolution block, e.g. (16, 32, 64, 128).")
        for i, c in enumerate(channels):
            check_int(c, f"channels[{i}]", minimum=1)
        self.freq_pools = (2,) * len(channels)
        self.time_pools = (2,) * len(channels)
        self._init_sizes(n_classes, n_mels)
        self.channels = channels
        blocks = []
        in_channels = 1
        for out_channels in channels:
            blocks.append(conv_block(in_channels, out_channels, (2, 2)))
            in_channels = out_channels
        self.features = channels_last(nn.Sequential(*blocks))
        self.dropout = nn.Dropout(check_fraction(dropout, "dropout"))
        self.classifier = nn.Linear(channels[-1], n_classes)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The clip embedding fed to the classifier: ``(batch, channels[-1])``."""
        self.check_input(x)
        # (batch, C, T'): average over frequency
        h = self.features(x.contiguous(memory_format=torch.channels_last)).mean(dim=2)
        return h.amax(dim=-1) + h.mean(dim=-1)  # (batch, C): max + mean over time

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, 1, n_mels, frames)`` log-mel → ``(batch, n_classes)`` logits."""
        return self.classifier(self.dropout(self.embed(x)))
