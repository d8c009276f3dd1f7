"""The front end as one value: how a clip is read and turned into the model's input.

Introduced in chapter 2 (``book/chapters/ch02_first_cnn.ipynb``, through the recipe); the command
line (``python -m course_lib train`` / ``predict``) stores it with every trained model.

A :class:`FrontEnd` holds everything that decides the features of an audio file: the rate it is
resampled to, the clip length and where it is cut, the log-mel settings and the per-clip
standardisation. :meth:`course_lib.recipe.Recipe.front_end` builds it from the recipe, and the
datasets (:class:`course_lib.data.base.AudioFileDataset`), the feature cache
(:func:`course_lib.data.cache.cached_features`), the command line and the checkpoint metadata
(:mod:`course_lib.inference`) take it whole, so no setting travels down a second path to be
compared with its twin later (the way ``torchaudio.pipelines`` bundles own their sample rate).

=====================  ==========================================================================
member                 what it gives
=====================  ==========================================================================
``extractor()``        the :class:`~course_lib.features.LogMelSpectrogram` module
``n_samples``          samples of one clip, ``round(duration_s * sample_rate)``
``n_frames``           frames of one clip's features, ``1 + n_samples // hop_length``
``settings()``         a plain dict (JSON) for ``metrics.json`` and checkpoints; ``from_settings``
                       reads it back (also the dicts written before ``crop`` / ``window`` were kept)
``signature()``        the key of the on-disk feature cache (:func:`feature_signature`)
=====================  ==========================================================================
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from torch import nn

from ._checks import check_choice, check_int, check_number
from .audio_io import seconds_to_samples
from .features import WINDOWS, LogMelSpectrogram, frame_count

__all__ = ["FrontEnd", "feature_signature", "CROPS"]

#: How a file is cut or padded to the clip length (``"center"`` or ``"start"``: reproducible).
CROPS: tuple[str, ...] = ("center", "start")


def _describe(module: nn.Module) -> object:
    """A JSON-able description of a feature module: its class, public settings and buffers' hashes."""
    settings: dict[str, object] = {"class": f"{type(module).__module__}.{type(module).__qualname__}"}
    for key, value in sorted(vars(module).items()):
        if key.startswith("_") or key == "training":
            continue
        if isinstance(value, (int, float, str, bool, type(None))):
            settings[key] = value
        elif isinstance(value, (tuple, list)) and all(isinstance(v, (int, float, str, bool)) for v in value):
            settings[key] = list(value)
    for name, child in module.named_children():
        settings[f"child:{name}"] = _describe(child)
    for name, buffer in module.named_buffers(recurse=False):
        settings[f"buffer:{name}"] = hashlib.sha256(buffer.detach().cpu().contiguous().numpy().tobytes()).hexdigest()[:16]
    return settings


