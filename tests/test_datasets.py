"""Tests of the datasets of course_lib.data (base, esc50, gtzan, folder) on synthetic data in the real
layouts, the real ESC-50 metadata sample and the real GTZAN split files, and every bad-input case of issue 4."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
import torch

from course_lib.audio_io import save_audio
from course_lib.data.base import DatasetError
from course_lib.data.esc50 import ESC50Dataset, esc50_config, read_esc50_meta, write_esc50_layout
from course_lib.data.folder import FolderDataset, scan_folder_dataset, write_folder_layout
from course_lib.data.gtzan import GTZANDataset, gtzan_track_ids, write_gtzan_layout
from course_lib.data.splits import esc50_cv_folds, grouped_split, stratified_split
from course_lib.data.synthetic import SyntheticConfig
from course_lib.features import LogMelSpectrogram

SMALL = SyntheticConfig(sample_rate=8000, duration_s=0.5, event_duration_s=(0.1, 0.2), class_names=("rising_chirp", "falling_chirp", "am_tone"))


# ------------------------------------------------------------------ the official formats


def test_esc50_metadata_in_the_official_format_parses_unchanged(test_data):
    rows = read_esc50_meta(test_data / "esc50_meta_fixture.csv")
    assert len(rows) == 40
    assert {r.fold for r in rows} == {1, 2, 3, 4, 5}
    assert {r.target: r.category for r in rows} == {1: "rooster", 3: "cow", 10: "rain", 38: "clock_tick", 46: "church_bells"}
    assert {r.category for r in rows if r.esc10} == {"rooster", "rain", "clock_tick"}
    assert rows[0].filename == "1-900107-A-1.wav" and rows[0].fold == 1 and rows[0].target == 1
    assert rows[0].src_file == "900107" and rows[0].take == "A" and rows[0].esc10 is True
    assert {r.take for r in rows} == {"A", "B", "C"}
    for r in rows:  # the file name encodes fold, source, take and target
        assert r.filename == f"{r.fold}-{r.src_file}-{r.take}-{r.target}.wav"


def test_gtzan_filtered_split_sizes_and_disjointness():
    ids = {s: gtzan_track_ids(s) for s in ("train", "valid", "test")}
    assert [len(ids[s]) for s in ("train", "valid", "test")] == [443, 197, 290]
    assert len(set().union(*map(set, ids.values()))) == 930  # no track in two parts
    assert "jazz.00054" in ids["train"]
    for track in ids["train"] + ids["valid"] + ids["test"]:
        genre, number = track.split(".")
        assert genre in {"blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock"}
        assert len(number) == 5 and number.isdigit()
    with pytest.raises(ValueError, match="split"):
        gtzan_track_ids("validation")


# ------------------------------------------------------------------ cross-checks against ../shared


def test_real_esc50_metadata_sample_parses_unchanged(shared_dir, test_data):
    rows = read_esc50_meta(shared_dir / "data" / "esc50" / "esc50_meta_sample.csv")
    assert len(rows) == 414
    assert {r.fold for r in rows} <= {1, 2, 3, 4, 5} and len({r.fold for r in rows}) >= 4
    assert {r.target for r in rows} <= set(range(50))
    assert any(r.esc10 for r in rows) and not all(r.esc10 for r in rows)
    assert rows[0].filename == "2-103426-A-3.wav" and rows[0].category == "cow" and rows[0].target == 3
    assert rows[0].src_file == "103426" and rows[0].take == "A" and rows[0].esc10 is False
    for r in rows:  # the file name encodes fold, source, take and target
        assert r.filename == f"{r.fold}-{r.src_file}-{r.take}-{r.target}.wav"
    categories = {}
    for r in rows:
        assert categories.setdefault(r.target, r.category) == r.category
    # Our fixture's categories carry their real targets and ESC-10 flags.
    fixture = read_esc50_meta(test_data / "esc50_meta_fixture.csv")
    real = {r.target: (r.category, r.esc10) for r in rows}
    assert {r.target: (r.category, r.esc10) for r in fixture}.items() <= real.items()


def test_torchaudio_gtzan_split_matches_the_published_lists(shared_dir):
    for split, name in (("train", "train_filtered.txt"), ("valid", "valid_filtered.txt"), ("test", "test_filtered.txt")):
        published = [line.strip() for line in (shared_dir / "data" / "gtzan" / name).read_text().splitlines() if line.strip()]
        ours = [f"{i.split('.')[0]}/{i}.wav" for i in gtzan_track_ids(split)]
        assert ours == published, split


# ------------------------------------------------------------------ ESC-50 layout


@pytest.fixture(scope="module")
def esc50_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("esc50")
    write_esc50_layout(root, sources_per_class=5, config=esc50_config(sample_rate=8000, duration_s=1.0, event_duration_s=(0.2, 0.5)))
    return root


def test_esc50_dataset_reads_the_synthetic_layout(esc50_root):
    ds = ESC50Dataset(esc50_root, sample_rate=8000, duration_s=1.0)
    assert len(ds.class_names) == 11 and ds.class_names[0] == "harmonic_tone"
    waveform, label = ds[0]
    assert waveform.shape == (1, 8000) and label == ds.rows[0].target
    part = ESC50Dataset(esc50_root, folds=[2, 3], sample_rate=8000, duration_s=1.0)
    assert set(part.folds) == {2, 3} and 0 < len(part) < len(ds)
    with pytest.raises(ValueError, match="folds"):
        ESC50Dataset(esc50_root, folds=[6], sample_rate=8000, duration_s=1.0)


def test_esc50_official_cross_validation(esc50_root):
    ds = ESC50Dataset(esc50_root, sample_rate=8000, duration_s=1.0)
    splits = esc50_cv_folds(ds.folds, groups=ds.groups, val_fraction=0.2)
    assert len(splits) == 5
    tested = torch.cat([s.test for s in splits]).sort()[0]
    assert torch.equal(tested, torch.arange(len(ds)))  # every clip tested exactly once
    for k, s in enumerate(splits, start=1):
        assert {ds.folds[i] for i in s.test.tolist()} == {k}
        assert k not in {ds.folds[i] for i in s.train.tolist() + s.val.tolist()}
        sets = [set(x.tolist()) for x in s]
        assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
        groups = [{ds.groups[i] for i in x.tolist()} for x in s]
        assert not (groups[0] & groups[1] or groups[0] & groups[2] or groups[1] & groups[2])


def test_esc50_to_features_and_cache(esc50_root, tmp_path):
    ds = ESC50Dataset(esc50_root, folds=[1], sample_rate=8000, duration_s=1.0)
    feature = LogMelSpectrogram(sample_rate=8000, n_fft=256, hop_length=128, n_mels=32)
    feats, kept = ds.to_features(feature, cache=tmp_path / "cache")
    assert len(feats) == len(ds) and kept == list(range(len(ds)))
    assert feats.features.shape == (len(ds), 1, 32, 1 + 8000 // 128)
    assert feats.labels.tolist() == ds.labels


def _copy_meta(esc50_root: Path, tmp_path: Path, edit) -> Path:
    root = tmp_path / "esc"
    shutil.copytree(esc50_root, root)
    meta = root / "meta" / "esc50.csv"
    with open(meta, newline="") as handle:
        rows = list(csv.DictReader(handle))
    header, rows = edit(list(rows[0].keys()), rows)
    with open(meta, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return root


def test_esc50_missing_column(esc50_root, tmp_path):
    root = _copy_meta(esc50_root, tmp_path, lambda h, rows: ([c for c in h if c != "src_file"], rows))
    with pytest.raises(DatasetError, match=r"esc50\.csv: missing column\(s\) \['src_file'\]"):
        ESC50Dataset(root, sample_rate=8000, duration_s=1.0)


def test_esc50_row_pointing_to_missing_file(esc50_root, tmp_path):
    root = _copy_meta(esc50_root, tmp_path, lambda h, rows: (h, rows))
    victim = next((root / "audio").glob("3-*.wav"))
    victim.unlink()
    with pytest.raises(DatasetError, match=victim.name):
        ESC50Dataset(root, sample_rate=8000, duration_s=1.0)


def test_esc50_label_outside_class_list(esc50_root, tmp_path):
    def edit(h, rows):
        rows[4]["target"] = "42"
        return h, rows

    root = _copy_meta(esc50_root, tmp_path, edit)
    with pytest.raises(DatasetError, match="row 6"):
        ESC50Dataset(root, sample_rate=8000, duration_s=1.0)


def test_esc50_duplicate_file_names(esc50_root, tmp_path):
    def edit(h, rows):
        rows[7]["filename"] = rows[2]["filename"]
        return h, rows

    root = _copy_meta(esc50_root, tmp_path, edit)
    with pytest.raises(DatasetError, match=r"row 9: duplicate file name .*first on row 4"):
        ESC50Dataset(root, sample_rate=8000, duration_s=1.0)


def test_esc50_bad_values_and_missing_meta(esc50_root, tmp_path):
    def edit(h, rows):
        rows[0]["fold"] = "one"
        return h, rows

    root = _copy_meta(esc50_root, tmp_path, edit)
    with pytest.raises(DatasetError, match="row 2: fold and target must be integers"):
        ESC50Dataset(root, sample_rate=8000, duration_s=1.0)
    with pytest.raises(FileNotFoundError, match="write_esc50_layout"):
        ESC50Dataset(tmp_path / "nowhere")


def test_esc50_corrupt_clip_is_skipped_with_one_warning(esc50_root, tmp_path):
    root = _copy_meta(esc50_root, tmp_path, lambda h, rows: (h, rows))
    victims = sorted((root / "audio").glob("2-*.wav"))[:2]
    for v in victims:
        v.write_bytes(b"this is not audio at all" * 10)
    with pytest.warns(UserWarning) as record:
        ds = ESC50Dataset(root, sample_rate=8000, duration_s=1.0)
    assert len(record) == 1 and all(v.name in str(record[0].message) for v in victims)
    assert len(ds.skipped) == 2 and all(f.name not in {v.name for v in victims} for f in ds.files)
    assert len(ds.rows) == len(ds.files) == len(ds.labels)
    for row, f, label in zip(ds.rows, ds.files, ds.labels):  # labels still belong to their files
        assert row.filename == f.name and row.target == label


def test_truncated_clip_found_mid_epoch_is_skipped_not_crashing(esc50_root, tmp_path):
    root = _copy_meta(esc50_root, tmp_path, lambda h, rows: (h, rows))
    victim = sorted((root / "audio").glob("4-*.wav"))[0]
    victim.write_bytes(victim.read_bytes()[:1000])  # header intact, data cut short
    with pytest.warns(UserWarning, match="truncated"):  # the header check already finds it ...
        checked = ESC50Dataset(root, folds=[4], sample_rate=8000, duration_s=1.0)
    assert victim not in checked.files
    for i in range(len(checked)):  # ... so a per-item epoch never meets it
        checked[i]
    ds = ESC50Dataset(root, folds=[4], sample_rate=8000, duration_s=1.0, verify="none")  # no check at all:
    feature = LogMelSpectrogram(sample_rate=8000, n_fft=256, hop_length=128, n_mels=32)
    with pytest.warns(UserWarning, match=victim.name):
        feats, kept = ds.to_features(feature)
    assert len(kept) == len(ds) - 1 and ds.files.index(victim) not in kept
    assert feats.labels.tolist() == [ds.labels[i] for i in kept]


# ------------------------------------------------------------------ GTZAN layout


@pytest.fixture(scope="module")
def gtzan_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("gtzan")
    write_gtzan_layout(root, tracks_per_genre=2, duration_s=1.0, sample_rate=8000)
    return root


def test_gtzan_filtered_split_and_corrupt_jazz_00054(gtzan_root):
    with pytest.warns(UserWarning) as record:
        train = GTZANDataset(gtzan_root, "train", sample_rate=8000, duration_s=1.0, missing="skip")
    messages = [str(w.message) for w in record]
    assert sum("jazz.00054" in m for m in messages) == 1
    assert "jazz.00054" not in train.track_ids and len(train.skipped) == 1
    assert set(train.track_ids) <= set(gtzan_track_ids("train"))
    with pytest.warns(UserWarning, match="using the 20 present"):
        test = GTZANDataset(gtzan_root, "test", sample_rate=8000, duration_s=1.0, missing="skip")
    assert set(test.track_ids) <= set(gtzan_track_ids("test")) and len(test) == 20
    assert not set(train.track_ids) & set(test.track_ids)
    waveform, label = test[0]
    assert waveform.shape == (1, 8000) and test.class_names[label] == test.files[0].parent.name


def test_gtzan_split_file_listing_missing_track_is_an_error(gtzan_root):
    with pytest.raises(DatasetError, match="not on disk"):
        GTZANDataset(gtzan_root, "train", sample_rate=8000, duration_s=1.0)


def test_gtzan_random_split_warns_about_artist_leakage(gtzan_root):
    with pytest.warns(UserWarning) as record:
        ds = GTZANDataset(gtzan_root, "test", split_mode="random", sample_rate=8000, duration_s=1.0)
    assert any("same artist" in str(w.message) for w in record)
    assert len(ds) > 0
    with pytest.raises(ValueError, match="split_mode"):
        GTZANDataset(gtzan_root, "test", split_mode="shuffled")
    with pytest.raises(FileNotFoundError, match="write_gtzan_layout"):
        GTZANDataset(gtzan_root / "nothing")


# ------------------------------------------------------------------ folder layouts


@pytest.mark.parametrize("layout", [None, ("train", "val", "test"), ("train", "test")])
def test_folder_dataset_both_layouts(tmp_path, layout):
    write_folder_layout(tmp_path, 8, config=SMALL, split_folders=layout)
    splits = scan_folder_dataset(tmp_path, seed=0)
    assert splits.class_names == ("am_tone", "falling_chirp", "rising_chirp")
    assert splits.layout == ("class-folders" if layout is None else "split-folders")
    all_files = [f for part in ("train", "val", "test") for f in splits.part(part)[0]]
    assert len(all_files) == len(set(all_files)) == 24
    for part in ("train", "val", "test"):
        files, labels = splits.part(part)
        assert len(files) > 0
        for f, label in zip(files, labels):
            assert f.parent.name == splits.class_names[label]
    ds = FolderDataset(tmp_path, "val", sample_rate=8000, duration_s=0.5)
    assert len(ds) == len(splits.val[0]) and ds[0][0].shape == (1, 4000)


def test_folder_split_is_seeded_and_stratified(tmp_path):
    write_folder_layout(tmp_path, 10, config=SMALL)
    a = scan_folder_dataset(tmp_path, seed=1)
    b = scan_folder_dataset(tmp_path, seed=1)
    c = scan_folder_dataset(tmp_path, seed=2)
    assert a.test == b.test and a.test != c.test
    assert sorted(a.test[1]) == [0, 0, 1, 1, 2, 2]  # ~15 % of each class


def test_folder_bad_input(tmp_path):
    with pytest.raises(FileNotFoundError):
        scan_folder_dataset(tmp_path / "absent")
    (tmp_path / "empty_root").mkdir()
    with pytest.raises(DatasetError, match="no class folders"):
        scan_folder_dataset(tmp_path / "empty_root")
    root = write_folder_layout(tmp_path / "d", 4, config=SMALL)
    (root / "silence_class").mkdir()
    with pytest.raises(DatasetError, match="silence_class: empty class folder"):
        scan_folder_dataset(root)
    split_root = write_folder_layout(tmp_path / "s", 6, config=SMALL, split_folders=("train", "test"))
    save_audio(split_root / "test" / "new_class" / "x.wav", torch.zeros(1, 400), 8000)
    with pytest.raises(DatasetError, match="new_class"):
        scan_folder_dataset(split_root)


# ------------------------------------------------------------------ split helpers


def test_stratified_split_partitions_and_keeps_shares():
    labels = torch.arange(100) % 4
    s = stratified_split(labels, val_fraction=0.2, test_fraction=0.2, seed=0)
    together = torch.cat(list(s)).sort()[0]
    assert torch.equal(together, torch.arange(100))
    for part, expected in ((s.train, 15), (s.val, 5), (s.test, 5)):
        assert torch.bincount(labels[part], minlength=4).tolist() == [expected] * 4
    with pytest.raises(ValueError, match="< 1"):
        stratified_split(labels, val_fraction=0.5, test_fraction=0.5)


def test_grouped_split_never_splits_a_group():
    groups = [f"src{i // 3}" for i in range(90)]
    s = grouped_split(groups, val_fraction=0.2, test_fraction=0.2, seed=0)
    assert torch.equal(torch.cat(list(s)).sort()[0], torch.arange(90))
    owner = {}
    for name, part in zip(("train", "val", "test"), s):
        for i in part.tolist():
            assert owner.setdefault(groups[i], name) == name
    assert 10 <= len(s.test) <= 26 and 10 <= len(s.val) <= 26
