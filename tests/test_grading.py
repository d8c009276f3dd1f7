"""The instructor's grader: solutions score full marks, wrong and cheating submissions do not.

The submissions are described in ``tests/submissions/*.py`` (see its README) and built from the
current learner notebooks, so they never go stale. Each batch runs through one
``grade_submissions`` call, as the instructor's command does: a hang or a crash in one submission
must not stop the others. The hanging submission is graded in a batch of its own, with a shorter
time limit, before a solution that must still score full marks: a hang costs its batch's limit,
and proving that it is killed there does not need the main batch's margin for slow honest runs.
"""

from __future__ import annotations

import copy
import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course_lib.grading import get_exercise, grade_submissions, summary_text, write_tables
from course_lib.grading.assemble import assemble_notebook
from course_lib.grading.base import ANSWER_TAG
from course_lib.grading.sandbox import Isolation

REPO = Path(__file__).resolve().parents[1]
SUBMISSIONS = Path(__file__).with_name("submissions")
# Generous for a loaded 2-core machine (an honest run takes 5-20 s); no run of the main batch lasts it.
TIMEOUT_S = 60.0
# The hanging submission's batch: it is killed at this limit (it costs exactly this long), and the
# solution graded after it (a short notebook, about 5-10 s) must finish inside it.
HANG_TIMEOUT_S = 30.0
AFTER_HANG = "after_hang_ex02_specaugment"
_CHECK_CELL = re.compile(r"grader\.check|otter\.Notebook|import otter")


def parse_spec(path: Path) -> dict:
    header, cells, current = {"fails": []}, [], None
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^# %% \[(answer \d+|added|added-first|checks|delete-checks)\]\s*$", line)
        if m:
            current = {"kind": m.group(1), "lines": []}
            cells.append(current)
        elif current is not None:
            current["lines"].append(line)
        else:
            h = re.match(r"^# (exercise|expect|fails): (.+)$", line)
            if h and h.group(1) == "fails":
                header["fails"].append(h.group(2).strip())
            elif h:
                header[h.group(1)] = h.group(2).strip()
    header["cells"] = [{"kind": c["kind"], "source": "\n".join(c["lines"]).strip("\n")} for c in cells]
    return header


def build_submission(spec: dict, out: Path) -> Path:
    """The learner notebook with the solutions filled in, then the spec's cells applied."""
    learner = nbformat.read(str(REPO / "exercises" / f"{spec['exercise']}.ipynb"), as_version=4)
    solution = nbformat.read(str(REPO / "solutions" / f"{spec['exercise']}.ipynb"), as_version=4)
    by_id = {c.get("id"): c for c in solution.cells}
    answers = [c for c in learner.cells if ANSWER_TAG in c.metadata.get("tags", [])]
    for cell in answers:
        cell.source = by_id[cell.get("id")].source
    for change in spec.get("cells", []):
        kind, src = change["kind"], change["source"]
        if kind.startswith("answer "):
            answers[int(kind.split()[1]) - 1].source = src
        elif kind == "added":
            index = learner.cells.index(answers[-1]) + 1
            learner.cells.insert(index, nbformat.v4.new_code_cell(src))
        elif kind == "added-first":
            learner.cells.insert(0, nbformat.v4.new_code_cell(src))
        elif kind == "checks":
            for cell in learner.cells:
                if cell.cell_type == "code" and _CHECK_CELL.search(cell.source):
                    cell.source = src
        elif kind == "delete-checks":
            learner.cells = [c for c in learner.cells if not (c.cell_type == "code" and _CHECK_CELL.search(c.source))]
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(learner, str(out))
    return out


def _exercise_names() -> list[str]:
    return sorted({parse_spec(p)["exercise"] for p in SUBMISSIONS.glob("*.py")})


