"""Diagrams drawn by code, from the settings and models a page really uses.

Each function returns a :class:`matplotlib.figure.Figure` about 10 inches wide (the book's column
width) with labels of at least 10 points, and reads what it draws from its arguments — a waveform
and STFT settings, a feature extractor, built models, an encoder's train modes — so a diagram can
never disagree with the code beside it. The parts a reader should find carry a matplotlib ``gid``
(``"frame-0"``, ``"step-resample"``, ``"block-attention"``…), which the tests look for.

==========================  ===============================================  =========
function                    what it shows                                    chapter
==========================  ===============================================  =========
:func:`stft_framing`        STFT frames and hops on a real waveform          1
:func:`pipeline_diagram`    from a file to a batch to the model              3
:func:`architecture_diagram`  models as their measured stages, attention     4
:func:`transfer_diagram`    which blocks learn: scratch, fine-tuned, frozen  5
:func:`split_diagram`       a leaky split beside a split by source           6
:func:`cv_folds_diagram`    five folds: which one each run tests             7
==========================  ===============================================  =========

One module per diagram family (``framing``, ``pipeline``, ``architecture``, ``transfer``,
``splits``, ``folds``), sharing
fonts, colours and drawing helpers from ``_style``; every name is importable from here.
"""

from __future__ import annotations

# MIN_FONT_PT, ATTENTION_FORMULA, DEFAULT_TRANSFER_MODES and the two colours stay importable from here.
from ._style import _FROZEN, _LEARNS, MIN_FONT_PT  # noqa: F401
from .architecture import ATTENTION_FORMULA, architecture_diagram, describe_module  # noqa: F401
from .folds import cv_folds_diagram
from .framing import stft_framing
from .pipeline import pipeline_diagram
from .splits import split_diagram
from .transfer import DEFAULT_TRANSFER_MODES, transfer_diagram  # noqa: F401

__all__ = ["stft_framing", "pipeline_diagram", "architecture_diagram", "transfer_diagram", "split_diagram",
           "cv_folds_diagram", "describe_module"]
