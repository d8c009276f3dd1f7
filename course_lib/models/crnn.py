"""A convolutional recurrent network: convolutions for local patterns, a GRU for their order in time.

Introduced in chapter 4 (``book/chapters/ch04_beyond_cnn.ipynb``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._checks import check_fraction, check_int
from .base import AttentionClassifier, AttentionPool, conv_stack, pooled_length

__all__ = ["CRNN"]


class CRNN(AttentionClassifier):
    """Convolution blocks, a bidirectional GRU over time, attention pooling, a linear classifier.

    The blocks pool frequency by 2 each and time only in the first ``n_time_pools`` blocks. Their
    output ``(B, C, F', T')`` is read as a sequence of ``T'`` vectors of size ``C * F'`` — the GRU's
    input size, **computed from** ``n_mels`` and ``channels`` (the seed chapter hard-coded
    ``128 * 16``, which only fits 128 mel bands). The sequence summary is attention pooling over
    all GRU outputs, not the output at the last time step: for a bidirectional GRU that last output's
    backward half has seen only the last frame.

    Args:
        n_classes: number of classes (>= 2).
        n_mels: mel bands of the input (at least ``2 ** len(channels)``, 8 by default).
        channels: output channels of each convolution block.
        n_time_pools: how many of the first blocks also halve the time axis.
        hidden: GRU hidden size per direction.
        num_layers: stacked GRU layers.
        dropout: dropout before the classifier (and between GRU layers when ``num_layers > 1``).

    Shape:
        ``(batch, 1, n_mels, frames)`` → logits ``(batch, n_classes)``; with ``return_attention=True``
        also ``attention (batch, frames)`` over input frames, non-negative, summing to 1.
    """

    def __init__(
        self,
        n_classes: int,
        n_mels: int = 64,
        channels: tuple[int, ...] = (16, 32, 64),
        n_time_pools: int = 1,
        hidden: int = 64,
        num_layers: int = 1,
        dropout: float = 0.3,
    ) -> None:
        super().__init__()
        features, self.freq_pools, self.time_pools = conv_stack(tuple(channels), n_time_pools)
        channels = tuple(channels)
        self._init_sizes(n_classes, n_mels, min_mels=2 ** len(channels))
        self.channels = channels
        self.features = features
        self.rnn_input_size = channels[-1] * pooled_length(n_mels, self.freq_pools)
        self.hidden = check_int(hidden, "hidden", minimum=1)
        dropout = check_fraction(dropout, "dropout")
        self.rnn = nn.GRU(
            input_size=self.rnn_input_size,
            hidden_size=hidden,
            num_layers=check_int(num_layers, "num_layers", minimum=1),
            batch_first=True,
            bidirectional=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.attention = AttentionPool(2 * hidden)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(2 * hidden, n_classes)

    def sequence(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, 1, n_mels, T)`` → GRU outputs ``(B, 2 * hidden, T')``."""
        maps = self.features(x.contiguous(memory_format=torch.channels_last))  # (B, C, F', T')
        batch, channels, freq, time = maps.shape
        sequence = maps.permute(0, 3, 1, 2).reshape(batch, time, channels * freq)  # (B, T', C * F')
        outputs, _ = self.rnn(sequence)  # (B, T', 2 * hidden)
        return outputs.transpose(1, 2)

    def classify(self, pooled: torch.Tensor) -> torch.Tensor:
        """``(B, 2 * hidden)`` → dropout → linear → logits ``(B, n_classes)``."""
        return self.classifier(self.dropout(pooled))