@pytest.fixture(scope="module")
def graded(tmp_path_factory, monkeypatch_module):
    """Grade every submission of every exercise (plus each solution and each unsolved notebook)."""
    root = tmp_path_factory.mktemp("submissions")
    sentinel = root / "sentinel.txt"
    sentinel.write_text("protected")
    monkeypatch_module.setenv("GRADING_TEST_SENTINEL", str(sentinel))
    specs, paths, hang_paths = {}, [], []
    for spec_path in sorted(SUBMISSIONS.glob("*.py")):
        spec = parse_spec(spec_path)
        path = build_submission(spec, root / spec_path.stem / f"{spec['exercise']}.ipynb")
        specs[spec_path.stem] = spec
        (hang_paths if spec["expect"] == "timeout" else paths).append(path)
    assert hang_paths, "no submission in tests/submissions/ hangs (expect: timeout)"
    # graded after the hang, in its batch: the batch goes on, and a run after a killed one is unharmed
    hang_paths.append(build_submission({"exercise": "ex02_specaugment"}, root / AFTER_HANG / "ex02_specaugment.ipynb"))
    for name in _exercise_names():
        paths.append(build_submission({"exercise": name}, root / f"solution_{name}" / f"{name}.ipynb"))
        unsolved = root / f"unsolved_{name}" / f"{name}.ipynb"
        unsolved.parent.mkdir()
        unsolved.write_bytes((REPO / "exercises" / f"{name}.ipynb").read_bytes())
        paths.append(unsolved)
    guarded = [REPO / "course_lib" / "grading" / "exercises" / "ex02_specaugment.py", REPO / "exercises"]
    before = {p: p.read_bytes() for p in guarded if p.is_file()}
    isolation = Isolation.detect()  # the sandbox where bubblewrap works (always in CI), as the command does
    def exercise_for(path: Path):
        return get_exercise(path.name.split(".")[0])

    results = grade_submissions(paths, exercise_for, timeout_s=TIMEOUT_S, protect=[sentinel], isolation=isolation)
    hang_batch = grade_submissions(hang_paths, exercise_for, timeout_s=HANG_TIMEOUT_S, protect=[sentinel],
                                   isolation=isolation)
    after = {p: p.read_bytes() for p in before}
    results = results + hang_batch
    print(summary_text(results))
    return {"results": {r.student: r for r in results}, "specs": specs, "sentinel": sentinel, "root": root,
            "files_unchanged": before == after, "all": results, "isolation": isolation, "hang_batch": hang_batch}


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_solutions_score_full_marks(graded):
    for name in _exercise_names():
        r = graded["results"][f"solution_{name}"]
        assert r.status == "ok", r.detail
        assert r.score == r.max_score > 0, [(c.name, c.message) for c in r.checks if not c.passed]


def test_unsolved_notebooks_score_zero(graded):
    for name in _exercise_names():
        r = graded["results"][f"unsolved_{name}"]
        assert r.score == 0, [(c.name, c.message) for c in r.checks if c.passed]


@pytest.mark.parametrize("stem", sorted(p.stem for p in SUBMISSIONS.glob("*.py")))
def test_wrong_and_cheating_submissions(graded, stem):
    spec, r = graded["specs"][stem], graded["results"][stem]
    assert r.score < r.max_score, f"{stem} scored full marks"
    expect = spec["expect"]
    if expect == "zero":
        assert r.score == 0, [(c.name, c.message) for c in r.checks if c.passed]
    elif expect == "timeout":
        assert r.status == "timeout" and r.score == 0
        assert HANG_TIMEOUT_S <= r.seconds < HANG_TIMEOUT_S + 30
    failed = {c.name for c in r.checks if not c.passed}
    for name in spec["fails"]:
        assert name in failed, f"{stem}: the check {name!r} should fail; failed: {sorted(failed)}"
    for c in r.checks:  # every failure explains itself
        assert c.passed or c.message


