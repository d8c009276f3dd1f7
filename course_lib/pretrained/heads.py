"""Classifier heads on top of a pretrained encoder, and embedding extraction for frozen features.

Introduced in chapter 5 (``book/chapters/ch05_pretrained_models.ipynb``).

* :class:`ClassificationHead` – a small MLP from a pooled embedding to class logits;
* :class:`PretrainedClassifier` – encoder → padding-aware pooling → head, in one ``nn.Module``
  whose train mode (frozen / partial / full) is the encoder's;
* :func:`extract_embeddings` – run a frozen encoder once over a whole dataset and keep the pooled
  vectors, so that heads can then be trained on them in milliseconds per epoch.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn
from tqdm.auto import tqdm

from .._checks import check_fraction, check_int
from .base import PretrainedEncoder, TrainMode
from .pooling import PoolingMethod, pool_over_time, pooled_dim

__all__ = ["ClassificationHead", "PretrainedClassifier", "extract_embeddings"]


class ClassificationHead(nn.Module):
    """``(batch, in_features)`` embeddings → ``(batch, n_classes)`` logits.

    With ``hidden_features=None`` it is a linear classifier (a "linear probe": how much class
    information the embedding holds as it is); otherwise ``Linear → ReLU → Dropout → Linear``.
    ``LayerNorm`` first puts embeddings of any scale on a common footing.

    Args:
        in_features: size of the embedding.
        n_classes: number of classes.
        hidden_features: width of the hidden layer, or ``None`` for a linear head.
        dropout: dropout probability before the last layer.
    """

    def __init__(self, in_features: int, n_classes: int, hidden_features: int | None = 128, dropout: float = 0.1) -> None:
        super().__init__()
        check_int(in_features, "in_features", minimum=1)
        check_int(n_classes, "n_classes", minimum=2, fix="a classifier needs at least 2 classes")
        check_fraction(dropout, "dropout")
        self.in_features, self.n_classes, self.hidden_features = in_features, n_classes, hidden_features
        layers: list[nn.Module] = [nn.LayerNorm(in_features)]
        if hidden_features is None:
            layers += [nn.Dropout(dropout), nn.Linear(in_features, n_classes)]
        else:
            layers += [nn.Linear(in_features, hidden_features), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden_features, n_classes)]
        self.net = nn.Sequential(*layers)

    def forward(self, embeddings: torch.Tensor) -> torch.Tensor:
        if embeddings.ndim != 2 or embeddings.shape[1] != self.in_features:
            raise ValueError(
                f"ClassificationHead expects (batch, {self.in_features}) embeddings, got {tuple(embeddings.shape)}. "
                "Pool frame features over time first (course_lib.pretrained.pool_over_time)."
            )
        return self.net(embeddings)


class _Default:
    """Marks an argument left out: the classifier class's own default applies (see ``defaults``)."""

    def __repr__(self) -> str:
        return "<class default>"


#: An argument of :class:`PretrainedClassifier` that was not given (``defaults`` decides).
DEFAULT: Any = _Default()


