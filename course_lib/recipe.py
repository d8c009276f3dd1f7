"""The course's recommended recipe: features, augmentation and training settings in one place.

Introduced in chapter 2 (``book/chapters/ch02_first_cnn.ipynb``); chapter 4 and the command line
(``python -m course_lib train``) use it, and chapter 6 shows what each part of it protects against.

The choices, and why (they are meant for real recordings, not only the synthetic set):

* **log-mel spectrogram**, 25 ms windows every 10 ms, 64 mel bands from 20 Hz: the standard
  front end of sound-event classifiers (frames short enough to resolve onsets, bands close to how
  hearing groups frequencies), in dB with an 80 dB floor;
* **per-example standardisation** (zero mean, unit variance per clip): recordings made at
  different levels look alike to the network; a silent clip becomes zeros, not NaN;
* **SpecAugment** (two frequency masks of up to 1/8 of the bands, two time masks of up to 10 % of
  the frames) on the cached features: cheap, and the strongest single regulariser for small audio sets;
* **AdamW** (decoupled weight decay 0.01, none on biases and norms), a **one-cycle** learning-rate
  schedule peaking at 3e-3, **gradient clipping** at norm 5 and **label smoothing** 0.1;
* up to **60 epochs** with **early stopping** (patience 15 on the validation loss) and the best
  epoch's weights restored: enough epochs for a few thousand real clips, without overfitting a small set;
* the plain CNN (:class:`course_lib.models.SimpleCNN`) as the default model: it is the
  fastest to train and as accurate as the others on clip-level labels.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from ._checks import check_fraction, check_int
from .augment import SpecAugment
from .features import LogMelSpectrogram
from .frontend import FrontEnd
from .train import TrainConfig

__all__ = ["Recipe", "RECOMMENDED", "COMPACT_MODELS"]


def _recommended_training() -> TrainConfig:
    return TrainConfig(
        epochs=60,
        batch_size=32,
        lr=3e-3,
        weight_decay=1e-2,
        optimizer="adamw",
        schedule="onecycle",
        warmup_fraction=0.2,
        label_smoothing=0.1,
        grad_clip_norm=5.0,
        early_stopping_patience=15,
        monitor="val_loss",
    )


@dataclass(frozen=True)
class Recipe:
    """Feature, augmentation, model and training settings that work together.

    Attributes:
        sample_rate: rate every clip is resampled to, Hz (16 kHz keeps everything below 8 kHz,
            where most of the information in everyday sounds lies).
        n_mels: mel bands.
        window_s: analysis window, seconds (the FFT size is the next power of two in samples).
        hop_s: step between frames, seconds.
        f_min_hz: lowest mel band edge, Hz (below it is mostly rumble and DC offset).
        top_db: dynamic range kept below each clip's peak, dB.
        n_freq_masks, freq_mask_fraction: SpecAugment frequency masks and their largest width as a
            share of ``n_mels``.
        n_time_masks, time_mask_fraction: the same for time masks, as a share of the frames.
        model: default model name in :data:`course_lib.models.MODELS`.
        training: the :class:`~course_lib.train.TrainConfig`.
    """

    sample_rate: int = 16000
    n_mels: int = 64
    window_s: float = 0.025
    hop_s: float = 0.010
    f_min_hz: float = 20.0
    top_db: float = 80.0
    n_freq_masks: int = 2
    freq_mask_fraction: float = 0.125
    n_time_masks: int = 2
    time_mask_fraction: float = 0.10
    model: str = "simple_cnn"
    training: TrainConfig = field(default_factory=_recommended_training)

    def __post_init__(self) -> None:
        check_int(self.sample_rate, "sample_rate", minimum=4000, owner="Recipe", unit="Hz")
        check_int(self.n_mels, "n_mels", minimum=16, owner="Recipe")
        if not 0 < self.hop_s <= self.window_s:
            raise ValueError(f"Recipe needs 0 < hop_s <= window_s seconds, got hop_s={self.hop_s}, window_s={self.window_s}.")
        if not 0 <= self.f_min_hz < self.sample_rate / 2:
            raise ValueError(f"Recipe.f_min_hz must lie in [0, {self.sample_rate / 2}) Hz, got {self.f_min_hz}.")
        for name in ("freq_mask_fraction", "time_mask_fraction"):
            check_fraction(getattr(self, name), name, owner="Recipe")

    @property
    def hop_length(self) -> int:
        """Hop between frames, samples."""
        return max(1, round(self.hop_s * self.sample_rate))

    @property
    def win_length(self) -> int:
        """Analysis window, samples."""
        return max(1, round(self.window_s * self.sample_rate))

    @property
    def n_fft(self) -> int:
        """FFT size: the next power of two at or above the window, samples."""
        return 2 ** math.ceil(math.log2(self.win_length))

    def front_end(self, duration_s: float, *, crop: str = "center", standardize: bool = True) -> FrontEnd:
        """The recipe's front end for clips of ``duration_s`` seconds: a :class:`~course_lib.frontend.FrontEnd`.

        It owns the sample rate, the clip length and crop, the log-mel settings and the
        standardisation; datasets, the feature cache, the command line and checkpoints take it whole.
        """
        return FrontEnd(
            sample_rate=self.sample_rate,
            duration_s=duration_s,
            n_mels=self.n_mels,
            n_fft=self.n_fft,
            win_length=self.win_length,
            hop_length=self.hop_length,
            f_min_hz=self.f_min_hz,
            top_db=self.top_db,
            crop=crop,
            standardize=standardize,
        )

    def feature_extractor(self) -> LogMelSpectrogram:
        """The log-mel front end: ``(..., samples)`` → ``(..., n_mels, frames)`` in dB.

        The module of :meth:`front_end` (it does not depend on the clip length). Standardise its
        output per example (``compute_features(..., standardize=True)``).
        """
        return self.front_end(max(1.0, 2 * self.window_s)).extractor()

    def n_frames(self, duration_s: float) -> int:
        """Frames of a clip of ``duration_s`` seconds (:attr:`FrontEnd.n_frames`)."""
        return self.front_end(duration_s).n_frames

    def augmentation(self) -> SpecAugment:
        """SpecAugment with the recipe's masks (training set only): widths as shares of the bands and frames.

        The masks fit spectrograms of any number of frames, so no frame count is needed; for features
        of ``n_mels`` bands and ``frames`` frames they are those of
        ``SpecAugment(int(freq_mask_fraction * n_mels), int(time_mask_fraction * frames), ...)``.
        """
        return SpecAugment(
            freq_mask_fraction=self.freq_mask_fraction,
            time_mask_fraction=self.time_mask_fraction,
            n_freq_masks=self.n_freq_masks,
            n_time_masks=self.n_time_masks,
        )

    def train_config(self, **overrides) -> TrainConfig:
        """The recipe's :class:`TrainConfig`, with any field replaced, e.g. ``train_config(epochs=10, progress=False)``."""
        return dataclasses.replace(self.training, **overrides)

    def replace(self, **overrides) -> Recipe:
        """A copy with some settings changed, e.g. ``RECOMMENDED.replace(n_mels=128)``."""
        return dataclasses.replace(self, **overrides)


#: The course's recommended recipe.
RECOMMENDED = Recipe()

#: Smaller versions of each model for a laptop CPU (the book's chapters and ``benchmarks/models.py``):
#: ``build_model(name, n_classes, n_mels, **COMPACT_MODELS[name])``. The defaults of the model
#: classes are the sizes meant for real recordings and a GPU or a patient CPU.
COMPACT_MODELS: dict[str, dict] = {
    "simple_cnn": {"channels": (8, 16, 32, 64)},
    "attention_cnn": {"channels": (8, 16, 32, 64)},
    "audio_rnn": {"filters": 32, "hidden": 32, "num_layers": 1},
    "crnn": {"channels": (8, 16, 32), "n_time_pools": 2, "hidden": 32},
}
