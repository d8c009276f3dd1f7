"""Step 4 without the sandbox: protect the project and the Python environment from a submission.

Part of :mod:`course_lib.grading`. :class:`_Snapshot` keeps an in-memory copy of the grader's files
and the reference notebooks and undoes what a run changed there; :class:`EnvironmentGuard` does the
same for the Python environment. In the bubblewrap sandbox (:mod:`course_lib.grading.sandbox`)
everything outside a run's folder is read-only, and neither is needed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import sysconfig
import zlib
from collections.abc import Iterable
from pathlib import Path

from .processes import _probe_env, _tree_files

__all__ = ["EnvironmentGuard", "sha256_file", "startup_files"]


class _Snapshot:
    """In-memory copy of files; after each run, report and undo changes a submission made."""

    def __init__(self, paths: Iterable[Path]) -> None:
        self.files: dict[Path, bytes] = {}
        for root in paths:
            root = Path(root)
            if root.is_file():
                self.files[root.resolve()] = root.read_bytes()
            elif root.is_dir():
                for path in sorted(root.rglob("*")):
                    if path.is_file() and not self._ignored(path, root):
                        self.files[path.resolve()] = path.read_bytes()
        self.roots = [Path(p).resolve() for p in paths]
        self.dirs = {d.resolve() for r in self.roots if r.is_dir() for d in [r, *r.rglob("*")] if d.is_dir()}

    @staticmethod
    def _ignored(path: Path, root: Path) -> bool:
        # caches and hidden files (otter's .OTTER_LOG, .ipynb_checkpoints) are not the grader's business
        parts = path.relative_to(root).parts
        return "__pycache__" in parts or path.suffix == ".pyc" or any(p.startswith(".") for p in parts)

    def restore(self) -> list[str]:
        changes = []
        for path, content in self.files.items():
            try:
                current = path.read_bytes()
            except OSError:
                current = None
            if current != content:
                changes.append(f"{'deleted' if current is None else 'modified'} {path}")
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
        for root in self.roots:
            if root.is_dir():
                for path in root.rglob("*"):
                    if path.is_file() and path.resolve() not in self.files and not self._ignored(path, root):
                        changes.append(f"created {path}")
                        path.unlink()
                for folder in sorted(root.rglob("*"), key=lambda d: len(d.parts), reverse=True):
                    if folder.is_dir() and folder.resolve() not in self.dirs and not any(folder.iterdir()):
                        folder.rmdir()
        return changes


class EnvironmentGuard:
    """A record (size, times, inode) of every file of the Python environment, checked after each run.

    Covered: ``sys.prefix`` (the virtual environment), the user site folder, the top level of the
    standard library folder (where a ``sitecustomize.py`` would be picked up) and the course package.
    A new file (a ``.pth``, a ``sitecustomize.py``, a module) is deleted; a changed or deleted file
    is restored from an in-memory copy taken when the batch started, which holds every ``.pth`` file,
    the course package and every file a run imports at start-up; a change to any other file is
    reported as not restorable. The file-status change time (``ctime``) cannot be set by a process,
    so an edit that restores a file's size and modification time is still seen.
    """

    def __init__(self, roots: Iterable[Path] | None = None, *, shallow: Iterable[Path] | None = None,
                 backup: Iterable[Path] = ()) -> None:
        package = Path(__file__).resolve().parents[1]
        if roots is None:
            roots = [Path(sys.prefix), package]
            user_site = _user_site()
            if user_site is not None:
                roots.append(user_site)
        if shallow is None:
            shallow = [Path(p) for p in {sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"]}]
        self.roots = [Path(r).resolve() for r in roots if Path(r).exists()]
        self.shallow = [Path(s).resolve() for s in shallow if Path(s).is_dir()]
        self.manifest = self._scan()
        self.backup: dict[str, bytes] = {}
        wanted = {str(Path(p).resolve()) for p in backup}
        for path in self.manifest:
            if path.endswith(".pth") or path in wanted or path.startswith(str(package) + os.sep):
                try:
                    self.backup[path] = zlib.compress(Path(path).read_bytes(), 1)
                except OSError:
                    pass

    def _scan(self) -> dict[str, tuple[int, int, int, int]]:
        # the top level of the standard library folders, then every file below the roots
        files = [*_tree_files(self.shallow, recursive=False), *_tree_files(self.roots)]
        return {path: (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino) for path, st in files}

    def check(self) -> tuple[list[str], list[str]]:
        """Undo what changed since the last check: ``(restored, not_restorable)`` descriptions."""
        now = self._scan()
        restored, broken = [], []
        for path in sorted(set(now) - set(self.manifest)):
            try:
                os.unlink(path)
                restored.append(f"created {path} (deleted)")
            except OSError as err:
                broken.append(f"created {path} (could not delete it: {err.strerror})")
        for path, before in sorted(self.manifest.items()):
            after = now.get(path)
            if after == before:
                continue
            what = "deleted" if after is None else "modified"
            if path in self.backup:
                try:
                    target = Path(path)
                    if target.is_symlink():
                        target.unlink()
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(zlib.decompress(self.backup[path]))
                    restored.append(f"{what} {path} (restored)")
                    continue
                except OSError as err:
                    broken.append(f"{what} {path} (could not restore it: {err.strerror})")
                    continue
            broken.append(f"{what} {path} (no copy to restore it from: reinstall the environment, `make install`)")
        self.manifest = self._scan()
        return restored, broken


def _user_site() -> Path | None:
    try:
        import site

        path = site.getusersitepackages()
        return Path(path) if path and Path(path).exists() else None
    except Exception:  # site may be customised or unavailable
        return None


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def startup_files(modules: Iterable[str]) -> list[Path]:
    """The files Python loads to import ``modules`` (found by a trusted process that imports only them)."""
    code = (
        "import importlib, json, sys\n"
        f"for name in {list(modules)!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted({getattr(m, '__file__', None) or '' for m in list(sys.modules.values())} - {''})))\n"
    )
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                              stdin=subprocess.DEVNULL, env=_probe_env())
        import json

        return [Path(p) for p in json.loads(proc.stdout.strip().splitlines()[-1])] if proc.returncode == 0 else []
    except (OSError, ValueError, IndexError, subprocess.TimeoutExpired):
        return []
