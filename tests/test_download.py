"""Tests of course_lib.data.download, offline: archives built here and served from file:// URLs."""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile
from pathlib import Path

import pytest
import torch

from course_lib.data import download as dl
from course_lib.data.download import (
    DownloadError,
    RemoteArchive,
    UnsafeArchiveError,
    data_dir,
    download_esc50,
    download_file,
    safe_extract,
    sha256_of,
)


def _tar(path: Path, members: dict[str, bytes], *, links: dict[str, str] | None = None, hard: dict[str, str] | None = None) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
        for name, target in (hard or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.LNKTYPE
            info.linkname = target
            tar.addfile(info)
    return path


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_data_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "datasets"))
    assert data_dir() == tmp_path / "datasets"
    monkeypatch.delenv("COURSE_DATA_DIR")
    assert data_dir() == Path.home() / ".cache" / "course_lib" / "data"


def test_gtzan_pin_comes_from_torchaudio():
    from torchaudio.datasets import gtzan

    assert dl.GTZAN_ARCHIVE.url == gtzan.URL
    assert dl.GTZAN_ARCHIVE.sha256 == gtzan._CHECKSUMS[gtzan.URL]
    assert len(dl.GTZAN_ARCHIVE.sha256) == 64


def test_download_checks_the_hash_and_keeps_good_files(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(b"hello audio" * 1000)
    good = hashlib.sha256(src.read_bytes()).hexdigest()
    dest = download_file(src.as_uri(), tmp_path / "out" / "a.bin", sha256=good, progress=False)
    assert dest.read_bytes() == src.read_bytes() and sha256_of(dest) == good
    assert download_file("file:///nonexistent", dest, sha256=good, progress=False) == dest  # cached, no fetch


def test_checksum_mismatch_leaves_nothing_behind(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(b"tampered" * 100)
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match="invalid hash"):
        download_file(src.as_uri(), out / "a.bin", sha256="0" * 64, progress=False)
    assert list(out.iterdir()) == []  # no archive, no .partial file


def test_existing_file_with_wrong_hash_is_an_error_not_deleted(tmp_path):
    dest = tmp_path / "a.bin"
    dest.write_bytes(b"old")
    with pytest.raises(DownloadError, match="delete it"):
        download_file("file:///nonexistent", dest, sha256="0" * 64, progress=False)
    assert dest.read_bytes() == b"old"


class _BrokenResponse(io.BytesIO):
    """A response that delivers some bytes, then the connection drops."""

    def __init__(self) -> None:
        super().__init__(b"x" * 10000)
        self.calls = 0

    def info(self):
        return {"Content-Length": "1000000"}

    def read(self, n=-1):
        self.calls += 1
        if self.calls > 1:
            raise ConnectionResetError("connection reset by peer")
        return super().read(100)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class _Meta(dict):
    def get_all(self, key):
        return [self[key]] if key in self else None


def test_interrupted_download_leaves_no_partial_file(tmp_path, monkeypatch):
    response = _BrokenResponse()
    response.info = lambda: _Meta({"Content-Length": "1000000"})  # type: ignore[method-assign]
    monkeypatch.setattr(torch.hub, "urlopen", lambda req: response)
    out = tmp_path / "out"
    with pytest.raises(DownloadError, match="could not download"):
        download_file("https://example.invalid/a.zip", out / "a.zip", sha256="0" * 64, progress=False)
    assert list(out.iterdir()) == []


def test_offline_error_says_what_to_download_and_where(tmp_path, monkeypatch):
    import urllib.error

    def offline(req):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torch.hub, "urlopen", offline)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    with pytest.raises(DownloadError) as err:
        download_esc50(progress=False)
    message = str(err.value)
    assert dl.ESC50_ARCHIVE.url in message
    assert str(tmp_path / "esc50" / "ESC-50-master.zip") in message
    assert "COURSE_DATA_DIR" in message and "by hand" in message


def test_safe_extract_tar_and_zip(tmp_path):
    members = {"data/a.txt": b"a", "data/sub/b.txt": b"b"}
    for archive in (_tar(tmp_path / "x.tar.gz", members), _zip(tmp_path / "x.zip", members)):
        dest = safe_extract(archive, tmp_path / f"out-{archive.suffix}")
        assert (dest / "data" / "a.txt").read_bytes() == b"a" and (dest / "data" / "sub" / "b.txt").read_bytes() == b"b"
        assert not [p for p in dest.parent.iterdir() if "partial" in p.name]


