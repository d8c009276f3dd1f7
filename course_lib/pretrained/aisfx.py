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

What is used here (our code, the published architecture; only the weights come from the wheel;
the network is in :mod:`~course_lib.pretrained.aisfx_network`, the front end in
:mod:`~course_lib.pretrained.aisfx_frontend`, the weights loading in
:mod:`~course_lib.pretrained.aisfx_weights`, all importable from here):

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
  cache of :mod:`course_lib.data.cache` (same folder conventions, keyed by file and weights).

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

import os
from collections.abc import Sequence

import torch
from torch import nn

from .._checks import check_int
from .aisfx_frontend import (  # noqa: F401 (the constants: re-exported)
    AISFX_BLOCK_FRAMES,
    AISFX_BLOCK_HOP,
    AISFX_HOP_LENGTH,
    AISFX_N_FFT,
    AISFX_N_MELS,
    AISFX_SAMPLE_RATE,
    AISFX_SPEC_MAX,
    AisfxFrontEnd,
    n_blocks,
    spectrogram_blocks,
)
from .aisfx_network import AISFX_EMBEDDING_DIM, AisfxConfig, AisfxConvBlock, AisfxNetwork  # noqa: F401
from .aisfx_weights import (  # noqa: F401 (re-exported)
    AISFX_INSTALL_HINT,
    aisfx_checkpoint_path,
    load_aisfx_checkpoint,
    load_aisfx_network,
    weights_digest,
)
from .base import PretrainedEncoder
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

    def freeze(self) -> AisfxEncoder:
        """No encoder weight learns (``set_train_mode("frozen")``); returns ``self``."""
        return self.set_train_mode("frozen")  # type: ignore[return-value]

    def unfreeze_top(self, n: int) -> AisfxEncoder:
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
    """Clip embeddings as a *feature module* for :func:`course_lib.data.cache.cached_features`.

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
    cache: str | os.PathLike | object | None = None,
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
    resampled to ``sample_rate`` exactly as :func:`course_lib.data.cache.cached_features` does for
    spectrograms (the same threads, the same cache folder layout ``cache/<signature>/<file key>.npy``,
    the same skipping of undecodable files with one warning); then embedded.

    Args:
        paths: audio files.
        duration_s: clip length, seconds.
        encoder: an :class:`AisfxEncoder` (default: :func:`load_aisfx_encoder` on the CPU).
        cache: a :class:`course_lib.data.cache.FeatureCache` or a folder; ``None``: nothing on disk.
        sample_rate: the rate files are decoded to, Hz (44.1 kHz: the network's, no second resampling).
        crop, on_error, progress, workers: as in :func:`course_lib.data.cache.cached_features`.
        pooling: over blocks: ``"mean"``, ``"max"`` or ``"mean_std"``.
        batch_size: clips per batch.

    Returns:
        ``(embeddings (len(kept), 512), kept)``: float32 and the indices into ``paths`` that were used.
    """
    from ..data.cache import cached_features  # noqa: PLC0415 - the pipeline imports torchaudio transforms

    encoder = encoder if encoder is not None else load_aisfx_encoder()
    feature = AisfxEmbedding(encoder, sample_rate=sample_rate, pooling=pooling)
    features, kept = cached_features(
        paths, feature, sample_rate=sample_rate, duration_s=duration_s, crop=crop, standardize=False, cache=cache,
        batch_size=batch_size, on_error=on_error, progress=progress, workers=workers,
    )
    return features[:, 0, :, 0].contiguous(), kept
