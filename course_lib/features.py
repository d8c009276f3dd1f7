"""Time–frequency features as ``nn.Module``\\ s: log-mel spectrogram, log spectrogram, MFCC.

Introduced in chapter 1 (``book/chapters/ch01_audio_as_tensors.ipynb``).

Every module accepts three input layouts and keeps the leading axes:

=============================  =========================================
input                          output
=============================  =========================================
``(samples,)``                 ``(n_bins, frames)``
``(channels, samples)``        ``(channels, n_bins, frames)``
``(batch, channels, samples)`` ``(batch, channels, n_bins, frames)``
=============================  =========================================

``n_bins`` is ``n_mels`` (mel), ``n_fft // 2 + 1`` (linear) or ``n_mfcc`` (MFCC), and with
``center=True`` (the default, as in torchaudio and librosa)::

    frames = 1 + samples // hop_length

(:func:`frame_count` computes it, for ``center=False`` too). Units: sample rates and frequencies in
Hz, ``n_fft`` / ``win_length`` / ``hop_length`` in samples, levels in dB.
"""

from __future__ import annotations

import torch
import torchaudio
from torch import nn

from ._checks import check_int
from ._progress import progress as _progress
from .runtime import module_device

__all__ = [
    "WINDOWS",
    "frame_count",
    "LogMelSpectrogram",
    "LogSpectrogram",
    "MFCCFeatures",
    "standardize",
    "Standardize",
    "compute_features",
    "band_statistics",
    "apply_band_statistics",
]


#: Analysis windows by name (``window=`` argument of the spectrogram modules).
WINDOWS = {
    "hann": torch.hann_window,
    "hamming": torch.hamming_window,
    "blackman": torch.blackman_window,
    "rectangular": torch.ones,
}


def _window_fn(window: str):
    if window not in WINDOWS:
        raise ValueError(f"window must be one of {sorted(WINDOWS)}, got {window!r}.")
    return WINDOWS[window]


def frame_count(n_samples: int, hop_length: int, *, n_fft: int | None = None, center: bool = True) -> int:
    """Number of STFT frames for a signal of ``n_samples`` samples.

    ``center=True`` pads ``n_fft // 2`` samples on both sides, giving ``1 + n_samples // hop_length``
    frames; ``center=False`` gives ``1 + (n_samples - n_fft) // hop_length`` (needs ``n_fft``).
    """
    if n_samples < 0 or hop_length <= 0:
        raise ValueError(f"need n_samples >= 0 and hop_length > 0, got {n_samples}, {hop_length}.")
    if center:
        return 1 + n_samples // hop_length
    if n_fft is None:
        raise ValueError("frame_count(center=False) needs n_fft.")
    if n_samples < n_fft:
        return 0
    return 1 + (n_samples - n_fft) // hop_length


def _check_waveform(x: torch.Tensor, n_fft: int, sample_rate: int | None, who: str) -> None:
    if not isinstance(x, torch.Tensor) or not torch.is_floating_point(x):
        raise TypeError(f"{who} expects a float tensor waveform, got {type(x).__name__} {getattr(x, 'dtype', '')}.")
    if x.ndim not in (1, 2, 3):
        raise ValueError(
            f"{who} expects (samples,), (channels, samples) or (batch, channels, samples), got shape {tuple(x.shape)}."
        )
    n = x.shape[-1]
    if n < n_fft:
        dur = f" ({1000 * n / sample_rate:.1f} ms at {sample_rate} Hz)" if sample_rate else ""
        raise ValueError(
            f"{who}: the waveform has {n} samples{dur}, fewer than n_fft={n_fft}. "
            "Fix: pad it with course_lib.audio_io.fix_length(waveform, n_fft) or choose a smaller n_fft."
        )
    # One reduction is ~20x cheaper than an element-wise isfinite; the full check runs only when the
    # sum is not finite (a NaN or inf somewhere, or a sum too large for the dtype).
    if not torch.isfinite(x.sum()) and not torch.isfinite(x).all():
        raise ValueError(f"{who}: the waveform contains NaN or infinite samples; clean the input first.")