@pytest.mark.parametrize(
    "kind",
    ["dotdot_tar", "absolute_tar", "symlink_tar", "hardlink_tar", "dotdot_zip", "absolute_zip"],
)
def test_malicious_archives_are_refused_and_nothing_is_written(tmp_path, kind):
    if kind == "dotdot_tar":
        archive = _tar(tmp_path / "evil.tar.gz", {"data/ok.txt": b"ok", "../../escaped.txt": b"pwned"})
    elif kind == "absolute_tar":
        archive = _tar(tmp_path / "evil.tar.gz", {"data/ok.txt": b"ok", str(tmp_path / "abs.txt"): b"pwned"})
    elif kind == "symlink_tar":
        archive = _tar(tmp_path / "evil.tar.gz", {"data/ok.txt": b"ok"}, links={"data/link": "/etc/passwd"})
    elif kind == "hardlink_tar":
        archive = _tar(tmp_path / "evil.tar.gz", {"data/ok.txt": b"ok"}, hard={"data/hard": "/etc/passwd"})
    elif kind == "dotdot_zip":
        archive = _zip(tmp_path / "evil.zip", {"data/ok.txt": b"ok", "../escaped.txt": b"pwned"})
    else:
        archive = _zip(tmp_path / "evil.zip", {"data/ok.txt": b"ok", "/abs.txt": b"pwned"})
    dest = tmp_path / "dest" / "out"
    with pytest.raises(UnsafeArchiveError):
        safe_extract(archive, dest)
    assert not dest.exists()
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path / "abs.txt").exists()
    assert not [p for p in (tmp_path / "dest").iterdir()]  # staging folder removed


def test_not_an_archive(tmp_path):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not an archive")
    with pytest.raises(ValueError, match="not a tar or zip"):
        safe_extract(junk, tmp_path / "out")


def _fake_esc50_zip(path: Path, n: int = 3) -> Path:
    header = "filename,fold,target,category,esc10,src_file,take\n"
    rows = "".join(f"1-1000{i}-A-0.wav,1,0,dog,True,1000{i},A\n" for i in range(n))
    members = {"ESC-50-master/meta/esc50.csv": (header + rows).encode()}
    for i in range(n):
        members[f"ESC-50-master/audio/1-1000{i}-A-0.wav"] = b"RIFF"
    return _zip(path, members)


def test_download_esc50_end_to_end_from_a_local_archive(tmp_path):
    archive = _fake_esc50_zip(tmp_path / "served.zip")
    root = tmp_path / "data"
    folder = download_esc50(root, url=archive.as_uri(), progress=False)
    assert folder == (root / "ESC-50-master").resolve() and (folder / "meta" / "esc50.csv").exists()
    pin = root / "ESC-50-master.zip.sha256"
    assert pin.read_text().split()[0] == sha256_of(archive)  # recorded on first use
    # A second call finds the unpacked folder and downloads nothing.
    assert download_esc50(root, url="file:///nonexistent", progress=False) == folder


def test_esc50_recorded_pin_catches_a_changed_archive(tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    (root / "ESC-50-master.zip.sha256").write_text("0" * 64 + "  ESC-50-master.zip\n")
    archive = _fake_esc50_zip(tmp_path / "served.zip")
    with pytest.raises(DownloadError, match="does not match its pinned SHA-256"):
        download_esc50(root, url=archive.as_uri(), progress=False)
    assert not (root / "ESC-50-master.zip").exists()


def test_truncated_unpinned_archive_is_removed(tmp_path):
    archive = _fake_esc50_zip(tmp_path / "served.zip")
    cut = tmp_path / "cut.zip"
    cut.write_bytes(archive.read_bytes()[:-40])
    root = tmp_path / "data"
    with pytest.raises(DownloadError, match="not a complete archive"):
        download_esc50(root, url=cut.as_uri(), progress=False)
    assert not (root / "ESC-50-master.zip").exists() and not (root / "ESC-50-master.zip.sha256").exists()


def test_archive_without_expected_content(tmp_path):
    archive = _zip(tmp_path / "served.zip", {"something/else.txt": b"x"})
    with pytest.raises(DownloadError, match="missing"):
        dl._fetch(RemoteArchive("x", archive.as_uri(), sha256_of(archive), "x.zip", "X", "meta/m.csv", "-"), tmp_path / "d", False)
