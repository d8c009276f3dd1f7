"""A CNN with attention pooling over time: where in the clip does the model look?

Introduced in chapter 4 (``book/chapters/ch04_beyond_cnn.ipynb``); exercise 4 visualises its attention.
"""

from __future__ import annotations

import torch
from torch import nn

from .._checks import check_fraction, check_int
from .base import AttentionClassifier, AttentionPool, conv_stack

__all__ = ["AttentionCNN"]


class AttentionCNN(AttentionClassifier):
    """Convolution blocks, then attention pooling over time, then a small classifier.

    The blocks halve frequency every time but time only in the first ``n_time_pools`` blocks, so the
    attention keeps a useful time resolution (``time_stride`` input frames per attention step). The
    feature map is averaged over frequency to one vector per time step, :class:`AttentionPool`
    weights the steps (softmax over time: the weights sum to 1) and sums them.

    The seed chapter's version gated every position of the feature map with a sigmoid, averaged the
    gated map, and returned ``(logits, attention)`` from ``forward`` — which its own training and
    evaluation loops could not take (``criterion(outputs, targets)`` on a tuple). Here ``forward``
    returns logits, and ``forward(x, return_attention=True)`` returns ``(logits, attention)``.

    Args:
        n_classes: number of classes (>= 2).
        n_mels: mel bands of the input (>= 16).
        channels: output channels of each convolution block.
        n_time_pools: how many of the first blocks also halve the time axis.
        hidden: size of the hidden layer of the classifier.
        dropout: dropout probability in the classifier.

    Shape:
        ``(batch, 1, n_mels, frames)`` → logits ``(batch, n_classes)``; with ``return_attention=True``
        also ``attention (batch, frames)``: one weight per **input** frame, non-negative, summing to 1
        over time (see :func:`~course_lib.models.base.spread_attention`).
    """

    def __init__(
        self,
        n_classes: int,
        n_mels: int = 64,
        channels: tuple[int, ...] = (16, 32, 64, 128),
        n_time_pools: int = 2,
        hidden: int = 64,
        dropout: float = 0.3,
    ) -> None:
        super().__init__()
        features, self.freq_pools, self.time_pools = conv_stack(tuple(channels), n_time_pools)
        channels = tuple(channels)
        self._init_sizes(n_classes, n_mels)
        self.channels = channels
        self.features = features
        self.attention = AttentionPool(channels[-1])
        self.classifier = nn.Sequential(
            nn.Linear(channels[-1], check_int(hidden, "hidden", minimum=1)),
            nn.ReLU(inplace=True),
            nn.Dropout(check_fraction(dropout, "dropout")),
            nn.Linear(hidden, n_classes),
        )

    def sequence(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, 1, n_mels, frames)`` → ``(batch, C, T')``: the feature map averaged over frequency."""
        return self.features(x.contiguous(memory_format=torch.channels_last)).mean(dim=2)
