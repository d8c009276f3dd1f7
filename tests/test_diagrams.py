"""course_lib.diagrams: each diagram draws the labelled parts it promises, from its arguments.

Fast (no training, tiny models); the figures are closed after every test.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from torch import nn  # noqa: E402

from course_lib import diagrams  # noqa: E402
from course_lib.augment import SpecAugment  # noqa: E402
from course_lib.features import LogMelSpectrogram, frame_count  # noqa: E402
from course_lib.models import build_model  # noqa: E402
from course_lib.pretrained.base import PretrainedEncoder  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text)]


def by_gid(fig, gid: str):
    return [a for a in fig.findobj() if a.get_gid() == gid]


def gids(fig) -> set[str]:
    return {a.get_gid() for a in fig.findobj() if a.get_gid()}


def check_fonts(fig) -> None:
    small = [(t.get_text(), t.get_fontsize()) for t in fig.findobj(Text) if t.get_text().strip() and t.get_fontsize() < diagrams.MIN_FONT_PT]
    assert not small, f"labels below {diagrams.MIN_FONT_PT} pt: {small[:5]}"


# ---------------------------------------------------------------------------------------------
# (a) STFT framing


def test_stft_framing_draws_each_frame_with_its_span():
    rate, n_fft, hop = 16000, 512, 128
    wave = torch.sin(torch.linspace(0, 400, rate // 2))
    fig = diagrams.stft_framing(wave, rate, n_fft=n_fft, hop_length=hop, n_frames=3, first_frame=10)
    assert fig.get_size_inches()[0] == pytest.approx(10.0)
    for t in (10, 11, 12):
        (bar,) = by_gid(fig, f"frame-{t}")
        assert bar.get_width() == pytest.approx(1000 * n_fft / rate)  # ms
        assert bar.get_x() == pytest.approx(1000 * (t * hop - n_fft // 2) / rate)  # centred on t * hop
    assert not by_gid(fig, "frame-13") and not by_gid(fig, "frame-9")
    labels = " ".join(texts(fig))
    assert f"n_fft = {n_fft} samples = 32 ms" in labels
    assert f"hop_length = {hop} samples = 8 ms" in labels
    assert f"{frame_count(wave.numel(), hop)} frames" in labels
    assert by_gid(fig, "hop") and by_gid(fig, "n_fft") and by_gid(fig, "zoom-region")
    check_fonts(fig)


def test_stft_framing_follows_its_arguments():
    wave = np.random.default_rng(0).normal(size=8000)
    centred = diagrams.stft_framing(wave, 8000, n_fft=256, hop_length=64, n_frames=5, width=12)
    assert centred.get_size_inches()[0] == pytest.approx(12.0)
    assert len([g for g in gids(centred) if g.startswith("frame-") and not g.endswith("label")]) == 5
    assert by_gid(centred, "frame-0")[0].get_x() < 0  # center=True: frame 0 reaches into the padding
    assert any("reflection padding" in t for t in texts(centred))
    plain = diagrams.stft_framing(wave, 8000, n_fft=256, hop_length=64, n_frames=2, center=False)
    assert by_gid(plain, "frame-1")[0].get_x() == pytest.approx(1000 * 64 / 8000)  # starts at t * hop
    assert not any("reflection padding" in t for t in texts(plain))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(n_fft=256, hop_length=512), "hop_length=512 is larger than n_fft=256"),
        (dict(n_fft=0, hop_length=64), "n_fft must be an integer >= 2"),
        (dict(n_fft=20000, hop_length=64), "longer than the waveform"),
        (dict(n_fft=256, hop_length=64, n_frames=13), "at most 12 frames"),
        (dict(n_fft=256, hop_length=64, first_frame=200), "has 126 frames"),
        (dict(n_fft=256, hop_length=64, width=30), "width must be between"),
    ],
)
def test_stft_framing_refuses_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        diagrams.stft_framing(torch.zeros(8000), 8000, **kwargs)


def test_stft_framing_refuses_stereo_and_nan():
    with pytest.raises(ValueError, match="to_mono"):
        diagrams.stft_framing(torch.zeros(2, 8000), 8000, n_fft=256, hop_length=64)
    bad = torch.zeros(8000)
    bad[5] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        diagrams.stft_framing(bad, 8000, n_fft=256, hop_length=64)


# ---------------------------------------------------------------------------------------------
# (b) pipeline


STEPS = ["decode", "mix-down", "crop-pad", "resample", "mel", "db", "standardise", "cache", "loader", "specaugment", "model"]


def test_pipeline_diagram_shows_the_widths_of_masks_given_as_fractions():
    from course_lib.recipe import RECOMMENDED

    fig = diagrams.pipeline_diagram(RECOMMENDED.feature_extractor(), duration_s=1.0, batch_size=16, n_classes=9,
                                    spec_augment=RECOMMENDED.augmentation(), model=build_model("simple_cnn", 9, 64))
    labels = " ".join(texts(fig))
    assert "≤ 8 bands" in labels and "≤ 10 frames" in labels  # 1/8 of 64 bands, 10 % of 101 frames
    plt.close(fig)


def test_pipeline_diagram_has_every_step_with_the_real_shapes():
    mel = LogMelSpectrogram(sample_rate=16000, n_fft=512, hop_length=160, n_mels=64)
    model = build_model("simple_cnn", 9, 64)
    fig = diagrams.pipeline_diagram(mel, duration_s=1.0, batch_size=16, n_classes=9, spec_augment=SpecAugment(8, 10),
                                    model=model, file_rate_hz=44100, file_channels=2)
    for step in STEPS:
        assert by_gid(fig, f"step-{step}"), step
    frames = mel.num_frames(16000)
    shape = lambda step: by_gid(fig, f"step-{step}-shape")[0].get_text()  # noqa: E731
    assert shape("decode").startswith("(2, samples)") and "44100 Hz" in shape("decode")
    assert shape("crop-pad") == "(1, 44100)"
    assert shape("resample") == "(1, 16000)"
    assert shape("mel") == f"(1, 64, {frames})"
    assert shape("loader") == f"(16, 1, 64, {frames})"
    assert shape("model") == "(16, 9) logits"
    labels = " ".join(texts(fig))
    assert "n_fft 512" in labels and "hop 160" in labels and "top_db 80" in labels
    assert "≤ 8 bands" in labels and "≤ 10 frames" in labels
    assert "SimpleCNN" in labels and f"{sum(p.numel() for p in model.parameters()):,}".replace(",", " ") in labels
    assert by_gid(fig, "stage-once") and by_gid(fig, "stage-every-epoch")
    check_fonts(fig)


def test_pipeline_diagram_without_optional_parts_and_bad_arguments():
    mel = LogMelSpectrogram(sample_rate=22050, n_fft=1024, hop_length=512, n_mels=128)
    fig = diagrams.pipeline_diagram(mel, duration_s=5.0, batch_size=32, n_classes=50, width=8)
    assert fig.get_size_inches()[0] == pytest.approx(8.0)
    assert by_gid(fig, "step-resample-shape")[0].get_text() == "(1, 110250)"
    assert "none on this page" in " ".join(texts(fig))
    with pytest.raises(TypeError, match="LogMelSpectrogram"):
        diagrams.pipeline_diagram(nn.Identity(), duration_s=1.0, batch_size=4, n_classes=2)
    with pytest.raises(ValueError, match="duration_s"):
        diagrams.pipeline_diagram(mel, duration_s=0, batch_size=4, n_classes=2)
    with pytest.raises(ValueError, match="batch_size"):
        diagrams.pipeline_diagram(mel, duration_s=1.0, batch_size=0, n_classes=2)
    with pytest.raises(ValueError, match="n_classes"):
        diagrams.pipeline_diagram(mel, duration_s=1.0, batch_size=4, n_classes=1)


# ---------------------------------------------------------------------------------------------
# (c) architectures


@pytest.fixture(scope="module")
def three_models():
    torch.manual_seed(0)
    return {name: build_model(name, 5, 32) for name in ("attention_cnn", "audio_rnn", "crnn")}


def test_architecture_diagram_is_drawn_from_the_models(three_models):
    fig = diagrams.architecture_diagram(three_models, (1, 1, 32, 40))
    labels = " ".join(texts(fig))
    # one box per stage the model runs, named as in the model
    cnn = three_models["attention_cnn"]
    for k in range(len(cnn.channels)):
        assert by_gid(fig, f"block-0-features.{k}")
    assert by_gid(fig, "block-0-attention") and by_gid(fig, "block-0-classifier")
    assert by_gid(fig, "block-1-encoder") and by_gid(fig, "block-1-lstm")
    assert by_gid(fig, "block-2-rnn") and by_gid(fig, "block-2-attention")
    assert "bidirectional LSTM, 2 layers" in labels and "bidirectional GRU" in labels
    assert f"conv 3×3, 1→{cnn.channels[0]}" in labels
    # shapes measured on the input; the mean over frequency before the attention is shown
    assert by_gid(fig, "shape-0-classifier")[0].get_text() == "output (1, 5)"
    assert by_gid(fig, "reshape-0-attention")[0].get_text() == f"→ (1, {cnn.channels[-1]}, 10)"
    for c, model in enumerate(three_models.values()):
        total = f"{sum(p.numel() for p in model.parameters()):,}".replace(",", " ")
        assert total in by_gid(fig, f"title-{c}")[0].get_text()
    assert by_gid(fig, "formula") and "softmax" in labels
    check_fonts(fig)


def test_architecture_diagram_follows_the_configuration():
    small = build_model("attention_cnn", 4, 32, channels=(8, 16))
    big = build_model("attention_cnn", 4, 32, channels=(8, 16, 32, 64))
    fig_small = diagrams.architecture_diagram(small, (1, 1, 32, 40), show_formula=False)
    fig_big = diagrams.architecture_diagram(big, (1, 1, 32, 40), show_formula=False)
    assert by_gid(fig_small, "block-0-features.1") and not by_gid(fig_small, "block-0-features.2")
    assert by_gid(fig_big, "block-0-features.3")
    assert fig_big.get_size_inches()[1] > fig_small.get_size_inches()[1]  # more stages, taller
    assert not by_gid(fig_small, "formula")
    assert small.training  # the measurement leaves the model's mode as it was


def test_architecture_diagram_refuses_bad_arguments(three_models):
    with pytest.raises(ValueError, match="batch, 1, n_mels, frames"):
        diagrams.architecture_diagram(three_models, (1, 32, 40))
    with pytest.raises(ValueError, match="non-empty"):
        diagrams.architecture_diagram({}, (1, 1, 32, 40))
    with pytest.raises(ValueError, match="at most 4"):
        diagrams.architecture_diagram({str(k): three_models["crnn"] for k in range(5)}, (1, 1, 32, 40))


def test_describe_module():
    assert diagrams.describe_module(nn.Conv2d(1, 8, 3)) == "conv 3×3, 1→8"
    assert diagrams.describe_module(nn.Sequential(nn.Linear(4, 2), nn.ReLU())) == "linear 4→2 · ReLU"


# ---------------------------------------------------------------------------------------------
# (d) transfer


class TinyEncoder(PretrainedEncoder):
    """Three linear blocks with the course's train modes, for the diagram test."""

    model_sample_rate = 8000
    output_dim = 4

    def __init__(self) -> None:
        super().__init__(8000)
        self.layers = nn.ModuleList([nn.Linear(4, 4), nn.Linear(4, 8), nn.Linear(8, 4)])
        self.set_train_mode("frozen")

    def blocks(self):
        return [(f"block{i + 1}", [layer]) for i, layer in enumerate(self.layers)]