class LogMelSpectrogram(nn.Module):
    """Log-mel spectrogram in dB: :class:`torchaudio.transforms.MelSpectrogram` + ``AmplitudeToDB``.

    Args:
        sample_rate: sample rate of the input, Hz.
        n_fft: FFT size, samples (frequency resolution ``sample_rate / n_fft`` Hz).
        hop_length: step between frames, samples (time resolution ``hop_length / sample_rate`` s).
        win_length: analysis window length, samples (default ``n_fft``).
        n_mels: number of mel bands.
        f_min_hz: lowest band edge, Hz.
        f_max_hz: highest band edge, Hz (default ``sample_rate / 2``).
        top_db: dynamic range kept below each example's maximum, dB (``None`` keeps all).
        power: 2.0 for a power spectrogram, 1.0 for magnitude.
        center: pad so that frame ``t`` is centred on sample ``t * hop_length``.
        window: analysis window, one of :data:`WINDOWS` (``"hann"`` by default).

    Shape:
        ``(..., samples)`` → ``(..., n_mels, 1 + samples // hop_length)`` (see the module doc).
        Silence gives a finite floor (``10 * log10(1e-10) = -100`` dB), never ``-inf``.
    """

    def __init__(
        self,
        sample_rate: int = 22050,
        n_fft: int = 1024,
        hop_length: int = 512,
        win_length: int | None = None,
        n_mels: int = 128,
        f_min_hz: float = 0.0,
        f_max_hz: float | None = None,
        top_db: float | None = 80.0,
        power: float = 2.0,
        center: bool = True,
        window: str = "hann",
    ) -> None:
        super().__init__()
        if f_max_hz is not None and f_max_hz > sample_rate / 2:
            raise ValueError(f"f_max_hz={f_max_hz} Hz is above the Nyquist frequency {sample_rate / 2} Hz.")
        if n_mels <= 0 or n_fft <= 0 or hop_length <= 0:
            raise ValueError("n_mels, n_fft and hop_length must be positive.")
        self.sample_rate = sample_rate
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.n_mels = n_mels
        self.center = center
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=sample_rate,
            n_fft=n_fft,
            win_length=win_length,
            hop_length=hop_length,
            f_min=f_min_hz,
            f_max=f_max_hz,
            n_mels=n_mels,
            power=power,
            center=center,
            window_fn=_window_fn(window),
        )
        self.to_db = torchaudio.transforms.AmplitudeToDB(stype="power" if power == 2.0 else "magnitude", top_db=top_db)

    def num_frames(self, n_samples: int) -> int:
        """Frames produced for an input of ``n_samples`` samples."""
        return frame_count(n_samples, self.hop_length, n_fft=self.n_fft, center=self.center)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        _check_waveform(waveform, self.n_fft, self.sample_rate, type(self).__name__)
        spec = self.mel.spectrogram
        if spec.power != 2.0:
            return self.to_db(self.mel(waveform))
        # The same as self.mel(waveform), a little faster: the power spectrum as re² + im² rather than
        # torchaudio's |X| ** 2, which takes a square root (inside abs) only to square it again.
        stft = torchaudio.functional.spectrogram(
            waveform, spec.pad, spec.window, spec.n_fft, spec.hop_length, spec.win_length, None,
            spec.normalized, spec.center, spec.pad_mode, spec.onesided,
        )
        power = stft.real.square() + stft.imag.square()
        return self.to_db(self.mel.mel_scale(power))


class LogSpectrogram(nn.Module):
    """Linear-frequency spectrogram in dB: ``n_fft // 2 + 1`` bins from 0 Hz to ``sample_rate / 2``.

    Args:
        n_fft: FFT size, samples.
        hop_length: step between frames, samples.
        win_length: window length, samples (default ``n_fft``).
        top_db: dynamic range kept below each example's maximum, dB.
        sample_rate: only used in error messages, Hz.
        window: analysis window, one of :data:`WINDOWS`.

    Shape:
        ``(..., samples)`` → ``(..., n_fft // 2 + 1, 1 + samples // hop_length)``.
    """

    def __init__(
        self,
        n_fft: int = 1024,
        hop_length: int = 512,
        win_length: int | None = None,
        top_db: float | None = 80.0,
        sample_rate: int | None = None,
        window: str = "hann",
    ) -> None:
        super().__init__()
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.sample_rate = sample_rate
        self.spec = torchaudio.transforms.Spectrogram(
            n_fft=n_fft, win_length=win_length, hop_length=hop_length, power=2.0, window_fn=_window_fn(window)
        )
        self.to_db = torchaudio.transforms.AmplitudeToDB(stype="power", top_db=top_db)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        _check_waveform(waveform, self.n_fft, self.sample_rate, type(self).__name__)
        return self.to_db(self.spec(waveform))


