"""course_lib.plots.listening_grid: one row per sound with its name, a thumbnail and a working player."""

from __future__ import annotations

import base64
import io
import re
import wave

import pytest
import torch

from course_lib.plots import listening_grid


def test_grid_has_one_row_per_sound_with_thumbnail_and_player():
    sr = 16000
    t = torch.arange(sr) / sr
    rows = [("tone", "440 Hz", 0.5 * torch.sin(2 * torch.pi * 440 * t)), ("noise", "white", 0.1 * torch.randn(1, sr // 2))]
    html = listening_grid(rows, sr, caption="two sounds").data
    assert html.count("<tr>") == 3  # header + two rows
    assert html.count('<img src="data:image/png;base64,') == 2 and 'alt="log-mel spectrogram of tone (440 Hz), 1.00 s"' in html
    assert "<caption>two sounds</caption>" in html
    assert "<th>class</th><th>recording</th>" in html
    named = listening_grid(rows, sr, columns=("file", "encoding")).data
    assert "<th>file</th><th>encoding</th><th>log-mel spectrogram</th>" in named
    players = re.findall(r'src="data:audio/wav;base64,([^"]+)"', html)
    assert len(players) == 2
    with wave.open(io.BytesIO(base64.b64decode(players[1]))) as w:  # a real WAV of the right length
        assert w.getframerate() == sr and w.getnframes() == sr // 2


def test_grid_rejects_bad_input():
    with pytest.raises(ValueError, match="at least one row"):
        listening_grid([], 16000)
    with pytest.raises(ValueError, match="NaN"):
        listening_grid([("bad", "nan", torch.full((1000,), float("nan")))], 16000)
    with pytest.raises(ValueError, match="mono"):  # two channels would be played one after the other
        listening_grid([("stereo", "2 channels", torch.zeros(2, 1000))], 16000)