def test_transfer_diagram_shows_which_blocks_learn():
    encoder = TinyEncoder().set_train_mode("partial", 2)
    fig = diagrams.transfer_diagram(encoder, n_classes=3)
    colour = lambda gid: by_gid(fig, gid)[0].get_facecolor()  # noqa: E731
    learns, frozen = matplotlib.colors.to_rgba(diagrams._LEARNS), matplotlib.colors.to_rgba(diagrams._FROZEN)
    # from scratch: everything learns; fine-tuned top block: only block3 and the head; frozen: only the head
    assert all(colour(f"mode-0-block{i}") == learns for i in (1, 2, 3))
    assert colour("mode-1-block3") == learns and colour("mode-1-block2") == frozen
    assert all(colour(f"mode-2-block{i}") == frozen for i in (1, 2, 3))
    assert all(colour(f"mode-{c}-head") == learns for c in range(3))
    head = 4 * 3 + 3
    assert f"{head} weights learn" in by_gid(fig, "mode-2-title")[0].get_text()
    assert f"{head + 8 * 4 + 4} weights learn" in by_gid(fig, "mode-1-title")[0].get_text()
    assert "random init" in by_gid(fig, "mode-0-block1-text")[0].get_text()
    assert "pretrained" in by_gid(fig, "mode-2-block1-text")[0].get_text()
    assert (encoder.train_mode, encoder.n_unfrozen) == ("partial", 2)  # restored
    check_fonts(fig)


def test_transfer_diagram_custom_modes_and_bad_arguments():
    encoder = TinyEncoder()
    fig = diagrams.transfer_diagram(encoder, n_classes=2, modes=[("top two", "partial", 2, True)], width=7)
    assert fig.get_size_inches()[0] == pytest.approx(7.0)
    assert by_gid(fig, "mode-0-block2") and not by_gid(fig, "mode-1-block2")
    with pytest.raises(TypeError, match="set_train_mode"):
        diagrams.transfer_diagram(nn.Linear(2, 2), n_classes=2)
    with pytest.raises(ValueError, match="n_classes"):
        diagrams.transfer_diagram(encoder, n_classes=1)
    with pytest.raises(ValueError, match="1 to 4 tuples"):
        diagrams.transfer_diagram(encoder, n_classes=2, modes=[])
    with pytest.raises(ValueError, match="n_unfrozen"):  # the encoder's own check
        diagrams.transfer_diagram(encoder, n_classes=2, modes=[("x", "partial", 9, True)])
    assert encoder.train_mode == "frozen"
