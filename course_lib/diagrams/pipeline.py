"""From a file to a batch to the model: the data pipeline as boxes with measured shapes (chapter 3)."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from torch import nn

from .._checks import check_int, check_number
from ._style import _FONT, _STAGE_COLOURS, _TITLE_FONT, _arrow, _box, _check_width

__all__ = [
    "pipeline_diagram",
]


# ---------------------------------------------------------------------------------------------
# (b) The pipeline — chapter 3


def pipeline_diagram(
    feature: nn.Module,
    *,
    duration_s: float,
    batch_size: int,
    n_classes: int,
    spec_augment: nn.Module | None = None,
    model: nn.Module | None = None,
    file_rate_hz: int | None = None,
    file_channels: int | None = None,
    width: float = 10.0,
) -> Figure:
    """Draw the course's data pipeline, from a file on disk to the model's logits, with the page's settings.

    Top row, done **once per file** by :func:`course_lib.data.cache.cached_features` (in threads):
    decode → mix down → crop/pad (at the file's rate) → resample → mel → dB → standardise. Bottom
    row, **every epoch**: cache → loader → SpecAugment → model. Every box states its settings and
    the shape it outputs, computed from the arguments (``feature.num_frames`` for the frames).

    Args:
        feature: a :class:`course_lib.features.LogMelSpectrogram` (its sample rate, ``n_fft``, hop,
            bands and ``top_db`` are drawn).
        duration_s: clip length after crop/pad, seconds.
        batch_size: examples per batch of the loader.
        n_classes: size of the model's output.
        spec_augment: the :class:`course_lib.augment.SpecAugment` used in training, or ``None``.
        model: the model (its class name and parameter count are drawn), or ``None``.
        file_rate_hz, file_channels: an example file's rate and channels (else drawn as symbols).
        width: figure width, inches.

    Returns:
        The figure; each box has gid ``"step-<name>"`` (``step-decode`` … ``step-model``).

    Raises:
        TypeError: ``feature`` is not a log-mel extractor with the course's attributes.
        ValueError: a size that is not positive (named in the message).

    Introduced in chapter 3.
    """
    who = "pipeline_diagram"
    needed = ("sample_rate", "n_fft", "hop_length", "n_mels", "num_frames")
    if not isinstance(feature, nn.Module) or not all(hasattr(feature, a) for a in needed):
        raise TypeError(
            f"{who}: feature must be a course_lib.features.LogMelSpectrogram (it needs {', '.join(needed)}), "
            f"got {type(feature).__name__}."
        )
    check_number(duration_s, "duration_s", minimum=0.0, include_minimum=False, maximum=600.0, unit="s", owner=who)
    batch_size = check_int(batch_size, "batch_size", minimum=1, owner=who, allow_numpy=True)
    n_classes = check_int(n_classes, "n_classes", minimum=2, owner=who, allow_numpy=True)
    width = _check_width(width, who)
    if file_rate_hz is not None:
        file_rate_hz = check_int(file_rate_hz, "file_rate_hz", minimum=1, owner=who, allow_numpy=True)
    if file_channels is not None:
        file_channels = check_int(file_channels, "file_channels", minimum=1, owner=who, allow_numpy=True)

    sr, n_mels = int(feature.sample_rate), int(feature.n_mels)
    samples = round(duration_s * sr)
    frames = int(feature.num_frames(samples))
    top_db = getattr(getattr(feature, "to_db", None), "top_db", None)
    channels = str(file_channels) if file_channels else "C"
    rate_text = f"{file_rate_hz} Hz" if file_rate_hz else "the file's rate"
    file_samples = str(round(duration_s * file_rate_hz)) if file_rate_hz else "S"
    fmt = lambda n: f"{n:,}".replace(",", " ")  # noqa: E731

    once = [
        ("decode", "soundfile:\nWAV, FLAC,\nOGG, AIFF", f"({channels}, samples)\nat {rate_text}"),
        ("mix down", "mean of the\nchannels", "(1, samples)"),
        ("crop / pad", f"to {duration_s:g} s,\nat the file's\nrate", f"(1, {file_samples})"),
        ("resample", f"soxr, to\n{sr} Hz", f"(1, {samples})"),
        ("mel", f"n_fft {feature.n_fft}\nhop {feature.hop_length}\n{n_mels} bands", f"(1, {n_mels}, {frames})"),
        ("dB", "10·log10(P)" + (f"\ntop_db {top_db:g}" if top_db is not None else ""), f"(1, {n_mels}, {frames})"),
        ("standardise", "per clip:\nmean 0,\nvariance 1", f"(1, {n_mels}, {frames})"),
    ]
    if spec_augment is not None:
        if hasattr(spec_augment, "mask_widths"):  # widths in bins / frames, or shares of them
            freq_width, time_width = spec_augment.mask_widths(n_mels, frames)
            masks = f"masks ≤ {freq_width} bands\nand ≤ {time_width} frames"
        else:
            masks = type(spec_augment).__name__
        augment_text = masks + "\n(training only)"
    else:
        augment_text = "none on this page"
    model_text = (f"{type(model).__name__}\n{fmt(sum(p.numel() for p in model.parameters()))} parameters"
                  if model is not None else "any course model")
    every = [
        ("cache", "FeatureCache on disk:\nkey = file + settings", f"(N, 1, {n_mels}, {frames})"),
        ("loader", f"batches of {batch_size},\nseeded shuffle", f"({batch_size}, 1, {n_mels}, {frames})"),
        ("SpecAugment", augment_text, f"({batch_size}, 1, {n_mels}, {frames})"),
        ("model", model_text, f"({batch_size}, {n_classes}) logits"),
    ]

    height = 5.3
    fig, ax = plt.subplots(figsize=(width, height))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    margin, gap = 0.12, 0.16
    box_h = 1.2
    rows = ((once, 3.2, "once per file, in threads — then kept (section 3.5)", _STAGE_COLOURS[0]),
            (every, 0.62, "every epoch, a whole batch at a time", _STAGE_COLOURS[1]))
    exit_point = None
    for steps, y, caption, colour in rows:
        box_w = (width - 2 * margin - gap * (len(steps) - 1)) / len(steps)
        if steps is every:
            box_w = min(box_w, 2.1)
        ax.add_patch(Rectangle((0.03, y - 0.55), width - 0.06, box_h + 1.0, facecolor=colour, alpha=0.55,
                               edgecolor="none", gid="stage-once" if steps is once else "stage-every-epoch"))
        x0 = margin
        caption_x = margin if steps is once else margin + box_w / 2 + 0.12  # right of the arrow coming down
        ax.text(caption_x, y + box_h + 0.25, caption, fontsize=_FONT, fontstyle="italic", va="center")
        for k, (name, detail, shape) in enumerate(steps):
            x = x0 + k * (box_w + gap)
            gid = "step-" + name.lower().replace(" / ", "-").replace(" ", "-")
            _box(ax, x, y, box_w, box_h, f"{name}\n{detail}", colour="white", gid=gid, fontsize=_FONT)
            ax.text(x + box_w / 2, y - 0.08, shape, ha="center", va="top", fontsize=_FONT, family="monospace",
                    gid=gid + "-shape")
            if k > 0:
                _arrow(ax, (x - gap, y + box_h / 2), (x, y + box_h / 2))
            elif exit_point is not None:  # from the last step of the first row down to the cache
                _arrow(ax, exit_point, (x + box_w / 2, y + box_h), connection="angle,angleA=180,angleB=90,rad=0",
                       gid="to-every-epoch")
        exit_point = (x + box_w / 2, y - 0.5)
    ax.set_title(f"From a file to the model: {duration_s:g} s clips at {sr} Hz, {n_mels} mel bands, "
                 f"batches of {batch_size} (shapes below each step)", fontsize=_TITLE_FONT)
    fig.subplots_adjust(left=0.01, right=0.99, top=0.93, bottom=0.01)
    return fig
