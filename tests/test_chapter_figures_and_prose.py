"""Helpers behind chapters 1, 2 and 4: the side-by-side figure, the receptive field, the confusion prose."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
from torch import nn

from course_lib.evaluation import describe_confusions, top_confusions
from course_lib.features import LogMelSpectrogram, LogSpectrogram, MFCCFeatures
from course_lib.models import ReceptiveField, build_model, receptive_field
from course_lib.plots import plot_representations

# ----------------------------------------------------------------------------------------------
# receptive_field


def _measured_receptive_field(stack: nn.Module, size: int = 96) -> tuple[int, int]:
    """Bands and frames of the input that the centre output of ``stack`` depends on, measured by a gradient.

    With positive weights and average pooling every input in the patch contributes, so the
    non-zero input gradient is exactly the receptive field.
    """
    x = torch.zeros(1, 1, size, size, requires_grad=True)
    y = stack(x)
    y[0, 0, y.shape[2] // 2, y.shape[3] // 2].backward()
    rows = (x.grad[0, 0].abs().sum(dim=1) > 0).nonzero().flatten()
    cols = (x.grad[0, 0].abs().sum(dim=0) > 0).nonzero().flatten()
    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)


def _positive_chain(n_blocks: int, time_pool: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = []
    for _ in range(n_blocks):
        conv = nn.Conv2d(1, 1, 3, padding=1, bias=False)
        nn.init.constant_(conv.weight, 1.0)
        layers += [conv, nn.AvgPool2d((2, 2 if time_pool else 1))]
    return nn.Sequential(*layers)


@pytest.mark.parametrize("n_blocks", [1, 2, 3, 4])
def test_receptive_field_matches_the_gradient_measurement(n_blocks):
    chain = _positive_chain(n_blocks)
    assert receptive_field(chain).size == _measured_receptive_field(chain)
    chain = _positive_chain(n_blocks, time_pool=False)
    assert receptive_field(chain).size == _measured_receptive_field(chain)


def test_chapter_two_cnn_sees_46_by_46_with_a_stride_of_16():
    model = build_model("simple_cnn", 5, 64, channels=(8, 16, 32, 64))
    assert receptive_field(model) == ReceptiveField((46, 46), (16, 16))
    with pytest.raises(ValueError, match="no Conv2d"):
        receptive_field(nn.Linear(3, 2))


# ----------------------------------------------------------------------------------------------
# confusion prose


def test_top_confusions_lists_off_diagonal_cells_largest_first():
    names = ["a", "b", "c"]
    matrix = np.array([[5, 0, 1], [2, 4, 0], [1, 3, 0]])
    assert top_confusions(matrix, names) == [("c", "b", 3), ("b", "a", 2), ("a", "c", 1), ("c", "a", 1)]
    assert top_confusions(matrix, names, k=1) == [("c", "b", 3)]
    assert top_confusions(np.eye(3, dtype=int) * 4, names) == []
    with pytest.raises(ValueError, match="does not match"):
        top_confusions(matrix, names[:2])
    with pytest.raises(ValueError, match="negative"):
        top_confusions(-matrix, names)


def test_describe_confusions_is_generated_from_the_matrix():
    names = ["a", "b", "c"]
    matrix = np.array([[5, 0, 1], [2, 4, 0], [1, 3, 0]])
    assert describe_confusions(matrix, names, k=2) == (
        "c taken for b (3 clips), b taken for a (2 clips); 2 more clips in 2 other cells"
    )
    assert describe_confusions(matrix, names, k=4, unit="window").endswith("c taken for a (1 window)")
    assert describe_confusions(np.diag([2, 3, 4]), names).startswith("no confusion")


# ----------------------------------------------------------------------------------------------
# plot_representations


def test_plot_representations_puts_clips_side_by_side_with_a_shared_scale_per_row():
    rate, hop = 16000, 256
    g = torch.Generator().manual_seed(0)
    clips = {"noise": 0.1 * torch.randn(1, rate, generator=g), "tone": 0.5 * torch.sin(torch.arange(rate // 2) * 0.2)}
    transforms = {
        "linear": (LogSpectrogram(n_fft=512, hop_length=hop), "linear"),
        "mel": (LogMelSpectrogram(sample_rate=rate, n_fft=512, hop_length=hop, n_mels=32), "mel"),
        "MFCC": (MFCCFeatures(sample_rate=rate, n_mfcc=13, n_fft=512, hop_length=hop, n_mels=32), "mfcc"),
    }
    fig = plot_representations(clips, rate, hop, transforms)
    axes = np.array(fig.axes[:8]).reshape(4, 2)
    assert axes[0, 0].get_title().startswith("noise: waveform (1, 16000)")
    assert axes[2, 1].get_title() == "mel (1, 32, 32)"  # 8000 samples, hop 256 -> 32 frames
    for row in range(1, 4):
        assert axes[row, 0].images[0].get_clim() == axes[row, 1].images[0].get_clim()
    assert len(fig.axes) == 8 + 3  # one colour bar per transform row
    assert [t.get_text() for t in axes[2, 0].get_yticklabels()] == ["0", "500", "1k", "2k", "4k", "8k"]
    from course_lib.plots import rendered_px

    smallest = min(t.get_fontsize() for ax in fig.axes for t in ax.get_xticklabels() + ax.get_yticklabels())
    assert rendered_px(fig, smallest) >= 10  # two columns still show 10 px text in the book's column
    # a mel front end from 300 Hz to 4 kHz: the ticks follow its own filter bank
    narrow = LogMelSpectrogram(sample_rate=rate, n_fft=512, hop_length=hop, n_mels=32, f_min_hz=300, f_max_hz=4000)
    fig = plot_representations(clips, rate, hop, {"mel": (narrow, "mel")})
    assert [t.get_text() for t in fig.axes[2].get_yticklabels()] == ["500", "1k", "2k", "4k"]
    assert fig.axes[2].get_yticks()[-1] == 32
    with pytest.raises(ValueError, match="mono"):
        plot_representations({"stereo": torch.zeros(2, 100)}, rate, hop, transforms)
    with pytest.raises(ValueError, match="NaN"):
        plot_representations({"nan": torch.full((100,), float("nan"))}, rate, hop, transforms)
    with pytest.raises(ValueError, match="kind"):
        plot_representations(clips, rate, hop, {"x": (transforms["mel"][0], "chroma")})
    with pytest.raises(ValueError, match="at least one"):
        plot_representations({}, rate, hop, transforms)
