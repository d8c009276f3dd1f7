"""Processes of a run, read from ``/proc`` (Linux): find, measure, kill and reap them.

Part of :mod:`course_lib.grading` (used by :class:`course_lib.grading.sandbox.Isolation`). Elsewhere
than on Linux only the session's process group can be killed.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

__all__: list[str] = []


_PR_SET_CHILD_SUBREAPER = 36


def _proc_table() -> dict[int, tuple[int, str]] | None:
    """``pid -> (ppid, state)`` for every process, or ``None`` without ``/proc``."""
    if not os.path.isdir("/proc/self"):
        return None
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                data = handle.read()
        except OSError:
            continue
        rest = data[data.rfind(b")") + 2:].split()
        table[int(name)] = (int(rest[1]), rest[0].decode())
    return table


def _descendants(table: dict[int, tuple[int, str]], roots: Iterable[int]) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, stack = set(), [r for r in roots if r in table]
    while stack:
        pid = stack.pop()
        if pid in found:
            continue
        found.add(pid)
        stack.extend(children.get(pid, []))
    return found


def _memory_bytes(pid: int) -> int:
    """Proportional memory (anonymous + shared memory) of one process: shared pages are split, not double-counted."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as handle:
            fields = dict(line.split(":", 1) for line in handle.read().splitlines()[1:] if ":" in line)
        if "Pss_Anon" in fields:
            return sum(int(fields.get(k, "0 kB").split()[0]) for k in ("Pss_Anon", "Pss_Shmem")) * 1024
        return int(fields.get("Pss", "0 kB").split()[0]) * 1024
    except (OSError, ValueError):
        return 0


def _tree_files(roots: Iterable[Path | str], *, recursive: bool = True) -> Iterator[tuple[str, os.stat_result]]:
    """``(path, stat)`` of every file (anything not a folder; links not followed) below ``roots``
    (directly in them when not ``recursive``).

    Walks with :func:`os.scandir` and a stack, not recursion; a folder that cannot be read (or a file
    whose status cannot be read) ends the listing of that folder, never the walk. Used to measure a
    run's output folder (:func:`_folder_bytes`) and to record the Python environment
    (:class:`course_lib.grading.protect.EnvironmentGuard`).
    """
    stack = [str(r) for r in roots]
    while stack:
        try:
            with os.scandir(stack.pop()) as entries:
                for entry in entries:
                    if not entry.is_dir(follow_symlinks=False):
                        yield entry.path, entry.stat(follow_symlinks=False)
                    elif recursive:
                        stack.append(entry.path)
        except OSError:
            pass


def _folder_bytes(folder: Path, limit: int) -> int:
    """Bytes in the files below ``folder``; stops counting once more than ``limit`` bytes are found."""
    total = 0
    for _, st in _tree_files([folder]):
        total += st.st_size
        if total > limit:
            break
    return total


_SUBREAPER = False


def _become_subreaper() -> bool:
    """Make this process adopt orphans of its descendants (Linux); returns whether it is one."""
    global _SUBREAPER
    if not _SUBREAPER and sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            _SUBREAPER = libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
        except (OSError, AttributeError):
            _SUBREAPER = False
    return _SUBREAPER


def _kill(pids: Iterable[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _reap(pids: Iterable[int]) -> None:
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except (ChildProcessError, OSError):
            pass


def _kill_leftovers(me: int, before: set[int], main_pid: int) -> int:
    """Kill every process the run left (descendants of the grader that were not there before); returns how many."""
    killed: set[int] = set()
    deadline = time.monotonic() + 10.0
    while time.monotonic() < deadline:
        table = _proc_table()
        if table is None:
            return len(killed)
        ours = [pid for pid, (ppid, _) in table.items() if ppid == me and pid not in before]
        alive = {pid for pid in _descendants(table, ours + [main_pid]) if table[pid][1] != "Z"}
        _reap(pid for pid in ours if table[pid][1] == "Z")
        if not alive:
            break
        # stop them all first so that none can fork while the others are being killed
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for pid in alive:
                try:
                    os.kill(pid, sig)
                except (ProcessLookupError, PermissionError):
                    pass
        killed |= alive
        time.sleep(0.05)
    table = _proc_table() or {}
    _reap(pid for pid, (ppid, _) in table.items() if ppid == me and pid not in before)
    return len(killed)


def _kill_group_and_tree(proc: subprocess.Popen, me: int, before: set[int], reaper: bool = True) -> int:
    """Kill the run's process group, wait for its main process, then kill what is left; returns how many were left."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    return _kill_leftovers(me, before, proc.pid) if reaper else 0


def _user_process_count(uid: int) -> int:
    count = 0
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.stat(f"/proc/{name}").st_uid == uid:
                    count += len(os.listdir(f"/proc/{name}/task"))
            except OSError:
                pass
    return count


def _probe_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JPY_", "JUPYTER_", "PYTEST_"))}
    env.update(PYTHONDONTWRITEBYTECODE="1", HOME=tempfile.gettempdir())
    return env
