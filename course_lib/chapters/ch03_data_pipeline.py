"""Chapter 3's example of what *not* to do: the seed chapter's per-item pipeline, kept to measure it.

Used by ``book/chapters/ch03_data_pipeline.ipynb`` and ``benchmarks/pipeline.py`` only; the
pipeline the course uses is :mod:`course_lib.data` (decode, cache, loader).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import torch
import torchaudio
from torch.utils.data import Dataset

from ..audio_io import fix_length, load_audio, seconds_to_samples
from ..features import standardize as _standardize

__all__ = ["PerItemDataset"]


class PerItemDataset(Dataset):
    """The seed chapter's per-item pipeline, kept only to measure it (chapter 3, ``benchmarks/pipeline.py``).

    ``dataset[i]`` decodes file ``i``, builds a **new** :class:`torchaudio.transforms.Resample`
    (recomputing its kernel), mixes to mono, keeps the first ``duration_s`` seconds, computes a mel
    spectrogram in dB and standardises it — in every epoch, for every item. Two of the seed's bugs
    are fixed so that only the speed differs: files are decoded with
    :func:`course_lib.audio_io.load_audio` (``torchaudio.load`` needs TorchCodec), and the
    standardisation has an ``eps`` (the seed's ``/ std()`` gives NaN on silence).

    Use :func:`cached_features` / :meth:`course_lib.data.base.AudioFileDataset.to_features` instead.
    """

    def __init__(
        self,
        files: Sequence[str | os.PathLike],
        labels: Sequence[int],
        *,
        sample_rate: int,
        duration_s: float,
        n_fft: int = 1024,
        hop_length: int = 512,
        n_mels: int = 128,
    ) -> None:
        if len(files) != len(labels):
            raise ValueError(f"got {len(files)} files but {len(labels)} labels.")
        self.files = [Path(f) for f in files]
        self.labels = [int(v) for v in labels]
        self.sample_rate = int(sample_rate)
        self.n_samples = seconds_to_samples(duration_s, sample_rate)
        self.mel = torchaudio.transforms.MelSpectrogram(sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels)
        self.to_db = torchaudio.transforms.AmplitudeToDB(top_db=80.0)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        waveform, sr = load_audio(self.files[index])
        if sr != self.sample_rate:
            waveform = torchaudio.transforms.Resample(sr, self.sample_rate)(waveform)  # a new kernel every time
        if waveform.shape[0] > 1:
            waveform = waveform.mean(dim=0, keepdim=True)
        waveform = fix_length(waveform, self.n_samples, mode="start")
        spec = self.to_db(self.mel(waveform))
        return _standardize(spec), self.labels[index]
