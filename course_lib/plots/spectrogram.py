"""Waveform and spectrogram figures with axes in physical units (seconds, Hz, dB), the Hz ticks of
a mel axis, and the clips-by-representations grid (introduced in chapter 1)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.ticker import MaxNLocator

from .._checks import check_int
from ._style import _to_numpy


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
    n_mels = check_int(n_mels, "n_mels", minimum=1, allow_numpy=True)
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
