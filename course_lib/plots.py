"""Figures and players for audio: waveform, spectrogram, audio player.

Introduced in chapter 1. Axes are always labelled in physical units (seconds, Hz, dB) so that a
reader never has to convert frame or bin indices in their head.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.ticker import MaxNLocator

__all__ = [
    "plot_waveform",
    "plot_spectrogram",
    "mel_band_centers_hz",
    "mel_axis_position",
    "hz_label",
    "COLUMN_WIDTH_PX",
    "rendered_px",
    "audio_player",
    "listening_grid",
    "mistakes_grid",
    "plot_representations",
    "plot_history",
    "plot_confusion_matrix",
]


# The book's text column is about 700 px wide at a 1280 px browser window (the browser test measures
# pages at that size). A figure wider than that is scaled down to it, and its fonts with it: a figure
# W inches wide shows a font of F points at F / 72 * COLUMN_WIDTH_PX / W px (capped at the figure's
# natural size, 100 px per inch). Figures here are at most 9.6 inches wide, so that their smallest
# text (10 pt) stays at 10 px or more on the page.
COLUMN_WIDTH_PX = 700
FIGURE_DPI = 100  # matplotlib's default, which the book's PNGs use
FULL_WIDTH_IN = 9.0  # a figure filling the column: 900 px, shown at 700 px


def rendered_px(fig: plt.Figure, font_pt: float) -> float:
    """How tall a font of ``font_pt`` points in ``fig`` is on the book's page, in CSS pixels.

    A figure wider than the column (:data:`COLUMN_WIDTH_PX`) is scaled down to fit it; a narrower one
    is shown at its natural size (:data:`FIGURE_DPI` pixels per inch).
    """
    width_px = fig.get_figwidth() * FIGURE_DPI
    scale = min(1.0, COLUMN_WIDTH_PX / width_px)
    return font_pt / 72.0 * FIGURE_DPI * scale


def _to_numpy(x: torch.Tensor | np.ndarray) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().float().numpy()
    return np.asarray(x, dtype=np.float32)


def plot_waveform(
    waveform: torch.Tensor | np.ndarray,
    sample_rate: int,
    *,
    ax: plt.Axes | None = None,
    title: str | None = None,
    channel_names: list[str] | None = None,
) -> plt.Axes:
    """Plot amplitude against time in seconds.

    Args:
        waveform: ``(samples,)`` or ``(channels, samples)``; one line per channel.
        sample_rate: Hz.
        ax: axes to draw into (a new figure when ``None``).
        title: optional title.
        channel_names: legend labels, one per channel.
    """
    data = _to_numpy(waveform)
    if data.ndim == 1:
        data = data[None, :]
    if data.ndim != 2:
        raise ValueError(f"plot_waveform expects (samples,) or (channels, samples), got shape {data.shape}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 2.5))
    t = np.arange(data.shape[-1]) / sample_rate
    for i, channel in enumerate(data):
        label = channel_names[i] if channel_names else (f"channel {i}" if data.shape[0] > 1 else None)
        ax.plot(t, channel, linewidth=0.6, label=label, alpha=0.9 if data.shape[0] == 1 else 0.7)
    ax.set_xlim(0, t[-1] if len(t) else 1)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("amplitude")
    if data.shape[0] > 1:
        ax.legend(loc="upper right", fontsize="small")
    if title:
        ax.set_title(title)
    return ax


def _hz_to_mel(f_hz):
    return 2595.0 * np.log10(1.0 + np.asarray(f_hz, dtype=float) / 700.0)


def _mel_to_hz(mel):
    return 700.0 * (10.0 ** (np.asarray(mel, dtype=float) / 2595.0) - 1.0)


def mel_band_centers_hz(n_mels: int, sample_rate: int, f_min_hz: float = 0.0, f_max_hz: float | None = None) -> np.ndarray:
    """Centre frequency (Hz) of each of ``n_mels`` HTK-mel bands, as torchaudio spaces them."""
    f_max_hz = sample_rate / 2 if f_max_hz is None else f_max_hz
    mels = np.linspace(_hz_to_mel(f_min_hz), _hz_to_mel(f_max_hz), n_mels + 2)[1:-1]
    return _mel_to_hz(mels)


def mel_axis_position(
    freq_hz: float | Sequence[float] | np.ndarray,
    n_mels: int,
    sample_rate: int,
    f_min_hz: float = 0.0,
    f_max_hz: float | None = None,
) -> np.ndarray:
    """Where a frequency sits on the vertical axis of a mel spectrogram drawn by :func:`plot_spectrogram`.

    Band ``i`` is drawn as the pixel row from ``i`` to ``i + 1``; its centre ``i + 0.5`` is the band's
    centre frequency (:func:`mel_band_centers_hz`), and between centres the position is interpolated on
    the mel scale (bands are evenly spaced in mel). Frequencies within half a band of the edges land
    just outside ``[0, n_mels]``; callers clip them to the axis.

    Args:
        freq_hz: one or more frequencies, Hz.
        n_mels, sample_rate, f_min_hz, f_max_hz: the mel filter bank's settings (``f_max_hz`` defaults
            to ``sample_rate / 2``).

    Returns:
        Positions in band units, same shape as ``freq_hz``.

    Introduced in chapter 1, for Hz ticks on mel axes.
    """
    if n_mels < 1:
        raise ValueError(f"n_mels must be a positive integer, got {n_mels!r}.")
    f_max_hz = sample_rate / 2 if f_max_hz is None else f_max_hz
    if not 0 <= f_min_hz < f_max_hz:
        raise ValueError(f"need 0 <= f_min_hz < f_max_hz, got f_min_hz={f_min_hz}, f_max_hz={f_max_hz}.")
    lo, hi = _hz_to_mel(f_min_hz), _hz_to_mel(f_max_hz)
    step = (hi - lo) / (n_mels + 1)  # mel distance between neighbouring band centres
    return (_hz_to_mel(freq_hz) - lo) / step - 0.5


def hz_label(freq_hz: float) -> str:
    """A short tick label: ``500``, ``1k``, ``2.5k``, ``16k``."""
    if freq_hz >= 1000:
        return f"{freq_hz / 1000:g}k"
    return f"{freq_hz:g}"


# Tick frequencies for a full-band mel axis (0, 500, 1k, 2k, 4k, 8k, 16k): each about twice the last,
# which the mel scale spaces nearly evenly above 1 kHz.
_MEL_TICKS_HZ = (0.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0, 16000.0)


def _nice_hz_ticks(lo_hz: float, hi_hz: float, *, mel: bool) -> list[float]:
    """Tick frequencies for a frequency range: on a mel axis spanning 4 kHz or more the octave-like
    set (0, 500, 1k, 2k, 4k, 8k), which the mel scale spaces nearly evenly; otherwise (a linear axis,
    a zoom) evenly spaced round numbers."""
    inside = [f for f in _MEL_TICKS_HZ if lo_hz - 1e-6 <= f <= hi_hz + 1e-6]
    if mel and hi_hz >= 4000 and len(inside) >= 3:
        return inside
    from matplotlib.ticker import MaxNLocator

    return [float(f) for f in MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]).tick_values(lo_hz, hi_hz)
            if lo_hz - 1e-6 <= f <= hi_hz + 1e-6]


def plot_spectrogram(
    spec_db: torch.Tensor | np.ndarray,
    sample_rate: int,
    hop_length: int,
    *,
    kind: str = "mel",
    f_min_hz: float = 0.0,
    f_max_hz: float | None = None,
    f_range_hz: tuple[float, float] | None = None,
    ax: plt.Axes | None = None,
    title: str | None = None,
    colorbar: bool = True,
    vmin: float | None = None,
    vmax: float | None = None,
) -> plt.Axes:
    """Show a spectrogram with time in seconds and frequency in Hz.

    Args:
        spec_db: ``(n_bins, frames)`` (a leading axis of size 1 is dropped), in dB.
        sample_rate: sample rate of the audio it came from, Hz.
        hop_length: hop between frames, samples (sets the time axis).
        kind: ``"mel"`` (bins are mel bands, drawn evenly spaced; the ticks are frequencies in Hz —
            0, 500, 1k, 2k, 4k, 8k — placed where they fall on the mel scale, see
            :func:`mel_axis_position`), ``"linear"`` (bins evenly spaced from 0 to
            ``sample_rate / 2``) or ``"mfcc"`` (coefficients).
        f_min_hz, f_max_hz: edges of the mel filter bank (default 0 and Nyquist); they place the ticks.
        f_range_hz: ``(low, high)`` in Hz to zoom the frequency axis to (``"linear"`` and ``"mel"``),
            e.g. ``(0, 2000)`` to see the partials of a low tone; the whole band when ``None``.
        ax, title, colorbar, vmin, vmax: the usual matplotlib options.

    Returns:
        The axes.
    """
    data = _to_numpy(spec_db)
    while data.ndim > 2 and data.shape[0] == 1:
        data = data[0]
    if data.ndim != 2:
        raise ValueError(f"plot_spectrogram expects (n_bins, frames), got shape {data.shape}.")
    if kind not in ("mel", "linear", "mfcc"):
        raise ValueError(f"kind must be 'mel', 'linear' or 'mfcc', got {kind!r}.")
    nyquist = sample_rate / 2
    f_max_hz = nyquist if f_max_hz is None else float(f_max_hz)
    if kind == "mel" and not 0 <= f_min_hz < f_max_hz <= nyquist:
        raise ValueError(
            f"plot_spectrogram: need 0 <= f_min_hz < f_max_hz <= {nyquist:g} Hz (Nyquist), got "
            f"f_min_hz={f_min_hz}, f_max_hz={f_max_hz}. Pass the mel front end's own settings."
        )
    if f_range_hz is not None:
        if kind == "mfcc":
            raise ValueError("plot_spectrogram: f_range_hz zooms a frequency axis; MFCCs have none.")
        low, high = (float(f) for f in f_range_hz)
        top = f_max_hz if kind == "mel" else nyquist
        bottom = f_min_hz if kind == "mel" else 0.0
        if not bottom <= low < high <= top:
            raise ValueError(
                f"plot_spectrogram: f_range_hz must satisfy {bottom:g} <= low < high <= {top:g} Hz, got {f_range_hz}."
            )
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3))
    n_bins, n_frames = data.shape
    # frame t is centred on sample t * hop_length (center=True): its pixel spans ±half a hop around it
    half_hop_s = 0.5 * hop_length / sample_rate
    t_first, t_last = -half_hop_s, (n_frames - 1) * hop_length / sample_rate + half_hop_s
    if kind == "linear":
        extent = (t_first, t_last, 0, nyquist)
        ylabel = "frequency (Hz)"
    else:
        extent = (t_first, t_last, 0, n_bins)
        ylabel = "frequency (Hz, mel scale)" if kind == "mel" else "MFCC coefficient"
    image = ax.imshow(
        data, origin="lower", aspect="auto", extent=extent, cmap="magma" if kind != "mfcc" else "coolwarm",
        vmin=vmin, vmax=vmax, interpolation="nearest",
    )
    if kind == "mel":
        low, high = f_range_hz if f_range_hz is not None else (f_min_hz, f_max_hz)
        ticks = _nice_hz_ticks(low, high, mel=True)
        positions = np.clip(mel_axis_position(ticks, n_bins, sample_rate, f_min_hz, f_max_hz), 0, n_bins)
        ax.set_yticks(positions)
        ax.set_yticklabels([hz_label(f) for f in ticks])
        if f_range_hz is not None:
            ax.set_ylim(*np.clip(mel_axis_position([low, high], n_bins, sample_rate, f_min_hz, f_max_hz), 0, n_bins))
    elif kind == "linear":
        low, high = f_range_hz if f_range_hz is not None else (0.0, nyquist)
        ticks = _nice_hz_ticks(low, high, mel=False)
        ax.set_yticks(ticks)
        ax.set_yticklabels([hz_label(f) for f in ticks])
        ax.set_ylim(low, high)
    ax.set_xlim(max(0.0, t_first), t_last)
    ax.set_xlabel("time (s)")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if colorbar:
        plt.colorbar(image, ax=ax, label="dB" if kind != "mfcc" else "value", pad=0.01)
    return ax


def audio_player(waveform: torch.Tensor | np.ndarray, sample_rate: int, *, normalize: bool = True):
    """An HTML5 audio player for a notebook (``IPython.display.Audio``).

    Args:
        waveform: ``(samples,)`` or ``(channels, samples)``.
        sample_rate: Hz.
        normalize: scale to full level for listening; ``False`` plays the values as they are
            (they must then lie in ``[-1, 1]``), so relative loudness between players is kept.

    The player embeds the audio as a WAV data URI, so it works in the static HTML book too.
    """
    from IPython.display import Audio

    data = _to_numpy(waveform)
    if data.ndim == 2 and data.shape[0] == 1:
        data = data[0]
    if not np.isfinite(data).all():
        raise ValueError("audio_player: the waveform contains NaN or infinite samples.")
    if normalize and not np.abs(data).max(initial=0.0) > 0:
        normalize = False  # digital silence: nothing to scale (scaling would divide by zero)
    return Audio(data, rate=int(sample_rate), normalize=normalize)


# --------------------------------------------------------------------------------------------
# Training figures (introduced in chapter 2).


def _history_series(history, key: str) -> list[float]:
    value = history[key] if isinstance(history, dict) else getattr(history, key, [])
    return list(value or [])


def plot_history(history, *, axes=None, title: str | None = None, show_lr: bool = True):
    """Loss and accuracy per epoch, training and validation, and the learning rate.

    Args:
        history: a :class:`course_lib.training.History` (or its ``to_dict()``).
        axes: two or three axes to draw into (a new figure when ``None``).
        title: a title above the figure.
        show_lr: add a third panel with the learning rate per epoch.

    The best epoch (best validation value) is marked with a dotted line; when ``fit`` kept the last
    epoch's weights instead (``restore_best=False``) the label says "not restored". Accuracy is
    shown in percent.

    Returns:
        The matplotlib figure.

    Introduced in chapter 2.
    """
    epochs = _history_series(history, "epoch")
    if not epochs:
        raise ValueError("plot_history: the history is empty (no epoch was run).")
    lr = _history_series(history, "lr")
    n_panels = 3 if show_lr and lr else 2
    if axes is None:
        # full column width (FULL_WIDTH_IN), so that 10-pt text stays >= 10 px on the page
        fig, axes = plt.subplots(1, n_panels, figsize=(FULL_WIDTH_IN, 3.4 if n_panels == 3 else 3.6))
    else:
        fig = axes[0].figure
    best = history["best_epoch"] if isinstance(history, dict) else getattr(history, "best_epoch", None)
    kept = history.get("kept_epoch") if isinstance(history, dict) else getattr(history, "kept_epoch", None)
    best_label = f"best epoch ({best})" + (", not restored" if kept is not None and kept != best else "")
    for ax, key, label in ((axes[0], "loss", "loss"), (axes[1], "accuracy", "accuracy (%)")):
        scale = 100.0 if key == "accuracy" else 1.0
        for split, style in (("train", "-"), ("val", "--")):
            values = _history_series(history, f"{split}_{key}")
            if values:
                ax.plot(epochs[: len(values)], np.asarray(values) * scale, style, marker="o", markersize=3,
                        label="training" if split == "train" else "validation")
        if best is not None:
            ax.axvline(best, color="grey", linestyle=":", linewidth=1, label=best_label)
        ax.set_ylabel(label)
    axes[0].legend(fontsize=10)  # one legend: the same lines in both panels
    if n_panels == 3:
        axes[2].plot(epochs[: len(lr)], lr, marker="o", markersize=3, color="tab:green")
        axes[2].set_ylabel("learning rate (epoch mean)")
        axes[2].ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
    for ax in axes[:n_panels]:
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers: no 2.5
        ax.tick_params(labelsize=10)
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_confusion_matrix(
    matrix,
    class_names,
    *,
    normalize: bool = False,
    ax=None,
    title: str | None = None,
    cmap: str = "Blues",
):
    """A confusion matrix with class names: rows are true classes, columns predicted classes.

    Args:
        matrix: ``(n_classes, n_classes)`` counts (e.g. ``classification_metrics(...)["confusion_matrix"]``).
        class_names: one name per class.
        normalize: show each row as a percentage of its class (the diagonal is per-class recall)
            instead of counts; the numbers in the cells follow (whole percents, so they fit a cell).
        ax: axes to draw into (a new figure when ``None``).
        title: optional title.

    Returns:
        The axes.

    Introduced in chapter 2.
    """
    counts = np.asarray(matrix, dtype=float)
    n = len(class_names)
    if counts.shape != (n, n):
        raise ValueError(f"plot_confusion_matrix: matrix of shape {counts.shape} does not match {n} class names.")
    if normalize:
        totals = counts.sum(axis=1, keepdims=True)
        values = 100.0 * np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    else:
        values = counts
    if ax is None:
        size = max(4.0, 0.45 * n + 2.0)
        _, ax = plt.subplots(figsize=(size + 1.0, size))
    top = 100.0 if normalize else max(1.0, values.max())
    image = ax.imshow(values, cmap=cmap, vmin=0, vmax=top)
    bar = plt.colorbar(image, ax=ax, fraction=0.046, pad=0.04,
                       label="% of the true class" if normalize else "clips")
    bar.ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))  # no "1.5 clips"
    bar.ax.tick_params(labelsize=10)
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    # upright labels would overlap beyond a few classes; vertical ones never do
    ax.set_xticklabels(class_names, rotation=60 if n <= 6 else 90, ha="right" if n <= 6 else "center",
                       rotation_mode="anchor" if n <= 6 else "default", fontsize=10)
    ax.set_yticklabels(class_names, fontsize=10)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    threshold = top / 2
    for i in range(n):
        for j in range(n):
            if counts[i, j] == 0:
                continue
            text = f"{values[i, j]:.0f}" if normalize else f"{int(counts[i, j])}"
            ax.text(j, i, text, ha="center", va="center", fontsize=10 if n <= 12 else 8,
                    color="white" if values[i, j] > threshold else "black")
    if title:
        ax.set_title(title)
    return ax


# --------------------------------------------------------------------------------------------
# A listening grid (introduced in chapter 3).


def _thumbnail_and_player(
    name: str, note: str, waveform, sample_rate: int, n_mels: int, size: tuple[int, int] = (208, 72)
) -> tuple[str, str]:
    """``(<img> tag, player HTML)`` for one sound: a log-mel thumbnail (PNG data URI, 25 ms windows every
    10 ms) and a WAV player. Raises ``ValueError`` on NaN or infinite samples."""
    import base64
    import html
    import io

    from .features import LogMelSpectrogram

    data = torch.as_tensor(_to_numpy(waveform))
    if data.ndim > 1 and max(data.shape[:-1]) > 1 or data.ndim > 2:
        raise ValueError(f"the waveform of {name!r} must be mono, (samples,) or (1, samples), got "
                         f"{tuple(data.shape)}. Fix: course_lib.audio_io.to_mono(waveform).")
    data = data.reshape(-1)
    if data.numel() == 0:
        raise ValueError(f"the waveform of {name!r} is empty.")
    if not torch.isfinite(data).all():
        raise ValueError(f"the waveform of {name!r} contains NaN or infinite samples.")
    win = max(16, round(0.025 * sample_rate))
    n_fft = 2 ** math.ceil(math.log2(win))
    to_mel = LogMelSpectrogram(sample_rate=int(sample_rate), n_fft=n_fft, win_length=win,
                               hop_length=max(1, round(0.010 * sample_rate)), n_mels=n_mels)
    with torch.no_grad():
        mel = to_mel(data).numpy()
    fig, ax = plt.subplots(figsize=(2.6, 0.9), dpi=80)
    duration = data.numel() / sample_rate
    ax.imshow(mel, origin="lower", aspect="auto", cmap="magma", extent=(0, duration, 0, n_mels))
    ax.set_axis_off()
    fig.subplots_adjust(0, 0, 1, 1)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    png = base64.b64encode(buffer.getvalue()).decode("ascii")
    alt = html.escape(f"log-mel spectrogram of {name} ({note}), {duration:.2f} s", quote=True)
    image = f'<img src="data:image/png;base64,{png}" alt="{alt}" width="{size[0]}" height="{size[1]}">'
    return image, audio_player(data, sample_rate)._repr_html_()


def _grid_html(headers: Sequence[str], rows: Sequence[Sequence[str]], caption: str | None):
    """An HTML table (class ``listening-grid``); cells are HTML already, headers and caption text."""
    import html

    from IPython.display import HTML

    head = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    header = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return HTML(f'<table class="listening-grid">{head}<thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>')


def listening_grid(
    rows: list[tuple[str, str, torch.Tensor | np.ndarray]],
    sample_rate: int,
    *,
    n_mels: int = 64,
    caption: str | None = None,
    columns: tuple[str, str] = ("class", "recording"),
):
    """A table to look at and listen to a set of sounds: one row per sound, with its name, a note
    (e.g. the file it comes from), a log-mel thumbnail and a player.

    Args:
        rows: ``(name, note, waveform)`` per row; ``waveform`` is ``(samples,)`` or ``(1, samples)``
            at ``sample_rate`` Hz.
        sample_rate: Hz.
        n_mels: mel bands of the thumbnails (25 ms windows every 10 ms, 80 dB range).
        caption: a caption above the table.
        columns: headings of the name and note columns.

    Returns:
        An ``IPython.display.HTML`` object. Thumbnails are PNG and players WAV data URIs, so the grid
        works in the static HTML book too; every thumbnail has an ``alt`` text.

    Introduced in chapter 3; chapter 1 uses it to compare file encodings by ear.
    """
    import html

    if not rows:
        raise ValueError("listening_grid needs at least one row.")
    cells = []
    for name, note, waveform in rows:
        try:
            image, player = _thumbnail_and_player(name, note, waveform, sample_rate, n_mels)
        except ValueError as err:
            raise ValueError(f"listening_grid: {err}") from None
        cells.append([f"<b>{html.escape(name)}</b>", html.escape(note), image, player])
    return _grid_html([*columns, "log-mel spectrogram", "listen"], cells, caption)


def mistakes_grid(
    mistakes: Sequence,
    waveforms: torch.Tensor | Sequence[torch.Tensor | np.ndarray],
    class_names: Sequence[str],
    sample_rate: int,
    *,
    notes: Sequence[str] | None = None,
    n_mels: int = 64,
    caption: str | None = None,
):
    """Misclassified clips to look at and listen to: true class, predicted class with the model's
    confidence, a log-mel thumbnail and a player of the clip's own audio.

    Args:
        mistakes: :class:`course_lib.evaluation.Mistake` items (``index``, ``true``, ``predicted``,
            ``confidence``), e.g. from :func:`course_lib.evaluation.confident_mistakes`.
        waveforms: the evaluated clips' audio, indexed like the evaluated set: ``(N, samples)`` or
            ``(N, 1, samples)`` tensor, a sequence of ``(samples,)`` waveforms, or a dataset whose items
            are ``(waveform, label)`` (e.g. ``torch.utils.data.Subset`` of an audio dataset: only the
            clips shown are decoded), at ``sample_rate`` Hz.
        class_names: one name per class.
        sample_rate: Hz.
        notes: optional text per evaluated clip (e.g. its file name), indexed like ``waveforms``.
        n_mels: mel bands of the thumbnails.
        caption: a caption above the table.

    Returns:
        An ``IPython.display.HTML`` table, one row per mistake (players are WAV data URIs).

    Raises:
        ValueError: no mistakes, an index outside ``waveforms``, a class index outside
            ``class_names``, or a waveform with NaN / infinite samples.

    Introduced in chapter 2; chapter 7 uses it on its cross-validated model.
    """
    import html

    if len(mistakes) == 0:
        raise ValueError("mistakes_grid needs at least one mistake (every clip was classified correctly?).")
    n = len(waveforms)
    if notes is not None and len(notes) != n:
        raise ValueError(f"mistakes_grid: {len(notes)} notes for {n} waveforms; give one note per clip.")
    cells = []
    for m in mistakes:
        if not 0 <= m.index < n:
            raise ValueError(f"mistakes_grid: mistake index {m.index} is outside the {n} waveforms given; "
                             "pass the audio of the evaluated set, in the same order.")
        for which in (m.true, m.predicted):
            if not 0 <= which < len(class_names):
                raise ValueError(f"mistakes_grid: class index {which} is outside the {len(class_names)} class names.")
        true, predicted = str(class_names[m.true]), str(class_names[m.predicted])
        note = notes[m.index] if notes is not None else f"clip {m.index}"
        clip = waveforms[m.index]
        if isinstance(clip, (tuple, list)):  # a dataset item: (waveform, label)
            clip = clip[0]
        try:
            image, player = _thumbnail_and_player(f"{true} taken for {predicted}", note, clip, sample_rate,
                                                  n_mels, size=(176, 64))
        except ValueError as err:
            raise ValueError(f"mistakes_grid: {err}") from None
        label = f"<b>{html.escape(true)}</b>" + (f"<br><small>{html.escape(note)}</small>" if notes is not None else "")
        guess = f"{html.escape(predicted)}<br><small>{100 * m.confidence:.0f} % sure</small>"
        cells.append([label, guess, image, player])
    # four columns, so that the table fits the book's column beside a player
    return _grid_html(["true class", "predicted (confidence)", "log-mel spectrogram", "listen"], cells, caption)


def _mel_edges(module) -> dict:
    """``f_min_hz`` / ``f_max_hz`` of a mel front end (its torchaudio ``MelSpectrogram``, found as the
    module itself or its ``mel`` attribute), so the Hz ticks follow its filter bank; ``{}`` if unknown."""
    mel = module if hasattr(module, "f_min") else getattr(module, "mel", None)
    if mel is None or not hasattr(mel, "f_min"):
        return {}
    edges = {"f_min_hz": float(mel.f_min)}
    if getattr(mel, "f_max", None) is not None:
        edges["f_max_hz"] = float(mel.f_max)
    return edges


def plot_representations(
    clips: dict[str, torch.Tensor | np.ndarray],
    sample_rate: int,
    hop_length: int,
    transforms: dict[str, tuple[torch.nn.Module, str]],
    *,
    panel_size: tuple[float, float] = (4.4, 2.3),
):
    """Several clips side by side in every representation: one column per clip, one row per representation.

    The first row is the waveform; each further row applies one transform of ``transforms`` to every
    clip. Panels of one row share their colour scale (one colour bar per row), so a level that looks
    the same in two columns *is* the same; each title gives the tensor's measured shape.

    Args:
        clips: column title → waveform ``(samples,)`` or ``(1, samples)`` at ``sample_rate`` Hz.
        sample_rate: Hz (the same for every clip: resample first).
        hop_length: hop of the transforms, samples (sets the time axis).
        transforms: row title → ``(module, kind)``, where ``module`` maps ``(1, samples)`` to
            ``(1, n_bins, frames)`` (e.g. :class:`course_lib.features.LogMelSpectrogram`) and ``kind`` is
            ``"linear"``, ``"mel"`` or ``"mfcc"`` as in :func:`plot_spectrogram`.
        panel_size: width and height of one panel, inches (two columns fill the book's column
            at 10 px text: see :data:`COLUMN_WIDTH_PX`).

    Returns:
        The matplotlib figure (``len(transforms) + 1`` rows × ``len(clips)`` columns).

    Raises:
        ValueError: no clips, a clip that is not mono or holds NaN / infinite samples, or an unknown kind.

    Introduced in chapter 1, where a real recording sits beside the synthetic test clip.
    """
    if not clips:
        raise ValueError("plot_representations needs at least one clip.")
    waves: dict[str, torch.Tensor] = {}
    for name, clip in clips.items():
        x = torch.as_tensor(_to_numpy(clip))
        if x.ndim == 1:
            x = x[None]
        if x.ndim != 2 or x.shape[0] != 1 or x.shape[1] == 0:
            raise ValueError(
                f"plot_representations: clip {name!r} must be mono, (samples,) or (1, samples), got {tuple(x.shape)}. "
                "Fix: course_lib.audio_io.to_mono(waveform)."
            )
        if not torch.isfinite(x).all():
            raise ValueError(f"plot_representations: clip {name!r} contains NaN or infinite samples.")
        waves[name] = x
    for title, (_, kind) in transforms.items():
        if kind not in ("linear", "mel", "mfcc"):
            raise ValueError(f"plot_representations: kind of {title!r} must be 'linear', 'mel' or 'mfcc', got {kind!r}.")
    n_rows, n_cols = len(transforms) + 1, len(waves)
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(panel_size[0] * n_cols + 0.8, panel_size[1] * n_rows), squeeze=False,
        constrained_layout=True,
    )
    for col, (name, x) in enumerate(waves.items()):
        plot_waveform(x, sample_rate, ax=axes[0, col], title=f"{name}: waveform {tuple(x.shape)}")
    for row, (title, (module, kind)) in enumerate(transforms.items(), start=1):
        with torch.no_grad():
            outputs = {name: module(x) for name, x in waves.items()}
        low = min(float(out.min()) for out in outputs.values())
        high = max(float(out.max()) for out in outputs.values())
        edges = _mel_edges(module) if kind == "mel" else {}
        for col, out in enumerate(outputs.values()):
            plot_spectrogram(out, sample_rate, hop_length, kind=kind, ax=axes[row, col], colorbar=False,
                             vmin=low, vmax=high, title=f"{title} {tuple(out.shape)}", **edges)
        fig.colorbar(axes[row, -1].images[0], ax=list(axes[row]), pad=0.01,
                     label="dB" if kind != "mfcc" else "value")
    for row in range(n_rows):
        for col in range(1, n_cols):
            axes[row, col].set_ylabel("")
    return fig
