"""The listening table: augmented versions of a clip, seen and heard on one scale (chapter 3)."""

from __future__ import annotations

import math

import torch
import torchaudio

from .._checks import check_int


def augmentation_table(
    rows: list[tuple[str, str, torch.Tensor]],
    sample_rate: int,
    *,
    n_mels: int = 64,
    caption: str | None = None,
):
    """A table that shows and plays augmented versions of a clip next to the original.

    Unlike :func:`course_lib.plots.listening_grid` (which scales each row to full level), every
    row here shares one colour scale (dB, the same 80 dB range below the loudest bin of the
    *first* row) and one playback level (all players scaled by the same factor), so a gain is
    seen as a brighter or darker picture and heard as a louder or softer player.

    Args:
        rows: ``(name, setting, waveform)`` per row, the original first; ``waveform`` is
            ``(samples,)`` or ``(1, samples)`` at ``sample_rate`` Hz, any length.
        sample_rate: Hz.
        n_mels: mel bands of the thumbnails (25 ms windows every 10 ms).
        caption: a caption above the table.

    Returns:
        An ``IPython.display.HTML`` table (PNG thumbnails with ``alt`` texts and WAV players as
        data URIs, so it works in the static book). Introduced in chapter 3.
    """
    import html

    from IPython.display import HTML

    from ..plots import _thumbnail_png, audio_player

    if not rows:
        raise ValueError("augmentation_table needs at least one row (the original first).")
    check_int(sample_rate, "sample_rate", minimum=1, unit="Hz")
    waves = []
    for name, _, waveform in rows:
        data = torch.as_tensor(waveform, dtype=torch.float32).reshape(-1)
        if data.numel() == 0 or not torch.isfinite(data).all():
            raise ValueError(f"augmentation_table: the waveform of {name!r} is empty or not finite.")
        waves.append(data)
    win = round(0.025 * sample_rate)
    to_mel = torchaudio.transforms.MelSpectrogram(
        sample_rate=sample_rate, n_fft=2 ** math.ceil(math.log2(win)), win_length=win,
        hop_length=round(0.010 * sample_rate), n_mels=n_mels,
    )
    with torch.no_grad():
        mels = [10 * torch.log10(to_mel(w) + 1e-10) for w in waves]
    top = float(mels[0].max())
    peak = max(float(w.abs().max()) for w in waves)
    scale = 0.9 / peak if peak > 0 else 1.0
    cells = []
    for (name, setting, _), wave, mel in zip(rows, waves, mels):
        duration = wave.numel() / sample_rate
        # one dB scale for every row: the original's top and 80 dB below it
        png = _thumbnail_png(mel.numpy(), duration, vmin=top - 80, vmax=top, interpolation="nearest")
        player = audio_player(wave * scale, sample_rate, normalize=False)._repr_html_()
        alt = html.escape(f"log-mel spectrogram, {name} ({setting}), {duration:.2f} s", quote=True)
        cells.append(
            f"<tr><td><b>{html.escape(name)}</b></td><td>{html.escape(setting)}</td>"
            f'<td><img src="data:image/png;base64,{png}" alt="{alt}" width="208" height="72"></td>'
            f"<td>{player}</td></tr>"
        )
    head = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return HTML(
        '<table class="listening-grid">' + head
        + "<thead><tr><th>augmentation</th><th>setting</th><th>log-mel (one dB scale)</th>"
        + "<th>listen (one level)</th></tr></thead><tbody>" + "".join(cells) + "</tbody></table>"
    )
