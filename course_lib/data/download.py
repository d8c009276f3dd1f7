"""Downloading ESC-50 and GTZAN safely: checksums, atomic writes, safe extraction, clear offline errors.

Introduced in chapter 3 (``book/chapters/ch03_data_pipeline.ipynb``); chapter 7 and exercise 1 use
the real data when it has been downloaded, and the synthetic layouts otherwise.

Where datasets live
-------------------
One environment variable, ``COURSE_DATA_DIR``, says where: datasets are kept in
``$COURSE_DATA_DIR/<name>/`` (default ``~/.cache/course_lib/data``). :func:`data_dir` returns it.

What a download does
--------------------
1. :func:`download_file` fetches the archive with :func:`torch.hub.download_url_to_file`, which
   writes to a temporary file beside the target, shows a progress bar, checks the SHA-256 and only
   then moves the file into place: an interrupted or corrupted download never leaves a file that
   looks complete.
2. :func:`safe_extract` unpacks into a temporary folder beside the destination and renames it
   when everything is out. It refuses archives with absolute paths, ``..`` components, symbolic or
   hard links and device files (Python 3.11's ``tarfile`` filter ``"data"`` on top of an explicit
   check; the same checks for zip files).
3. Without network access the error says what to download by hand and where to put it.

GTZAN's URL and SHA-256 come from ``torchaudio.datasets.gtzan``. ESC-50 is served from GitHub as an
archive of its ``master`` branch, for which no SHA-256 is published; its pin is recorded on the
first download (``<archive>.sha256`` beside it, trust on first use), later downloads are checked
against it, and the extracted folder is checked for its 2000 clips in 5 folds.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import shutil
import stat
import tarfile
import tempfile
import urllib.error
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import torch

__all__ = [
    "DATA_DIR_ENV",
    "DownloadError",
    "UnsafeArchiveError",
    "RemoteArchive",
    "ESC50_ARCHIVE",
    "GTZAN_ARCHIVE",
    "data_dir",
    "sha256_of",
    "download_file",
    "safe_extract",
    "download_esc50",
    "download_gtzan",
    "find_esc50",
    "find_gtzan",
]

logger = logging.getLogger(__name__)

#: The environment variable that says where datasets live.
DATA_DIR_ENV = "COURSE_DATA_DIR"


class DownloadError(RuntimeError):
    """A dataset could not be fetched; the message says what to download by hand and where to put it."""


class UnsafeArchiveError(ValueError):
    """An archive member would land outside the destination, or is a link or a device file."""


@dataclass(frozen=True)
class RemoteArchive:
    """Where a dataset comes from and what it looks like once unpacked.

    Attributes:
        name: short name, also the folder under :func:`data_dir`.
        url: the archive's address.
        sha256: its SHA-256 (hex), or ``None`` when none is published (recorded on first download).
        filename: the archive's file name on disk.
        folder: the folder the archive unpacks to (inside ``data_dir()/name``).
        marker: a path inside ``folder`` whose presence means "already unpacked".
        homepage: where a person can read about the dataset and download it by hand.
    """

    name: str
    url: str
    sha256: str | None
    filename: str
    folder: str
    marker: str
    homepage: str


def _gtzan_archive() -> RemoteArchive:
    from torchaudio.datasets import gtzan

    return RemoteArchive(
        name="gtzan",
        url=gtzan.URL,
        sha256=gtzan._CHECKSUMS[gtzan.URL],
        filename=os.path.basename(gtzan.URL),
        folder=".",
        marker="genres/blues/blues.00000.wav",
        homepage="https://www.tensorflow.org/datasets/catalog/gtzan (mirrors of the original marsyas.info archive)",
    )


#: ESC-50 (Piczak, 2015): 2000 five-second clips, 50 classes, 5 folds; CC BY-NC 3.0.
ESC50_ARCHIVE = RemoteArchive(
    name="esc50",
    url="https://github.com/karolpiczak/ESC-50/archive/master.zip",
    sha256=None,
    filename="ESC-50-master.zip",
    folder="ESC-50-master",
    marker="meta/esc50.csv",
    homepage="https://github.com/karolpiczak/ESC-50",
)

#: GTZAN (Tzanetakis & Cook, 2002): 1000 thirty-second clips, 10 genres (URL and SHA-256 from torchaudio).
GTZAN_ARCHIVE = _gtzan_archive()


def data_dir() -> Path:
    """The folder datasets live in: ``$COURSE_DATA_DIR``, or ``~/.cache/course_lib/data``."""
    value = os.environ.get(DATA_DIR_ENV, "").strip()
    return Path(value).expanduser() if value else Path.home() / ".cache" / "course_lib" / "data"


def sha256_of(path: str | os.PathLike, chunk_bytes: int = 1 << 20) -> str:
    """SHA-256 (hex) of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk_bytes), b""):
            digest.update(block)
    return digest.hexdigest()


