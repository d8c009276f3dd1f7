"""STFT frames and hops drawn on a real waveform (chapter 1)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .._checks import check_int
from ._style import _FONT, _TITLE_FONT, _arrow, _check_width, _mono_numpy

__all__ = [
    "stft_framing",
]


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
    from ..features import frame_count

    who = "stft_framing"
    data = _mono_numpy(waveform, who)
    sample_rate = check_int(sample_rate, "sample_rate", minimum=1, owner=who, allow_numpy=True)
    n_fft = check_int(n_fft, "n_fft", minimum=2, owner=who, allow_numpy=True)
    hop_length = check_int(hop_length, "hop_length", minimum=1, owner=who, allow_numpy=True)
    n_frames = check_int(n_frames, "n_frames", minimum=1, owner=who, allow_numpy=True)
    first_frame = check_int(first_frame, "first_frame", minimum=0, owner=who, allow_numpy=True)
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
