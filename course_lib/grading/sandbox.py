"""Run one submission's process in a sandbox with limits, and leave nothing of it behind.

Introduced for the grader (issue 17); :mod:`course_lib.grading.grade` calls :meth:`Isolation.run` once
per submission. Two modes, chosen once per batch by :meth:`Isolation.detect`:

**Sandbox** (Linux with `bubblewrap <https://github.com/containers/bubblewrap>`_, the tool Flatpak
uses): the run sees the whole file system read-only, its own writable folder (plus an in-memory
``/tmp``), no network, and its own user, PID, IPC and host-name namespaces with no capabilities. When
its main process ends or is killed, the kernel ends every process of the PID namespace with it.

**No sandbox** (``bwrap`` missing, unusable, or turned off with ``--no-sandbox`` /
``COURSE_GRADING_SANDBOX=0``): the run is a plain child process in its own session. The grader then
makes itself a *child subreaper* (Linux ``prctl(PR_SET_CHILD_SUBREAPER)``), so that processes which
double-fork or call ``setsid()`` stay its descendants; after every run it kills what is left.
:class:`EnvironmentGuard` checks the Python environment for new or changed files.

In both modes: a wall-clock limit; a memory limit (``RLIMIT_DATA`` on every process, and the
proportional memory of the whole process tree, polled); a process limit (``RLIMIT_NPROC``); an output
limit (``RLIMIT_FSIZE`` on every file, the printed output included, and on the folder's total);
no core dumps. When the grader runs as root, runs use an unprivileged user (``nobody``) if that
user can start the course's Python: root is exempt from ``RLIMIT_NPROC``, and ``nobody`` cannot
write the grader's files. Where it cannot (a Python installed under ``/root``), runs stay root and
the process limit is enforced by the grader's poll of the run's processes.

The process helpers (``/proc``, the subreaper, killing and reaping) live in
:mod:`course_lib.grading.processes`; :class:`EnvironmentGuard`, :func:`sha256_file` and
:func:`startup_files` in :mod:`course_lib.grading.protect` (re-exported here).
"""

from __future__ import annotations

import dataclasses
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .processes import (
    _become_subreaper,
    _descendants,
    _folder_bytes,
    _kill_group_and_tree,
    _memory_bytes,
    _probe_env,
    _proc_table,
    _user_process_count,
)
from .protect import EnvironmentGuard, sha256_file, startup_files  # noqa: F401 (re-exported)

__all__ = ["Limits", "RunOutcome", "Isolation", "EnvironmentGuard", "SandboxUnavailable", "sha256_file",
           "SANDBOX_ENV", "REQUIRE_SANDBOX_ENV"]

#: ``COURSE_GRADING_SANDBOX=0`` grades without bubblewrap (as ``--no-sandbox`` does).
SANDBOX_ENV = "COURSE_GRADING_SANDBOX"
#: ``COURSE_REQUIRE_SANDBOX=1`` (CI) makes a missing or unusable bubblewrap an error instead of a warning.
REQUIRE_SANDBOX_ENV = "COURSE_REQUIRE_SANDBOX"
_POLL_S = 0.2
#: Processes of a sandboxed run that are not the submission's: bubblewrap outside and as PID 1, and the runner.
_SANDBOX_OWN_PROCESSES = 3
_INSTALL_HINT = (
    "Install the sandbox: `sudo apt-get install bubblewrap` (Debian/Ubuntu), `sudo dnf install bubblewrap` "
    "(Fedora), `sudo pacman -S bubblewrap` (Arch). It needs Linux; on macOS, grade inside a Linux VM or container."
)


