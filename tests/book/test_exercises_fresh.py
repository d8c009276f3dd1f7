"""The learner notebooks (exercises/) and the exercise pages (book/exercises/) match their sources.

Both are generated from ``solutions/`` by ``make exercises`` and never edited by hand. A changed
solution without a re-run of ``make exercises`` fails here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
import yaml

from course_lib.grading.assign import build_all, question_points, source_digest
from course_lib.grading.base import ANSWER_TAG

REPO = Path(__file__).resolve().parents[2]
NAMES = ["ex01_gtzan_genres", "ex02_specaugment", "ex03_transfer_learning", "ex04_attention"]
FIX = "Fix: run `make exercises` and commit exercises/ and book/exercises/."


def test_every_exercise_has_a_solution_a_learner_notebook_and_a_page():
    assert sorted(p.stem for p in (REPO / "solutions").glob("ex*.ipynb")) == NAMES
    assert sorted(p.stem for p in (REPO / "exercises").glob("ex*.ipynb")) == NAMES
    assert sorted(p.stem for p in (REPO / "book" / "exercises").glob("ex*.ipynb")) == NAMES
    assert not list((REPO / "book" / "exercises").glob("*.md")), "a placeholder page would shadow the notebook"
    toc = yaml.safe_load((REPO / "book" / "_toc.yml").read_text())
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    for name in NAMES:
        assert f"exercises/{name}" in files, f"the book does not link {name}"


@pytest.mark.parametrize("name", NAMES)
def test_generated_files_carry_the_current_source_digest(name):
    digest = source_digest(REPO / "solutions" / f"{name}.ipynb")
    for path in (REPO / "exercises" / f"{name}.ipynb", REPO / "book" / "exercises" / f"{name}.ipynb"):
        meta = json.loads(path.read_text())["metadata"].get("course_lib", {})
        assert meta.get("source_sha256") == digest, f"{path.relative_to(REPO)} is stale. {FIX}"


@pytest.mark.parametrize("name", NAMES)
def test_learner_notebook_hides_solutions_and_hidden_tests(name):
    solution = nbformat.read(str(REPO / "solutions" / f"{name}.ipynb"), as_version=4)
    learner = nbformat.read(str(REPO / "exercises" / f"{name}.ipynb"), as_version=4)
    answers = [c for c in learner.cells if ANSWER_TAG in c.metadata.get("tags", [])]
    assert 3 <= len(answers) <= 6
    by_id = {c.get("id"): c for c in solution.cells}
    for cell in answers:
        assert "..." in cell.source and "SOLUTION" not in cell.source
        assert by_id[cell.get("id")].source != cell.source, "the answer cell still holds the solution"
    for cell in learner.cells:
        assert not cell.get("outputs"), "generated notebooks are committed without outputs"
    tests = learner.metadata.get("otter", {}).get("tests", {})
    assert tests, "no visible checks in the learner notebook"
    assert not any(case.get("hidden") for t in tests.values() for s in t["suites"] for case in s["cases"])


@pytest.mark.parametrize("name", NAMES)
def test_book_page_collapses_solutions_and_is_executed_with_a_how_to_run_box(name):
    page = nbformat.read(str(REPO / "book" / "exercises" / f"{name}.ipynb"), as_version=4)
    # Executed by the book build (the config's force mode), so the expected outputs are on the page.
    assert "execution_mode" not in page.metadata.get("mystnb", {})
    box = next(c.source for c in page.cells if "How to run this exercise" in c.source)
    assert f"exercises/{name}.ipynb" in box and "make lab" in box and 'grader.check("qN")' in box
    solution = nbformat.read(str(REPO / "solutions" / f"{name}.ipynb"), as_version=4)
    points = question_points(solution)
    assert points, "the solution has no questions"
    for question, task, value in points:
        assert task.startswith("Task "), f"{question} has no task heading in {name}"
        assert f"{task} ({question}) {value:g}" in box, f"the box does not give {question}'s {value:g} points"
    assert f"{sum(p for _, _, p in points):g} in all" in box
    hidden = [c for c in page.cells if "hide-input" in c.metadata.get("tags", [])]
    assert len(hidden) >= 3, "every solution cell is collapsed behind a toggle"
    for cell in page.cells:
        assert not (cell.cell_type == "raw" and re.match(r"\s*#\s*(BEGIN|END|ASSIGNMENT)", cell.source))
        assert not (cell.cell_type == "code" and re.match(r"\s*#\s*HIDDEN", cell.source))


def test_make_exercises_regenerates_the_same_bytes(tmp_path):
    """The real thing: regenerate everything (otter assign, offline) and compare byte for byte."""
    build_all(REPO / "solutions", tmp_path / "exercises", tmp_path / "book")
    for name in NAMES:
        for made, committed in (
            (tmp_path / "exercises" / f"{name}.ipynb", REPO / "exercises" / f"{name}.ipynb"),
            (tmp_path / "book" / f"{name}.ipynb", REPO / "book" / "exercises" / f"{name}.ipynb"),
        ):
            assert made.read_bytes() == committed.read_bytes(), f"{committed.relative_to(REPO)} is stale. {FIX}"


def test_question_points_reads_the_configs_and_refuses_an_incomplete_one():
    nb = nbformat.v4.new_notebook()
    # otter's order: the question cell first, its task heading inside it
    nb.cells = [
        nbformat.v4.new_raw_cell("# BEGIN QUESTION\nname: q1\npoints: 8"),
        nbformat.v4.new_markdown_cell("## Task 1 — a mask"),
        nbformat.v4.new_raw_cell("# END QUESTION"),
        nbformat.v4.new_raw_cell("# BEGIN QUESTION\nname: q2\npoints: 2.5"),
        nbformat.v4.new_markdown_cell("## Task 2 — another"),
        nbformat.v4.new_raw_cell("# END QUESTION"),
        # a question with no heading of its own belongs to the task above it
        nbformat.v4.new_raw_cell("# BEGIN QUESTION\nname: q3\npoints: 1"),
    ]
    assert question_points(nb) == [("q1", "Task 1", 8.0), ("q2", "Task 2", 2.5), ("q3", "Task 2", 1.0)]
    nb.cells.append(nbformat.v4.new_raw_cell("# BEGIN QUESTION\nname: q4"))
    with pytest.raises(ValueError, match="points"):
        question_points(nb)
