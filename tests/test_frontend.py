"""The front end as one value (course_lib.frontend.FrontEnd) and the code that takes it whole:
the recipe, the feature cache, the datasets and the saved settings of a run."""

from __future__ import annotations

import pytest
import torch

from course_lib.audio_io import save_audio
from course_lib.data.base import AudioFileDataset
from course_lib.data.cache import FeatureCache, cached_features
from course_lib.frontend import FrontEnd, feature_signature
from course_lib.recipe import RECOMMENDED

SR = 8000
RECIPE = RECOMMENDED.replace(sample_rate=SR, n_mels=32)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("frontend")
    g = torch.Generator().manual_seed(0)
    paths = []
    for i in range(5):  # lengths around the clip length: cut and padded
        path = root / f"clip{i}.wav"
        save_audio(path, 0.3 * torch.randn(1, int(SR * (0.4 + 0.1 * i)), generator=g), SR)
        paths.append(path)
    return paths


def test_recipe_front_end_holds_the_recipe_settings():
    front_end = RECOMMENDED.front_end(1.0)
    assert (front_end.sample_rate, front_end.n_mels, front_end.hop_length) == (16000, 64, RECOMMENDED.hop_length)
    assert (front_end.n_fft, front_end.win_length, front_end.f_min_hz) == (RECOMMENDED.n_fft, RECOMMENDED.win_length, 20.0)
    assert front_end.crop == "center" and front_end.standardize
    assert front_end.n_samples == 16000 and front_end.n_frames == 101 == RECOMMENDED.n_frames(1.0)
    assert RECOMMENDED.n_frames(5.0) == 501
    x = torch.randn(2, 1, 16000)
    assert torch.equal(front_end.extractor()(x), RECOMMENDED.feature_extractor()(x))
    assert front_end.extractor()(x).shape[-1] == front_end.n_frames


def test_signature_is_the_cache_key_the_settings_gave_before():
    front_end = RECIPE.front_end(0.5, crop="start")
    before = feature_signature(RECIPE.feature_extractor(), sample_rate=SR, duration_s=0.5, crop="start", standardize=True)
    assert front_end.signature() == before  # caches written before stay valid
    assert front_end.replace(duration_s=0.25).signature() != before
    assert front_end.replace(standardize=False).signature() != before
    assert front_end.replace(n_mels=40).signature() != before


def test_settings_round_trip_and_older_settings_load():
    front_end = RECIPE.front_end(0.5)
    assert FrontEnd.from_settings(front_end.settings()) == front_end
    older = {  # what `python -m course_lib train` wrote into metrics.json before the FrontEnd
        "sample_rate": SR, "duration_s": 0.5, "n_mels": 32, "n_fft": RECIPE.n_fft, "win_length": RECIPE.win_length,
        "hop_length": RECIPE.hop_length, "f_min_hz": 20.0, "top_db": 80.0, "standardize": True,
    }
    assert FrontEnd.from_settings(older) == front_end
    with pytest.raises(ValueError, match="n_fft"):
        FrontEnd.from_settings({"sample_rate": SR, "duration_s": 0.5})


def test_front_end_refuses_bad_settings_with_the_fix():
    with pytest.raises(ValueError, match="crop"):
        RECIPE.front_end(0.5, crop="random")
    with pytest.raises(ValueError, match="duration_s"):
        RECIPE.front_end(0.0)
    with pytest.raises(ValueError, match="shorter than one FFT window"):
        RECIPE.front_end(0.01)
    with pytest.raises(ValueError, match="win_length"):
        RECIPE.front_end(0.5).replace(win_length=4096)


def test_cached_features_of_a_front_end_are_those_of_its_settings(files, tmp_path):
    front_end = RECIPE.front_end(0.5)
    by_keywords, kept = cached_features(files, RECIPE.feature_extractor(), sample_rate=SR, duration_s=0.5, workers=1)
    cache = FeatureCache(tmp_path / "cache")
    owned, kept_owned = cached_features(files, front_end, cache=cache, workers=1)
    assert kept == kept_owned and torch.equal(owned, by_keywords)
    assert owned.shape == (len(files), 1, 32, front_end.n_frames)
    assert (tmp_path / "cache" / front_end.signature()).is_dir()
    again, _ = cached_features(files, front_end, cache=cache, workers=1)
    assert cache.hits == len(files) and torch.equal(again, owned)
    raw, _ = cached_features(files, front_end.replace(standardize=False), workers=1)
    assert not torch.equal(raw, owned)
    with pytest.raises(TypeError, match="already holds sample_rate"):
        cached_features(files, front_end, sample_rate=SR)
    with pytest.raises(TypeError, match="needs sample_rate= and duration_s="):
        cached_features(files, RECIPE.feature_extractor())


def test_dataset_with_a_front_end_decodes_and_computes_with_it(files):
    labels = [0, 1, 0, 1, 0]
    front_end = RECIPE.front_end(0.5, crop="start")
    owned = AudioFileDataset(files, labels, ("a", "b"), front_end=front_end)
    assert (owned.sample_rate, owned.duration_s, owned.crop) == (SR, 0.5, "start")
    assert owned[0][0].shape == (1, front_end.n_samples)
    before = AudioFileDataset(files, labels, ("a", "b"), sample_rate=SR, duration_s=0.5, crop="start")
    owned_features, kept = owned.to_features(workers=1)
    before_features, _ = before.to_features(RECIPE.feature_extractor(), workers=1)
    assert kept == list(range(len(files)))
    assert torch.equal(owned_features.features, before_features.features)
    with pytest.raises(TypeError, match="already holds duration_s"):
        AudioFileDataset(files, labels, ("a", "b"), front_end=front_end, duration_s=1.0)
    with pytest.raises(TypeError, match="needs a feature module"):
        before.to_features()
    with pytest.raises(TypeError, match="standardize is the front end's"):
        owned.to_features(standardize=False)
