"""A pretrained sound-event encoder that works offline: the aiSFX network (Ma & Lerch, ISMIR 2022).

Introduced in chapter 5 (``book/chapters/ch05_pretrained_models.ipynb``).

Credit. The network and its weights are the work of Alison B. Ma and Alexander Lerch:
"Representation Learning for the Automatic Indexing of Sound Effects Libraries", Proceedings of the
23rd International Society for Music Information Retrieval Conference (ISMIR 2022). The weights
ship inside the ``aisfx`` 0.1.2 wheel (``aisfx/models/checkpoint.pth``), whose LICENSE file is the
Creative Commons Attribution 4.0 International licence (CC BY 4.0), copyright (c) 2022 A.B. Ma and
A. Lerch (its package metadata says MIT; we follow the stricter LICENSE file and credit the
authors wherever the model is used: print :data:`CREDIT`). The convolution stack itself follows
the DCASE 2018 cross-task baseline (Kong et al., arXiv:1808.00773), as the package notes.

What the network is. A CNN of 4 blocks (each: two 3×3 convolutions with batch norm and ReLU, then
a 2×2 max-pool, none after the last block): 64, 128, 256, 512 channels, about 4.7 M parameters.
It was trained across professional sound-effects libraries (nine of them, one classifier head
each, ``CrossNet`` in the package) so that its 512-dimensional output describes *what makes a
sound event*, not the labels of one library. Its input is a block of 100 log-mel frames:

* the clip at 44.1 kHz, divided by its peak (``y / max|y|``; silence stays silence);
* power STFT, Hann window of 2048 samples (46 ms), hop 1024 (23 ms), centred frames with zero
  padding, 96 mel bands from 0 to 22050 Hz on the HTK mel scale, each band's weights summing to 1
  (librosa ``norm=1``, Essentia ``unit_sum``);
* ``log10(1e4 · S + 1)``, divided by 9.4578 (the largest value the authors found over all their
  training spectrograms: the package's ``spec_norm="original"`` min-max scaling, minimum 0);
* blocks of 100 frames (≈ 2.3 s) every 50 frames (the paper's 0.5 hop), an incomplete last block
  dropped, a clip shorter than one block padded with silence (zeros) to one block.

The network maps each block ``(100 frames, 96 bands)`` to 512 values (average over frequency,
maximum over time of the last block's maps). A clip's embedding here is the average over its
blocks.

What is used here (our code, the published architecture; only the weights come from the wheel):

* :class:`AisfxNetwork` – the CNN, sized from :class:`AisfxConfig`;
* :class:`AisfxFrontEnd` – the spectrogram above, with torchaudio;
* :func:`aisfx_checkpoint_path`, :func:`load_aisfx_network` – the wheel's weights, read with
  ``torch.load(weights_only=True)`` (the file also pickles two NumPy objects, which are allowed by
  name, nothing else);
* :class:`AisfxEncoder` – front end + network as a :class:`~course_lib.pretrained.base.PretrainedEncoder`
  (frozen / partial / full train modes; blocks ``block1`` … ``block4``), and
  :class:`AisfxClassifier` (encoder + head) for fine-tuning;
* :func:`load_aisfx_encoder`, :func:`embed_clips` – clip embeddings ``(N, 512)``;
* :func:`cached_embeddings` – embeddings of audio files computed once and kept in the feature
  cache of :mod:`course_lib.pipeline` (same folder conventions, keyed by file and weights).

Installing: ``make install`` does it; by hand, ``pip install --no-deps --require-hashes -r
requirements-aisfx.txt`` (the package's own metadata pins ``numpy==1.23.0`` and ``librosa==0.9.2``,
which cannot be installed beside this course's torch; the network needs only torch, and its
reimplementation here needs nothing else from the package).

One difference from the package, on purpose: the package's librosa front end
(``aisfx/spectrogram/spectrogram_librosa.py``) returns ``(bands, frames)`` and its ``main`` then
cuts blocks along the *band* axis; its Essentia front end, which the authors trained with,
returns ``(frames, bands)``. We follow the Essentia orientation: time first.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
import torchaudio
from torch import nn

from .._checks import check_int
from .base import PretrainedEncoder
from .checkpoints import PretrainedWeightsError
from .heads import PretrainedClassifier, extract_embeddings
from .pooling import PoolingMethod

__all__ = [
    "CREDIT",
    "AISFX_SAMPLE_RATE",
    "AISFX_N_FFT",
    "AISFX_HOP_LENGTH",
    "AISFX_N_MELS",
    "AISFX_BLOCK_FRAMES",
    "AISFX_BLOCK_HOP",
    "AISFX_SPEC_MAX",
    "AISFX_EMBEDDING_DIM",
    "AISFX_INSTALL_HINT",
    "AisfxConfig",
    "AisfxConvBlock",
    "AisfxNetwork",
    "AisfxFrontEnd",
    "AisfxEncoder",
    "AisfxClassifier",
    "AisfxEmbedding",
    "aisfx_checkpoint_path",
    "load_aisfx_checkpoint",
    "load_aisfx_network",
    "load_aisfx_encoder",
    "embed_clips",
    "cached_embeddings",
    "spectrogram_blocks",
    "n_blocks",
    "weights_digest",
]

#: The credit line every page that uses the encoder prints (the weights are CC BY 4.0).
CREDIT = (
    "Pretrained sound-event encoder: aiSFX by Alison B. Ma and Alexander Lerch, \"Representation Learning "
    "for the Automatic Indexing of Sound Effects Libraries\", ISMIR 2022 (weights from the aisfx 0.1.2 "
    "wheel, licensed CC BY 4.0)."
)
#: Sample rate the network was trained at, Hz.
AISFX_SAMPLE_RATE: int = 44100
#: STFT window (= FFT size), samples at 44.1 kHz (46 ms).
AISFX_N_FFT: int = 2048
#: STFT hop, samples at 44.1 kHz (23 ms).
AISFX_HOP_LENGTH: int = 1024
#: Mel bands.
AISFX_N_MELS: int = 96
#: Frames per block the network reads (≈ 2.3 s).
AISFX_BLOCK_FRAMES: int = 100
#: Frames between the starts of two blocks (the paper's hop of half a block).
AISFX_BLOCK_HOP: int = 50
#: The authors' min-max scaling of ``log10(1e4 S + 1)``: divide by this (the minimum is 0).
AISFX_SPEC_MAX: float = 9.457798957824707
#: Size of one embedding.
AISFX_EMBEDDING_DIM: int = 512
#: What to run when the package is missing.
AISFX_INSTALL_HINT = (
    "Fix: run `make install`, or by hand `.venv/bin/python -m pip install --no-deps --require-hashes -r "
    "requirements-aisfx.txt` (the wheel holds the weights; --no-deps because its metadata pins numpy 1.23 "
    "and librosa 0.9.2, which this course's torch cannot use)."
)
_F_MIN_HZ, _F_MAX_HZ = 0.0, 22050.0
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


def _mel_filterbank(n_freqs: int) -> torch.Tensor:
    """``(n_freqs, 96)`` HTK mel triangles over 0–22050 Hz, each band's weights summing to 1 (librosa ``norm=1``)."""
    fb = torchaudio.functional.melscale_fbanks(
        n_freqs, _F_MIN_HZ, _F_MAX_HZ, AISFX_N_MELS, AISFX_SAMPLE_RATE, norm=None, mel_scale="htk"
    ).double()
    # Computed in float64 and then rounded, as librosa does.
    return (fb / fb.sum(dim=0, keepdim=True).clamp_min(1e-300)).float()