def _manual_help(archive: RemoteArchive, dest: Path) -> str:
    return (
        f"Download it by hand from {archive.url} (about page: {archive.homepage}) and save it as {dest}, "
        f"or unpack it so that {dest.parent / archive.folder / archive.marker} exists; then run again. "
        f"To keep datasets elsewhere, set the environment variable {DATA_DIR_ENV}."
    )


def download_file(url: str, dest: str | os.PathLike, *, sha256: str | None, progress: bool = True) -> Path:
    """Download ``url`` to ``dest`` atomically and check its SHA-256.

    An existing ``dest`` whose checksum matches is kept (no download). With ``sha256=None`` no
    check is made (the caller must verify the content another way).

    Raises:
        DownloadError: the network failed (the message says what to fetch by hand and where), or an
            existing ``dest`` has the wrong checksum.
        RuntimeError: the downloaded bytes do not match ``sha256`` (nothing is left at ``dest``).
    """
    dest = Path(dest)
    if dest.exists():
        if sha256 is None or sha256_of(dest) == sha256:
            return dest
        raise DownloadError(
            f"{dest}: exists but its SHA-256 is {sha256_of(dest)}, expected {sha256}. It is corrupt or a different "
            "file; delete it and run again (it is not deleted for you, in case it is something you need)."
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        # Temporary file beside dest, hash check, then a move: torch.hub does all three.
        torch.hub.download_url_to_file(url, str(dest), hash_prefix=sha256, progress=progress)
    except (urllib.error.URLError, OSError, TimeoutError, http.client.HTTPException) as err:
        if dest.exists():  # pragma: no cover - torch.hub moves only complete, verified files
            dest.unlink()
        raise DownloadError(f"could not download {url} ({type(err).__name__}: {err}).") from err
    return dest


def _check_member_name(name: str, archive: Path) -> None:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise UnsafeArchiveError(f"{archive}: member {name!r} has an absolute path; refusing to extract the archive.")
    if ".." in path.parts:
        raise UnsafeArchiveError(f"{archive}: member {name!r} points outside the destination (..); refusing to extract.")


def safe_extract(archive: str | os.PathLike, dest: str | os.PathLike) -> Path:
    """Unpack a ``.tar``, ``.tar.gz`` / ``.tgz`` or ``.zip`` archive into ``dest``, safely and atomically.

    Every member is checked first; the archive is refused (nothing is written to ``dest``) when a
    member has an absolute path, a ``..`` component, is a symbolic or hard link, or a device / FIFO.
    Files are extracted into a temporary folder beside ``dest`` and moved in at the end.

    Returns:
        ``dest``.

    Raises:
        UnsafeArchiveError: a dangerous member (named in the message).
        ValueError: not a tar or zip archive.
    """
    archive = Path(archive)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.partial-", dir=dest.parent))
    try:
        if tarfile.is_tarfile(archive):
            with tarfile.open(archive) as tar:
                members = tar.getmembers()
                for m in members:
                    _check_member_name(m.name, archive)
                    if m.issym() or m.islnk():
                        raise UnsafeArchiveError(f"{archive}: member {m.name!r} is a link; refusing to extract the archive.")
                    if not (m.isfile() or m.isdir()):
                        raise UnsafeArchiveError(f"{archive}: member {m.name!r} is a device or FIFO; refusing to extract.")
                tar.extractall(staging, members=members, filter="data")
        elif zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                for info in zf.infolist():
                    _check_member_name(info.filename, archive)
                    mode = info.external_attr >> 16
                    if stat.S_ISLNK(mode):
                        raise UnsafeArchiveError(f"{archive}: member {info.filename!r} is a link; refusing to extract.")
                    target = (staging / info.filename).resolve()
                    if not target.is_relative_to(staging.resolve()):
                        raise UnsafeArchiveError(f"{archive}: member {info.filename!r} points outside the destination.")
                zf.extractall(staging)
        else:
            raise ValueError(f"{archive}: not a tar or zip archive (or it is truncated). Delete it and download again.")
        dest.mkdir(parents=True, exist_ok=True)
        for item in staging.iterdir():
            target = dest / item.name
            if target.exists():
                shutil.rmtree(target) if target.is_dir() else target.unlink()
            os.replace(item, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dest


def _archive_is_whole(path: Path) -> bool:
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                return zf.testzip() is None
        if tarfile.is_tarfile(path):
            with tarfile.open(path) as tar:
                for _ in tar:
                    pass
            return True
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError):
        return False
    return False


def _fetch(archive: RemoteArchive, root: Path | None, progress: bool, url: str | None = None) -> Path:
    root = (data_dir() / archive.name) if root is None else Path(root)
    unpacked = root / archive.folder
    if (unpacked / archive.marker).exists():
        return unpacked.resolve()
    archive_path = root / archive.filename
    sha256 = archive.sha256
    pin_file = archive_path.with_name(archive_path.name + ".sha256")
    if sha256 is None and pin_file.exists():
        sha256 = pin_file.read_text().split()[0]
    try:
        download_file(url or archive.url, archive_path, sha256=sha256, progress=progress)
    except DownloadError as err:
        raise DownloadError(f"{archive.name}: {err} {_manual_help(archive, archive_path)}") from err
    except RuntimeError as err:  # torch.hub's checksum mismatch
        raise DownloadError(
            f"{archive.name}: the download from {url or archive.url} does not match its pinned SHA-256 ({err}); nothing "
            f"was kept. The file on the server changed or the transfer was corrupted. {_manual_help(archive, archive_path)}"
        ) from err
    if sha256 is None:
        # No published checksum: make sure the archive is whole before trusting it.
        if not _archive_is_whole(archive_path):
            archive_path.unlink()
            raise DownloadError(
                f"{archive.name}: the downloaded {archive_path.name} is not a complete archive (interrupted?); it was "
                f"removed. Run again. {_manual_help(archive, archive_path)}"
            )
        digest = sha256_of(archive_path)
        pin_file.write_text(f"{digest}  {archive_path.name}\n")
        logger.warning("%s: no published SHA-256; recorded %s in %s for later checks.", archive.name, digest, pin_file)
    safe_extract(archive_path, root)
    if not (unpacked / archive.marker).exists():
        raise DownloadError(
            f"{archive.name}: {archive_path} unpacked, but {unpacked / archive.marker} is missing: not the expected "
            f"archive. {_manual_help(archive, archive_path)}"
        )
    return unpacked.resolve()


def download_esc50(root: str | os.PathLike | None = None, *, progress: bool = True, url: str | None = None) -> Path:
    """Download and unpack ESC-50 (≈ 600 MB); return the folder holding ``meta/esc50.csv`` and ``audio/``.

    Args:
        root: where to keep it (default ``data_dir() / "esc50"``).
        progress: show a progress bar.
        url: another address for the same archive (a mirror, or a local ``file://`` copy).

    Raises:
        DownloadError: offline or wrong content; the message says what to download by hand and where.
    """
    folder = _fetch(ESC50_ARCHIVE, None if root is None else Path(root), progress, url)
    audio = list((folder / "audio").glob("*.wav"))
    lines = (folder / "meta" / "esc50.csv").read_text().splitlines()
    if len(lines) - 1 != len(audio):
        raise DownloadError(
            f"esc50: {folder} lists {len(lines) - 1} clips in meta/esc50.csv but holds {len(audio)} files in audio/; "
            f"the archive is incomplete. {_manual_help(ESC50_ARCHIVE, folder.parent / ESC50_ARCHIVE.filename)}"
        )
    return folder


def download_gtzan(root: str | os.PathLike | None = None, *, progress: bool = True, url: str | None = None) -> Path:
    """Download and unpack GTZAN (≈ 1.2 GB); return the folder holding ``genres/``.

    The URL and the SHA-256 are torchaudio's (``torchaudio.datasets.gtzan``). Read it with
    :class:`course_lib.data.gtzan.GTZANDataset` (the fault-filtered split by default).
    """
    return _fetch(GTZAN_ARCHIVE, None if root is None else Path(root), progress, url)


def find_esc50() -> Path | None:
    """The downloaded ESC-50 folder under :func:`data_dir`, or ``None``."""
    folder = data_dir() / ESC50_ARCHIVE.name / ESC50_ARCHIVE.folder
    return folder if (folder / ESC50_ARCHIVE.marker).exists() else None


def find_gtzan() -> Path | None:
    """The downloaded GTZAN folder (holding ``genres/``) under :func:`data_dir`, or ``None``."""
    folder = data_dir() / GTZAN_ARCHIVE.name
    return folder if (folder / GTZAN_ARCHIVE.marker).exists() else None
