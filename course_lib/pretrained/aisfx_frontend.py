"""aiSFX's front end: 44.1 kHz audio → peak-normalised log-mel spectrogram → blocks of 100 frames."""

from __future__ import annotations

import torch
import torch.nn.functional as F
import torchaudio
from torch import nn

#: Sample rate the network was trained at, Hz.
AISFX_SAMPLE_RATE: int = 44100
#: STFT window (= FFT size), samples at 44.1 kHz (46 ms).
AISFX_N_FFT: int = 2048
#: STFT hop, samples at 44.1 kHz (23 ms).
AISFX_HOP_LENGTH: int = 1024
#: Mel bands.
AISFX_N_MELS: int = 96
#: Frames per block the network reads (≈ 2.3 s).
AISFX_BLOCK_FRAMES: int = 100
#: Frames between the starts of two blocks (the paper's hop of half a block).
AISFX_BLOCK_HOP: int = 50
#: The authors' min-max scaling of ``log10(1e4 S + 1)``: divide by this (the minimum is 0).
AISFX_SPEC_MAX: float = 9.457798957824707
_F_MIN_HZ, _F_MAX_HZ = 0.0, 22050.0


def _mel_filterbank(n_freqs: int) -> torch.Tensor:
    """``(n_freqs, 96)`` HTK mel triangles over 0–22050 Hz, each band's weights summing to 1 (librosa ``norm=1``)."""
    fb = torchaudio.functional.melscale_fbanks(
        n_freqs, _F_MIN_HZ, _F_MAX_HZ, AISFX_N_MELS, AISFX_SAMPLE_RATE, norm=None, mel_scale="htk"
    ).double()
    # Computed in float64 and then rounded, as librosa does.
    return (fb / fb.sum(dim=0, keepdim=True).clamp_min(1e-300)).float()


class AisfxFrontEnd(nn.Module):
    """The network's input from waveforms: ``(batch, samples)`` at 44.1 kHz → ``(batch, frames, 96)``.

    Peak normalisation per clip, power STFT (Hann 2048, hop 1024, centred, zero padding), 96 HTK mel
    bands summing to 1, ``log10(1e4 · S + 1) / 9.4578``; see the module docstring.
    ``frames = 1 + samples // 1024``. Peak normalisation ignores zero padding (a padded clip keeps
    the peak of its real samples).
    """

    def __init__(self) -> None:
        super().__init__()
        self.sample_rate = AISFX_SAMPLE_RATE
        self.spectrogram = torchaudio.transforms.Spectrogram(
            n_fft=AISFX_N_FFT, hop_length=AISFX_HOP_LENGTH, power=2.0, center=True, pad_mode="constant"
        )
        self.register_buffer("mel_fb", _mel_filterbank(AISFX_N_FFT // 2 + 1), persistent=False)

    @staticmethod
    def n_frames(n_samples: torch.Tensor | int) -> torch.Tensor:
        """Frames computed from ``n_samples`` samples: ``1 + n_samples // 1024``."""
        return 1 + torch.as_tensor(n_samples) // AISFX_HOP_LENGTH

    def forward(self, waveforms: torch.Tensor) -> torch.Tensor:
        if waveforms.ndim != 2:
            raise ValueError(f"AisfxFrontEnd expects (batch, samples) at 44.1 kHz, got {tuple(waveforms.shape)}.")
        peak = waveforms.abs().amax(dim=1, keepdim=True)
        waveforms = waveforms / torch.where(peak > 0, peak, torch.ones_like(peak))
        power = self.spectrogram(waveforms)  # (batch, 1025, frames)
        mel = torch.matmul(power.transpose(1, 2), self.mel_fb)  # (batch, frames, 96)
        return torch.log10(1e4 * mel + 1.0) / AISFX_SPEC_MAX


def spectrogram_blocks(spec: torch.Tensor) -> torch.Tensor:
    """Cut ``(batch, frames, bands)`` into ``(batch, n_blocks, 100, bands)`` blocks every 50 frames.

    ``n_blocks = 1 + (frames - 100) // 50`` (an incomplete last block is dropped, as the package
    does by default); fewer than 100 frames are padded with zeros (silence) to one block.
    """
    if spec.shape[1] < AISFX_BLOCK_FRAMES:
        spec = F.pad(spec, (0, 0, 0, AISFX_BLOCK_FRAMES - spec.shape[1]))
    return spec.unfold(1, AISFX_BLOCK_FRAMES, AISFX_BLOCK_HOP).transpose(2, 3)


def n_blocks(n_frames: torch.Tensor | int) -> torch.Tensor:
    """Blocks cut from ``n_frames`` frames: ``max(1, 1 + (n_frames - 100) // 50)``."""
    n_frames = torch.as_tensor(n_frames)
    return torch.clamp(1 + (n_frames - AISFX_BLOCK_FRAMES).clamp_min(0) // AISFX_BLOCK_HOP, min=1)
