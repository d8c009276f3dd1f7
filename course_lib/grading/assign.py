"""Build the learner notebooks and the book's exercise pages from the solution notebooks.

Introduced with the exercises (``book/exercises/``); ``make exercises`` runs
``python -m course_lib.grading.assign``.

One source per exercise: ``solutions/<name>.ipynb``, written in otter-grader's assignment format
(a ``# ASSIGNMENT CONFIG`` raw cell; ``# BEGIN QUESTION`` / ``# BEGIN SOLUTION`` / ``# BEGIN TESTS``
raw cells; ``# HIDDEN`` test cells). From it this module writes

* ``exercises/<name>.ipynb`` — the learner's notebook, produced by ``otter assign`` (solutions
  replaced by ``...``, visible checks as ``grader.check("qN")`` cells). Otter gives the cells it
  adds a random id on every run; they get an id derived from their content instead, so a second
  ``make exercises`` writes the same bytes.
* ``book/exercises/<name>.ipynb`` — the book page: a "How to run this exercise" box (the learner
  notebook's path, ``make lab``, how ``grader.check`` works, the points of each task, read from the
  source's question configs), then every task with its solution collapsed behind a toggle
  (``hide-input``), the visible checks shown, the hidden ones left out. The book build executes the
  page, so the expected figures and numbers are on it; the page's download button serves the
  learner notebook, not this solved page (``book/_ext/course_pages.py``).

Both outputs carry the SHA-256 of their source in their metadata (``course_lib.source_sha256``),
which ``tests/book/test_exercises_fresh.py`` compares with the current source.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from .base import REPO_ROOT

__all__ = ["source_digest", "build_learner_notebook", "build_book_page", "build_all", "GENERATOR_VERSION"]

#: Bump when the output format changes (it is part of the freshness check).
GENERATOR_VERSION = 4

_RAW_MARKER = re.compile(r"^\s*#\s*(ASSIGNMENT CONFIG|BEGIN|END)\b")
_SOLUTION_BEGIN = re.compile(r"^\s*#\s*BEGIN SOLUTION\b")
_SOLUTION_END = re.compile(r"^\s*#\s*END SOLUTION\b")
_TESTS_BEGIN = re.compile(r"^\s*#\s*BEGIN TESTS\b")
_TESTS_END = re.compile(r"^\s*#\s*END TESTS\b")


def source_digest(path: Path) -> str:
    """SHA-256 of a solution notebook's bytes plus the generator version."""
    digest = hashlib.sha256(Path(path).read_bytes())
    digest.update(f"generator-{GENERATOR_VERSION}".encode())
    return digest.hexdigest()


def _src(cell) -> str:
    return cell.source if isinstance(cell.source, str) else "".join(cell.source)


def _clean(nb, name: str, digest: str, *, extra_meta: dict | None = None) -> None:
    for cell in nb.cells:
        cell.metadata.pop("lines_to_next_cell", None)
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.metadata.pop("jupytext", None)
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["course_lib"] = {"source": f"solutions/{name}.ipynb", "source_sha256": digest, **(extra_meta or {})}


def _stable_ids(nb, known: set[str], name: str) -> None:
    seen: set[str] = set()
    for index, cell in enumerate(nb.cells):
        cid = cell.get("id")
        if cid not in known or cid in seen:
            cell["id"] = hashlib.sha1(f"{name}:{index}:{_src(cell)}".encode()).hexdigest()[:8]
        seen.add(cell["id"])


def build_learner_notebook(source: Path, out_path: Path, *, otter: str | None = None) -> Path:
    """Run ``otter assign`` on ``source`` and write the learner notebook to ``out_path``."""
    source = Path(source)
    name = source.stem
    otter = otter or str(Path(sys.executable).with_name("otter"))
    with tempfile.TemporaryDirectory(prefix=f"assign-{name}-") as tmp:
        tmp = Path(tmp)
        shutil.copy(source, tmp / source.name)
        proc = subprocess.run(
            [otter, "assign", source.name, "dist"], cwd=tmp, capture_output=True, text=True, timeout=300
        )
        student = tmp / "dist" / "student" / source.name
        if proc.returncode != 0 or not student.is_file():
            raise RuntimeError(f"otter assign failed on {source} (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        nb = nbformat.read(str(student), as_version=4)
    known = {c.get("id") for c in nbformat.read(str(source), as_version=4).cells}
    _stable_ids(nb, known, name)
    _clean(nb, name, source_digest(source))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(out_path))
    return out_path


_QUESTION_BEGIN = re.compile(r"^\s*#\s*BEGIN QUESTION\b")
_TASK_HEADING = re.compile(r"^##\s+(Task\s+\d+)\b", re.M)


