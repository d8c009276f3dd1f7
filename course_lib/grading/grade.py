"""Steps 2-4: run a restored notebook in isolation, load what it collected, run the hidden checks.

Part of :mod:`course_lib.grading` (see :mod:`course_lib.grading` for all the steps):
:func:`grade_submission` grades one notebook, :func:`grade_submissions` a batch (a hang or a crash in
one never stops the others).
"""

from __future__ import annotations

import copy
import io
import json
import os
import re
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path

from .assemble import _read_notebook, assemble_notebook
from .base import Check, CheckResult, Exercise, GradingError, SubmissionResult
from .protect import EnvironmentGuard, _Snapshot, startup_files
from .sandbox import Isolation, Limits

__all__ = ["grade_submission", "grade_submissions", "find_submissions", "student_name"]


# Read once, at import: later submissions cannot change the runner by rewriting the file on disk.
_RUNNER_SOURCE = (Path(__file__).with_name("_runner.py")).read_text(encoding="utf-8")


def _run_isolated(
    cells: list[dict], collector: str, workdir: Path, limits: Limits, isolation: Isolation
) -> tuple[str, str, int]:
    """Run the cells in ``workdir`` under ``isolation`` and ``limits``; returns ``(status, detail, leftovers)``.

    The process's output goes to a log outside ``workdir`` (a submission may delete its folder).
    """
    (workdir / "job.json").write_text(
        json.dumps({"cells": cells, "collector": collector, "result": "collected.pt", "cells_log": "cells.json"}),
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JPY_", "JUPYTER_", "PYTEST_"))}
    env.update(
        HOME=str(workdir),
        TMPDIR=str(workdir),
        USER="student",
        LOGNAME="student",
        MPLBACKEND="Agg",
        TQDM_DISABLE="1",
        PYTHONHASHSEED="0",
        PYTHONDONTWRITEBYTECODE="1",
        MPLCONFIGDIR=str(workdir / ".mpl"),
        COURSE_LIB_GRADING="1",
    )
    # Threads count towards the process limit: a few are plenty for the exercises, on any machine.
    env.setdefault("OMP_NUM_THREADS", str(min(4, os.cpu_count() or 1)))
    # the run may write (and delete) its working folder: bind its temporary parent
    outcome = isolation.run([sys.executable, "-c", _RUNNER_SOURCE], workdir, env, limits, writable=workdir.parent)
    details = []
    if outcome.leftovers_killed:
        details.append(f"{outcome.leftovers_killed} process(es) it started were still running at its end and were killed")
    if outcome.output_truncated:
        details.append(f"its printed output reached the {limits.output_mb} MB limit; the rest was discarded")
    if outcome.limit == "timeout":
        return "timeout", "; ".join([outcome.message] + details), outcome.leftovers_killed
    if outcome.limit:
        return "crashed", "; ".join([outcome.message] + details), outcome.leftovers_killed
    if outcome.returncode != 0:
        return ("crashed", "; ".join([f"the notebook process exited with code {outcome.returncode}: "
                                      f"{outcome.output_tail[-400:]}"] + details), outcome.leftovers_killed)
    return "ok", "; ".join(details), outcome.leftovers_killed


def _load_collected(path: Path) -> tuple[str, dict]:
    import torch

    if path.is_symlink():
        return "the collected answers are a link, not a file: not read", {}
    if not path.is_file():
        return "no answers were collected (the notebook process ended before the collector ran)", {}
    try:
        payload = torch.load(io.BytesIO(_read_plain_file(path)), weights_only=True, map_location="cpu")
    except Exception as err:
        return f"the collected answers could not be loaded safely ({type(err).__name__}: {str(err)[:200]})", {}
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        return "the collected answers have the wrong structure", {}
    status = payload.get("status")
    return (status if isinstance(status, str) else "bad status"), payload["data"]


def _run_checks(checks: Iterable[Check], data: dict) -> list[CheckResult]:
    results = []
    for check in checks:
        try:
            passed, message = check.func(data)
            passed = passed is True
        except Exception as err:
            passed, message = False, f"check failed: {type(err).__name__}: {str(err)[:300]}"
        results.append(CheckResult(check.name, check.points if passed else 0.0, check.points, passed, str(message)))
    return results


def student_name(path: Path) -> str:
    """The student id of a submission: the file stem, or the parent folder for ``<student>/<exercise>.ipynb``."""
    if re.match(r"^ex\d\d", path.stem) and path.parent.name:
        return path.parent.name
    return path.stem


def grade_submission(
    path: Path,
    exercise: Exercise,
    *,
    timeout_s: float = 120.0,
    limits: Limits | None = None,
    isolation: Isolation | None = None,
    student: str | None = None,
    protect: Iterable[Path] = (),
    _reference: dict | None = None,
    _snapshot: _Snapshot | None = None,
    _guard: EnvironmentGuard | None = None,
) -> SubmissionResult:
    """Grade one submission notebook for ``exercise`` (see the module docstring for the steps).

    ``limits`` defaults to :class:`~course_lib.grading.sandbox.Limits` with ``timeout_s``;
    ``isolation`` to :meth:`Isolation.detect() <course_lib.grading.sandbox.Isolation.detect>`.
    """
    path = Path(path)
    student = student or student_name(path)
    limits = limits or Limits(timeout_s=timeout_s)
    isolation = isolation or Isolation.detect()
    reference = _reference if _reference is not None else _read_notebook(exercise.reference)
    if _snapshot is not None:
        snapshot = _snapshot
    else:
        snapshot = None if isolation.sandbox else _Snapshot(_default_protected(exercise) + list(protect))
    start = time.perf_counter()
    zero = [CheckResult(c.name, 0.0, c.points, False, "not graded") for c in exercise.checks]
    try:
        submission = _read_notebook(path)
    except GradingError as err:
        return SubmissionResult(student, exercise.name, str(path), "invalid", 0.0, exercise.max_score, zero, [], [], 0.0,
                                str(err), sandbox=isolation.sandbox)
    cells, notes = assemble_notebook(reference, submission)
    prefix = f"grade-{re.sub(r'[^A-Za-z0-9_-]', '_', student)}-"
    with tempfile.TemporaryDirectory(prefix=prefix, ignore_cleanup_errors=True) as tmp:
        workdir = Path(tmp) / "work"
        workdir.mkdir()
        status, detail, leftovers = _run_isolated(cells, exercise.collector, workdir, limits, isolation)
        # In the sandbox nothing outside the folder can change: a change there is someone else's
        # (an instructor editing the course while a batch runs) and must not be undone.
        tampering = snapshot.restore() if snapshot is not None and not isolation.sandbox else []
        if _guard is not None:
            restored, broken = _guard.check()
            tampering += [f"environment: {t}" for t in restored + broken]
            if broken:
                notes.append("it changed the Python environment in a way the grader could not undo: "
                             "later submissions of this batch may be affected; reinstall the environment")
        cell_errors: list[dict] = []
        try:
            log = json.loads(_read_plain_file(workdir / "cells.json").decode("utf-8"))
            cell_errors = [e for e in log if isinstance(e, dict) and e.get("status") == "error"][:20]
        except (OSError, ValueError, TypeError):
            pass
        if status == "timeout":
            checks = [CheckResult(c.name, 0.0, c.points, False, "timeout") for c in exercise.checks]
        else:
            collect_status, data = _load_collected(workdir / "collected.pt")
            if collect_status != "ok":
                detail = (detail + "; " if detail else "") + collect_status
            checks = _run_checks(exercise.checks, data)
            if status == "ok" and collect_status != "ok":
                status = "crashed"
    score = float(sum(c.points for c in checks))
    if notes:
        detail = "; ".join([detail] + notes if detail else notes)
    return SubmissionResult(
        student, exercise.name, str(path), status, score, exercise.max_score, checks, cell_errors, tampering,
        round(time.perf_counter() - start, 2), detail, leftover_processes=leftovers, sandbox=isolation.sandbox,
    )


def _read_plain_file(path: Path, max_bytes: int = 256 << 20) -> bytes:
    """Read a file the run wrote, refusing links (a link to a file of the grader's would leak it) and huge files."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValueError(f"{path.name} is larger than {max_bytes >> 20} MB")
    return data


def _default_protected(exercise: Exercise) -> list[Path]:
    # The grader's own code and the reference notebooks. Add more with ``protect=`` / ``--protect``
    # (e.g. the whole package when nobody is editing it while grading runs).
    return [Path(__file__).resolve().parent, exercise.reference.resolve().parent]


def find_submissions(paths: Iterable[Path]) -> list[Path]:
    """Expand folders into the ``*.ipynb`` files below them (checkpoints skipped), sorted."""
    found: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found.extend(
                q for q in sorted(p.rglob("*.ipynb")) if ".ipynb_checkpoints" not in q.parts
            )
        elif p.is_file():
            found.append(p)
        else:
            raise GradingError(f"{p}: no such file or folder. Fix: pass a submission .ipynb or a folder of them.")
    if not found:
        raise GradingError("no .ipynb submissions found in " + ", ".join(map(str, paths)))
    return found


def grade_submissions(
    paths: Iterable[Path],
    exercise_for: Callable[[Path], Exercise],
    *,
    timeout_s: float = 120.0,
    limits: Limits | None = None,
    isolation: Isolation | None = None,
    protect: Iterable[Path] = (),
    progress: Callable[[SubmissionResult], None] | None = None,
) -> list[SubmissionResult]:
    """Grade several submissions one after another; a hang or crash in one never stops the batch.

    ``isolation`` defaults to :meth:`Isolation.detect() <course_lib.grading.sandbox.Isolation.detect>`
    (the sandbox where bubblewrap works; a :class:`RuntimeWarning` says what is not protected without
    it). Without the sandbox, the Python environment is checked after every run.
    """
    subs = find_submissions(paths)
    exercises = {p: exercise_for(p) for p in subs}  # resolve every exercise before any code runs
    references = {ex.name: _read_notebook(ex.reference) for ex in exercises.values()}
    limits = limits or Limits(timeout_s=timeout_s)
    if isolation is None:
        isolation = Isolation.detect()
        if not isolation.sandbox:
            warnings.warn(isolation.warning(), RuntimeWarning, stacklevel=2)
    snapshot = None
    if not isolation.sandbox:
        protected = sorted({str(q) for ex in exercises.values() for q in _default_protected(ex)} | {str(q) for q in protect})
        snapshot = _Snapshot([Path(q) for q in protected])
    guard = None
    if not isolation.sandbox:
        # the files every run loads at start-up are copied, so that a change to them can be undone
        modules = sorted({ex.collector.split(":")[0] for ex in exercises.values()} | {"torch", "IPython"})
        guard = EnvironmentGuard(backup=startup_files(modules))
    results = []
    writes_bytecode = sys.dont_write_bytecode
    sys.dont_write_bytecode = True  # the grader's own imports must not look like changes to the environment
    try:
        _grade_each(subs, exercises, references, limits, isolation, snapshot, guard, results, progress)
    finally:
        sys.dont_write_bytecode = writes_bytecode
    return results


def _grade_each(subs, exercises, references, limits, isolation, snapshot, guard, results, progress) -> None:
    names: dict[str, int] = {}
    for path in subs:
        ex = exercises[path]
        student = student_name(path)
        names[student] = names.get(student, 0) + 1
        if names[student] > 1:  # two files that would share a name: keep both rows apart
            student = f"{student}#{names[student]}"
        result = grade_submission(
            path, ex, limits=limits, isolation=isolation, student=student,
            _reference=copy.deepcopy(references[ex.name]), _snapshot=snapshot, _guard=guard,
        )
        results.append(result)
        if progress:
            progress(result)