class PretrainedClassifier(nn.Module):
    """A pretrained encoder, pooling over valid frames, and a classification head.

    Subclasses for one encoder (:class:`~course_lib.pretrained.crepe.CrepeClassifier`, …) set
    only the class attributes ``encoder_type`` (the encoder class they take) and ``defaults``
    (their own defaults of ``n_unfrozen``, ``pooling``, ``hidden_features`` and ``dropout``).

    Args:
        encoder: a :class:`~course_lib.pretrained.base.PretrainedEncoder` (wav2vec 2.0, CREPE).
        n_classes: number of classes.
        mode: the encoder's train mode: ``"frozen"``, ``"partial"`` or ``"full"``.
        n_unfrozen: for ``"partial"``, how many top encoder blocks learn (default 1).
        pooling: ``"mean"`` (default), ``"max"`` or ``"mean_std"`` over valid frames.
        hidden_features, dropout: the head's size (see :class:`ClassificationHead`; default 128
            and 0.1).

    Shape:
        ``forward(waveforms (batch, samples), lengths (batch,) samples) -> (batch, n_classes)``;
        ``waveforms`` may also be ``(batch, 1, samples)``, as the course's datasets give them.
    """

    #: The encoder class this classifier takes.
    encoder_type: ClassVar[type[PretrainedEncoder]] = PretrainedEncoder
    #: Defaults of the keyword arguments left out.
    defaults: ClassVar[dict[str, Any]] = {"n_unfrozen": 1, "pooling": "mean", "hidden_features": 128, "dropout": 0.1}

    def __init__(
        self,
        encoder: PretrainedEncoder,
        n_classes: int,
        *,
        mode: TrainMode = "frozen",
        n_unfrozen: int = DEFAULT,
        pooling: PoolingMethod = DEFAULT,
        hidden_features: int | None = DEFAULT,
        dropout: float = DEFAULT,
    ) -> None:
        super().__init__()
        if not isinstance(encoder, self.encoder_type):
            raise TypeError(f"encoder must be {self._expected_encoder()}, got {type(encoder).__name__}.")
        given = {"n_unfrozen": n_unfrozen, "pooling": pooling, "hidden_features": hidden_features, "dropout": dropout}
        options = {**PretrainedClassifier.defaults, **self.defaults}
        options.update({name: value for name, value in given.items() if value is not DEFAULT})
        self.encoder = encoder
        self.pooling = options["pooling"]
        self.head = ClassificationHead(
            pooled_dim(encoder.output_dim, self.pooling), n_classes, options["hidden_features"], options["dropout"]
        )
        self.encoder.set_train_mode(mode, options["n_unfrozen"])

    @classmethod
    def _expected_encoder(cls) -> str:
        """``"a CrepeEncoder"``, ``"an AisfxEncoder"``: what ``encoder`` must be, for error messages."""
        name = cls.encoder_type.__name__
        if cls.encoder_type is PretrainedEncoder:
            name += " (Wav2Vec2Encoder, CrepeEncoder)"
        return f"{'an' if name[0] in 'AEIOU' else 'a'} {name}"

    def set_train_mode(self, mode: TrainMode, n_unfrozen: int = 1) -> PretrainedClassifier:
        """Change which encoder weights learn (the head always learns)."""
        self.encoder.set_train_mode(mode, n_unfrozen)
        return self

    def embed(self, waveforms: torch.Tensor, lengths: torch.Tensor | None = None, *, sample_rate: int | None = None) -> torch.Tensor:
        """Pooled embeddings ``(batch, pooled_dim)`` (the head's input)."""
        features, frame_lengths = self.encoder(waveforms, lengths, sample_rate=sample_rate)
        return pool_over_time(features, frame_lengths, self.pooling)

    def forward(self, waveforms: torch.Tensor, lengths: torch.Tensor | None = None, *, sample_rate: int | None = None) -> torch.Tensor:
        return self.head(self.embed(waveforms, lengths, sample_rate=sample_rate))


@torch.no_grad()
def extract_embeddings(
    encoder: PretrainedEncoder,
    waveforms: torch.Tensor,
    lengths: torch.Tensor | None = None,
    *,
    sample_rate: int | None = None,
    pooling: PoolingMethod = "mean",
    batch_size: int = 32,
    progress: bool = False,
) -> torch.Tensor:
    """Pooled embeddings of a whole dataset from a frozen encoder, computed once.

    Args:
        encoder: the encoder (used in eval mode; its train mode is not changed).
        waveforms: ``(N, samples)`` or ``(N, 1, samples)``.
        lengths: ``(N,)`` valid samples per clip, or ``None``.
        sample_rate: rate of ``waveforms`` in Hz (default: the encoder's ``input_sample_rate``).
        pooling: ``"mean"``, ``"max"`` or ``"mean_std"``.
        batch_size: clips per forward pass.
        progress: show a ``tqdm`` progress bar.

    Returns:
        ``(N, pooled_dim)`` float32 embeddings on the CPU.
    """
    check_int(batch_size, "batch_size", minimum=1)
    was_training = encoder.training
    encoder.eval()
    try:
        out = []
        for start in tqdm(range(0, waveforms.shape[0], batch_size), desc="embedding", disable=not progress, leave=False):
            chunk = waveforms[start : start + batch_size]
            chunk_lengths = None if lengths is None else lengths[start : start + batch_size]
            features, frame_lengths = encoder(chunk, chunk_lengths, sample_rate=sample_rate)
            out.append(pool_over_time(features, frame_lengths, pooling).cpu())
    finally:
        encoder.train(was_training)
    return torch.cat(out) if out else torch.empty(0, pooled_dim(encoder.output_dim, pooling))
