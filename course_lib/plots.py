"""Figures and players for audio: waveform, spectrogram, audio player.

Introduced in chapter 1. Axes are always labelled in physical units (seconds, Hz, dB) so that a
reader never has to convert frame or bin indices in their head.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import torch

__all__ = ["plot_waveform", "plot_spectrogram", "mel_band_centers_hz", "audio_player"]


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
