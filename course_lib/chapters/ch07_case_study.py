"""The ESC-50 case study: the official 5-fold cross-validation, real data when present, synthetic otherwise.

Used by chapter 7 (``book/chapters/ch07_esc50_case_study.ipynb``).

The seed chapter's "complete example" built an :class:`~course_lib.models.AttentionCNN`, printed a
configuration and stopped: it never loaded a clip, and its training loop could not have taken the
model's ``(logits, attention)`` output anyway. This module runs the whole protocol:

1. :func:`locate_esc50` finds the real ESC-50 (downloaded with :func:`course_lib.data.download.download_esc50`
   into ``$COURSE_DATA_DIR``) or, when it is absent, writes the synthetic ESC-50 layout of
   :mod:`course_lib.data.esc50` there once — and says which one the run uses;
2. :func:`load_esc50_features` decodes every clip once and caches the log-mel features on disk;
3. :func:`cross_validate` trains one model per official fold (:func:`course_lib.data.splits.esc50_cv_folds`:
   test on fold *k*, train on the other four, validation carved out of the training folds by
   source) and reports every metric as mean ± standard deviation over the folds;
4. :func:`attention_maps` shows where an attention model looks in a few clips;
5. the transfer recipe of chapter 5 (in :mod:`course_lib.chapters.ch07_transfer`):
   ``load_esc50_embeddings`` embeds every clip once with the pretrained aiSFX encoder (cached),
   and ``cross_validate_transfer`` trains a linear head on the embeddings on the same official folds.

Two settings: :data:`FAST` (the book: narrow models, coarse features, few epochs, three folds) and
:data:`FULL` (the recommended recipe on all five folds, for a learner with time or a GPU).
:data:`PUBLISHED_RESULTS` lists reference accuracies on the real ESC-50 with their sources; they are
never mixed with what a run measured.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..data.cache import FeatureCache
from ..data.download import DATA_DIR_ENV, data_dir, find_esc50
from ..data.esc50 import ESC50Dataset, write_esc50_layout
from ..data.loader import FeatureDataset
from ..data.splits import esc50_cv_folds
from ..models import supports_attention
from ..recipe import RECOMMENDED, Recipe
from ..runs import train_and_evaluate
from ..train import History

__all__ = [
    "ESC50Source",
    "locate_esc50",
    "SYNTHETIC_FOLDER",
    "ESC50Features",
    "load_esc50_features",
    "CaseStudyConfig",
    "FAST",
    "FULL",
    "FoldResult",
    "CrossValidationResult",
    "cross_validate",
    "attention_maps",
    "PublishedResult",
    "PUBLISHED_RESULTS",
]

#: Folder under :func:`course_lib.data.download.data_dir` that holds the synthetic ESC-50 layout.
SYNTHETIC_FOLDER = "esc50_synthetic"


@dataclass(frozen=True)
class ESC50Source:
    """Which ESC-50 a run uses.

    Attributes:
        root: the folder holding ``meta/esc50.csv`` and ``audio/``.
        kind: ``"real"`` or ``"synthetic"``.
        note: one sentence for the reader, saying which data the numbers come from.
    """

    root: Path
    kind: str
    note: str


def locate_esc50(
    root: str | os.PathLike | None = None,
    *,
    allow_synthetic: bool = True,
    synthetic_sources_per_class: int = 5,
    seed: int = 0,
) -> ESC50Source:
    """Find the ESC-50 to use: ``root`` if given, else the download, else the synthetic layout.

    Order: an explicit ``root`` (must hold ``meta/esc50.csv``); the real ESC-50 under
    ``$COURSE_DATA_DIR`` (:func:`course_lib.data.download.find_esc50`); otherwise the synthetic layout in
    ``$COURSE_DATA_DIR/esc50_synthetic``, written on first use (5 s clips at 44.1 kHz, 11 classes,
    ``synthetic_sources_per_class`` sources per class with 1–3 takes each, in ESC-50's file names
    and metadata format). The layout is written to a temporary folder and renamed, so an
    interrupted run never leaves half a dataset.

    Args:
        root: an ESC-50 folder to use as it is.
        allow_synthetic: when ``False``, a missing real ESC-50 is an error instead.
        synthetic_sources_per_class: size of the synthetic layout (>= 5 puts every class in every fold).
        seed: seed of the synthetic layout.

    Raises:
        FileNotFoundError: ``root`` has no ``meta/esc50.csv``, or no real ESC-50 and ``allow_synthetic=False``
            (the message says how to download it).
    """
    if root is not None:
        root = Path(root)
        if not (root / "meta" / "esc50.csv").is_file():
            raise FileNotFoundError(
                f"{root}: no meta/esc50.csv. Fix: pass the folder that holds meta/ and audio/ (the unpacked ESC-50), "
                "or leave root=None to use the download or the synthetic layout."
            )
        return ESC50Source(root, "real", f"Data: the ESC-50 folder {root} (given explicitly).")
    real = find_esc50()
    if real is not None:
        return ESC50Source(real, "real", f"Data: the real ESC-50 (2000 clips, 50 classes) from {real}.")
    if not allow_synthetic:
        raise FileNotFoundError(
            f"ESC-50 is not under {data_dir()}. Fix: run course_lib.data.download.download_esc50() (about 600 MB) or set "
            f"{DATA_DIR_ENV} to the folder that holds it."
        )
    folder = data_dir() / SYNTHETIC_FOLDER
    if not (folder / "meta" / "esc50.csv").is_file():
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{SYNTHETIC_FOLDER}-", dir=folder.parent))
        try:
            write_esc50_layout(tmp, sources_per_class=synthetic_sources_per_class, max_takes=3, seed=seed)
            if not (folder / "meta" / "esc50.csv").is_file():  # another run may have finished first
                if folder.exists():  # an incomplete folder without metadata: replace it
                    shutil.rmtree(folder)
                try:
                    os.replace(tmp, folder)
                except OSError:
                    if not (folder / "meta" / "esc50.csv").is_file():
                        raise
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return ESC50Source(
        folder, "synthetic",
        f"Data: the SYNTHETIC ESC-50 layout in {folder} (real ESC-50 not found under {data_dir()}). "
        "Its numbers say nothing about real environmental sounds; see course_lib.data.download.download_esc50().",
    )


@dataclass
class ESC50Features:
    """Cached features of one ESC-50 folder, with what cross-validation needs.

    Attributes:
        dataset: :class:`~course_lib.data.loader.FeatureDataset` (``features (N, 1, n_mels, frames)``, ``labels (N,)``).
        folds: ``(N,)`` official fold of each clip.
        groups: ``(N,)`` ``src_file`` of each clip.
        class_names: label ``i`` is ``class_names[i]``.
        source: the :class:`ESC50Source`.
        seconds: wall-clock seconds this call took (decoding and features, or reading the cache).
    """

    dataset: FeatureDataset
    folds: list[int]
    groups: list[str]
    class_names: tuple[str, ...]
    source: ESC50Source
    seconds: float


def load_esc50_features(source: ESC50Source, recipe: Recipe, *, cache: bool = True, progress: bool = False) -> ESC50Features:
    """Decode every clip once (resampled to ``recipe.sample_rate``), compute standardised log-mel features.

    With ``cache=True`` the features are stored in ``$COURSE_DATA_DIR/feature_cache`` keyed by file
    and feature settings (:class:`~course_lib.data.cache.FeatureCache`), so a second run reads them.
    """
    start = time.perf_counter()
    dataset = ESC50Dataset(source.root, sample_rate=recipe.sample_rate, duration_s=5.0)
    store = FeatureCache(data_dir() / "feature_cache") if cache else None
    features, kept = dataset.to_features(recipe.feature_extractor(), cache=store, progress=progress)
    return ESC50Features(
        features, [dataset.folds[i] for i in kept], [dataset.groups[i] for i in kept], dataset.class_names, source,
        time.perf_counter() - start,
    )


@dataclass(frozen=True)
class CaseStudyConfig:
    """How much of the protocol to run.

    Attributes:
        name: ``"fast"`` or ``"full"`` (or your own).
        recipe: features, SpecAugment and training settings.
        test_folds: the official folds to test on (all five for results you report).
        epochs: most epochs per fold (early stopping on a validation set carved from the training folds).
        model_kwargs: extra :func:`course_lib.models.build_model` arguments (e.g. narrow ``channels``).
        val_fraction: share of the training folds held out (by source) for early stopping.
        embed_seconds: for the transfer recipe, the centre of each clip that the encoder embeds
            (5 s: the whole ESC-50 clip, three blocks; 2.3 s: one block, a third of the cost).
        head_epochs: for the transfer recipe, most epochs of the head (early stopping as above).
    """

    name: str
    recipe: Recipe
    test_folds: tuple[int, ...]
    epochs: int
    model_kwargs: dict = field(default_factory=dict)
    val_fraction: float = 0.15
    embed_seconds: float = 5.0
    head_epochs: int = 100

    def train_config(self, seed: int):
        """The recipe's :class:`~course_lib.train.TrainConfig` with this setting's epochs and patience."""
        return self.recipe.train_config(
            epochs=self.epochs, seed=seed, progress=False,
            early_stopping_patience=min(self.recipe.training.early_stopping_patience or self.epochs, max(3, self.epochs // 3)),
        )


#: The book's setting: 32 mel bands every 40 ms, narrow models, at most 15 epochs, test folds 1–3
#: (chapter 7 runs two models with it on the synthetic layout within its time budget on two CPU cores).
FAST = CaseStudyConfig(
    name="fast",
    recipe=RECOMMENDED.replace(n_mels=32, hop_s=0.04, window_s=0.04),
    test_folds=(1, 2, 3),
    epochs=15,
    model_kwargs={"channels": (8, 16, 32, 64)},
    embed_seconds=2.32,
    head_epochs=60,
)


#: The full protocol: the recommended recipe (64 mel bands, 10 ms hop, full-width models, up to 60
#: epochs) on all five folds: a long run on a CPU for the real ESC-50; a GPU helps.
FULL = CaseStudyConfig(name="full", recipe=RECOMMENDED, test_folds=(1, 2, 3, 4, 5), epochs=RECOMMENDED.training.epochs)


@dataclass
class FoldResult:
    """One fold: trained on the other folds, tested on ``fold``."""

    fold: int
    metrics: dict
    history: History
    n_train: int
    n_val: int
    n_test: int
    seconds: float
    model: torch.nn.Module


@dataclass
class CrossValidationResult:
    """All folds of one model, and their summary."""

    model_name: str
    config_name: str
    folds: list[FoldResult]
    n_parameters: int

    def values(self, metric: str) -> np.ndarray:
        """``metric`` (e.g. ``"accuracy"``, ``"macro_f1"``) of every fold, in fold order."""
        return np.array([f.metrics[metric] for f in self.folds], dtype=float)

    def mean_std(self, metric: str) -> tuple[float, float]:
        """Mean and (population) standard deviation of ``metric`` over the folds."""
        v = self.values(metric)
        return float(v.mean()), float(v.std())

    def summary(self, metrics: Sequence[str] = ("accuracy", "balanced_accuracy", "macro_f1")) -> dict[str, str]:
        """``{"accuracy": "81.2 ± 3.4 %", ...}`` over the folds, plus the folds and parameter count."""
        out = {"model": self.model_name, "folds": ",".join(str(f.fold) for f in self.folds)}
        for m in metrics:
            mean, std = self.mean_std(m)
            out[m] = f"{100 * mean:.1f} ± {100 * std:.1f} %"
        out["parameters"] = f"{self.n_parameters:,}"
        out["train time per fold (s)"] = f"{np.mean([f.seconds for f in self.folds]):.1f}"
        return out


def cross_validate(
    data: ESC50Features,
    model_name: str,
    config: CaseStudyConfig = FAST,
    *,
    seed: int = 0,
) -> CrossValidationResult:
    """Run the official ESC-50 cross-validation for one model.

    For every fold ``k`` in ``config.test_folds``: train on the other folds (minus a
    validation set carved out **by source**, for early stopping; SpecAugment on the training
    features), restore the best epoch, and test on fold ``k``. Never a random split: takes of
    one source stay in one fold. Each fold is one :func:`course_lib.runs.train_and_evaluate`
    run (seed → build → fit → predict → metrics), seeded with ``seed``.

    Args:
        data: from :func:`load_esc50_features` (with ``config.recipe``'s features).
        model_name: a :data:`course_lib.models.MODELS` name, e.g. ``"attention_cnn"``.
        config: :data:`FAST`, :data:`FULL` or your own :class:`CaseStudyConfig`.
        seed: seeds weights, batches, augmentation and the validation carve-out.

    Returns:
        :class:`CrossValidationResult`; each fold's ``metrics`` come from
        :func:`course_lib.evaluation.classification_metrics`.
    """
    available = sorted(set(data.folds))
    missing = sorted(set(config.test_folds) - set(available))
    if missing:
        raise ValueError(
            f"test_folds {missing} are not in the data (folds {available})."
        )
    features = data.dataset.features
    if features.shape[2] != config.recipe.n_mels:
        raise ValueError(
            f"the features have {features.shape[2]} mel bands but config.recipe has "
            f"n_mels={config.recipe.n_mels}; load them with "
            "load_esc50_features(source, config.recipe)."
        )
    labels = data.dataset.labels
    splits = esc50_cv_folds(
        data.folds, groups=data.groups, val_fraction=config.val_fraction, seed=seed
    )
    results: list[FoldResult] = []
    n_parameters = 0
    for k, split in zip(available, splits):
        if k not in config.test_folds:
            continue
        augment = config.recipe.augmentation()
        run = train_and_evaluate(
            model_name,
            data.dataset.subset(split.train, transform=augment),
            data.dataset.subset(split.val) if len(split.val) else None,
            (features[split.test], labels[split.test]),
            config.train_config(seed),
            class_names=data.class_names,
            n_mels=config.recipe.n_mels,
            model_kwargs=config.model_kwargs,
            seed=seed,
        )
        n_parameters = run.n_parameters
        sizes = (len(split.train), len(split.val), len(split.test))
        results.append(FoldResult(k, run.metrics, run.history, *sizes, run.train_time_s, run.model))
    return CrossValidationResult(model_name, config.name, results, n_parameters)


@torch.no_grad()
def attention_maps(model: torch.nn.Module, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Class probabilities and attention over time for a few clips.

    Args:
        model: an attention model (:func:`course_lib.models.supports_attention`), e.g. ``AttentionCNN``.
        features: ``(n, 1, n_mels, frames)``.

    Returns:
        ``(probabilities (n, n_classes), attention (n, frames))``; each attention row is non-negative
        and sums to 1 over the input frames.
    """
    if not supports_attention(model):
        raise TypeError(
            f"{type(model).__name__} has no attention to show; use an attention model such as "
            "build_model('attention_cnn', ...)."
        )
    if not isinstance(features, torch.Tensor) or features.ndim != 4:
        raise ValueError(f"features must be (n, 1, n_mels, frames), got {getattr(features, 'shape', type(features))}.")
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    logits, attention = model(features.to(device), return_attention=True)
    model.train(was_training)
    return torch.softmax(logits, dim=1).cpu(), attention.cpu()


@dataclass(frozen=True)
class PublishedResult:
    """A published accuracy on the **real** ESC-50 (5-fold cross-validation), with its source."""

    system: str
    accuracy_percent: float
    source: str


#: Reference points for the real ESC-50, checked against the sources named (the results table of
#: the ESC-50 repository, maintained by the dataset's author, and the AST authors' repository).
PUBLISHED_RESULTS: tuple[PublishedResult, ...] = (
    PublishedResult("k-NN on MFCC and zero-crossing rate (baseline)", 32.2,
                    'K. J. Piczak, "ESC: Dataset for Environmental Sound Classification", ACM Multimedia 2015'),
    PublishedResult("Random forest on MFCC and zero-crossing rate (baseline)", 44.3,
                    'K. J. Piczak, "ESC: Dataset for Environmental Sound Classification", ACM Multimedia 2015'),
    PublishedResult("CNN on log-mel spectrograms, 2 conv + 2 dense layers", 64.5,
                    'K. J. Piczak, "Environmental sound classification with convolutional neural networks", IEEE MLSP 2015'),
    PublishedResult("Human listeners (crowdsourced)", 81.3,
                    'K. J. Piczak, "ESC: Dataset for Environmental Sound Classification", ACM Multimedia 2015'),
    PublishedResult("Audio Spectrogram Transformer, pretrained on ImageNet and AudioSet", 95.6,
                    'Y. Gong, Y.-A. Chung, J. Glass, "AST: Audio Spectrogram Transformer", Interspeech 2021'),
)

