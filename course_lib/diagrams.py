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
==========================  ===============================================  =========
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle
from torch import nn

from .models import run_with_hooks

__all__ = ["stft_framing", "pipeline_diagram", "architecture_diagram", "transfer_diagram", "describe_module"]

#: Smallest font size (points) any diagram uses: 10 px where a 10-inch figure is shown in the
#: book's 684-pixel column (measured at a 1280-pixel window).
MIN_FONT_PT = 10.5
_FONT = 11.0
_TITLE_FONT = 12.5
_LEARNS = "#f4a259"  # orange: weights that learn
_FROZEN = "#9db4c8"  # grey-blue: weights that do not
_STAGE_COLOURS = ("#dbe9f6", "#fde7c8")


def _positive_int(value: object, name: str, who: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{who}: {name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def _check_width(width: float, who: str) -> float:
    if isinstance(width, bool) or not isinstance(width, (int, float)) or not 6.0 <= width <= 16.0:
        raise ValueError(f"{who}: width must be between 6 and 16 inches (the book's column is about 10), got {width!r}.")
    return float(width)


def _mono_numpy(waveform: torch.Tensor | np.ndarray, who: str) -> np.ndarray:
    data = waveform.detach().cpu().double().numpy() if isinstance(waveform, torch.Tensor) else np.asarray(waveform, dtype=np.float64)
    if data.ndim == 2 and data.shape[0] == 1:
        data = data[0]
    if data.ndim != 1:
        raise ValueError(
            f"{who} draws one channel: expected a waveform shaped (samples,) or (1, samples), got {tuple(data.shape)}. "
            "Fix: mix it down first with course_lib.audio_io.to_mono."
        )
    if not np.isfinite(data).all():
        raise ValueError(f"{who}: the waveform holds NaN or infinite samples; fix the audio before drawing it.")
    return data


def _box(ax, x: float, y: float, w: float, h: float, text: str, *, colour: str, gid: str, fontsize: float = _FONT,
         edge: str = "#444444") -> FancyBboxPatch:
    """A rounded box: the first line of ``text`` bold at the top, the others centred below it.

    Coordinates are in the axes' data units (the diagrams use inches).
    """
    patch = FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.0,rounding_size=0.08", facecolor=colour,
                           edgecolor=edge, linewidth=1.0, gid=gid)
    ax.add_patch(patch)
    title, *rest = text.split("\n")
    line = fontsize / 72 * 1.25  # one line of text, inches
    if rest:
        ax.text(x + w / 2, y + h - 0.07, title, ha="center", va="top", fontsize=fontsize, fontweight="bold",
                gid=gid + "-title")
        ax.text(x + w / 2, y + (h - 0.07 - line) / 2, "\n".join(rest), ha="center", va="center", fontsize=fontsize,
                linespacing=1.15, gid=gid + "-text")
    else:
        ax.text(x + w / 2, y + h / 2, title, ha="center", va="center", fontsize=fontsize, fontweight="bold",
                gid=gid + "-title")
    return patch


def _arrow(ax, start: tuple[float, float], end: tuple[float, float], *, gid: str | None = None,
           colour: str = "#333333", style: str = "-|>", lw: float = 1.3, connection: str = "arc3") -> FancyArrowPatch:
    arrow = FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=12, color=colour, linewidth=lw,
                            connectionstyle=connection, gid=gid, shrinkA=0, shrinkB=0)
    ax.add_patch(arrow)
    return arrow


def _shape(shape: Sequence[int]) -> str:
    return "(" + ", ".join(str(int(s)) for s in shape) + ")"


# ---------------------------------------------------------------------------------------------
# (a) STFT framing — chapter 1