class SandboxUnavailable(RuntimeError):
    """``COURSE_REQUIRE_SANDBOX=1`` is set and bubblewrap cannot be used here."""


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one run may use. Every limit applies in both modes."""

    timeout_s: float = 180.0  #: wall-clock seconds before the run is killed
    memory_mb: int = 4096  #: per process (``RLIMIT_DATA``) and for the whole process tree (proportional set size)
    max_processes: int = 256  #: processes and threads the run may have at once (``RLIMIT_NPROC``)
    output_mb: int = 64  #: printed output, any one file, and all files in the run's folder together

    def __post_init__(self) -> None:
        for name in ("timeout_s", "memory_mb", "max_processes", "output_mb"):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"grading limit {name}={value!r} must be positive. Fix: pass a positive number.")


@dataclasses.dataclass
class RunOutcome:
    """What happened to one run (the grader turns it into a status)."""

    returncode: int | None  #: ``None`` when the grader killed the run
    limit: str  #: ``""``, ``"timeout"``, ``"memory"``, ``"processes"`` or ``"output"``: the limit that ended the run
    message: str  #: a sentence for the score table when a limit ended the run
    leftovers_killed: int  #: processes the run left behind, killed after it (estimated from polls in the sandbox)
    output_tail: str  #: the last characters of its printed output
    output_truncated: bool  #: the printed output reached the output limit


_PRIVATE_IN_SANDBOX = ("/tmp", "/dev/shm")


def _paths_hidden_by_private_tmp() -> list[str]:
    """The folders a run needs (the Python environment, the course package's checkout, ``sys.path``)
    that lie under ``/tmp`` or ``/dev/shm``, which the sandbox replaces by private, empty ones.

    Outermost folders only (a folder inside another listed one is covered by it), sorted.
    """
    import course_lib

    candidates = {sys.prefix, str(Path(course_lib.__file__).resolve().parents[1])}
    candidates.update(p for p in sys.path if p)
    hidden = set()
    for candidate in candidates:
        path = Path(candidate).resolve()
        if not path.exists():
            continue
        for private in _PRIVATE_IN_SANDBOX:
            if Path(private) in path.parents:  # never the whole of /tmp: that would undo the privacy
                hidden.add(path)
    outermost = [p for p in hidden if not any(q != p and q in p.parents for q in hidden)]
    return sorted(str(p) for p in outermost)


@dataclasses.dataclass
class Isolation:
    """How a batch's runs are isolated; build it with :meth:`detect`."""

    sandbox: bool  #: runs go through bubblewrap
    reason: str  #: why the sandbox is off (``""`` when on)
    user: tuple[int, int] | None  #: ``(uid, gid)`` the runs use (the grader is root), else ``None``
    bwrap_args: tuple[str, ...] = ()  #: the bubblewrap options that passed the probe
    note: str = ""  #: why runs stay root although the grader would rather drop to an unprivileged user

    @classmethod
    def detect(cls, *, sandbox: bool | None = None, run_as: str | None = "nobody") -> Isolation:
        """Probe bubblewrap once (it must start Python and import the grader) and choose the mode.

        ``sandbox=None`` reads ``COURSE_GRADING_SANDBOX`` (``0`` turns it off). ``run_as`` is the user
        the runs use when the grader runs as root (``None`` or ``"root"``: no change; unsafe).
        Raises :class:`SandboxUnavailable` when ``COURSE_REQUIRE_SANDBOX=1`` and the sandbox is off.
        """
        if sandbox is None:
            sandbox = os.environ.get(SANDBOX_ENV, "1").strip().lower() not in ("0", "false", "no", "off")
        user = None
        if hasattr(os, "geteuid") and os.geteuid() == 0 and run_as not in (None, "root"):
            import pwd

            try:
                entry = pwd.getpwnam(run_as)
                user = (entry.pw_uid, entry.pw_gid)
            except KeyError:
                raise SandboxUnavailable(
                    f"the grader runs as root and would run submissions as {run_as!r}, but no such user exists. "
                    "Fix: pass --run-as with an existing unprivileged user."
                ) from None
        users = [user, None] if user is not None else [None]
        reason = "turned off (--no-sandbox or COURSE_GRADING_SANDBOX=0)"
        if sandbox:
            bwrap = shutil.which("bwrap")
            if not sys.platform.startswith("linux"):
                reason = f"bubblewrap needs Linux (this is {sys.platform})"
            elif bwrap is None:
                reason = "bubblewrap (bwrap) is not installed"
            else:
                errors = []
                for who in users:
                    for extra in (("--disable-userns", "--size", str(256 << 20)), ()):
                        candidate = cls(True, "", who, (bwrap, *extra))
                        error = candidate._probe()
                        if not error:
                            if who is None and user is not None:
                                candidate.note = f"{run_as} cannot start Python here ({errors[0]}): runs stay root"
                            return candidate
                        errors.append(error)
                reason = f"bubblewrap is installed but cannot start a sandbox here ({errors[-1]})"
            if os.environ.get(REQUIRE_SANDBOX_ENV) == "1":
                raise SandboxUnavailable(f"COURSE_REQUIRE_SANDBOX=1 but {reason}. {_INSTALL_HINT}")
        errors = []
        for who in users:
            plain = cls(False, reason, who)
            error = plain._probe()
            if not error:
                if who is None and user is not None:
                    plain.note = f"{run_as} cannot start Python here ({errors[0]}): runs stay root"
                return plain
            errors.append(error)
        raise SandboxUnavailable(f"a plain run cannot start Python and import the grader: {errors[-1]}.")

    def _probe(self) -> str:
        """Start Python in this isolation and import the grader; returns ``""`` or what went wrong."""
        with tempfile.TemporaryDirectory(prefix="grade-probe-") as tmp:
            self.prepare_folder(Path(tmp))
            argv = self.command([sys.executable, "-c", "import course_lib.grading"], Path(tmp))
            try:
                proc = subprocess.run(argv, cwd=tmp, stdin=subprocess.DEVNULL, capture_output=True, timeout=120,
                                      env=_probe_env(), **self._user_kwargs())
            except (OSError, subprocess.TimeoutExpired) as err:
                return f"{type(err).__name__}: {err}"
            if proc.returncode != 0:
                return (proc.stderr.decode("utf-8", "replace").strip().splitlines() or [f"exit code {proc.returncode}"])[-1][:300]
        return ""

    def _user_kwargs(self) -> dict:
        if self.user is None:
            return {}
        return {"user": self.user[0], "group": self.user[1], "extra_groups": []}

    def prepare_folder(self, folder: Path) -> None:
        """Give the run's folder to the user the runs use."""
        if self.user is not None:
            os.chown(folder, *self.user)

    def command(self, argv: list[str], workdir: Path, memory_files_bytes: int = 256 << 20,
                writable: Path | None = None) -> list[str]:
        """``argv`` wrapped in bubblewrap (sandbox mode) or unchanged.

        ``writable`` (default ``workdir``) is the one folder the run may write, ``workdir`` or a folder
        above it: a run can then delete its working folder, as it could without the sandbox.

        The sandbox's ``/tmp`` and ``/dev/shm`` are in memory, each capped at ``memory_files_bytes``
        where this bubblewrap supports ``--size`` (0.6 and later).
        """
        if not self.sandbox:
            return list(argv)
        bwrap, *extra = self.bwrap_args
        size: list[str] = []
        if "--size" in extra:
            i = extra.index("--size")
            extra = extra[:i] + extra[i + 2:]
            size = ["--size", str(memory_files_bytes)]
        w, rw = str(workdir), str(writable or workdir)
        # The private /tmp and /dev/shm would hide a course environment or checkout kept there (a
        # clone in /tmp): those folders are bound back, read-only, on top of the private ones.
        shown = [arg for path in _paths_hidden_by_private_tmp() for arg in ("--ro-bind", path, path)]
        return [
            bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", *size, "--tmpfs", "/tmp",
            *size, "--tmpfs", "/dev/shm", *shown, "--bind", rw, rw, "--chdir", w,
            "--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--cap-drop", "ALL", *extra, "--die-with-parent", "--new-session", "--", *argv,
        ]

    def description(self) -> str:
        who = f" as uid {self.user[0]}" if self.user else (f" ({self.note})" if self.note else "")
        if self.sandbox:
            return f"sandbox: bubblewrap{who} (read-only system, own folder, no network, own PID namespace)"
        return f"no sandbox{who}: {self.reason}"

    def warning(self) -> str:
        """The warning printed at the start of a batch graded without the sandbox (``""`` in sandbox mode)."""
        if self.sandbox:
            return ""
        runs_as = "an unprivileged user" if self.user else ("root" if self.note else "you")
        return (
            f"WARNING: grading WITHOUT the sandbox: {self.reason}.\n"
            f"  Not protected: a submission runs as {runs_as}, so it can read every file {runs_as} can read and "
            "write every file\n  that user can write, use the network, and see other processes while it runs.\n"
            "  Still enforced: time, memory, process and output limits; processes left behind are killed after "
            "each run;\n  new or changed files in the Python environment are restored and reported; the score "
            "tables are hashed.\n"
            f"  {_INSTALL_HINT}"
        )

    # ----------------------------------------------------------------------------------------------
    def run(self, argv: list[str], workdir: Path, env: dict[str, str], limits: Limits,
            writable: Path | None = None) -> RunOutcome:
        """Run ``argv`` in ``workdir`` with ``limits``; kill whatever it leaves behind.

        ``writable`` (default ``workdir``): the folder the run may write, ``workdir`` or one above it.
        """
        writable = writable or workdir
        reaper = self.sandbox or _become_subreaper()
        me = os.getpid()
        table = _proc_table()
        before = {pid for pid, (ppid, _) in (table or {}).items() if ppid == me}
        nproc = limits.max_processes
        if self.user is None and table is not None and hasattr(os, "getuid"):
            # RLIMIT_NPROC counts every process of the user: allow what the user already runs, plus the limit.
            nproc += _user_process_count(os.getuid())
        memory, output = limits.memory_mb << 20, limits.output_mb << 20
        cpu = int(limits.timeout_s * max(os.cpu_count() or 1, 1) + 30)

        def child_limits() -> None:
            for which, value in ((resource.RLIMIT_CPU, cpu), (resource.RLIMIT_CORE, 0), (resource.RLIMIT_FSIZE, output),
                                 (getattr(resource, "RLIMIT_DATA", None), memory),
                                 (getattr(resource, "RLIMIT_NPROC", None), nproc)):
                if which is not None:
                    soft, hard = resource.getrlimit(which)
                    value = value if hard == resource.RLIM_INFINITY else min(value, hard)
                    resource.setrlimit(which, (value, value))

        limit, message, tree, last_seen = "", "", set(), set()
        runner: int | None = None
        with tempfile.TemporaryFile() as log:
            for folder in {writable, workdir}:
                self.prepare_folder(folder)
            proc = subprocess.Popen(
                self.command(argv, workdir, output, writable), cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=child_limits, **self._user_kwargs(),
            )
            start = time.monotonic()
            next_folder_check = start
            try:
                while proc.poll() is None:
                    now = time.monotonic()
                    if now - start >= limits.timeout_s:
                        limit, message = "timeout", f"ran longer than {limits.timeout_s:g} s and was killed"
                        break
                    table = _proc_table()
                    if table is not None:
                        # the run's processes, and (no sandbox) the orphans this subreaper adopted from it
                        adopted = [pid for pid, (ppid, _) in table.items() if ppid == me and pid not in before]
                        tree = {pid for pid in _descendants(table, [proc.pid, *adopted]) if table[pid][1] != "Z"}
                        if self.sandbox:
                            # bubblewrap outside, bubblewrap as PID 1, and the runner (PID 1's first child:
                            # learner code starts long after the first poll); the others are the run's own
                            init = [pid for pid, (ppid, _) in table.items() if ppid == proc.pid]
                            if runner is None and init:
                                kids = [pid for pid, (ppid, _) in table.items() if ppid == init[0]]
                                runner = min(kids) if len(kids) == 1 else None
                            if runner in tree:
                                last_seen = tree - {proc.pid, runner, *init}
                        if len(tree) > limits.max_processes + _SANDBOX_OWN_PROCESSES:
                            # the kernel's limit (RLIMIT_NPROC) does not bind root: this poll does
                            limit = "processes"
                            message = (f"started more than {limits.max_processes} processes (the process limit) "
                                       "and was killed")
                            break
                        used = sum(_memory_bytes(pid) for pid in tree)
                        if used > memory:
                            limit = "memory"
                            message = (f"its processes used {used / 2**20:.0f} MB together, more than the "
                                       f"{limits.memory_mb} MB memory limit, and were killed")
                            break
                    if now >= next_folder_check:
                        next_folder_check = now + 1.0
                        if _folder_bytes(writable, output) > output:
                            limit = "output"
                            message = f"wrote more than {limits.output_mb} MB into its folder and was killed"
                            break
                    time.sleep(_POLL_S)
            except BaseException:  # Ctrl-C or an error in the grader: the run must not outlive it
                _kill_group_and_tree(proc, me, before)
                raise
            returncode = proc.poll() if not limit else None
            leftovers = _kill_group_and_tree(proc, me, before, reaper)
            if self.sandbox:
                # The PID namespace ended with the run and took its processes along: count those that
                # were running besides bubblewrap's own and the runner at the last poll while it ran.
                leftovers += len(last_seen)
            size = log.seek(0, os.SEEK_END)
            log.seek(max(0, size - 2000))
            tail = log.read().decode("utf-8", "replace").strip()[-600:]
        return RunOutcome(returncode, limit, message, leftovers, tail, size >= output)
