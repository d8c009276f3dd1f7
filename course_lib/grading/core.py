"""Grade exercise notebooks offline: isolated runs, checks out of the submission's reach, score tables.

Introduced with the exercises (``book/exercises/``); the instructor's command is
``python -m course_lib.grading SUBMISSION.ipynb|FOLDER ... --out RESULTS_DIR``.

How one submission is graded
----------------------------
1. **Restore.** The graded notebook is rebuilt from the reference learner notebook
   (``exercises/<exercise>.ipynb``, generated from ``solutions/`` by ``make exercises``): every cell
   comes from the reference except the *answer cells* (tagged ``otter_answer_cell``), which come
   from the submission, and the code cells the learner added. Edited or deleted prose, set-up and
   check cells are therefore restored; otter's ``grader.check`` cells are dropped (the hidden
   checks replace them); cells tagged ``grader-skip`` (long experiments) are not run.
2. **Run, isolated.** The notebook runs in a new Python process inside a fresh temporary folder
   that is its working folder and ``HOME``, in a bubblewrap sandbox where the system allows it (see
   :mod:`course_lib.grading.sandbox`: read-only file system but for that folder, no network, its own
   PID namespace), with limits on time, memory, processes and output. Whatever it leaves running is
   killed when it ends. A cell that raises is recorded and the run goes on.
3. **Collect.** After the last cell, the exercise's collector calls the learner's functions on
   probe inputs and saves the answers as plain data (tensors, numbers, strings).
4. **Check, out of reach.** This process — where no learner code ever runs — loads the data with
   ``torch.load(weights_only=True)`` (an object with a rigged ``__eq__`` cannot even be loaded) and
   runs the hidden checks, which test types and shapes, not only values. The checks and the runner
   were loaded into memory when the grader started, so files a submission writes or deletes cannot
   change them. In the sandbox the file system outside the run's folder is read-only. Without it,
   the grader's own files and the reference notebooks (plus any ``--protect`` path) are
   snapshotted, and whatever a submission changed there is restored and reported, and so is the
   Python environment (:class:`~course_lib.grading.sandbox.EnvironmentGuard`).

Everything ends up in ``scores.csv`` (one row per student and check) and ``scores.json``
(per student: status, score, checks, cell errors, tampering, processes left behind; whether the
sandbox was used), written atomically, plus ``scores.json.sha256`` and a printed summary with that
hash; ``verify_tables`` (``--verify``) recomputes it.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import hashlib
import io
import json
import os
import re
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Iterable

import nbformat

from .sandbox import EnvironmentGuard, Isolation, Limits, sha256_file, startup_files

__all__ = [
    "Check",
    "CheckResult",
    "SubmissionResult",
    "Exercise",
    "GradingError",
    "assemble_notebook",
    "grade_submission",
    "grade_submissions",
    "find_submissions",
    "write_tables",
    "summary_text",
    "verify_tables",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIR = Path(__file__).resolve().parents[1]

#: Answer cells carry this tag in the learner notebook (otter assign adds it).
ANSWER_TAG = "otter_answer_cell"
#: Cells with this tag are not run by the grader (long experiments that no check needs).
SKIP_TAG = "grader-skip"
_OTTER_CELL = re.compile(r"^\s*(#\s*Initialize Otter|import otter\b)|grader\.(check|check_all|export)\(|otter\.Notebook\(", re.M)

# Read once, at import: later submissions cannot change the runner by rewriting the file on disk.
_RUNNER_SOURCE = (Path(__file__).with_name("_runner.py")).read_text(encoding="utf-8")


class GradingError(ValueError):
    """A problem with the grader's input (a missing file, an unknown exercise), not with a submission."""


@dataclasses.dataclass(frozen=True)
class Check:
    """One hidden check: ``func(data) -> (passed, message)`` on the collected plain data."""

    name: str
    points: float
    func: Callable[[dict[str, Any]], tuple[bool, str]]
    description: str = ""


@dataclasses.dataclass
class CheckResult:
    name: str
    points: float
    max_points: float
    passed: bool
    message: str


@dataclasses.dataclass
class SubmissionResult:
    """The outcome of grading one submission."""

    student: str
    exercise: str
    path: str
    status: str  #: ``ok``, ``timeout``, ``crashed`` (a memory or output limit included) or ``invalid``
    score: float
    max_score: float
    checks: list[CheckResult]
    cell_errors: list[dict[str, Any]]
    tampering: list[str]
    seconds: float
    detail: str = ""
    leftover_processes: int = 0  #: processes still running when the notebook ended, killed by the grader
    sandbox: bool = False  #: the run went through the bubblewrap sandbox

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Exercise:
    """An exercise the grader knows: its reference learner notebook, collector and hidden checks."""

    name: str
    reference: Path  #: the learner notebook generated by ``make exercises``
    collector: str  #: ``"module:function"`` importable in the child process
    checks: tuple[Check, ...]

    @property
    def max_score(self) -> float:
        return float(sum(c.points for c in self.checks))