class MFCCFeatures(nn.Module):
    """Mel-frequency cepstral coefficients (:class:`torchaudio.transforms.MFCC`).

    The DCT of the log-mel spectrogram: a compact description of the spectral envelope.

    Args:
        sample_rate: Hz.
        n_mfcc: number of coefficients kept.
        n_fft, hop_length: samples.
        n_mels: mel bands before the DCT.
        f_min_hz, f_max_hz: band edges, Hz.

    Shape:
        ``(..., samples)`` → ``(..., n_mfcc, 1 + samples // hop_length)``.
    """

    def __init__(
        self,
        sample_rate: int = 22050,
        n_mfcc: int = 20,
        n_fft: int = 1024,
        hop_length: int = 512,
        n_mels: int = 128,
        f_min_hz: float = 0.0,
        f_max_hz: float | None = None,
    ) -> None:
        super().__init__()
        if n_mfcc > n_mels:
            raise ValueError(f"n_mfcc={n_mfcc} cannot exceed n_mels={n_mels}.")
        self.sample_rate = sample_rate
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.mfcc = torchaudio.transforms.MFCC(
            sample_rate=sample_rate,
            n_mfcc=n_mfcc,
            melkwargs={"n_fft": n_fft, "hop_length": hop_length, "n_mels": n_mels, "f_min": f_min_hz, "f_max": f_max_hz},
        )

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        _check_waveform(waveform, self.n_fft, self.sample_rate, type(self).__name__)
        return self.mfcc(waveform)


def standardize(features: torch.Tensor, *, eps: float = 1e-5) -> torch.Tensor:
    """Per-example standardisation to zero mean and unit variance.

    Statistics are taken over the whole of one example: all of ``(n_bins, frames)`` or
    ``(channels, n_bins, frames)``; a 4-D batch ``(batch, channels, n_bins, frames)`` is
    standardised example by example.

    ``(x - mean) / sqrt(var + eps)``: a constant (e.g. silent) example becomes all zeros instead of
    the NaN that ``(x - mean) / std`` gives (the seed chapter's defect).
    """
    if not isinstance(features, torch.Tensor) or not torch.is_floating_point(features):
        raise TypeError("standardize expects a float tensor.")
    if features.ndim in (2, 3):
        dims: tuple[int, ...] = tuple(range(features.ndim))
    elif features.ndim == 4:
        dims = (1, 2, 3)
    else:
        raise ValueError(
            "standardize expects (n_bins, frames), (channels, n_bins, frames) or "
            f"(batch, channels, n_bins, frames), got shape {tuple(features.shape)}."
        )
    if eps <= 0:
        raise ValueError(f"eps must be > 0, got {eps}.")
    mean = features.mean(dim=dims, keepdim=True)
    var = features.var(dim=dims, keepdim=True, unbiased=False)
    return (features - mean) / torch.sqrt(var + eps)


