"""A bidirectional LSTM over spectrogram frames with attention pooling over time.

Introduced in chapter 4 (``book/chapters/ch04_beyond_cnn.ipynb``).
"""

from __future__ import annotations

from typing import Literal, overload

import torch
from torch import nn

from .base import AttentionPool, AudioClassifier, _check_dropout, _check_positive_int

__all__ = ["AudioRNN"]


class AudioRNN(AudioClassifier):
    """Treat the spectrogram as a sequence of frames: a bidirectional LSTM, attention, a classifier.

    Each frame (a column of ``n_mels`` values) is one step of the sequence. The LSTM's input size is
    ``n_mels`` — taken from the argument, not hard-coded — and the input is checked to be
    ``(batch, 1, n_mels, frames)``; the seed chapter's comment claimed ``(batch, n_mels, time)`` while
    its ``squeeze(1)`` assumed the channel axis, and a model built with the default ``input_size=128``
    failed on 64-band input with an opaque LSTM error.

    Steps (shapes for a batch of ``B`` clips of ``T`` frames):

    1. ``(B, 1, n_mels, T)`` → drop the channel axis and swap → ``(B, T, n_mels)``;
    2. LSTM (``batch_first``, bidirectional) → ``(B, T, 2 * hidden)``: every step sees the whole clip,
       the past through the forward direction and the future through the backward one;
    3. attention over time → weights ``(B, T)`` summing to 1, context ``(B, 2 * hidden)``;
    4. linear → ReLU → dropout → linear → ``(B, n_classes)``.

    Args:
        n_classes: number of classes (>= 2).
        n_mels: mel bands of the input (the LSTM's input size).
        hidden: LSTM hidden size per direction.
        num_layers: stacked LSTM layers.
        dropout: dropout between LSTM layers (only used when ``num_layers > 1``) and in the classifier.

    Shape:
        ``(batch, 1, n_mels, frames)`` → logits ``(batch, n_classes)``; with ``return_attention=True``
        also ``attention (batch, frames)``, non-negative, summing to 1 over time.
    """

    def __init__(
        self,
        n_classes: int,
        n_mels: int = 64,
        hidden: int = 64,
        num_layers: int = 2,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        self._init_sizes(n_classes, n_mels, min_mels=1)
        self.hidden = _check_positive_int(hidden, "hidden")
        self.num_layers = _check_positive_int(num_layers, "num_layers")
        dropout = _check_dropout(dropout)
        self.lstm = nn.LSTM(
            input_size=n_mels,
            hidden_size=hidden,
            num_layers=num_layers,
            batch_first=True,
            bidirectional=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.attention = AttentionPool(2 * hidden)
        self.classifier = nn.Sequential(
            nn.Linear(2 * hidden, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(hidden, n_classes),
        )

    @overload
    def forward(self, x: torch.Tensor, return_attention: Literal[False] = ...) -> torch.Tensor: ...
    @overload
    def forward(self, x: torch.Tensor, return_attention: Literal[True]) -> tuple[torch.Tensor, torch.Tensor]: ...

    def forward(self, x: torch.Tensor, return_attention: bool = False):
        """Logits ``(batch, n_classes)``; with ``return_attention=True`` also attention ``(batch, frames)``."""
        self.check_input(x)
        sequence = x[:, 0].transpose(1, 2)  # (B, 1, n_mels, T) -> (B, T, n_mels)
        outputs, _ = self.lstm(sequence)  # (B, T, 2 * hidden)
        pooled, weights = self.attention(outputs.transpose(1, 2))  # (B, 2 * hidden), (B, T)
        logits = self.classifier(pooled)
        if return_attention:
            return logits, weights
        return logits
