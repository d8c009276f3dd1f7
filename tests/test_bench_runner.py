"""benchmarks/run_all.py: how it reads the scripts' output and the book build's log (nothing timed)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

RUN_ALL = Path(__file__).resolve().parents[1] / "benchmarks" / "run_all.py"


@pytest.fixture(scope="module")
def run_all():
    spec = importlib.util.spec_from_file_location("run_all", RUN_ALL)
    module = importlib.util.module_from_spec(spec)
    sys.modules["run_all"] = module  # dataclasses look their module up while the class is built
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop("run_all", None)


def test_last_json_line_is_the_scripts_result(run_all):
    assert run_all.last_json_line('warming up\n{"a": 1}\n{"ratio": 2.5}\n\n') == {"ratio": 2.5}
    assert run_all.last_json_line('{"a": 1}\ndone\n') is None  # the JSON must be the last line
    assert run_all.last_json_line("[1, 2]\n") is None  # one object, not any JSON
    assert run_all.last_json_line("") is None


def test_notebook_times_are_read_from_the_build_log(run_all):
    log = (
        "\x1b[01mreading sources... \x1b[39;49;00m\n"
        "/repo/book/chapters/ch01.ipynb: Executing notebook using local CWD [mystnb]\n"
        "/repo/book/chapters/ch01.ipynb: Executed notebook in 23.11 seconds [mystnb]\n"
        "/repo/book/chapters/ch02.md: Executed notebook in 4.50 seconds [mystnb]\n"
        "/repo/book/chapters/ch03.ipynb: WARNING: Executing notebook failed: CellTimeoutError [mystnb.exec]\n"
        "/repo/book/chapters/ch04.ipynb: Executing notebook failed: CellExecutionError [mystnb]\n"
    )
    log = run_all.ANSI.sub("", log)
    times = {m["path"]: float(m["s"]) for m in run_all.EXECUTED.finditer(log)}
    assert times == {"/repo/book/chapters/ch01.ipynb": 23.11, "/repo/book/chapters/ch02.md": 4.5}
    assert [m["path"] for m in run_all.FAILED.finditer(log)] == [
        "/repo/book/chapters/ch03.ipynb", "/repo/book/chapters/ch04.ipynb"]


def test_targets_are_checked_against_the_measurements(run_all):
    pipeline = run_all.ScriptResult("pipeline", 1.0, 0, {"cached_vs_seed": 25.0, "first_epoch_vs_seed": 1.5}, "")
    book = run_all.BookResult(seconds=310.0, returncode=0, notebooks={"book/chapters/a.ipynb": 61.0,
                                                                       "book/chapters/b.ipynb": 12.0})
    broken = run_all.ScriptResult("models", 2.0, 1, None, "", problem="exit code 1")
    checks = {c["what"].split(" (")[0]: c["ok"] for c in run_all.check_targets([pipeline, broken], book)}
    assert checks == {
        "pipeline: cached_vs_seed": True,
        "pipeline: first_epoch_vs_seed": False,
        "whole book build": False,
        "execute book/chapters/a.ipynb": False,
        "execute book/chapters/b.ipynb": True,
        "benchmarks/models.py runs": False,
    }


def test_slowest_tests_are_read_from_both_pytest_runs_of_make_test(run_all):
    log = (
        "tests/test_a.py ....\n"
        "============================= slowest 10 durations =============================\n"
        "61.20s call     tests/test_grading.py::test_batch@tests/test_grading.py\n"
        "180.02s setup    tests/book/test_book_build.py::test_every_chapter_is_executed_into_the_book\n"
        "0.50s call     tests/test_a.py::test_x[0.2]@book\n"
        "0.40s call     tests/test_a.py::test_x[a@b]\n"
        "(7 durations < 0.005s hidden.  Use -vv to show these durations.)\n"
        "======================== 300 passed, 2 skipped in 400.00s ========================\n"
        "2.00s call     tests/not_a_duration_line.py::test_z\n"
        "============================= slowest 10 durations =============================\n"
        "30.00s call     solutions/ex03_transfer_learning.ipynb::Cell 4\n"
        "============================== 40 passed in 90.00s ==============================\n"
    )
    assert run_all.slowest_tests(log, n=3) == [
        (180.02, "setup", "tests/book/test_book_build.py::test_every_chapter_is_executed_into_the_book"),
        (61.2, "call", "tests/test_grading.py::test_batch"),
        (30.0, "call", "solutions/ex03_transfer_learning.ipynb::Cell 4"),
    ]
    # pytest-xdist's "@group" suffix (under --dist loadgroup) is not part of the name
    assert [row[2] for row in run_all.slowest_tests(log, n=5)[3:]] == ["tests/test_a.py::test_x[0.2]",
                                                                      "tests/test_a.py::test_x[a@b]"]
    assert run_all.slowest_tests("no durations here\n") == []


def test_make_test_target_is_ten_minutes_and_a_failure_misses_it(run_all):
    fast_but_failing = run_all.TestRunResult(seconds=100.0, returncode=2)
    slow = run_all.TestRunResult(seconds=601.0, returncode=0)
    good = run_all.TestRunResult(seconds=599.0, returncode=0)
    for result, ok in ((fast_but_failing, False), (slow, False), (good, True)):
        (check,) = [c for c in run_all.check_targets([], None, result) if c["what"].startswith("make test")]
        assert check["ok"] is ok and check["target"] == "<= 600 s, passing"


def test_cold_make_test_is_reported_and_must_pass(run_all):
    warm = run_all.TestRunResult(seconds=500.0, returncode=0)
    for cold, ok in ((run_all.TestRunResult(seconds=900.0, returncode=0), True),
                     (run_all.TestRunResult(seconds=300.0, returncode=1), False)):
        checks = {c["what"]: c for c in run_all.check_targets([], None, warm, cold)}
        assert checks["make test, cold (as CI: the tests build the book)"]["ok"] is ok
        assert checks["make test after make book (the README's order)"]["ok"] is True
