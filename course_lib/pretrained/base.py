"""What every pretrained encoder in the course has in common: input handling and train modes.

Introduced in chapter 5 (``book/chapters/ch05_pretrained_models.ipynb``).

A :class:`PretrainedEncoder` maps a batch of waveforms to frame features::

    encoder(waveforms (batch, samples), lengths (batch,) samples)
        -> features (batch, frames, output_dim), frame_lengths (batch,)

and can be used in three *train modes* (transfer learning's three usual recipes):

``"frozen"``
    no encoder weight changes; only the head on top learns. The encoder runs without building
    an autograd graph (fast), and stays in eval mode (no dropout) even inside ``model.train()``.
``"partial"``
    the top ``n_unfrozen`` blocks learn, the rest stays frozen (and in eval mode).
``"full"``
    every block learns (fine-tuning).

Subclasses list their blocks bottom-up in :meth:`PretrainedEncoder.blocks`; everything else
(for instance transformer layers above the one whose output is used) is always frozen, because
no gradient reaches it.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from .._checks import check_int
from ..runtime import module_device
from .inputs import prepare_waveforms

__all__ = ["TrainMode", "PretrainedEncoder"]

TrainMode = Literal["frozen", "partial", "full"]
_MODES = ("frozen", "partial", "full")


class PretrainedEncoder(nn.Module):
    """Base class: resampling, length checks and frozen / partial / full train modes.

    Subclasses set ``model_sample_rate`` (Hz), ``receptive_field`` (samples at that rate),
    ``output_dim`` and implement :meth:`blocks` and :meth:`_encode`.

    Args:
        input_sample_rate: the rate of the audio this encoder will be given, Hz. Anything else
            than ``model_sample_rate`` is resampled (with a cached kernel) before encoding.
    """

    model_sample_rate: int
    receptive_field: int
    output_dim: int

    def __init__(self, input_sample_rate: int) -> None:
        super().__init__()
        self.input_sample_rate = check_int(input_sample_rate, "input_sample_rate", minimum=1, unit="Hz")
        self._mode: TrainMode = "frozen"
        self._n_unfrozen = 0

    # ------------------------------------------------------------------ to implement
    def blocks(self) -> list[tuple[str, list[nn.Module]]]:
        """The trainable blocks, bottom (input side) to top, as ``(name, modules)`` pairs."""
        raise NotImplementedError

    def _always_eval(self) -> list[nn.Module]:
        """Modules kept in eval mode whatever the train mode (e.g. pretrained BatchNorm)."""
        return []

    def _encode(self, waveforms: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(batch, samples)`` at ``model_sample_rate`` → ``(batch, frames, output_dim)``, ``(batch,)``."""
        raise NotImplementedError

    # ------------------------------------------------------------------ train modes
    @property
    def train_mode(self) -> TrainMode:
        """``"frozen"``, ``"partial"`` or ``"full"`` (see the module docstring)."""
        return self._mode

    @property
    def n_unfrozen(self) -> int:
        """How many blocks (from the top) learn."""
        return self._n_unfrozen

    def set_train_mode(self, mode: TrainMode, n_unfrozen: int = 1) -> PretrainedEncoder:
        """Choose which encoder weights learn.

        Args:
            mode: ``"frozen"``, ``"partial"`` or ``"full"``.
            n_unfrozen: for ``"partial"``: how many of the top blocks learn, between 1 and
                ``len(self.blocks())``.

        Returns:
            ``self``, so that calls can be chained.
        """
        if mode not in _MODES:
            raise ValueError(f"mode must be one of {_MODES}, got {mode!r}.")
        blocks = self.blocks()
        if mode == "partial":
            names = [name for name, _ in blocks]
            check_int(
                n_unfrozen, "n_unfrozen", minimum=1, maximum=len(blocks),
                fix=f"for mode='partial', pass how many of the blocks (bottom to top: {names}) learn; "
                "use mode='full' to train them all",
            )
        n_train = {"frozen": 0, "partial": n_unfrozen, "full": len(blocks)}[mode]
        for param in self.parameters():
            param.requires_grad_(False)
        for _, modules in blocks[len(blocks) - n_train :]:
            for module in modules:
                for param in module.parameters():
                    param.requires_grad_(True)
        self._mode, self._n_unfrozen = mode, n_train
        return self.train(self.training)

    def trainable_block_names(self) -> list[str]:
        """Names of the blocks that currently learn."""
        blocks = self.blocks()
        return [name for name, _ in blocks[len(blocks) - self._n_unfrozen :]] if self._n_unfrozen else []

    def train(self, mode: bool = True) -> PretrainedEncoder:
        """Like :meth:`nn.Module.train`, but frozen blocks stay in eval mode (no dropout)."""
        super().train(mode)
        if mode:
            blocks = self.blocks()
            trainable = {id(m) for _, mods in blocks[len(blocks) - self._n_unfrozen :] for m in mods}
            for child in self.children():
                child.eval()
            for _, modules in blocks:
                for module in modules:
                    module.train(id(module) in trainable)
            for module in self._always_eval():
                module.eval()
        return self

    # ------------------------------------------------------------------ forward
    def frame_lengths(self, n_samples: torch.Tensor) -> torch.Tensor:
        """Number of frames produced from ``n_samples`` valid samples at ``model_sample_rate``."""
        raise NotImplementedError

    def forward(
        self,
        waveforms: torch.Tensor,
        lengths: torch.Tensor | None = None,
        *,
        sample_rate: int | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Encode a batch.

        Args:
            waveforms: ``(batch, samples)``, ``(batch, 1, samples)`` or ``(samples,)`` float audio.
            lengths: ``(batch,)`` valid samples per clip (the rest is zero padding); ``None``: all.
            sample_rate: rate of ``waveforms`` in Hz; defaults to ``input_sample_rate``.

        Returns:
            ``(features, frame_lengths)``: ``(batch, frames, output_dim)`` and ``(batch,)`` number
            of frames computed from real (non-padding) audio.
        """
        rate = self.input_sample_rate if sample_rate is None else sample_rate
        x, lengths = prepare_waveforms(
            waveforms,
            lengths,
            sample_rate=rate,
            model_sample_rate=self.model_sample_rate,
            min_samples=self.receptive_field,
            who=type(self).__name__,
        )
        device = module_device(self)
        x, lengths = x.to(device), lengths.to(device)
        if any(p.requires_grad for p in self.parameters()):
            return self._encode(x, lengths)
        # Frozen: no weight can change, so no graph is built (the seed wrapped the encoder in
        # no_grad unconditionally, which made fine-tuning silently impossible).
        with torch.no_grad():
            return self._encode(x, lengths)
