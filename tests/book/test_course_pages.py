"""book/_ext/course_pages.py: reading and run times measured from the pages and the build."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BOOK_DIR = Path(__file__).resolve().parents[2] / "book"


def _course_pages():
    spec = importlib.util.spec_from_file_location("course_pages", BOOK_DIR / "_ext" / "course_pages.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reading_minutes_counts_prose_and_code():
    cp = _course_pages()
    assert cp.reading_minutes(0, 0) == 1
    assert cp.reading_minutes(cp.WORDS_PER_MINUTE * 3, 0) == 3
    assert cp.reading_minutes(cp.WORDS_PER_MINUTE * 3, 1) == 4  # any code adds time, rounded up
    assert cp.reading_minutes(0, cp.CODE_LINES_PER_MINUTE * 2) == 2
    with pytest.raises(ValueError, match="words=-1"):
        cp.reading_minutes(-1, 0)


def test_runtime_format():
    cp = _course_pages()
    assert cp.format_runtime(None) is None
    assert cp.format_runtime(0.2) == "runs in 1 s"
    assert cp.format_runtime(19.4) == "runs in 19 s"
    assert cp.format_runtime(65) == "runs in 1 min 05 s"


def _notebook(cells: list[tuple[str, str]]) -> dict:
    return {
        "cells": [
            {"cell_type": kind, "metadata": {}, "source": source}
            | ({"outputs": [], "execution_count": None} if kind == "code" else {})
            for kind, source in cells
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def test_a_built_book_shows_measured_times(tmp_path):
    """A two-page book: the page gets its facts line, the landing page the table with a link."""
    if shutil.which("jupyter-book", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("jupyter-book is not installed (the book extra: make book installs it)")
    book = tmp_path / "book"
    (book / "_ext").mkdir(parents=True)
    shutil.copy(BOOK_DIR / "_ext" / "course_pages.py", book / "_ext" / "course_pages.py")
    (book / "_config.yml").write_text(
        "title: t\nexecute:\n  execute_notebooks: force\n"
        "sphinx:\n  local_extensions:\n    course_pages: _ext\n",
        encoding="utf-8",
    )
    (book / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nchapters:\n  - file: page\n  - file: exercises/ex09_demo\n", encoding="utf-8"
    )
    # An exercise page (solved) and its learner notebook beside the book: the download gets the latter.
    (book / "exercises").mkdir()
    solved = _notebook([("markdown", "# Exercise 9"), ("code", "answer = 42")])
    (book / "exercises" / "ex09_demo.ipynb").write_text(json.dumps(solved), encoding="utf-8")
    (tmp_path / "exercises").mkdir()
    learner = _notebook([("markdown", "# Exercise 9"), ("code", "answer = ...")])
    (tmp_path / "exercises" / "ex09_demo.ipynb").write_text(json.dumps(learner), encoding="utf-8")
    (book / "intro.md").write_text(
        "# Home\n\n```{course-pages}\npage | Plays with sums. | synthetic\n```\n", encoding="utf-8"
    )
    prose = " ".join(["word"] * 450)  # 450 words + 2 code lines: 3 minutes at 200 wpm, 12 lines/min
    nb = _notebook([("markdown", f"# A page\n\n{prose}"), ("code", "import time\ntime.sleep(1.2)")])
    (book / "page.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "jupyter-book"), "build", str(book), "-W", "-n", "--keep-going"],
        capture_output=True, text=True, timeout=240,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    html = book / "_build" / "html"
    page = (html / "page.html").read_text(encoding="utf-8")
    facts = re.search(r'class="course-page-facts"[^>]*>\s*<em>([^<]*)</em>', page)
    assert facts, "no facts line under the page title"
    text = facts.group(1)
    assert text.startswith("≈ 3 min to read"), text
    seconds = int(re.search(r"runs in (\d+) s", text).group(1))
    assert 1 <= seconds < 60, text
    home = (html / "intro.html").read_text(encoding="utf-8")
    assert 'href="page.html"' in home and "Plays with sums." in home and "3 min" in home
    assert f"{seconds} s" in home  # the same measured run time in the table
    served = json.loads((html / "_sources" / "exercises" / "ex09_demo.ipynb").read_text(encoding="utf-8"))
    assert served["cells"][1]["source"] == "answer = ..."  # the learner notebook, not the solved page
    exercise = (html / "exercises" / "ex09_demo.html").read_text(encoding="utf-8")
    assert "_sources/exercises/ex09_demo.ipynb" in exercise  # what the page's download button links


def test_the_landing_page_lists_every_toc_page():
    """Every chapter and exercise in _toc.yml has a row in the landing page's table, in order."""
    import yaml

    toc = yaml.safe_load((BOOK_DIR / "_toc.yml").read_text(encoding="utf-8"))
    pages = [entry["file"] for part in toc["parts"] for entry in part["chapters"]]
    intro = (BOOK_DIR / "intro.md").read_text(encoding="utf-8")
    block = re.search(r"```\{course-pages\}\n(.*?)```", intro, re.S)
    assert block, "book/intro.md has no {course-pages} table"
    listed = [line.split("|")[0].strip() for line in block.group(1).splitlines() if line.strip()]
    assert listed == pages