# --------------------------------------------------------------------------------------------------
# 1. Restore: build the notebook to run from the reference and the submission's answer cells.
# --------------------------------------------------------------------------------------------------
def _tags(cell: dict) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _read_notebook(path: Path) -> dict:
    try:
        return nbformat.read(str(path), as_version=4)
    except Exception as err:  # nbformat raises several types for bad JSON / schema
        raise GradingError(f"{path}: cannot be read as a notebook ({type(err).__name__}: {err}).") from None


def assemble_notebook(reference: dict, submission: dict) -> tuple[list[dict], list[str]]:
    """Merge a submission into the reference notebook.

    Returns the list of cells to run (``{"source", "skip"}``) and notes about what was restored.
    Answer cells are matched by cell id, then by order among the submission's answer cells; every
    other reference cell is taken from the reference; code cells the learner added (ids unknown to
    the reference) are kept after the cell they follow.
    """
    notes: list[str] = []
    ref_cells = reference["cells"]
    ref_ids = {c.get("id") for c in ref_cells}
    sub_cells = [c for c in submission.get("cells", []) if c.get("cell_type") == "code"]
    sub_by_id = {c.get("id"): c for c in sub_cells if c.get("id")}
    sub_answers = [c for c in sub_cells if ANSWER_TAG in _tags(c)]
    ref_answers = [c for c in ref_cells if ANSWER_TAG in _tags(c)]
    used: set[int] = set()

    answer_source: dict[str, str] = {}
    for k, ref in enumerate(ref_answers):
        cid = ref.get("id")
        sub = sub_by_id.get(cid)
        if sub is None and k < len(sub_answers) and sub_answers[k].get("id") not in ref_ids:
            sub = sub_answers[k]
        if sub is None:
            notes.append(f"answer cell {k + 1} ({cid}) missing from the submission: the empty stub was run")
            answer_source[cid] = _source(ref)
        else:
            used.add(id(sub))
            answer_source[cid] = _source(sub)

    # learner-added code cells, keyed by the reference cell they follow in the submission
    added_after: dict[str | None, list[str]] = {}
    anchor: str | None = None
    for cell in submission.get("cells", []):
        cid = cell.get("id")
        if cid in ref_ids:
            anchor = cid
            continue
        if cell.get("cell_type") == "code" and id(cell) not in used:
            src = _source(cell)
            if _OTTER_CELL.search(src):
                continue
            added_after.setdefault(anchor, []).append(src)
    restored = 0
    for ref in ref_cells:
        sub = sub_by_id.get(ref.get("id"))
        if ref["cell_type"] == "code" and ANSWER_TAG not in _tags(ref):
            if sub is None or _source(sub) != _source(ref):
                restored += 1
    if restored:
        notes.append(f"{restored} non-answer cell(s) edited or deleted in the submission were restored from the source")

    run: list[dict] = [{"source": s, "skip": False} for s in added_after.get(None, [])]
    for ref in ref_cells:
        cid = ref.get("id")
        if ref["cell_type"] == "code":
            if cid in answer_source:
                run.append({"source": answer_source[cid], "skip": False})
            elif not _OTTER_CELL.search(_source(ref)):
                run.append({"source": _source(ref), "skip": SKIP_TAG in _tags(ref)})
        run.extend({"source": s, "skip": False} for s in added_after.get(cid, []))
    return run, notes


# --------------------------------------------------------------------------------------------------
# 2. Run, isolated.
# --------------------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------------------
# 4. Protect the project: snapshot the files the grader and the reference notebooks depend on.
# --------------------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------------------
# 3 + 4. Grade.
# --------------------------------------------------------------------------------------------------
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
    names: dict[str, int] = {}
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


