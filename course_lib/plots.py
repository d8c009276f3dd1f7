"""Figures and players for audio: waveform, spectrogram, audio player.

Introduced in chapter 1. Axes are always labelled in physical units (seconds, Hz, dB) so that a
reader never has to convert frame or bin indices in their head.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator
import torch

__all__ = [
    "plot_waveform",
    "plot_spectrogram",
    "mel_band_centers_hz",
    "audio_player",
    "listening_grid",
    "plot_representations",
    "plot_history",
    "plot_confusion_matrix",
]


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


def mel_band_centers_hz(n_mels: int, sample_rate: int, f_min_hz: float = 0.0, f_max_hz: float | None = None) -> np.ndarray:
    """Centre frequency (Hz) of each of ``n_mels`` HTK-mel bands, as torchaudio spaces them."""
    f_max_hz = sample_rate / 2 if f_max_hz is None else f_max_hz

    def hz_to_mel(f: float) -> float:
        return 2595.0 * math.log10(1.0 + f / 700.0)

    mels = np.linspace(hz_to_mel(f_min_hz), hz_to_mel(f_max_hz), n_mels + 2)[1:-1]
    return 700.0 * (10.0 ** (mels / 2595.0) - 1.0)


def plot_spectrogram(
    spec_db: torch.Tensor | np.ndarray,
    sample_rate: int,
    hop_length: int,
    *,
    kind: str = "mel",
    f_max_hz: float | None = None,
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
        kind: ``"mel"`` (bins are mel bands; ticks show their centre frequency), ``"linear"``
            (bins are evenly spaced from 0 to ``sample_rate / 2``) or ``"mfcc"`` (coefficients).
        f_max_hz: upper edge used for the mel bands (default Nyquist).
        ax, title, colorbar, vmin, vmax: the usual matplotlib options.
    """
    data = _to_numpy(spec_db)
    while data.ndim > 2 and data.shape[0] == 1:
        data = data[0]
    if data.ndim != 2:
        raise ValueError(f"plot_spectrogram expects (n_bins, frames), got shape {data.shape}.")
    if kind not in ("mel", "linear", "mfcc"):
        raise ValueError(f"kind must be 'mel', 'linear' or 'mfcc', got {kind!r}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3))
    n_bins, n_frames = data.shape
    # frame t is centred on sample t * hop_length (center=True): its pixel spans ±half a hop around it
    half_hop_s = 0.5 * hop_length / sample_rate
    t_first, t_last = -half_hop_s, (n_frames - 1) * hop_length / sample_rate + half_hop_s
    if kind == "linear":
        extent = (t_first, t_last, 0, sample_rate / 2)
        ylabel = "frequency (Hz)"
    else:
        extent = (t_first, t_last, 0, n_bins)
        ylabel = "mel band centre (Hz)" if kind == "mel" else "MFCC coefficient"
    image = ax.imshow(
        data, origin="lower", aspect="auto", extent=extent, cmap="magma" if kind != "mfcc" else "coolwarm",
        vmin=vmin, vmax=vmax, interpolation="nearest",
    )
    if kind == "mel":
        centres = mel_band_centers_hz(n_bins, sample_rate, f_max_hz=f_max_hz)
        ticks = np.linspace(0, n_bins - 1, 6).round().astype(int)
        ax.set_yticks(ticks + 0.5)
        ax.set_yticklabels([f"{centres[i]:.0f}" for i in ticks])
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
        fig, axes = plt.subplots(1, n_panels, figsize=(4.2 * n_panels, 3.2))
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
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    if n_panels == 3:
        axes[2].plot(epochs[: len(lr)], lr, marker="o", markersize=3, color="tab:green")
        axes[2].set_xlabel("epoch")
        axes[2].set_ylabel("learning rate (epoch mean)")
        axes[2].grid(alpha=0.3)
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
        normalize: show each row as fractions of its class (the diagonal is per-class recall)
            instead of counts; the numbers in the cells follow.
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
        values = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    else:
        values = counts
    if ax is None:
        size = max(4.0, 0.45 * n + 2.0)
        _, ax = plt.subplots(figsize=(size + 1.0, size))
    image = ax.imshow(values, cmap=cmap, vmin=0, vmax=1.0 if normalize else max(1.0, values.max()))
    plt.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of true class" if normalize else "clips")
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.set_xticklabels(class_names, rotation=60, ha="right", fontsize="small")
    ax.set_yticklabels(class_names, fontsize="small")
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    threshold = (1.0 if normalize else max(1.0, values.max())) / 2
    for i in range(n):
        for j in range(n):
            if counts[i, j] == 0:
                continue
            text = f"{values[i, j]:.2f}" if normalize else f"{int(counts[i, j])}"
            ax.text(j, i, text, ha="center", va="center", fontsize="x-small",
                    color="white" if values[i, j] > threshold else "black")
    if title:
        ax.set_title(title)
    return ax


# --------------------------------------------------------------------------------------------
# A listening grid (introduced in chapter 3).


def listening_grid(
    rows: "list[tuple[str, str, torch.Tensor | np.ndarray]]",
    sample_rate: int,
    *,
    n_mels: int = 64,
    caption: str | None = None,
):
    """A table to look at and listen to a set of sounds: one row per sound, with its name, a note
    (e.g. the file it comes from), a log-mel thumbnail and a player.

    Args:
        rows: ``(name, note, waveform)`` per row; ``waveform`` is ``(samples,)`` or ``(1, samples)``
            at ``sample_rate`` Hz.
        sample_rate: Hz.
        n_mels: mel bands of the thumbnails (25 ms windows every 10 ms, 80 dB range).
        caption: a caption above the table.

    Returns:
        An ``IPython.display.HTML`` object. Thumbnails are PNG and players WAV data URIs, so the grid
        works in the static HTML book too; every thumbnail has an ``alt`` text.
    """
    import base64
    import html
    import io

    from IPython.display import HTML

    from .features import LogMelSpectrogram

    if not rows:
        raise ValueError("listening_grid needs at least one row.")
    win = max(16, round(0.025 * sample_rate))
    n_fft = 2 ** math.ceil(math.log2(win))
    to_mel = LogMelSpectrogram(sample_rate=int(sample_rate), n_fft=n_fft, win_length=win,
                               hop_length=max(1, round(0.010 * sample_rate)), n_mels=n_mels)
    cells = []
    for name, note, waveform in rows:
        data = torch.as_tensor(_to_numpy(waveform)).reshape(-1)
        if not torch.isfinite(data).all():
            raise ValueError(f"listening_grid: the waveform of {name!r} contains NaN or infinite samples.")
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
        player = audio_player(data, sample_rate)._repr_html_()
        alt = html.escape(f"log-mel spectrogram of {name} ({note}), {duration:.2f} s", quote=True)
        cells.append(
            f"<tr><td><b>{html.escape(name)}</b></td><td>{html.escape(note)}</td>"
            f'<td><img src="data:image/png;base64,{png}" alt="{alt}" width="208" height="72"></td>'
            f"<td>{player}</td></tr>"
        )
    head = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return HTML(
        '<table class="listening-grid">' + head
        + "<thead><tr><th>class</th><th>recording</th><th>log-mel spectrogram</th><th>listen</th></tr></thead>"
        + "<tbody>" + "".join(cells) + "</tbody></table>"
    )


def plot_representations(
    clips: "dict[str, torch.Tensor | np.ndarray]",
    sample_rate: int,
    hop_length: int,
    transforms: "dict[str, tuple[torch.nn.Module, str]]",
    *,
    panel_size: tuple[float, float] = (5.6, 2.3),
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
        panel_size: width and height of one panel, inches.

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
        for col, (name, out) in enumerate(outputs.items()):
            plot_spectrogram(out, sample_rate, hop_length, kind=kind, ax=axes[row, col], colorbar=False,
                             vmin=low, vmax=high, title=f"{title} {tuple(out.shape)}")
        fig.colorbar(axes[row, -1].images[0], ax=list(axes[row]), pad=0.01,
                     label="dB" if kind != "mfcc" else "value")
    for row in range(n_rows):
        for col in range(1, n_cols):
            axes[row, col].set_ylabel("")
    return fig
