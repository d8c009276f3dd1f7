"""Players and listening grids: an audio player, and tables of sounds with a log-mel thumbnail and
a player per row (introduced in chapters 1-3)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from ._style import _to_numpy


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


def _thumbnail_png(
    mel_db: np.ndarray, duration_s: float, *, vmin: float | None = None, vmax: float | None = None,
    interpolation: str | None = None,
) -> str:
    """A log-mel thumbnail, ``(n_mels, frames)`` in dB spanning ``duration_s`` seconds, drawn without
    axes in a 2.6 x 0.9 inch figure at 80 dpi (208 x 72 px): base64 PNG text for a data URI.
    ``vmin`` / ``vmax`` fix the colour scale (dB; default: the thumbnail's own range)."""
    import base64
    import io

    fig, ax = plt.subplots(figsize=(2.6, 0.9), dpi=80)
    ax.imshow(mel_db, origin="lower", aspect="auto", cmap="magma", vmin=vmin, vmax=vmax,
              extent=(0, duration_s, 0, mel_db.shape[0]), interpolation=interpolation)
    ax.set_axis_off()
    fig.subplots_adjust(0, 0, 1, 1)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _thumbnail_and_player(
    name: str, note: str, waveform, sample_rate: int, n_mels: int, size: tuple[int, int] = (208, 72)
) -> tuple[str, str]:
    """``(<img> tag, player HTML)`` for one sound: a log-mel thumbnail (PNG data URI, 25 ms windows every
    10 ms) and a WAV player. Raises ``ValueError`` on NaN or infinite samples."""
    import html

    from ..features import LogMelSpectrogram

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
    duration = data.numel() / sample_rate
    png = _thumbnail_png(mel, duration)
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

