"""A seeded synthetic sound-event dataset: the data every chapter trains on when no download exists.

Introduced in chapter 2 (``book/chapters/ch02_first_cnn.ipynb``, which trains on it; chapter 3
explains it); chapters 4, 5 and 6 train on it too, and the writers of :mod:`course_lib.data.esc50`,
:mod:`course_lib.data.gtzan` and :mod:`course_lib.data.folder` lay it out like ESC-50, GTZAN or a
class folder.

Each clip holds one *event* of a known class, placed at a random onset inside a longer clip over
coloured background noise, at a random signal-to-noise ratio, plus optional short *distractor* blips
that belong to no class. The metadata of every clip (:class:`ClipInfo`) records the class, the
event's onset and offset in seconds and the SNR in dB, so that later chapters can check where an
attention model looks.

The classes are chosen so that a time-averaged spectrum cannot separate all of them: a rising and a
falling chirp cover the same frequencies, an amplitude-modulated and a frequency-modulated tone
have nearly the same long-term spectrum, and two click trains differ only in their rate. A model
has to use the time axis of the spectrogram, which is what the book's models are about.

Everything is generated with vectorised tensor operations (one batch per class), from an explicit
``torch.Generator``, so a seed gives the same dataset on the same machine.

One module per job: :mod:`~course_lib.data.synthetic.config` (the classes, the settings, the clip
metadata, the dataset), :mod:`~course_lib.data.synthetic.sounds` (what each class sounds like) and
:mod:`~course_lib.data.synthetic.generate` (clips and datasets from a seed). Every name is
importable from ``course_lib.data.synthetic``.
"""

from __future__ import annotations

from .config import CLASS_NAMES, ClipInfo, SyntheticConfig, SyntheticDataset
from .generate import generate_batch, generate_clip, make_synthetic_dataset

__all__ = [
    "CLASS_NAMES",
    "SyntheticConfig",
    "ClipInfo",
    "SyntheticDataset",
    "generate_clip",
    "generate_batch",
    "make_synthetic_dataset",
]