def test_a_hang_is_killed_and_its_batch_goes_on(graded):
    hang_batch = graded["hang_batch"]
    assert [r.student for r in hang_batch][-1] == AFTER_HANG, "the solution is graded after the hang"
    for r in hang_batch[:-1]:
        assert r.status == "timeout" and r.score == 0 and HANG_TIMEOUT_S <= r.seconds < HANG_TIMEOUT_S + 30, r
    after = hang_batch[-1]
    assert after.status == "ok" and after.score == after.max_score > 0, (after.detail, after.seconds)
    assert not after.leftover_processes and not after.tampering, after


def test_batch_survives_and_files_are_restored(graded):
    results = graded["all"]
    assert len(results) == len(list(SUBMISSIONS.glob("*.py"))) + 2 * len(_exercise_names()) + 1  # + AFTER_HANG
    # The file-deleting and test-rewriting submissions: the protected sentinel, the grader's check
    # module and the exercises are as they were. In the sandbox (read-only system) or as an
    # unprivileged user the writes fail; otherwise they happen and are restored and reported.
    assert graded["sentinel"].read_text() == "protected"
    assert graded["files_unchanged"]
    assert not (REPO / "exercises" / "tests").exists()
    isolation = graded["isolation"]
    writes_blocked = isolation.sandbox or isolation.user is not None
    for stem in ("ex02_deletes_files", "ex02_cheat_write_tests"):
        r = graded["results"][stem]
        assert r.sandbox is isolation.sandbox
        if writes_blocked:
            assert not r.tampering, r.tampering  # nothing outside its folder changed, so nothing to restore
        else:
            assert r.tampering, f"{stem}: its changes outside its folder were not reported"
    if not writes_blocked:
        assert any("sentinel.txt" in t for t in graded["results"]["ex02_deletes_files"].tampering)
    # the crashing and exiting ones are recorded as such, not as grader failures
    assert graded["results"]["ex02_exits"].status == "crashed"
    assert graded["results"]["ex02_raises"].cell_errors


def test_tables(graded, tmp_path):
    results = graded["all"]
    csv_path, json_path = write_tables(results, tmp_path)
    with open(csv_path, newline="") as handle:
        rows = list(csv.reader(handle))
    n_checks = sum(len(r.checks) + 1 for r in results)
    assert rows[0] == ["student", "exercise", "status", "check", "points", "max_points", "passed", "message"]
    assert len(rows) == 1 + n_checks
    totals = {row[0]: float(row[4]) for row in rows[1:] if row[3] == "TOTAL"}
    assert totals == {r.student: r.score for r in results}
    payload = json.loads(json_path.read_text())
    assert payload["summary"]["n_submissions"] == len(results)
    assert payload["summary"]["n_timeouts"] == 1
    by_student = {s["student"]: s for s in payload["submissions"]}
    assert by_student["ex02_hang"]["status"] == "timeout"
    assert all(len(s["checks"]) for s in payload["submissions"])


def test_restore_keeps_answers_and_drops_edits():
    ref = nbformat.read(str(REPO / "exercises" / "ex04_attention.ipynb"), as_version=4)
    sub = copy.deepcopy(ref)
    answers = [c for c in sub.cells if ANSWER_TAG in c.metadata.get("tags", [])]
    answers[0].source = "LEARNER_ANSWER = 1"
    setup = next(c for c in sub.cells if c.cell_type == "code" and "import torch" in c.source)
    setup.source = "EDITED_SETUP = 1"
    sub.cells.insert(len(sub.cells), nbformat.v4.new_code_cell("LEARNER_EXTRA = 1"))
    cells, notes = assemble_notebook(ref, sub)
    sources = "\n".join(c["source"] for c in cells)
    assert "LEARNER_ANSWER = 1" in sources and "LEARNER_EXTRA = 1" in sources
    assert "EDITED_SETUP" not in sources and "import torch" in sources
    assert "grader.check" not in sources and "otter" not in sources
    assert any("restored" in n for n in notes)


def test_command_line_reports_bad_paths(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "course_lib.grading", str(tmp_path / "missing"), "--out", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "no such file" in proc.stderr
