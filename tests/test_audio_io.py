"""course_lib.audio_io: formats, bit depths, channel counts, sample rates and every bad input of issue 3."""

from __future__ import annotations

import math

import numpy as np
import pytest
import soundfile as sf
import torch
import torchaudio

from course_lib.audio_io import (
    AudioFileError,
    audio_info,
    fix_length,
    get_resampler,
    load_audio,
    normalize_peak,
    normalize_rms,
    resample,
    save_audio,
    seconds_to_samples,
    to_mono,
)


def _tone(sample_rate: int, duration_s: float = 0.25, channels: int = 1, freq_hz: float = 440.0) -> torch.Tensor:
    t = torch.arange(int(sample_rate * duration_s)) / sample_rate
    rows = [0.5 * torch.sin(2 * math.pi * freq_hz * (c + 1) * t) for c in range(channels)]
    return torch.stack(rows).float()


# --- formats, bit depths, channels -------------------------------------------------------------

@pytest.mark.parametrize(
    "subtype, tolerance",
    [("PCM_U8", 1 / 64), ("PCM_16", 1e-4), ("PCM_24", 1e-6), ("PCM_32", 1e-8), ("FLOAT", 0.0), ("DOUBLE", 1e-7)],
)
def test_wav_bit_depths_load_as_float32_in_range(tmp_path, subtype, tolerance):
    x = _tone(16000, channels=2)
    path = save_audio(tmp_path / f"{subtype}.wav", x, 16000, subtype=subtype)
    assert audio_info(path).subtype == subtype
    y, sr = load_audio(path)
    assert sr == 16000
    assert y.dtype == torch.float32
    assert y.shape == x.shape
    assert (y - x).abs().max().item() <= tolerance + 1e-9


@pytest.mark.parametrize("suffix, subtype", [(".wav", "PCM_16"), (".wav", "PCM_24"), (".flac", "PCM_16"), (".flac", "PCM_24")])
def test_integer_fast_path_gives_exactly_libsndfile_float_values(tmp_path, suffix, subtype):
    """load_audio reads 16- and 24-bit files as integers and scales them itself (faster): the values
    must be bit-for-bit those of libsndfile's own float conversion, extremes included."""
    x = _tone(16000, channels=2)
    x[0, :4] = torch.tensor([1.0, -1.0, 0.99999, -0.99999])  # full scale, both signs
    path = save_audio(tmp_path / f"clip{suffix}", x, 16000, subtype=subtype)
    reference, _ = sf.read(str(path), dtype="float32", always_2d=True)
    y, _ = load_audio(path)
    assert torch.equal(y, torch.from_numpy(reference.T.copy()))


@pytest.mark.parametrize("suffix", [".flac", ".ogg"])
def test_flac_and_ogg(tmp_path, suffix):
    x = _tone(22050, duration_s=0.5, channels=2)
    path = save_audio(tmp_path / f"clip{suffix}", x, 22050)
    y, sr = load_audio(path)
    assert sr == 22050 and y.shape[0] == 2 and y.dtype == torch.float32
    # lossless FLAC is exact up to 16-bit quantisation; Vorbis is lossy but close in energy
    if suffix == ".flac":
        assert y.shape == x.shape
        assert (y - x).abs().max() < 1e-4
    else:
        assert abs(y.pow(2).mean().item() - x.pow(2).mean().item()) < 0.02


@pytest.mark.parametrize("channels", [1, 2, 6])
def test_any_channel_count_and_to_mono(tmp_path, channels):
    x = _tone(8000, channels=channels)
    y, _ = load_audio(save_audio(tmp_path / "multi.wav", x, 8000, subtype="FLOAT"))
    assert y.shape == (channels, x.shape[1])
    mono = to_mono(y)
    assert mono.shape == (1, x.shape[1])
    torch.testing.assert_close(mono[0], x.mean(dim=0))
    batch = torch.stack([y, y])
    assert to_mono(batch).shape == (2, 1, x.shape[1])


def test_to_mono_rejects_a_bare_vector_with_a_fix():
    with pytest.raises(ValueError, match="unsqueeze"):
        to_mono(torch.zeros(100))


@pytest.mark.parametrize("sample_rate", [8000, 11025, 16000, 22050, 32000, 44100, 48000])
def test_sample_rates_8k_to_48k_load_and_resample(tmp_path, sample_rate):
    x = _tone(sample_rate, duration_s=0.5)
    y, sr = load_audio(save_audio(tmp_path / "sr.wav", x, sample_rate))
    assert sr == sample_rate
    z = resample(y, sr, 22050)
    assert z.shape == (1, math.ceil(x.shape[1] * 22050 / sample_rate))
    # a 440 Hz tone keeps its pitch: the spectrum peaks at 440 Hz after resampling
    spectrum = torch.fft.rfft(z[0]).abs()
    peak_hz = spectrum.argmax().item() * 22050 / z.shape[1]
    assert abs(peak_hz - 440) < 5