def feature_signature(feature: nn.Module, **settings: object) -> str:
    """A short hash of everything that determines the features: the module's parameters and ``settings``.

    Two feature modules with the same class and settings (sample rate, n_fft, hop, n_mels, window
    and filterbank buffers, ...) give the same signature; changing any of them changes it.
    ``settings`` adds what happens before the module (target sample rate, duration, crop,
    standardisation). For a :class:`FrontEnd`, :meth:`FrontEnd.signature` passes them all.
    """
    description = {"feature": _describe(feature), "settings": {k: settings[k] for k in sorted(settings)}}
    text = json.dumps(description, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class FrontEnd:
    """From an audio file to standardised log-mel features: every setting in one frozen value.

    Build it with :meth:`course_lib.recipe.Recipe.front_end` (``RECOMMENDED.front_end(1.0)``).

    Attributes:
        sample_rate: rate every file is resampled to, Hz.
        duration_s: clip length, seconds (longer files are cut, shorter ones padded with zeros).
        n_mels: mel bands.
        n_fft: FFT size, samples.
        win_length: analysis window, samples.
        hop_length: step between frames, samples.
        f_min_hz: lowest mel band edge, Hz.
        top_db: dynamic range kept below each clip's peak, dB (``None`` keeps all).
        window: analysis window, one of :data:`course_lib.features.WINDOWS`.
        crop: where a file is cut or padded: ``"center"`` or ``"start"``.
        standardize: standardise each clip to zero mean and unit variance.

    Raises:
        ValueError: a setting out of range (the message names it and the fix).
    """

    sample_rate: int
    duration_s: float
    n_mels: int
    n_fft: int
    win_length: int
    hop_length: int
    f_min_hz: float = 0.0
    top_db: float | None = 80.0
    window: str = "hann"
    crop: str = "center"
    standardize: bool = True

    def __post_init__(self) -> None:
        owner = "FrontEnd"
        check_int(self.sample_rate, "sample_rate", minimum=1000, owner=owner, unit="Hz")
        check_number(self.duration_s, "duration_s", minimum=0.0, include_minimum=False, owner=owner)
        check_int(self.n_mels, "n_mels", minimum=1, owner=owner)
        check_int(self.n_fft, "n_fft", minimum=1, owner=owner)
        check_int(self.win_length, "win_length", minimum=1, maximum=self.n_fft, owner=owner,
                  fix="choose a window no longer than n_fft")
        check_int(self.hop_length, "hop_length", minimum=1, owner=owner)
        check_number(self.f_min_hz, "f_min_hz", minimum=0.0, maximum=self.sample_rate / 2, include_maximum=False,
                     owner=owner)
        if self.top_db is not None:
            check_number(self.top_db, "top_db", minimum=0.0, include_minimum=False, owner=owner)
        check_choice(self.window, "window", sorted(WINDOWS), owner=owner)
        check_choice(self.crop, "crop", CROPS, owner=owner)
        if not isinstance(self.standardize, bool):
            raise TypeError(f"FrontEnd.standardize must be True or False, got {self.standardize!r}.")
        object.__setattr__(self, "duration_s", float(self.duration_s))
        object.__setattr__(self, "f_min_hz", float(self.f_min_hz))
        if self.n_samples < self.n_fft:
            raise ValueError(
                f"FrontEnd: clips of {self.duration_s:g} s ({self.n_samples} samples at {self.sample_rate} Hz) are "
                f"shorter than one FFT window (n_fft={self.n_fft}). Fix: a longer duration_s."
            )

    @property
    def n_samples(self) -> int:
        """Samples of one clip: ``round(duration_s * sample_rate)``."""
        return seconds_to_samples(self.duration_s, self.sample_rate)

    @property
    def n_frames(self) -> int:
        """Frames of one clip's features: ``1 + n_samples // hop_length`` (centred frames)."""
        return frame_count(self.n_samples, self.hop_length)

    def extractor(self) -> LogMelSpectrogram:
        """A new log-mel module: ``(..., samples)`` → ``(..., n_mels, frames)`` in dB (not standardised)."""
        return LogMelSpectrogram(
            sample_rate=self.sample_rate,
            n_fft=self.n_fft,
            win_length=self.win_length,
            hop_length=self.hop_length,
            n_mels=self.n_mels,
            f_min_hz=self.f_min_hz,
            top_db=self.top_db,
            window=self.window,
        )

    def settings(self) -> dict[str, Any]:
        """Every setting as a plain dict (JSON-able), for ``metrics.json`` and checkpoint metadata."""
        return dataclasses.asdict(self)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> FrontEnd:
        """The front end a :meth:`settings` dict describes (extra keys are ignored; the dicts of runs
        written before ``window`` and ``crop`` were stored get ``"hann"`` and ``"center"``, what they used)."""
        names = [f.name for f in dataclasses.fields(cls)]
        missing = [n for n in ("sample_rate", "duration_s", "n_mels", "n_fft", "win_length", "hop_length") if n not in settings]
        if missing:
            raise ValueError(f"the feature settings lack {missing}; they were not written by FrontEnd.settings().")
        values = {n: settings[n] for n in names if n in settings}
        for key in ("sample_rate", "n_mels", "n_fft", "win_length", "hop_length"):
            values[key] = int(values[key])
        values["standardize"] = bool(values.get("standardize", True))
        return cls(**values)

    def signature(self) -> str:
        """The key of these features in the on-disk cache: changes whenever any setting changes."""
        return feature_signature(
            self.extractor(), sample_rate=int(self.sample_rate), duration_s=float(self.duration_s), crop=self.crop,
            standardize=bool(self.standardize),
        )

    def replace(self, **changes: Any) -> FrontEnd:
        """A copy with some settings changed, e.g. ``front_end.replace(duration_s=5.0)``."""
        return dataclasses.replace(self, **changes)