def question_points(nb) -> list[tuple[str, str, float]]:
    """``(question name, task heading, points)`` for each ``# BEGIN QUESTION`` of a solution notebook.

    The task is the first ``## Task N`` heading inside the question (between its ``# BEGIN
    QUESTION`` and the next question), else the last one above it; ``""`` when there is none. A
    question without ``name`` or ``points`` is an error naming it: the page would show wrong points.
    """
    import yaml

    questions: list[tuple[int, dict]] = []
    headings: list[tuple[int, str]] = []
    for index, cell in enumerate(nb.cells):
        text = _src(cell)
        if cell.cell_type == "markdown":
            headings += [(index, heading) for heading in _TASK_HEADING.findall(text)]
        elif cell.cell_type == "raw" and _QUESTION_BEGIN.match(text):
            config = yaml.safe_load(text.split("\n", 1)[1] if "\n" in text else "") or {}
            if "name" not in config or "points" not in config:
                raise ValueError(
                    f"a '# BEGIN QUESTION' cell without name and points: {text!r}; "
                    "write them as 'name: qN' and 'points: P' lines"
                )
            questions.append((index, config))
    found = []
    for k, (index, config) in enumerate(questions):
        stop = questions[k + 1][0] if k + 1 < len(questions) else len(nb.cells)
        inside = [heading for i, heading in headings if index < i < stop]
        above = [heading for i, heading in headings if i < index]
        task = inside[0] if inside else (above[-1] if above else "")
        found.append((str(config["name"]), task, float(config["points"])))
    return found


def _points(value: float) -> str:
    return f"{value:g}"


def how_to_run_markdown(name: str, points: list[tuple[str, str, float]]) -> str:
    """The "How to run this exercise" box of a book page (MyST admonition)."""
    lines = [
        "```{admonition} How to run this exercise",
        ":class: note",
        f"- **Your notebook** is `exercises/{name}.ipynb` in the course repository (this page's",
        "  download button gives you that file). Start JupyterLab with `make lab` and open it there.",
        "- **Write your code** where the notebook has `...`. Under each task, run its",
        '  `grader.check("qN")` cell: it runs the visible checks of that task and says which one failed.',
        "  Your instructor grades with more, hidden checks (`python -m course_lib.grading`).",
    ]
    if points:
        parts = [f"{task or 'question'} ({q}) {_points(p)}" for q, task, p in points]
        total = sum(p for _, _, p in points)
        lines.append(f"- **Points:** {' · '.join(parts)} — {_points(total)} in all.")
    lines += [
        "- **This page** shows the reference solutions folded away (*Show the solution*) and what",
        "  they produce, so you can compare your figures and numbers with the expected ones.",
        "```",
    ]
    return "\n".join(lines)


def build_book_page(source: Path, out_path: Path) -> Path:
    """Write the book page: how to run, tasks, solutions collapsed (``hide-input``), visible checks, no hidden ones."""
    source = Path(source)
    nb = nbformat.read(str(source), as_version=4)
    points = question_points(nb)
    cells = []
    in_solution = in_tests = False
    for cell in nb.cells:
        text = _src(cell)
        if cell.cell_type == "raw":
            if _SOLUTION_BEGIN.match(text):
                in_solution = True
            elif _SOLUTION_END.match(text):
                in_solution = False
            elif _TESTS_BEGIN.match(text):
                in_tests = True
            elif _TESTS_END.match(text):
                in_tests = False
            if _RAW_MARKER.match(text):
                continue
        cell = copy.deepcopy(cell)
        tags = [t for t in cell.metadata.get("tags", []) if t not in ("otter_answer_cell",)]
        if cell.cell_type == "code":
            if in_tests and re.match(r"^\s*#\s*HIDDEN\b", text):
                continue
            if in_solution:
                tags.append("hide-input")
        if tags:
            cell.metadata["tags"] = tags
        else:
            cell.metadata.pop("tags", None)
        cells.append(cell)
    name = source.stem
    first_markdown = next((i for i, c in enumerate(cells) if c.cell_type == "markdown"), -1)
    box = nbformat.v4.new_markdown_cell(how_to_run_markdown(name, points))
    box["id"] = hashlib.sha1(f"{name}:how-to-run".encode()).hexdigest()[:8]  # same bytes on every run
    cells.insert(first_markdown + 1, box)
    nb.cells = cells
    _clean(nb, name, source_digest(source))
    nb.metadata["mystnb"] = {"code_prompt_show": "Show the solution", "code_prompt_hide": "Hide the solution"}
    out_path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(out_path))
    return out_path


def build_all(
    solutions_dir: Path = REPO_ROOT / "solutions",
    exercises_dir: Path = REPO_ROOT / "exercises",
    book_dir: Path = REPO_ROOT / "book" / "exercises",
    names: list[str] | None = None,
) -> list[Path]:
    """Build every learner notebook and book page; returns the files written."""
    sources = sorted(Path(solutions_dir).glob("ex*.ipynb"))
    if names:
        sources = [s for s in sources if s.stem in names or s.stem.split("_")[0] in names]
    if not sources:
        raise FileNotFoundError(f"no solution notebooks ex*.ipynb in {solutions_dir}")
    written = []
    for source in sources:
        written.append(build_learner_notebook(source, Path(exercises_dir) / source.name))
        written.append(build_book_page(source, Path(book_dir) / source.name))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib.grading.assign", description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="exercises to build (default: all solutions/ex*.ipynb)")
    parser.add_argument("--solutions-dir", type=Path, default=REPO_ROOT / "solutions")
    parser.add_argument("--exercises-dir", type=Path, default=REPO_ROOT / "exercises")
    parser.add_argument("--book-dir", type=Path, default=REPO_ROOT / "book" / "exercises")
    args = parser.parse_args(argv)
    for path in build_all(args.solutions_dir, args.exercises_dir, args.book_dir, args.names or None):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
