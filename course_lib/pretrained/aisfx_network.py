"""aiSFX's network: 4 convolution blocks mapping a block of log-mel frames to a 512-dimensional embedding."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .aisfx_frontend import AISFX_BLOCK_FRAMES, AISFX_N_MELS

#: Size of one embedding.
AISFX_EMBEDDING_DIM: int = 512
_PREFIX = "embedding_net."


@dataclass(frozen=True)
class AisfxConfig:
    """Sizes of :class:`AisfxNetwork` (the defaults are the published ``EmbeddingNet('max', 3, 1, 64)``).

    Attributes:
        base_channels: channels of the first block; each next block doubles them.
        n_blocks: convolution blocks (two convolutions each).
        kernel_size: convolution kernel (square), padding 1.
        n_mels: mel bands of the input.
        block_frames: frames of one input block.
    """

    base_channels: int = 64
    n_blocks: int = 4
    kernel_size: int = 3
    n_mels: int = AISFX_N_MELS
    block_frames: int = AISFX_BLOCK_FRAMES

    @property
    def channels(self) -> tuple[int, ...]:
        """Output channels of each block: 64, 128, 256, 512."""
        return tuple(self.base_channels * 2**i for i in range(self.n_blocks))

    @property
    def embedding_dim(self) -> int:
        """Size of the output: the last block's channels."""
        return self.channels[-1]


class AisfxConvBlock(nn.Module):
    """Two ``k×k`` convolutions (no bias), each followed by batch norm and ReLU, then max-pooling.

    Shape: ``(batch, in_channels, time, freq)`` → ``(batch, out_channels, time // p, freq // p)``
    with ``p`` the pool size (2, or 1 for no pooling).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, pool: int = 2) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.pool = pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        return F.max_pool2d(x, self.pool) if self.pool > 1 else x


class AisfxNetwork(nn.Module):
    """The aiSFX embedding CNN: ``(batch, 100 frames, 96 bands)`` blocks → ``(batch, 512)``.

    Every block but the last halves time and frequency (max-pool 2×2). The output averages the
    last maps over frequency, then takes the maximum over time.

    Args:
        config: the sizes (:class:`AisfxConfig`; the default is the published network).
    """

    def __init__(self, config: AisfxConfig = AisfxConfig()) -> None:
        super().__init__()
        self.config = config
        channels = (1, *config.channels)
        self.blocks = nn.ModuleList(
            AisfxConvBlock(channels[i], channels[i + 1], config.kernel_size, pool=2 if i < config.n_blocks - 1 else 1)
            for i in range(config.n_blocks)
        )
        self.output_dim = config.embedding_dim

    def forward(self, spec_blocks: torch.Tensor) -> torch.Tensor:
        """``(batch, frames, n_mels)`` normalised log-mel blocks → ``(batch, embedding_dim)``."""
        if spec_blocks.ndim != 3 or spec_blocks.shape[-1] != self.config.n_mels:
            raise ValueError(
                f"AisfxNetwork expects (batch, frames, {self.config.n_mels}) spectrogram blocks (time first), got "
                f"{tuple(spec_blocks.shape)}. Use AisfxFrontEnd and AisfxEncoder to make them from waveforms."
            )
        x = spec_blocks.unsqueeze(1)
        for block in self.blocks:
            x = block(x)
        return x.mean(dim=3).amax(dim=2)

    @staticmethod
    def state_dict_from_checkpoint(weights: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Rename the package's keys (``embedding_net.conv_block1.conv1.weight``) to ours (``blocks.0.conv1.weight``).

        The package's nine classifier heads (``fc.*``, one per training library) are left out.
        """
        out: dict[str, torch.Tensor] = {}
        for key, value in weights.items():
            if not key.startswith(_PREFIX):
                continue
            block, rest = key[len(_PREFIX) :].split(".", 1)
            if not block.startswith("conv_block"):
                raise KeyError(f"unexpected key {key!r} in the aiSFX checkpoint")
            out[f"blocks.{int(block[len('conv_block'):]) - 1}.{rest}"] = value
        return out
