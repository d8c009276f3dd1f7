"""The book build is where `make test` executes the chapter notebooks (once; nbval runs the exercises).

``built_book`` (``tests/conftest.py``) builds the whole book as `make book` does, with ``-W``. These
tests check that every chapter was executed into the built pages, and that a chapter whose cell
raises does fail that build: a one-page book with the course's own configuration, built with the
same command, from a notebook that raises.
"""

from __future__ import annotations

import json
import re
import shutil

import nbformat
import pytest
import yaml
from conftest import BOOK_DIR, run_book_build, warning_lines


def _chapter_docnames() -> list[str]:
    toc = yaml.safe_load((BOOK_DIR / "_toc.yml").read_text(encoding="utf-8"))
    return [entry["file"] for part in toc["parts"] if part["caption"] == "Chapters" for entry in part["chapters"]]


@pytest.mark.book
def test_every_chapter_is_executed_into_the_book(built_book):
    chapters = _chapter_docnames()
    assert len(chapters) >= 7
    for docname in chapters:
        source = BOOK_DIR / f"{docname}.ipynb"
        stored = json.loads(source.read_text(encoding="utf-8"))
        assert not any(c.get("outputs") for c in stored["cells"] if c["cell_type"] == "code"), (
            f"{source.name} is stored with outputs: strip them (the build must produce every output)"
        )
        page = (built_book.html / f"{docname}.html").read_text(encoding="utf-8")
        # myst-nb writes each executed cell's results into a "cell_output" block.
        assert page.count("cell_output") >= 1, f"{docname}.html shows no output: was {source.name} executed?"
    if built_book.log is not None:  # a fresh build: its log names each execution
        executed = set(re.findall(r"(\S+\.ipynb): Executed notebook in", built_book.log))
        missing = [d for d in chapters if not any(path.endswith(f"{d}.ipynb") for path in executed)]
        assert not missing, f"the book build did not execute {missing}"


def test_a_cell_error_in_a_chapter_fails_the_book_build(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    # The course's configuration and extensions, unchanged; a one-page table of contents.
    shutil.copy(BOOK_DIR / "_config.yml", book / "_config.yml")
    for folder in ("_ext", "_assets"):
        shutil.copytree(BOOK_DIR / folder, book / folder, ignore=shutil.ignore_patterns("__pycache__"))
    (book / "_toc.yml").write_text("format: jb-book\nroot: broken_chapter\n", encoding="utf-8")
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# A chapter that raises"),
        nbformat.v4.new_code_cell("x = 1 + 1"),
        nbformat.v4.new_code_cell('raise RuntimeError("sentinel-7f3a: this chapter raises")'),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(book / "broken_chapter.ipynb"))

    result = run_book_build(book, timeout_s=600)

    log = result.stdout
    assert result.returncode != 0, f"a chapter that raises built without error:\n{log[-3000:]}"
    assert "sentinel-7f3a" in log, f"the build log does not show the cell's exception:\n{log[-3000:]}"
    warnings = warning_lines(log)
    assert warnings and all("broken_chapter" in line for line in warnings), (
        "the build should fail because of the cell error alone; other warnings:\n" + "\n".join(warnings)
    )


def test_the_book_is_built_by_one_worker_process_and_a_grading_batch_is_computed_once():
    """`make test` runs on two processes (pytest-xdist); the units of work are tests/conftest.py's."""
    from conftest import BOOK_FILES, xdist_unit_of

    browser = "tests/book/test_book_browser.py::test_page_is_offline_and_error_free[chapters/ch01_audio_as_tensors]"
    book_tests = ["tests/book/test_book_build.py::test_every_chapter_is_executed_into_the_book", browser]
    assert {xdist_unit_of(nodeid) for nodeid in book_tests} == {"book"}
    assert set(BOOK_FILES) == {nodeid.split("::")[0] for nodeid in book_tests}
    # a module fixture (the grading batch) serves every test of its file: the file is one unit
    assert xdist_unit_of("tests/test_grading.py::test_tables") == xdist_unit_of(
        "tests/test_grading.py::test_wrong_and_cheating_submissions[ex02_hang]") == "tests/test_grading.py"
    # the sandbox file's two batches, each its own module fixture for one test, may run side by side
    assert xdist_unit_of("tests/test_grading_sandbox.py::test_hostile_submissions_in_the_sandbox") != xdist_unit_of(
        "tests/test_grading_sandbox.py::test_hostile_submissions_without_the_sandbox")


def test_a_clean_build_is_reused_only_while_nothing_it_depends_on_changed(tmp_path, monkeypatch):
    import os
    import time

    import conftest

    repo = tmp_path / "repo"
    book, lib = repo / "book", repo / "course_lib"
    (book / "_build" / "html").mkdir(parents=True)
    lib.mkdir()
    (book / "intro.md").write_text("# Intro\n")
    (lib / "features.py").write_text("x = 1\n")
    monkeypatch.setattr(conftest, "REPO_ROOT", repo)
    monkeypatch.setattr(conftest, "BOOK_DIR", book)
    monkeypatch.setattr(conftest, "CLEAN_BUILD_STAMP", book / "_build" / ".clean-build")
    monkeypatch.setattr(conftest, "ENV_PREFIX", repo / ".venv")
    past = time.time() - 100
    for path in (book / "intro.md", lib / "features.py"):
        os.utime(path, (past, past))
    assert not conftest.clean_build_is_current()  # no build yet
    (book / "_build" / "html" / "index.html").write_text("<html></html>")
    conftest.CLEAN_BUILD_STAMP.touch()
    os.utime(conftest.CLEAN_BUILD_STAMP, (past + 50, past + 50))  # the build started after the last change
    assert conftest.clean_build_is_current()
    (lib / "features.py").write_text("x = 2\n")  # course_lib changed since the build started
    assert not conftest.clean_build_is_current()
    os.utime(lib / "features.py", (past, past))
    (book / "_build" / "html" / "page.html").write_text("built files do not count")
    assert conftest.clean_build_is_current()
    (book / "chapters").mkdir()
    (book / "chapters" / "ch01.ipynb").write_text("{}")  # a page changed
    assert not conftest.clean_build_is_current()
    os.utime(book / "chapters" / "ch01.ipynb", (past, past))
    (repo / ".venv").mkdir()
    (repo / ".venv" / ".installed-0123").touch()  # a new install (dependencies changed)
    assert not conftest.clean_build_is_current()
