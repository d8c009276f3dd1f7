"""Tests of the synthetic-layout writers in course_lib.data (esc50, gtzan, folder): the synthetic
ESC-50, GTZAN and folder layouts match the real ones."""

from __future__ import annotations

import csv
import re

import pytest

from course_lib.audio_io import AudioFileError, audio_info, load_audio
from course_lib.data.esc50 import ESC50_HEADER, esc50_config, write_esc50_layout
from course_lib.data.folder import write_folder_layout
from course_lib.data.gtzan import GTZAN_GENRES, gtzan_split_ids, write_gtzan_layout
from course_lib.data.synthetic import SyntheticConfig

SMALL_ESC = esc50_config(sample_rate=8000, duration_s=1.0, event_duration_s=(0.2, 0.5))


@pytest.fixture(scope="module")
def esc50_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("esc50")
    write_esc50_layout(root, sources_per_class=5, config=SMALL_ESC, seed=0)
    return root


def test_esc50_header_matches_the_published_sample(shared_dir):
    real_header = (shared_dir / "data" / "esc50" / "esc50_meta_sample.csv").read_text().splitlines()[0]
    assert real_header == ",".join(ESC50_HEADER)


def test_esc50_header_and_names_match_the_real_format(esc50_root, test_data):
    official_format = (test_data / "esc50_meta_fixture.csv").read_text().splitlines()[0]
    ours = (esc50_root / "meta" / "esc50.csv").read_text().splitlines()
    assert ours[0] == official_format == ",".join(ESC50_HEADER)
    pattern = re.compile(r"^(\d)-(\d+)-([A-Z])-(\d+)\.wav$")
    with open(esc50_root / "meta" / "esc50.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) >= 5 * len(SMALL_ESC.class_names)
    for row in rows:
        m = pattern.match(row["filename"])
        assert m, row["filename"]
        assert (m.group(1), m.group(2), m.group(3), m.group(4)) == (row["fold"], row["src_file"], row["take"], row["target"])
        assert row["category"] == SMALL_ESC.class_names[int(row["target"])]
        assert (esc50_root / "audio" / row["filename"]).exists()


def test_esc50_folds_hold_whole_sources_and_every_class(esc50_root):
    with open(esc50_root / "meta" / "esc50.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    fold_of_source: dict[str, set[str]] = {}
    for row in rows:
        fold_of_source.setdefault(row["src_file"], set()).add(row["fold"])
    assert all(len(f) == 1 for f in fold_of_source.values())
    assert {r["fold"] for r in rows} == {"1", "2", "3", "4", "5"}
    for fold in "12345":
        assert {r["target"] for r in rows if r["fold"] == fold} == {str(t) for t in range(len(SMALL_ESC.class_names))}
    assert any(r["take"] != "A" for r in rows)  # several takes exist


def test_esc50_clips_have_the_configured_rate_and_length(esc50_root):
    first = next((esc50_root / "audio").glob("*.wav"))
    info = audio_info(first)
    assert (info.sample_rate, info.num_frames, info.num_channels) == (8000, 8000, 1)
    assert esc50_config().sample_rate == 44100 and esc50_config().duration_s == 5.0


def test_esc50_writer_is_deterministic(tmp_path):
    cfg = SyntheticConfig(sample_rate=8000, duration_s=0.5, event_duration_s=(0.1, 0.2), class_names=("harmonic_tone", "damped_knock"))
    a = write_esc50_layout(tmp_path / "a", sources_per_class=2, config=cfg, seed=3)
    b = write_esc50_layout(tmp_path / "b", sources_per_class=2, config=cfg, seed=3)
    assert a.read_text() == b.read_text()
    for name in (tmp_path / "a" / "audio").iterdir():
        assert name.read_bytes() == (tmp_path / "b" / "audio" / name.name).read_bytes()


def test_gtzan_layout_names_split_tracks_and_corrupt_file(tmp_path):
    genres = write_gtzan_layout(tmp_path, tracks_per_genre=1, duration_s=1.0, sample_rate=8000)
    assert genres == tmp_path / "genres"
    assert sorted(d.name for d in genres.iterdir() if d.is_dir()) == list(GTZAN_GENRES)
    ids = gtzan_split_ids()
    for genre in GTZAN_GENRES:
        for split in ("train", "valid", "test"):
            first = next(i for i in ids[split] if i.startswith(genre + "."))
            path = genres / genre / f"{first}.wav"
            if first != "jazz.00054":
                info = audio_info(path)
                assert (info.sample_rate, info.num_frames) == (8000, 8000)
    for wav in genres.glob("*/*.wav"):
        assert re.fullmatch(r"[a-z]+\.000\d\d\.wav", wav.name) and wav.name.startswith(wav.parent.name + ".")
    corrupt = genres / "jazz" / "jazz.00054.wav"
    assert corrupt.exists()
    with pytest.raises(AudioFileError):
        load_audio(corrupt)
    with open(genres / "synthetic_artists.csv", newline="") as handle:
        artists = list(csv.DictReader(handle))
    split_of_artist: dict[str, set[str]] = {}
    for row in artists:
        split_of_artist.setdefault(row["artist"], set()).add(row["split"])
    assert all(len(s) == 1 for s in split_of_artist.values())  # artist-disjoint, like the filtered split


@pytest.mark.parametrize("split_folders", [None, ("train", "val", "test"), ("train", "test")])
def test_folder_layouts(tmp_path, split_folders):
    cfg = SyntheticConfig(sample_rate=8000, duration_s=0.5, event_duration_s=(0.1, 0.2), class_names=("rising_chirp", "falling_chirp", "am_tone"))
    root = write_folder_layout(tmp_path, 6, config=cfg, split_folders=split_folders)
    files = sorted(root.rglob("*.wav"))
    assert len(files) == 18
    if split_folders is None:
        assert sorted(d.name for d in root.iterdir()) == ["am_tone", "falling_chirp", "rising_chirp"]
    else:
        assert sorted(d.name for d in root.iterdir()) == sorted(split_folders)
        for part in split_folders:
            assert sorted(d.name for d in (root / part).iterdir()) == ["am_tone", "falling_chirp", "rising_chirp"]
    with pytest.raises(ValueError, match="split_folders"):
        write_folder_layout(tmp_path / "x", 2, config=cfg, split_folders=("train", "dev"))
