"""How STFT parameters shape a spectrogram: a resolution table, a static comparison, a live explorer.

Used by chapter 1 (``book/chapters/ch01_audio_as_tensors.ipynb``). The table and the figure are
computed by running :class:`~course_lib.features.LogMelSpectrogram` / ``LogSpectrogram`` on a real
waveform, so every shape and resolution shown comes from the code. The ipywidgets explorer needs a
live kernel; the static figure is what a reader of the HTML book sees.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import torch

from ..features import WINDOWS, LogMelSpectrogram, LogSpectrogram
from ..plots import FULL_WIDTH_IN, plot_spectrogram

__all__ = ["demo_clip", "STFTSetting", "resolution_table", "compare_settings", "spectrogram_explorer"]


def demo_clip(sample_rate: int = 16000, *, seed: int = 0) -> torch.Tensor:
    """A 2-second test signal: three sounds, each testing a spectrogram in its own way.

    * 0.10–0.80 s: a harmonic tone, 220 Hz and 5 overtones (steady: needs frequency
      resolution);
    * 0.90–1.50 s: a chirp rising from 300 Hz to 4 kHz (changes fast, needs both);
    * 1.60–1.95 s: eight clicks 50 ms apart (needs time resolution);
    * throughout: quiet white noise at -46 dBFS RMS.

    Returns:
        ``(1, 2 * sample_rate)`` float32 waveform, peak below 1.
    """
    if sample_rate < 8000:
        raise ValueError(
            "demo_clip needs sample_rate >= 8000 Hz (its chirp reaches 4 kHz), "
            f"got {sample_rate}."
        )
    generator = torch.Generator().manual_seed(seed)
    n = 2 * sample_rate
    t = torch.arange(n, dtype=torch.float64) / sample_rate
    x = torch.zeros(n, dtype=torch.float64)

    def gate(start_s: float, stop_s: float, fade_s: float = 0.01) -> torch.Tensor:
        rise = ((t - start_s) / fade_s).clamp(0, 1)
        fall = ((stop_s - t) / fade_s).clamp(0, 1)
        return rise * fall

    for k in range(1, 7):
        x += gate(0.10, 0.80) * 0.3 / k * torch.sin(2 * torch.pi * 220.0 * k * t)
    f0, f1, start, length = 300.0, 4000.0, 0.90, 0.60
    tau = (t - start).clamp(0, length)
    phase = 2 * torch.pi * (f0 * tau + (f1 - f0) * tau**2 / (2 * length))
    x += gate(start, start + length) * 0.4 * torch.sin(phase)
    for i in range(8):
        onset = int((1.60 + 0.05 * i) * sample_rate)
        x[onset : onset + 16] += 0.8 * torch.hann_window(16, dtype=torch.float64)
    x += 0.005 * torch.randn(n, generator=generator, dtype=torch.float64)
    return x.float().unsqueeze(0)


@dataclass(frozen=True)
class STFTSetting:
    """One choice of analysis parameters (all lengths in samples)."""

    n_fft: int
    hop_length: int
    n_mels: int | None = None  #: ``None`` for a linear-frequency spectrogram
    window: str = "hann"

    def label(self) -> str:
        bins = f"n_mels={self.n_mels}" if self.n_mels else "linear"
        return f"n_fft={self.n_fft}, hop={self.hop_length}, {bins}"

    def module(self, sample_rate: int, top_db: float | None = 80.0) -> torch.nn.Module:
        if self.n_mels:
            return LogMelSpectrogram(
                sample_rate=sample_rate, n_fft=self.n_fft, hop_length=self.hop_length, n_mels=self.n_mels,
                window=self.window, top_db=top_db,
            )
        return LogSpectrogram(n_fft=self.n_fft, hop_length=self.hop_length, window=self.window, top_db=top_db, sample_rate=sample_rate)


def resolution_table(waveform: torch.Tensor, sample_rate: int, settings: list[STFTSetting]) -> list[dict]:
    """Run each setting on ``waveform`` and report what it produces.

    Args:
        waveform: ``(channels, samples)`` or ``(samples,)``.
        sample_rate: Hz.
        settings: the parameter choices to compare.

    Returns:
        One row per setting: ``shape`` (the output's shape, measured), ``frames``, ``bins``,
        ``values`` (numbers per example), ``hop_ms`` (time step, milliseconds), ``window_ms``
        (analysis window, milliseconds) and ``bin_hz`` (FFT bin spacing, Hz).
    """
    rows = []
    for setting in settings:
        out = setting.module(sample_rate)(waveform)
        rows.append(
            {
                "setting": setting.label(),
                "shape": tuple(out.shape),
                "bins": out.shape[-2],
                "frames": out.shape[-1],
                "values": out.numel(),
                "hop_ms": 1000.0 * setting.hop_length / sample_rate,
                "window_ms": 1000.0 * setting.n_fft / sample_rate,
                "bin_hz": sample_rate / setting.n_fft,
            }
        )
    return rows


def compare_settings(
    waveform: torch.Tensor, sample_rate: int, settings: list[STFTSetting], *, ncols: int = 2, top_db: float = 80.0
) -> plt.Figure:
    """One spectrogram per setting, side by side, same colour scale: the static view of the explorer."""
    if waveform.ndim == 2:
        waveform = waveform[0]
    nrows = -(-len(settings) // ncols)
    # the book's column width, so that 10-pt labels stay 10 px on the page
    width = FULL_WIDTH_IN if ncols > 1 else FULL_WIDTH_IN / 2 + 0.6
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, 2.8 * nrows), squeeze=False, constrained_layout=True)
    for ax, setting in zip(axes.flat, settings):
        spec = setting.module(sample_rate, top_db=top_db)(waveform)
        spec = spec - spec.max()
        plot_spectrogram(
            spec, sample_rate, setting.hop_length, kind="mel" if setting.n_mels else "linear", ax=ax,
            title=f"{setting.label()}\n{tuple(spec.shape)}", colorbar=False, vmin=-top_db, vmax=0,
        )
    for ax in list(axes.flat)[len(settings):]:
        ax.axis("off")
    return fig


def spectrogram_explorer(waveform: torch.Tensor, sample_rate: int):
    """A live ipywidgets explorer: n_fft, hop, n_mels (0 = linear), window and dB range on one clip.

    Needs a running Jupyter kernel (the callbacks run Python); in the static book use
    :func:`compare_settings`.

    Returns:
        The ``ipywidgets`` widget (display it as the last expression of a cell).
    """
    import ipywidgets as widgets

    if waveform.ndim == 2:
        waveform = waveform[0]

    def show(n_fft: int, hop_length: int, n_mels: int, window: str, top_db: float) -> None:
        setting = STFTSetting(n_fft=n_fft, hop_length=min(hop_length, n_fft), n_mels=n_mels or None, window=window)
        spec = setting.module(sample_rate, top_db=top_db)(waveform)
        spec = spec - spec.max()
        fig, ax = plt.subplots(figsize=(8, 3))
        plot_spectrogram(
            spec, sample_rate, setting.hop_length, kind="mel" if n_mels else "linear", ax=ax,
            title=f"{setting.label()}  →  shape {tuple(spec.shape)}", vmin=-top_db, vmax=0,
        )
        plt.show()

    return widgets.interactive(
        show,
        n_fft=widgets.Dropdown(options=[256, 512, 1024, 2048, 4096], value=1024, description="n_fft"),
        hop_length=widgets.Dropdown(options=[64, 128, 256, 512, 1024], value=256, description="hop"),
        n_mels=widgets.Dropdown(options=[0, 32, 64, 128], value=64, description="n_mels"),
        window=widgets.Dropdown(options=sorted(WINDOWS), value="hann", description="window"),
        top_db=widgets.FloatSlider(value=80.0, min=20.0, max=120.0, step=10.0, description="dB range"),
    )