def stft_framing(
    waveform: torch.Tensor | np.ndarray,
    sample_rate: int,
    *,
    n_fft: int,
    hop_length: int,
    n_frames: int = 4,
    first_frame: int = 0,
    center: bool = True,
    width: float = 10.0,
    title: str | None = None,
) -> Figure:
    """Draw how the STFT cuts a waveform into frames: windows of ``n_fft`` samples, ``hop_length`` apart.

    Top: the whole waveform, with the stretch drawn below shaded. Bottom: that stretch zoomed, the
    Hann window of each frame over it, and one bar per frame (its span and its centre) with the hop
    and the window length marked in samples and milliseconds. With ``center=True`` (torchaudio's
    and librosa's default) frame ``t`` is centred on sample ``t * hop_length`` and the signal is
    padded by reflection at both ends (drawn dashed); with ``center=False`` frame ``t`` starts there.

    Args:
        waveform: ``(samples,)`` or ``(1, samples)``, any amplitude.
        sample_rate: Hz.
        n_fft: window length, samples (2 … number of samples).
        hop_length: samples between frame starts (1 … ``n_fft``: a larger hop would skip samples).
        n_frames: frames drawn in the zoom (1 … 12).
        first_frame: index of the first frame drawn.
        center: torchaudio's ``center`` argument.
        width: figure width, inches.
        title: replaces the default title.

    Returns:
        The figure; frames carry gids ``"frame-<t>"``, the hop arrow ``"hop"``, the window arrow ``"n_fft"``.

    Raises:
        ValueError: a multi-channel waveform, non-finite samples, or sizes that do not fit (the
            message names the value and the fix).

    Introduced in chapter 1.
    """
    from .features import frame_count

    who = "stft_framing"
    data = _mono_numpy(waveform, who)
    sample_rate = _positive_int(sample_rate, "sample_rate", who)
    n_fft = _positive_int(n_fft, "n_fft", who, minimum=2)
    hop_length = _positive_int(hop_length, "hop_length", who)
    n_frames = _positive_int(n_frames, "n_frames", who)
    first_frame = _positive_int(first_frame, "first_frame", who, minimum=0)
    width = _check_width(width, who)
    if n_frames > 12:
        raise ValueError(f"{who}: n_frames={n_frames} would be unreadable; draw at most 12 frames.")
    if hop_length > n_fft:
        raise ValueError(
            f"{who}: hop_length={hop_length} is larger than n_fft={n_fft}: the samples between frames would never be "
            "analysed. Use hop_length <= n_fft (commonly n_fft // 4)."
        )
    if n_fft > data.size:
        raise ValueError(f"{who}: n_fft={n_fft} is longer than the waveform ({data.size} samples); use a longer clip or a smaller n_fft.")
    total = frame_count(data.size, hop_length, n_fft=n_fft, center=center)
    if first_frame + n_frames > total:
        raise ValueError(
            f"{who}: frames {first_frame}…{first_frame + n_frames - 1} asked for, but this waveform of {data.size} samples "
            f"has {total} frames (0…{total - 1}) with hop_length={hop_length}; lower first_frame or n_frames."
        )

    frames = np.arange(first_frame, first_frame + n_frames)
    starts = frames * hop_length - (n_fft // 2 if center else 0)  # first sample of each frame
    lo, hi = int(starts[0]), int(starts[-1] + n_fft)
    index = np.arange(lo, hi)
    padded = np.pad(data, (n_fft // 2, n_fft // 2), mode="reflect") if center else data
    segment = padded[index + (n_fft // 2 if center else 0)]
    inside = (index >= 0) & (index < data.size)
    peak = float(np.abs(segment).max()) or 1.0
    t_ms = 1000.0 * index / sample_rate
    ms = lambda samples: 1000.0 * samples / sample_rate  # noqa: E731

    fig = plt.figure(figsize=(width, 2.2 + 0.32 * n_frames + 2.6))
    grid = fig.add_gridspec(2, 1, height_ratios=[1.0, 2.6 + 0.3 * n_frames], hspace=0.45)
    ax_full, ax = fig.add_subplot(grid[0]), fig.add_subplot(grid[1])

    # The whole clip, the zoomed stretch shaded.
    seconds = np.arange(data.size) / sample_rate
    ax_full.plot(seconds, data, color="#555555", linewidth=0.5)
    ax_full.axvspan(max(lo, 0) / sample_rate, min(hi, data.size) / sample_rate, color="#f4a259", alpha=0.45, gid="zoom-region")
    ax_full.set_xlim(0, data.size / sample_rate)
    ax_full.set_xlabel("time (s)", fontsize=_FONT)
    ax_full.set_ylabel("amplitude", fontsize=_FONT)
    ax_full.tick_params(labelsize=_FONT)
    ax_full.set_title(
        title or f"n_fft = {n_fft} samples ({ms(n_fft):g} ms), hop_length = {hop_length} samples "
        f"({ms(hop_length):g} ms) at {sample_rate} Hz — {total} frames in this {data.size / sample_rate:g} s clip",
        fontsize=_TITLE_FONT,
    )

    # The zoom: waveform (dashed where it is reflection padding), each frame's window over it.
    scaled = segment / peak
    ax.plot(np.where(inside, t_ms, np.nan), np.where(inside, scaled, np.nan), color="#333333", linewidth=0.8, label="waveform")
    if not inside.all():
        ax.plot(np.where(~inside, t_ms, np.nan), np.where(~inside, scaled, np.nan), color="#999999", linewidth=0.8,
                linestyle="--", label="reflection padding (center=True)")
    colours = plt.get_cmap("tab10")(np.arange(n_frames) % 10)
    window = np.hanning(n_fft + 1)[:-1]  # periodic Hann, as torch.hann_window
    bar_h, bar_gap = 0.24, 0.1
    for k, (frame, start) in enumerate(zip(frames, starts)):
        span_ms = ms(np.arange(start, start + n_fft))
        ax.plot(span_ms, window, color=colours[k], linewidth=1.4, alpha=0.9)
        y = -1.25 - k * (bar_h + bar_gap)
        ax.add_patch(Rectangle((ms(start), y - bar_h), ms(n_fft), bar_h, facecolor=colours[k], alpha=0.55,
                               edgecolor=colours[k], gid=f"frame-{frame}"))
        centre = start + n_fft // 2
        ax.plot([ms(centre)], [y - bar_h / 2], marker="o", color="black", markersize=4)
        ax.text(ms(start) + ms(n_fft) + ms(hop_length) * 0.08, y - bar_h / 2, f"frame {frame}", va="center",
                fontsize=_FONT, gid=f"frame-{frame}-label")
    bottom = -1.25 - n_frames * (bar_h + bar_gap)

    # The window length on frame 0's bar, the hop between the first two centres.
    y0 = -1.25 - bar_h / 2
    _arrow(ax, (ms(starts[0]), 1.18), (ms(starts[0] + n_fft), 1.18), style="<|-|>", gid="n_fft")
    ax.text(ms(starts[0] + n_fft / 2), 1.24, f"n_fft = {n_fft} samples = {ms(n_fft):g} ms", ha="center", va="bottom",
            fontsize=_FONT, gid="n_fft-label")
    if n_frames > 1:
        c0, c1 = ms(starts[0] + n_fft // 2), ms(starts[1] + n_fft // 2)
        for c in (c0, c1):
            ax.plot([c, c], [y0, bottom - 0.1], color="#666666", linewidth=0.8, linestyle=":")
        _arrow(ax, (c0, bottom - 0.1), (c1, bottom - 0.1), style="<|-|>", gid="hop")
        ax.text(c1 + ms(hop_length) * 0.1, bottom - 0.1, f"hop_length = {hop_length} samples = {ms(hop_length):g} ms",
                va="center", fontsize=_FONT, gid="hop-label")
    ax.axhline(0.0, color="#bbbbbb", linewidth=0.5, zorder=0)
    if center and starts[0] < 0:
        ax.axvline(0.0, color="#999999", linewidth=0.8)
    ax.set_ylim(bottom - 0.35, 1.55)
    ax.set_xlim(t_ms[0], t_ms[-1] + ms(n_fft) * 0.45)
    ax.set_yticks([-1, 0, 1], ["−peak", "0", "+peak"])
    ax.set_xlabel("time (ms)", fontsize=_FONT)
    ax.tick_params(labelsize=_FONT)
    where = "centred on t · hop_length (center=True)" if center else "starting at t · hop_length (center=False)"
    ax.set_title(f"zoom: frames {frames[0]}…{frames[-1]}, each a Hann window of n_fft samples {where}", fontsize=_FONT)
    ax.legend(loc="upper right", fontsize=_FONT, framealpha=0.9)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.93, bottom=0.08)
    return fig


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

    Top row, done **once per file** by :func:`course_lib.pipeline.cached_features` (in threads):
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
    if isinstance(duration_s, bool) or not isinstance(duration_s, (int, float)) or not 0 < duration_s <= 600:
        raise ValueError(f"{who}: duration_s must be a number of seconds in (0, 600], got {duration_s!r}.")
    batch_size = _positive_int(batch_size, "batch_size", who)
    n_classes = _positive_int(n_classes, "n_classes", who, minimum=2)
    width = _check_width(width, who)
    if file_rate_hz is not None:
        file_rate_hz = _positive_int(file_rate_hz, "file_rate_hz", who)
    if file_channels is not None:
        file_channels = _positive_int(file_channels, "file_channels", who)

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
        masks = (f"masks ≤ {spec_augment.freq_mask_param} bands\nand ≤ {spec_augment.time_mask_param} frames"
                 if hasattr(spec_augment, "freq_mask_param") else type(spec_augment).__name__)
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


# ---------------------------------------------------------------------------------------------
# (c) Architectures — chapter 4


def describe_module(module: nn.Module) -> str:
    """A short human description of one layer or block, read from its attributes (``conv 3×3, 1→16``).

    Containers are described as their layers joined by `` · ``.
    """
    def one(m: nn.Module) -> str | None:
        name = type(m).__name__
        if isinstance(m, nn.Conv2d):
            k = m.kernel_size
            return f"conv {k[0]}×{k[1]}, {m.in_channels}→{m.out_channels}"
        if isinstance(m, nn.Conv1d):
            return f"conv1d {m.kernel_size[0]}, {m.in_channels}→{m.out_channels}"
        if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
            k = m.kernel_size if isinstance(m.kernel_size, tuple) else (m.kernel_size, m.kernel_size)
            return f"{'max' if isinstance(m, nn.MaxPool2d) else 'avg'}-pool {k[0]}×{k[1]}"
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            return "batch norm"
        if isinstance(m, (nn.ReLU, nn.Tanh, nn.GELU, nn.Sigmoid)):
            return name
        if isinstance(m, nn.Dropout):
            return f"dropout {m.p:g}"
        if isinstance(m, nn.Linear):
            return f"linear {m.in_features}→{m.out_features}"
        if isinstance(m, (nn.LSTM, nn.GRU)):
            kind = "LSTM" if isinstance(m, nn.LSTM) else "GRU"
            return (f"{'bidirectional ' if m.bidirectional else ''}{kind}, {m.num_layers} layer"
                    f"{'s' if m.num_layers > 1 else ''}, {m.input_size} in, {m.hidden_size} out"
                    f"{' per direction' if m.bidirectional else ''}")
        if name == "AttentionPool":
            first = m.score[0]
            return f"attention pooling: score {first.in_channels}→{first.out_channels}→1, softmax over time"
        if name == "ComputeDeltas":
            return f"+ delta (over {m.win_length} frames)"
        if name == "RegionPool":
            return f"max-pool to {m.freq_regions} regions × {m.time_pool} frames"
        return None

    text = one(module)
    if text is not None:
        return text
    parts = [one(m) for m in module.modules() if m is not module and not list(m.children())]
    parts = [p for p in parts if p]
    return " · ".join(parts) if parts else type(module).__name__


def _stages(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The model's top-level children, with a ``Sequential`` of blocks (a conv stack) split into its blocks."""
    stages: list[tuple[str, nn.Module]] = []
    for name, child in model.named_children():
        grandchildren = list(child.named_children())
        if isinstance(child, nn.Sequential) and grandchildren and all(list(g.children()) for _, g in grandchildren):
            stages += [(f"{name}.{n}", g) for n, g in grandchildren]
        else:
            stages.append((name, child))
    return stages


def _measure_stages(model: nn.Module, x: torch.Tensor) -> list[dict]:
    """Run ``model`` once and record, in call order, each stage's input and output shape and parameters."""
    records: list[dict] = []

    def record(name: str, module: nn.Module, inputs: tuple, output) -> None:
        out = output[0] if isinstance(output, tuple) else output
        first = inputs[0] if inputs else None
        records.append({
            "name": name, "module": module,
            "in": tuple(first.shape) if isinstance(first, torch.Tensor) else None,
            "out": tuple(out.shape) if isinstance(out, torch.Tensor) else None,
            "params": sum(p.numel() for p in module.parameters()),
        })

    run_with_hooks(model, x, _stages(model), record)
    seen, ordered = set(), []
    for r in records:  # a stage called twice is drawn once
        if r["name"] not in seen:
            seen.add(r["name"])
            ordered.append(r)
    return ordered


ATTENTION_FORMULA = (r"$e_t = v^{\mathsf{T}}\tanh(W h_t + b) + c,\qquad"
                     r"\alpha_t = \frac{\exp(e_t)}{\sum_{s=1}^{T}\exp(e_s)},\qquad z = \sum_{t=1}^{T}\alpha_t\, h_t$")


def architecture_diagram(
    models: Mapping[str, nn.Module] | nn.Module,
    input_shape: Sequence[int],
    *,
    show_formula: bool = True,
    width: float = 10.0,
) -> Figure:
    """Draw models side by side as the stages they run, each with its layers, parameters and measured output shape.

    The stages are the models' own children (a ``Sequential`` of convolution blocks is split into
    its blocks), described from their attributes (:func:`describe_module`) and measured by running
    the model once on a zero input of ``input_shape``: nothing is listed by hand, so the diagram
    follows any change to a model. Where ``forward`` changes a shape between two stages without a
    layer (a mean over frequency, a reshape into a sequence), the arrow says so. With
    ``show_formula``, the attention pooling of :class:`course_lib.models.AttentionPool` is written
    below as an equation.

    Args:
        models: ``{title: model}`` (one column each), or one model.
        input_shape: ``(batch, 1, n_mels, frames)`` of the input the shapes are measured with.
        show_formula: add the attention pooling equation.
        width: figure width, inches.

    Returns:
        The figure; each stage's box has gid ``"block-<column>-<stage>"`` (``block-0-attention``).

    Raises:
        ValueError: no model, too many to read side by side (> 4), or a malformed ``input_shape``.

    Introduced in chapter 4.
    """
    who = "architecture_diagram"
    if isinstance(models, nn.Module):
        models = {type(models).__name__: models}
    if not isinstance(models, Mapping) or not models or not all(isinstance(m, nn.Module) for m in models.values()):
        raise ValueError(f"{who}: models must be a model or a non-empty {{title: model}} mapping, got {type(models).__name__}.")
    if len(models) > 4:
        raise ValueError(f"{who}: {len(models)} models side by side would be unreadable at the column width; draw at most 4.")
    shape = tuple(input_shape)
    if len(shape) != 4 or shape[1] != 1 or not all(isinstance(s, int) and s > 0 for s in shape):
        raise ValueError(f"{who}: input_shape must be (batch, 1, n_mels, frames) with positive sizes, got {input_shape!r}.")
    width = _check_width(width, who)
    x = torch.zeros(shape)
    measured = {title: _measure_stages(model, x) for title, model in models.items()}

    n_cols = len(models)
    col_w = width / n_cols
    wrap = max(18, int(col_w * 10.8))
    labels = {title: ["\n".join(textwrap.wrap(describe_module(r["module"]), wrap)[:3]) for r in stages]
              for title, stages in measured.items()}
    most_lines = max(label.count("\n") + 2 for column in labels.values() for label in column)
    box_h = 0.16 + most_lines * _FONT / 72 * 1.3
    gap = 0.42
    most = max(len(v) for v in measured.values())
    formula_h = 1.1 if show_formula else 0.0
    top = 0.75 + 0.5  # column title, input line
    height = top + (box_h + gap) * most + 0.85 + formula_h
    fig, ax = plt.subplots(figsize=(width, height))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    for c, (title, stages) in enumerate(measured.items()):
        model = models[title]
        x0 = c * col_w + 0.1
        w = col_w - 0.2
        cx = x0 + w / 2
        total = sum(p.numel() for p in model.parameters())
        ax.text(cx, height - 0.08, f"{title}\n{total:,} parameters".replace(",", " "), ha="center", va="top",
                fontsize=_TITLE_FONT, fontweight="bold", gid=f"title-{c}")
        y = height - top  # bottom of the input line
        ax.text(cx, y + 0.12, f"input {_shape(shape)}", ha="center", va="center", fontsize=_FONT,
                family="monospace", gid=f"input-{c}")
        previous_out = shape
        for r, label in zip(stages, labels[title]):
            box_top = y - gap
            _arrow(ax, (cx, y), (cx, box_top))
            if y != height - top and previous_out is not None:
                ax.text(cx - 0.07, y - gap / 2, _shape(previous_out), ha="right", va="center", fontsize=_FONT,
                        family="monospace", color="#1f3b73", gid=f"shape-{c}-{previous_name}")
            if r["in"] is not None and previous_out is not None and tuple(r["in"]) != tuple(previous_out):
                ax.text(cx + 0.07, y - gap / 2, f"→ {_shape(r['in'])}", fontsize=_FONT, va="center",
                        ha="left", color="#8a4b00", gid=f"reshape-{c}-{r['name']}")
            is_attention = type(r["module"]).__name__ == "AttentionPool"
            colour = "#fde7c8" if is_attention else ("#e3f1e1" if isinstance(r["module"], (nn.LSTM, nn.GRU)) else "#dbe9f6")
            _box(ax, x0, box_top - box_h, w, box_h, f"{r['name']}  ({r['params']:,} weights)".replace(",", " ") + "\n" + label,
                 colour=colour, gid=f"block-{c}-{r['name']}", fontsize=_FONT)
            previous_out, previous_name = r["out"], r["name"]
            y = box_top - box_h
        if previous_out is not None:
            ax.text(cx, y - 0.08, f"output {_shape(previous_out)}", ha="center", va="top", fontsize=_FONT,
                    family="monospace", color="#1f3b73", gid=f"shape-{c}-{previous_name}")
    ax.text(0.1, formula_h + 0.05, "blue: the output shape of each stage\norange: the shape forward() turns it into "
            "before the next stage (a mean over frequency, or a reshape into a sequence)",
            fontsize=_FONT, va="bottom", ha="left", gid="legend")
    if show_formula:
        ax.text(width / 2, 0.7, ATTENTION_FORMULA, ha="center", va="center", fontsize=_TITLE_FONT + 1, gid="formula")
        ax.text(width / 2, 0.2,
                "score each time step h_t; a softmax over time gives weights α_t ≥ 0 that sum to 1; "
                "z is the weighted average",
                ha="center", va="center", fontsize=_FONT, gid="formula-caption")
    fig.subplots_adjust(left=0.005, right=0.995, top=0.995, bottom=0.005)
    return fig


# ---------------------------------------------------------------------------------------------
# (d) Transfer learning — chapter 5

#: The three ways of training chapter 5 compares: ``(label, encoder train mode, blocks unfrozen, pretrained weights)``.
DEFAULT_TRANSFER_MODES: tuple[tuple[str, str, int, bool], ...] = (
    ("from scratch", "full", 1, False),
    ("fine-tuned: top block", "partial", 1, True),
    ("frozen encoder", "frozen", 1, True),
)


def transfer_diagram(
    encoder: nn.Module,
    *,
    n_classes: int,
    head: nn.Module | None = None,
    modes: Sequence[tuple[str, str, int, bool]] = DEFAULT_TRANSFER_MODES,
    width: float = 10.0,
) -> Figure:
    """Draw which blocks of an encoder + head learn in each way of training: from scratch, fine-tuned, frozen.

    For every mode the encoder's own ``set_train_mode`` is applied and the blocks whose parameters
    then have ``requires_grad`` are drawn as learning (orange) — measured, not assumed; the
    encoder's train mode is restored afterwards. Each block shows its parameter count and whether
    it starts from pretrained or random weights.

    Args:
        encoder: a :class:`course_lib.pretrained.base.PretrainedEncoder` (``blocks()``,
            ``set_train_mode(mode, n_unfrozen)``, ``train_mode``, ``n_unfrozen``, ``output_dim``).
        n_classes: outputs of the head.
        head: the classification head (default ``nn.Linear(encoder.output_dim, n_classes)``); it always learns.
        modes: ``(label, mode, n_unfrozen, pretrained)`` per column (1 … 4 columns).
        width: figure width, inches.

    Returns:
        The figure; boxes have gids ``"mode-<column>-<block>"`` and ``"mode-<column>-head"``.

    Raises:
        TypeError: ``encoder`` lacks ``blocks`` / ``set_train_mode``.
        ValueError: bad ``n_classes``, ``modes`` or ``width`` (named in the message).

    Introduced in chapter 5.
    """
    who = "transfer_diagram"
    if not all(hasattr(encoder, a) for a in ("blocks", "set_train_mode", "train_mode", "n_unfrozen")):
        raise TypeError(
            f"{who}: encoder must be a course_lib.pretrained encoder with blocks() and set_train_mode(), "
            f"got {type(encoder).__name__}."
        )
    n_classes = _positive_int(n_classes, "n_classes", who, minimum=2)
    width = _check_width(width, who)
    modes = list(modes)
    if not 1 <= len(modes) <= 4 or not all(isinstance(m, tuple) and len(m) == 4 for m in modes):
        raise ValueError(f"{who}: modes must be 1 to 4 tuples (label, mode, n_unfrozen, pretrained), got {modes!r}.")
    if head is None:
        head = nn.Linear(int(encoder.output_dim), n_classes)
    blocks = [(name, sum(p.numel() for m in mods for p in m.parameters())) for name, mods in encoder.blocks()]
    head_params = sum(p.numel() for p in head.parameters())

    saved = (encoder.train_mode, encoder.n_unfrozen)
    learning: list[list[bool]] = []
    try:
        for _label, mode, n_unfrozen, _pretrained in modes:
            encoder.set_train_mode(mode, n_unfrozen)
            learning.append([any(p.requires_grad for m in mods for p in m.parameters()) for _, mods in encoder.blocks()])
    finally:
        encoder.set_train_mode(saved[0], max(1, saved[1]))

    n_rows = len(blocks) + 2  # input, blocks, head
    row_h = 0.78
    height = 0.6 + row_h * n_rows + 0.75
    fig, ax = plt.subplots(figsize=(width, height))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    col_w = width / len(modes)
    fmt = lambda n: f"{n:,}".replace(",", " ")  # noqa: E731
    for c, ((label, _mode, _n, pretrained), learns) in enumerate(zip(modes, learning)):
        x0, w = c * col_w + 0.2, col_w - 0.4
        trainable = head_params + sum(n for (_, n), on in zip(blocks, learns) if on)
        ax.text(x0 + w / 2, height - 0.2, f"{label}\n{fmt(trainable)} weights learn", ha="center", va="top",
                fontsize=_TITLE_FONT, fontweight="bold", gid=f"mode-{c}-title")
        y = 0.6
        _box(ax, x0, y, w, row_h * 0.72, "log-mel input", colour="#f2f2f2", gid=f"mode-{c}-input", fontsize=_FONT)
        rows = [(name, n, on, "pretrained" if pretrained else "random init") for (name, n), on in zip(blocks, learns)]
        rows.append(("head", head_params, True, "random init"))
        for name, n, on, start in rows:
            _arrow(ax, (x0 + w / 2, y + row_h * 0.72), (x0 + w / 2, y + row_h))
            y += row_h
            state = "learns" if on else "frozen"
            title = f"{name if name != 'head' else 'head (' + type(head).__name__ + ')'}: {state}"
            _box(ax, x0, y, w, row_h * 0.72, f"{title}\n{fmt(n)} weights, {start}", colour=_LEARNS if on else _FROZEN,
                 gid=f"mode-{c}-{name}", fontsize=_FONT)
    handles = [Rectangle((0, 0), 1, 1, facecolor=_LEARNS, edgecolor="#444444"),
               Rectangle((0, 0), 1, 1, facecolor=_FROZEN, edgecolor="#444444")]
    ax.legend(handles, ["learns (requires_grad=True)", "frozen (requires_grad=False)"], loc="lower center",
              ncol=2, fontsize=_FONT, frameon=False, bbox_to_anchor=(0.5, -0.01))
    fig.subplots_adjust(left=0.005, right=0.995, top=0.99, bottom=0.02)
    return fig