class AisfxFrontEnd(nn.Module):
    """The network's input from waveforms: ``(batch, samples)`` at 44.1 kHz → ``(batch, frames, 96)``.

    Peak normalisation per clip, power STFT (Hann 2048, hop 1024, centred, zero padding), 96 HTK mel
    bands summing to 1, ``log10(1e4 · S + 1) / 9.4578``; see the module docstring.
    ``frames = 1 + samples // 1024``. Peak normalisation ignores zero padding (a padded clip keeps
    the peak of its real samples).
    """

    def __init__(self) -> None:
        super().__init__()
        self.sample_rate = AISFX_SAMPLE_RATE
        self.spectrogram = torchaudio.transforms.Spectrogram(
            n_fft=AISFX_N_FFT, hop_length=AISFX_HOP_LENGTH, power=2.0, center=True, pad_mode="constant"
        )
        self.register_buffer("mel_fb", _mel_filterbank(AISFX_N_FFT // 2 + 1), persistent=False)

    @staticmethod
    def n_frames(n_samples: torch.Tensor | int) -> torch.Tensor:
        """Frames computed from ``n_samples`` samples: ``1 + n_samples // 1024``."""
        return 1 + torch.as_tensor(n_samples) // AISFX_HOP_LENGTH

    def forward(self, waveforms: torch.Tensor) -> torch.Tensor:
        if waveforms.ndim != 2:
            raise ValueError(f"AisfxFrontEnd expects (batch, samples) at 44.1 kHz, got {tuple(waveforms.shape)}.")
        peak = waveforms.abs().amax(dim=1, keepdim=True)
        waveforms = waveforms / torch.where(peak > 0, peak, torch.ones_like(peak))
        power = self.spectrogram(waveforms)  # (batch, 1025, frames)
        mel = torch.matmul(power.transpose(1, 2), self.mel_fb)  # (batch, frames, 96)
        return torch.log10(1e4 * mel + 1.0) / AISFX_SPEC_MAX


def spectrogram_blocks(spec: torch.Tensor) -> torch.Tensor:
    """Cut ``(batch, frames, bands)`` into ``(batch, n_blocks, 100, bands)`` blocks every 50 frames.

    ``n_blocks = 1 + (frames - 100) // 50`` (an incomplete last block is dropped, as the package
    does by default); fewer than 100 frames are padded with zeros (silence) to one block.
    """
    if spec.shape[1] < AISFX_BLOCK_FRAMES:
        spec = F.pad(spec, (0, 0, 0, AISFX_BLOCK_FRAMES - spec.shape[1]))
    return spec.unfold(1, AISFX_BLOCK_FRAMES, AISFX_BLOCK_HOP).transpose(2, 3)


def n_blocks(n_frames: torch.Tensor | int) -> torch.Tensor:
    """Blocks cut from ``n_frames`` frames: ``max(1, 1 + (n_frames - 100) // 50)``."""
    n_frames = torch.as_tensor(n_frames)
    return torch.clamp(1 + (n_frames - AISFX_BLOCK_FRAMES).clamp_min(0) // AISFX_BLOCK_HOP, min=1)


def aisfx_checkpoint_path() -> Path:
    """Where the installed ``aisfx`` wheel keeps its weights (found without importing the package).

    Raises:
        ImportError: ``aisfx`` is not installed (the message says what to run).
        FileNotFoundError: the package is installed but its ``models/checkpoint.pth`` is missing.
    """
    spec = importlib.util.find_spec("aisfx")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"The pretrained sound-event encoder needs the package aisfx==0.1.2, which is not installed. {AISFX_INSTALL_HINT}")
    path = Path(list(spec.submodule_search_locations)[0]) / "models" / "checkpoint.pth"
    if not path.is_file():
        raise FileNotFoundError(
            f"aisfx is installed but its weights file {path} is missing. Fix: reinstall it: `.venv/bin/python -m pip "
            "install --force-reinstall --no-deps --require-hashes -r requirements-aisfx.txt`."
        )
    return path


def _numpy_globals() -> list:
    import numpy as np  # noqa: PLC0415

    try:
        from numpy._core.multiarray import scalar  # NumPy >= 2
    except ImportError:  # pragma: no cover - NumPy 1.x
        from numpy.core.multiarray import scalar
    # By the names the file uses (it was written with NumPy 1.x), plus the dtype class that
    # NumPy 2 rebuilds for np.dtype("int64"): the only objects besides tensors in the file.
    return [(scalar, "numpy.core.multiarray.scalar"), np.dtype, type(np.dtype(np.int64))]


def load_aisfx_checkpoint(path: str | os.PathLike | None = None) -> tuple[dict[str, torch.Tensor], dict]:
    """Read the wheel's ``checkpoint.pth``: ``(weights, datasets)``.

    ``weights`` is the package's ``CrossNet`` state dict (the embedding network's keys start with
    ``embedding_net.``); ``datasets`` maps each training library to ``(index, number of classes)``.
    Read with ``torch.load(weights_only=True)``, allowing only NumPy's scalar and dtype globals.

    Raises:
        ImportError, FileNotFoundError: see :func:`aisfx_checkpoint_path`.
        PretrainedWeightsError: the file cannot be read, or does not hold what is expected.
    """
    path = Path(path) if path is not None else aisfx_checkpoint_path()
    if not path.is_file():
        raise FileNotFoundError(f"The aiSFX weights file {path} does not exist. {AISFX_INSTALL_HINT}")
    try:
        with torch.serialization.safe_globals(_numpy_globals()):
            loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch.load raises UnpicklingError, RuntimeError, EOFError, ... on bad files
        raise PretrainedWeightsError(
            f"The aiSFX weights file {path} ({path.stat().st_size} bytes) cannot be read with weights_only=True "
            f"({type(err).__name__}: {str(err).splitlines()[0] if str(err) else 'no detail'}). The file was left in "
            "place. Fix: reinstall the wheel (`pip install --force-reinstall --no-deps --require-hashes -r "
            "requirements-aisfx.txt`).",
            path,
        ) from err
    if not (isinstance(loaded, (tuple, list)) and len(loaded) == 2 and isinstance(loaded[0], dict)):
        raise PretrainedWeightsError(
            f"{path} does not hold the aiSFX checkpoint (expected (state_dict, datasets), found {type(loaded).__name__}).",
            path,
        )
    weights, datasets = loaded
    if not any(k.startswith(_PREFIX) for k in weights):
        raise PretrainedWeightsError(f"{path} holds no '{_PREFIX}*' weights: it is not the aiSFX checkpoint.", path)
    return weights, dict(datasets)


def load_aisfx_network(
    *, pretrained: bool = True, device: str | torch.device = "cpu", checkpoint: str | os.PathLike | None = None
) -> AisfxNetwork:
    """:class:`AisfxNetwork` with the wheel's weights, in eval mode, on ``device``.

    Args:
        pretrained: ``False`` keeps PyTorch's random initialisation (seed first): the control.
        device: where to put it.
        checkpoint: another copy of ``checkpoint.pth`` (default: the installed wheel's).
    """
    network = AisfxNetwork()
    if pretrained:
        weights, _ = load_aisfx_checkpoint(checkpoint)
        state = AisfxNetwork.state_dict_from_checkpoint(weights)
        try:
            network.load_state_dict(state, strict=True)
        except RuntimeError as err:
            raise PretrainedWeightsError(
                f"the aiSFX checkpoint does not fit the published network ({str(err).splitlines()[0]}).", None
            ) from err
    return network.to(device).eval()


def weights_digest(module: nn.Module) -> str:
    """A short hash (16 hex digits) of a module's weights and buffers: cache keys use it to tell
    pretrained, random and fine-tuned weights apart."""
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


class AisfxEncoder(PretrainedEncoder):
    """Front end + network as a :class:`~course_lib.pretrained.base.PretrainedEncoder`: one embedding per block.

    ``encoder(waveforms (batch, samples), lengths (batch,))`` →
    ``(features (batch, n_blocks, 512), block_lengths (batch,))``; the base class resamples
    ``input_sample_rate`` to 44.1 kHz first. Pool over the valid blocks
    (:func:`~course_lib.pretrained.pooling.pool_over_time`) for one vector per clip.

    Train modes (``set_train_mode``): blocks ``block1`` … ``block4``, bottom to top;
    ``("partial", 1)`` fine-tunes the top block only. Batch norm always uses the pretrained
    statistics (eval mode): a few small batches of a new dataset would give noisy statistics that the
    later layers were not trained for; its scale and shift still learn when their block does.

    Args:
        input_sample_rate: rate of the audio passed in, Hz.
        pretrained: the wheel's weights (``False``: random weights, the control).
        checkpoint: another copy of the weights file.
        device: where to put the network.
    """

    model_sample_rate = AISFX_SAMPLE_RATE
    receptive_field = 1  # centred frames with zero padding: any clip gives at least one (padded) block
    output_dim = AISFX_EMBEDDING_DIM

    def __init__(
        self,
        input_sample_rate: int = AISFX_SAMPLE_RATE,
        *,
        pretrained: bool = True,
        checkpoint: str | os.PathLike | None = None,
        device: str | torch.device = "cpu",
    ) -> None:
        super().__init__(input_sample_rate)
        self.pretrained = bool(pretrained)
        self.front_end = AisfxFrontEnd()
        self.network = load_aisfx_network(pretrained=pretrained, checkpoint=checkpoint)
        self.to(device)
        self.set_train_mode("frozen")
        self.eval()

    def blocks(self) -> list[tuple[str, list[nn.Module]]]:
        return [(f"block{i + 1}", [block]) for i, block in enumerate(self.network.blocks)]

    def freeze(self) -> "AisfxEncoder":
        """No encoder weight learns (``set_train_mode("frozen")``); returns ``self``."""
        return self.set_train_mode("frozen")  # type: ignore[return-value]

    def unfreeze_top(self, n: int) -> "AisfxEncoder":
        """The top ``n`` blocks (1–4) learn, the others stay frozen; returns ``self``."""
        total = len(self.network.blocks)
        check_int(n, "n", minimum=1, maximum=total, owner="unfreeze_top",
                  fix=f"pass how many of the encoder's {total} blocks learn; use freeze() for none")
        return self.set_train_mode("full" if n == total else "partial", n)  # type: ignore[return-value]

    def _always_eval(self) -> list[nn.Module]:
        return [m for m in self.network.modules() if isinstance(m, nn.BatchNorm2d)]

    def frame_lengths(self, n_samples: torch.Tensor) -> torch.Tensor:
        """Valid blocks from ``n_samples`` valid samples at 44.1 kHz."""
        return n_blocks(AisfxFrontEnd.n_frames(n_samples))

    def spectrogram(self, waveforms: torch.Tensor) -> torch.Tensor:
        """``(batch, samples)`` at 44.1 kHz → the network's normalised input ``(batch, frames, 96)``."""
        return self.front_end(waveforms)

    def _encode(self, waveforms: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # Peak normalisation must see only real samples: zero padding has no peak, so it is harmless.
        blocks = spectrogram_blocks(self.front_end(waveforms))  # (batch, n_blocks, 100, 96)
        batch, count = blocks.shape[:2]
        embeddings = self.network(blocks.reshape(batch * count, *blocks.shape[2:])).reshape(batch, count, -1)
        return embeddings, self.frame_lengths(lengths).clamp(max=count).to(embeddings.device)


class AisfxClassifier(PretrainedClassifier):
    """aiSFX embeddings averaged over valid blocks, and a classification head (for fine-tuning).

    Args:
        encoder: an :class:`AisfxEncoder`.
        n_classes: number of classes.
        mode: ``"frozen"``, ``"partial"`` (the top ``n_unfrozen`` of ``block1`` … ``block4``) or ``"full"``.
        n_unfrozen, pooling, hidden_features, dropout: see
            :class:`~course_lib.pretrained.heads.PretrainedClassifier`.

    Shape: ``(batch, samples)`` or ``(batch, 1, samples)`` → ``(batch, n_classes)`` logits.
    """

    encoder_type = AisfxEncoder
    defaults = {**PretrainedClassifier.defaults, "hidden_features": None}


def load_aisfx_encoder(
    device: str | torch.device = "cpu",
    *,
    input_sample_rate: int = AISFX_SAMPLE_RATE,
    pretrained: bool = True,
    checkpoint: str | os.PathLike | None = None,
) -> AisfxEncoder:
    """The pretrained encoder, frozen, in eval mode, on ``device`` (see :class:`AisfxEncoder`).

    Raises:
        ImportError: ``aisfx`` is not installed (the message says what to run).
    """
    return AisfxEncoder(input_sample_rate, pretrained=pretrained, checkpoint=checkpoint, device=device)


def embed_clips(
    waveforms: torch.Tensor,
    *,
    encoder: AisfxEncoder | None = None,
    sample_rate: int = AISFX_SAMPLE_RATE,
    lengths: torch.Tensor | None = None,
    pooling: PoolingMethod = "mean",
    batch_size: int = 16,
    progress: bool = False,
) -> torch.Tensor:
    """One embedding per clip: the average over its blocks of the network's output.

    Args:
        waveforms: ``(N, samples)`` or ``(N, 1, samples)`` float audio at ``sample_rate`` Hz.
        encoder: an :class:`AisfxEncoder` (default: :func:`load_aisfx_encoder` on the CPU).
        sample_rate: rate of ``waveforms``, Hz (resampled to 44.1 kHz when different).
        lengths: ``(N,)`` valid samples per clip (the rest is padding), or ``None``.
        pooling: ``"mean"`` (default), ``"max"`` or ``"mean_std"`` (``(N, 1024)``) over blocks.
        batch_size: clips per forward pass.
        progress: a tqdm progress bar.

    Returns:
        ``(N, 512)`` float32 on the CPU.
    """
    encoder = encoder if encoder is not None else load_aisfx_encoder()
    return extract_embeddings(
        encoder, waveforms, lengths, sample_rate=sample_rate, pooling=pooling, batch_size=batch_size, progress=progress
    )


class AisfxEmbedding(nn.Module):
    """Clip embeddings as a *feature module* for :func:`course_lib.pipeline.cached_features`.

    ``(batch, 1, samples)`` at ``sample_rate`` → ``(batch, 1, 512, 1)`` (the pipeline's 4-D feature
    shape; :func:`cached_embeddings` squeezes it to ``(batch, 512)``). Its public attributes
    (``sample_rate``, ``pooling``, ``weights_sha256``: a hash of the weights) enter the cache
    signature, so pretrained and random weights, or another pooling, never share cache entries.
    """

    def __init__(self, encoder: AisfxEncoder, *, sample_rate: int = AISFX_SAMPLE_RATE, pooling: PoolingMethod = "mean") -> None:
        super().__init__()
        if not isinstance(encoder, AisfxEncoder):
            raise TypeError(f"encoder must be an AisfxEncoder, got {type(encoder).__name__}.")
        self.encoder = encoder
        self.sample_rate = int(sample_rate)
        self.pooling = pooling
        self.weights_sha256 = weights_digest(encoder.network)

    def forward(self, waveforms: torch.Tensor) -> torch.Tensor:
        features, lengths = self.encoder(waveforms, sample_rate=self.sample_rate)
        from .pooling import pool_over_time  # noqa: PLC0415

        return pool_over_time(features, lengths, self.pooling)[:, None, :, None]


_weights_digest = weights_digest  # the name used before it was public


def cached_embeddings(
    paths: Sequence[str | os.PathLike],
    *,
    duration_s: float,
    encoder: AisfxEncoder | None = None,
    cache: "str | os.PathLike | object | None" = None,
    sample_rate: int = AISFX_SAMPLE_RATE,
    crop: str = "center",
    pooling: PoolingMethod = "mean",
    batch_size: int = 8,
    on_error: str = "skip",
    progress: bool = False,
    workers: int | None = None,
) -> tuple[torch.Tensor, list[int]]:
    """Embeddings of audio files, computed once and kept in the feature cache.

    Each file is decoded, mixed to mono, centre-cropped or zero-padded to ``duration_s`` and
    resampled to ``sample_rate`` exactly as :func:`course_lib.pipeline.cached_features` does for
    spectrograms (the same threads, the same cache folder layout ``cache/<signature>/<file key>.npy``,
    the same skipping of undecodable files with one warning); then embedded.

    Args:
        paths: audio files.
        duration_s: clip length, seconds.
        encoder: an :class:`AisfxEncoder` (default: :func:`load_aisfx_encoder` on the CPU).
        cache: a :class:`course_lib.pipeline.FeatureCache` or a folder; ``None``: nothing on disk.
        sample_rate: the rate files are decoded to, Hz (44.1 kHz: the network's, no second resampling).
        crop, on_error, progress, workers: as in :func:`course_lib.pipeline.cached_features`.
        pooling: over blocks: ``"mean"``, ``"max"`` or ``"mean_std"``.
        batch_size: clips per batch.

    Returns:
        ``(embeddings (len(kept), 512), kept)``: float32 and the indices into ``paths`` that were used.
    """
    from ..pipeline import cached_features  # noqa: PLC0415 - the pipeline imports torchaudio transforms

    encoder = encoder if encoder is not None else load_aisfx_encoder()
    feature = AisfxEmbedding(encoder, sample_rate=sample_rate, pooling=pooling)
    features, kept = cached_features(
        paths, feature, sample_rate=sample_rate, duration_s=duration_s, crop=crop, standardize=False, cache=cache,
        batch_size=batch_size, on_error=on_error, progress=progress, workers=workers,
    )
    return features[:, 0, :, 0].contiguous(), kept