class Standardize(nn.Module):
    """:func:`standardize` as a module, to put at the end of a feature ``nn.Sequential``."""

    def __init__(self, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return standardize(features, eps=self.eps)

    def extra_repr(self) -> str:
        return f"eps={self.eps}"


# --------------------------------------------------------------------------------------------
# Features of many waveforms, in batches (the per-batch step is shared with course_lib.data.cache).


def compute_features(
    waveforms: torch.Tensor,
    feature: nn.Module,
    *,
    batch_size: int = 64,
    standardize: bool = True,
    progress: bool = False,
    device: str | torch.device | None = None,
) -> torch.Tensor:
    """Compute features for a whole set of waveforms, in batches, without gradients.

    Args:
        waveforms: ``(N, channels, samples)`` float tensor (e.g. ``SyntheticDataset.waveforms``).
        feature: a feature module mapping ``(batch, channels, samples)`` to
            ``(batch, channels, n_bins, frames)``, e.g. :class:`course_lib.features.LogMelSpectrogram`.
        batch_size: clips per batch (memory grows with it; 64 one-second clips need a few MB).
        standardize: standardise each example to zero mean and unit variance
            (:func:`course_lib.features.standardize`; a silent clip becomes zeros, never NaN).
        progress: show a tqdm progress bar.
        device: where to compute (default: where ``feature`` lives); the result is on the CPU.

    Returns:
        ``(N, channels, n_bins, frames)`` float32 on the CPU.

    Raises:
        ValueError: a wrong shape, an empty set, or NaN in the result (the message names the clips).
    """
    if not isinstance(waveforms, torch.Tensor) or not torch.is_floating_point(waveforms):
        raise TypeError(f"compute_features expects a float tensor of waveforms, got {type(waveforms).__name__}.")
    if waveforms.ndim != 3:
        raise ValueError(
            f"compute_features expects waveforms shaped (N, channels, samples), got {tuple(waveforms.shape)}. "
            "Fix: stack clips with torch.stack and give each a channel axis ((1, samples) for mono)."
        )
    if waveforms.shape[0] == 0:
        raise ValueError("compute_features got an empty set of waveforms (N = 0).")
    check_int(batch_size, "batch_size", minimum=1)
    if not isinstance(feature, nn.Module):
        raise TypeError(f"feature must be an nn.Module (e.g. LogMelSpectrogram), got {type(feature).__name__}.")
    if device is None:
        device = module_device(feature)
    feature = feature.to(device)
    was_training = feature.training
    feature.eval()
    outputs: list[torch.Tensor] = []
    starts = range(0, waveforms.shape[0], batch_size)
    try:
        for start in _progress(starts, total=len(starts), desc="features", enabled=progress):
            outputs.append(_features_of_batch(waveforms[start : start + batch_size], feature, standardize, device))
    finally:
        feature.train(was_training)
    result = torch.cat(outputs)
    bad = (~torch.isfinite(result)).flatten(1).any(dim=1).nonzero().flatten().tolist()
    if bad:
        raise ValueError(f"compute_features: NaN or infinite features for clip(s) {bad[:10]}; check those waveforms.")
    return result


# features.standardize is shadowed by the keyword argument of compute_features.
_standardize = standardize


def _features_of_batch(batch: torch.Tensor, feature: nn.Module, standardize: bool, device: torch.device) -> torch.Tensor:
    """``feature`` (already in eval mode) on one batch, without gradients; standardised; float32 on the CPU."""
    with torch.no_grad():  # thread-local: every worker thread enters it itself
        out = feature(batch.to(device))
    if out.ndim != 4:
        raise ValueError(
            f"the feature module {type(feature).__name__} returned shape {tuple(out.shape)} for a batch "
            f"{tuple(batch.shape)}; compute_features needs (batch, channels, n_bins, frames)."
        )
    if standardize:
        out = _standardize(out)
    return out.float().cpu()


# --------------------------------------------------------------------------------------------
# Dataset-level normalisation (chapter 6 measures what happens when the statistics leak).


def band_statistics(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-mel-band mean and standard deviation over a set of examples and all their frames.

    Dataset-level normalisation (the alternative to per-example standardisation) subtracts these
    and divides by them. They must come from the **training** set only.

    Args:
        features: ``(N, 1, n_mels, frames)`` (e.g. unstandardised log-mel in dB).

    Returns:
        ``(mean, std)``, each ``(1, n_mels, 1)`` (broadcasts against one example). Introduced in chapter 6.
    """
    if not isinstance(features, torch.Tensor) or features.ndim != 4 or features.shape[0] == 0:
        raise ValueError(f"features must be a non-empty (N, 1, n_mels, frames) tensor, got {getattr(features, 'shape', type(features))}.")
    mean = features.mean(dim=(0, 3)).unsqueeze(-1)
    std = features.std(dim=(0, 3)).unsqueeze(-1)
    return mean, std


def apply_band_statistics(features: torch.Tensor, stats: tuple[torch.Tensor, torch.Tensor], *, eps: float = 1e-5) -> torch.Tensor:
    """``(features - mean) / (std + eps)`` with ``stats`` from :func:`band_statistics`; same shape as ``features``."""
    mean, std = stats
    return (features - mean) / (std + eps)