# --- resampling: soxr on the CPU, a cached torchaudio kernel elsewhere ----------------------------

def test_resampler_kernel_is_cached_per_rate_pair_and_cpu_resampling_builds_none(monkeypatch):
    """Seed defect: a new Resample (a new kernel) per clip. Here a kernel is built once per pair of rates,
    and only for tensors that need it (GPU or autograd); CPU clips go through soxr and build none."""
    get_resampler.cache_clear()
    built = []
    real = torchaudio.transforms.Resample

    def counting(*args, **kwargs):
        built.append((args, kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(torchaudio.transforms, "Resample", counting)
    clips = [torch.randn(1, 4410) for _ in range(20)]
    for clip in clips:
        resample(clip, 44100, 22050)
    assert built == [], "CPU resampling uses soxr: no torchaudio kernel"
    for clip in clips:
        resample(clip.clone().requires_grad_(True), 44100, 22050)
    assert len(built) == 1, "one kernel for 20 clips at the same pair of rates"
    resample(clips[0].clone().requires_grad_(True), 48000, 22050)
    assert len(built) == 2
    assert get_resampler(44100, 22050) is get_resampler(44100, 22050)
    get_resampler.cache_clear()


@pytest.mark.parametrize("orig_sr, target_sr", [(44100, 22050), (48000, 22050), (44100, 16000), (8000, 16000)])
def test_soxr_and_torchaudio_resampling_agree_below_the_cutoff(orig_sr, target_sr):
    """The CPU path (soxr) and the GPU / autograd path (torchaudio) give the same length, and the
    same signal for content well inside the passband; the batch axes are kept."""
    t = torch.arange(orig_sr) / orig_sr  # 1 s
    x = torch.stack([torch.sin(2 * math.pi * f * t) for f in (220.0, 1000.0, 3000.0)]).reshape(3, 1, -1)
    fast = resample(x, orig_sr, target_sr)
    slow = resample(x.clone().requires_grad_(True), orig_sr, target_sr).detach()
    assert fast.shape == slow.shape == (3, 1, math.ceil(orig_sr * target_sr / orig_sr))
    assert fast.dtype == torch.float32
    # away from the edges (both filters ramp in differently), the two agree to about -40 dB
    inner = slice(target_sr // 10, -target_sr // 10)
    error = (fast[..., inner] - slow[..., inner]).pow(2).mean() / slow[..., inner].pow(2).mean()
    assert error < 1e-4, f"relative error {error:.2e}"


def test_resample_keeps_float64_and_handles_half_precision_and_tiny_inputs():
    x64 = torch.randn(2, 441, dtype=torch.float64)
    assert resample(x64, 44100, 22050).dtype == torch.float64
    half = torch.randn(1, 441).to(torch.bfloat16)
    out = resample(half, 44100, 22050)
    assert out.dtype == torch.bfloat16 and out.shape == (1, 221)
    assert resample(torch.randn(1, 3), 44100, 16000).shape == (1, 2)


def test_resample_same_rate_is_identity_and_validates_rates():
    x = torch.randn(1, 100)
    assert resample(x, 16000, 16000) is x
    with pytest.raises(ValueError, match="orig_sr"):
        resample(x, 0, 16000)
    with pytest.raises(ValueError, match="target_sr"):
        resample(x, 16000, 22050.5)


# --- fix_length ---------------------------------------------------------------------------------

def test_fix_length_trims_and_pads_in_each_mode():
    x = torch.arange(10.0).unsqueeze(0)
    assert fix_length(x, 4, mode="start").tolist() == [[0, 1, 2, 3]]
    assert fix_length(x, 4, mode="center").tolist() == [[3, 4, 5, 6]]
    assert fix_length(x, 14, mode="start").tolist() == [list(range(10)) + [0, 0, 0, 0]]
    assert fix_length(x, 14, mode="center").tolist() == [[0, 0] + list(range(10)) + [0, 0]]
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    a, b = fix_length(x, 4, mode="random", generator=g1), fix_length(x, 4, mode="random", generator=g2)
    assert torch.equal(a, b), "the same seed gives the same crop"
    offsets = {int(fix_length(x, 4, mode="random", generator=g1)[0, 0]) for _ in range(50)}
    assert len(offsets) > 3, "random crops move"
    assert fix_length(x, 10) is x


def test_fix_length_works_on_batches_and_validates():
    x = torch.randn(3, 2, 100)
    assert fix_length(x, 50).shape == (3, 2, 50)
    with pytest.raises(ValueError, match="n_samples"):
        fix_length(x, 0)
    with pytest.raises(ValueError, match="mode"):
        fix_length(x, 10, mode="middle")


def test_seconds_to_samples():
    assert seconds_to_samples(1.5, 16000) == 24000
    assert seconds_to_samples(0.0, 8000) == 0
    with pytest.raises(ValueError):
        seconds_to_samples(-1.0, 8000)
    with pytest.raises(ValueError):
        seconds_to_samples(float("nan"), 8000)


# --- level normalisation ------------------------------------------------------------------------

def test_normalize_peak_and_rms_levels():
    x = _tone(16000) * 0.1
    assert normalize_peak(x).abs().max().item() == pytest.approx(1.0, abs=1e-5)
    assert normalize_peak(x, peak=0.5).abs().max().item() == pytest.approx(0.5, abs=1e-5)
    y = normalize_rms(x, target_dbfs=-20.0)
    assert y.pow(2).mean().sqrt().item() == pytest.approx(0.1, rel=1e-4)


def test_normalisation_is_per_example_in_a_batch():
    batch = torch.stack([_tone(16000) * 0.1, _tone(16000) * 0.9])
    peaks = normalize_peak(batch).abs().amax(dim=(1, 2))
    torch.testing.assert_close(peaks, torch.ones(2), atol=1e-5, rtol=0)


def test_silence_stays_finite_silence():
    silent = torch.zeros(2, 16000)
    for fn in (normalize_peak, normalize_rms):
        out = fn(silent)
        assert torch.isfinite(out).all() and out.abs().max() == 0


# --- bad input: clear errors naming the file ----------------------------------------------------

def _assert_clean_error(excinfo, path, words):
    message = str(excinfo.value)
    assert str(path) in message, "the error names the file"
    for word in words:
        assert word in message
    assert excinfo.value.__suppress_context__ or excinfo.value.__cause__ is None, "no soundfile traceback chained"
    assert not isinstance(excinfo.value, sf.LibsndfileError)


def test_missing_file(tmp_path):
    path = tmp_path / "nope.wav"
    with pytest.raises(FileNotFoundError) as excinfo:
        load_audio(path)
    _assert_clean_error(excinfo, path, ["no such audio file"])


def test_empty_file(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(AudioFileError) as excinfo:
        load_audio(path)
    _assert_clean_error(excinfo, path, ["empty"])


def test_text_file_renamed_wav(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("these are my lecture notes, not audio\n" * 20)
    with pytest.raises(AudioFileError) as excinfo:
        load_audio(path)
    _assert_clean_error(excinfo, path, ["cannot be decoded", "Fix:"])
    with pytest.raises(AudioFileError):
        audio_info(path)


def test_truncated_wav_is_refused_not_silently_shortened(tmp_path):
    good = save_audio(tmp_path / "good.wav", _tone(16000, duration_s=1.0), 16000)
    data = good.read_bytes()
    path = tmp_path / "truncated.wav"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioFileError) as excinfo:
        load_audio(path)
    _assert_clean_error(excinfo, path, ["truncated"])
    header_only = tmp_path / "header_cut.wav"
    header_only.write_bytes(data[:30])
    with pytest.raises(AudioFileError) as excinfo:
        load_audio(header_only)
    _assert_clean_error(excinfo, header_only, ["cannot be decoded"])


@pytest.mark.parametrize("bad_value", [float("nan"), float("inf"), float("-inf")])
def test_wav_with_nan_or_inf_samples(tmp_path, bad_value):
    x = _tone(16000).numpy().T.copy()
    x[100, 0] = bad_value
    path = tmp_path / "bad.wav"
    sf.write(str(path), x, 16000, subtype="FLOAT")  # save_audio refuses to write this, so write it raw
    with pytest.raises(AudioFileError) as excinfo:
        load_audio(path)
    _assert_clean_error(excinfo, path, ["NaN or infinite", "1 "])


def test_header_only_wav_with_no_samples(tmp_path):
    path = tmp_path / "nosamples.wav"
    sf.write(str(path), np.zeros((0, 1), dtype=np.float32), 16000)
    with pytest.raises(AudioFileError, match="no samples"):
        load_audio(path)
    y, sr = load_audio(path, allow_empty=True)
    assert y.shape == (1, 0) and sr == 16000


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(AudioFileError, match="folder"):
        load_audio(tmp_path)


def test_save_audio_validates(tmp_path):
    with pytest.raises(ValueError, match="extension"):
        save_audio(tmp_path / "x.mp3", torch.zeros(1, 10), 16000)
    with pytest.raises(ValueError, match="NaN"):
        save_audio(tmp_path / "x.wav", torch.full((1, 10), float("nan")), 16000)
    with pytest.raises(ValueError, match="sample_rate"):
        save_audio(tmp_path / "x.wav", torch.zeros(1, 10), -5)
    with pytest.raises(TypeError, match="floating-point"):
        save_audio(tmp_path / "x.wav", torch.zeros(1, 10, dtype=torch.int16), 16000)


def test_audio_info_reads_the_header(tmp_path):
    path = save_audio(tmp_path / "info.wav", _tone(32000, duration_s=0.5, channels=2), 32000)
    info = audio_info(path)
    assert (info.sample_rate, info.num_channels, info.num_frames) == (32000, 2, 16000)
    assert info.duration_s == pytest.approx(0.5)