# --------------------------------------------------------------------------------------------------
# Tables.
# --------------------------------------------------------------------------------------------------
def _write_atomically(path: Path, data: bytes) -> None:
    """Write a whole file or nothing: a temporary file beside it, flushed to disk, then renamed over it."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_tables(results: list[SubmissionResult], out_dir: Path) -> tuple[Path, Path]:
    """Write ``scores.csv`` (student × check rows), ``scores.json`` and ``scores.json.sha256``; returns the first two.

    Each file is written atomically. ``scores.json`` holds the SHA-256 of ``scores.csv``, and
    ``scores.json.sha256`` (``sha256sum`` format) the SHA-256 of ``scores.json``, which
    :func:`summary_text` prints: :func:`verify_tables` then tells whether either table changed.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path, json_path = out_dir / "scores.csv", out_dir / "scores.json"
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["student", "exercise", "status", "check", "points", "max_points", "passed", "message"])
    for r in results:
        for c in r.checks:
            writer.writerow([r.student, r.exercise, r.status, c.name, c.points, c.max_points, c.passed, c.message])
        writer.writerow([r.student, r.exercise, r.status, "TOTAL", r.score, r.max_score, r.score == r.max_score, r.detail])
    csv_bytes = buffer.getvalue().encode("utf-8")
    _write_atomically(csv_path, csv_bytes)
    payload = {
        "sandbox": bool(results) and all(r.sandbox for r in results),
        "scores_csv_sha256": hashlib.sha256(csv_bytes).hexdigest(),
        "submissions": [r.to_dict() for r in results],
        "summary": {
            "n_submissions": len(results),
            "n_full_marks": sum(r.score == r.max_score for r in results),
            "n_timeouts": sum(r.status == "timeout" for r in results),
            "n_crashed": sum(r.status in ("crashed", "invalid") for r in results),
            "n_tampering": sum(bool(r.tampering) for r in results),
            "n_leftover_processes_killed": sum(r.leftover_processes for r in results),
            "mean_fraction": (sum(r.score / r.max_score for r in results if r.max_score) / len(results)) if results else 0.0,
        },
    }
    json_bytes = json.dumps(payload, indent=2).encode("utf-8")
    _write_atomically(json_path, json_bytes)
    _write_atomically(out_dir / "scores.json.sha256", f"{hashlib.sha256(json_bytes).hexdigest()}  scores.json\n".encode())
    return csv_path, json_path


def verify_tables(out_dir: Path, expected: str | None = None) -> tuple[bool, str]:
    """Recompute the tables' hashes: ``(ok, message)``.

    ``scores.json`` must match ``scores.json.sha256`` (and ``expected``, the hash the summary printed,
    when given: a file beside the tables could have been rewritten with them), and ``scores.csv``
    the hash recorded inside ``scores.json``.
    """
    out_dir = Path(out_dir)
    json_path, csv_path, sum_path = out_dir / "scores.json", out_dir / "scores.csv", out_dir / "scores.json.sha256"
    for path in (json_path, csv_path, sum_path):
        if not path.is_file():
            return False, f"{path}: missing. Fix: pass the --out folder the grader wrote."
    actual = sha256_file(json_path)
    stored = sum_path.read_text(encoding="utf-8").split()[0] if sum_path.read_text(encoding="utf-8").split() else ""
    if actual != stored:
        return False, f"{json_path} was changed after grading: SHA-256 {actual}, recorded {stored}"
    if expected is not None and expected.strip().lower() != actual:
        return False, f"{json_path} has SHA-256 {actual}, not the {expected.strip()} printed when it was graded"
    try:
        recorded_csv = json.loads(json_path.read_text(encoding="utf-8"))["scores_csv_sha256"]
    except (ValueError, KeyError, TypeError):
        return False, f"{json_path} holds no scores_csv_sha256 (written by an older grader?)"
    if sha256_file(csv_path) != recorded_csv:
        return False, f"{csv_path} was changed after grading: its SHA-256 is not the one recorded in scores.json"
    return True, f"{json_path} (SHA-256 {actual}) and {csv_path} are as the grader wrote them"


def summary_text(results: list[SubmissionResult], json_path: Path | None = None) -> str:
    """A short table: one line per submission, then the totals (and the SHA-256 of ``json_path`` when given)."""
    lines = [f"{'student':<28} {'exercise':<24} {'status':<8} {'score':>11}  failed checks"]
    for r in results:
        failed = ", ".join(c.name for c in r.checks if not c.passed) or "-"
        lines.append(f"{r.student[:28]:<28} {r.exercise[:24]:<24} {r.status:<8} {r.score:>5g}/{r.max_score:<5g}  {failed}")
        if r.tampering:
            lines.append(f"{'':<28} !! changed files outside its folder: {'; '.join(r.tampering[:3])}")
        if r.leftover_processes:
            lines.append(f"{'':<28} !! left {r.leftover_processes} process(es) running: killed")
    full = sum(r.score == r.max_score for r in results)
    lines.append(f"{len(results)} submission(s): {full} with full marks, "
                 f"{sum(r.status == 'timeout' for r in results)} timed out, "
                 f"{sum(r.status in ('crashed', 'invalid') for r in results)} crashed or invalid, "
                 f"{sum(bool(r.tampering) for r in results)} changed files outside their folder, "
                 f"{sum(r.leftover_processes for r in results)} process(es) left running were killed.")
    if results:
        lines.append("Sandbox: " + ("bubblewrap for every run." if all(r.sandbox for r in results)
                                    else "NOT used (see the warning at the start)."))
    if json_path is not None:
        lines.append(f"SHA-256 of {json_path}: {sha256_file(Path(json_path))}  (check later: --verify {Path(json_path).parent})")
    return "\n".join(lines)
