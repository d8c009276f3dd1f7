"""Shared test set-up: headless plotting, quiet progress bars, the test data and the reference data.

``tests/data/`` holds the small fixtures the tests need everywhere (written by us, in the real
formats). ``../shared/data/`` beside the repository holds published reference files (the real
ESC-50 metadata sample, the fault-filtered GTZAN lists) that exist only beside the course's own CI:
the cross-checks against them run when it is there and are skipped, with the reason, when it is
not. ``COURSE_REQUIRE_SHARED=1`` (set by ``.ci/run``) turns that skip into a failure.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("TQDM_DISABLE", "1")

REPO_ROOT = Path(__file__).resolve().parents[1]
TEST_DATA = Path(__file__).resolve().parent / "data"
SHARED_DIR = REPO_ROOT.parent / "shared"
REQUIRE_SHARED = os.environ.get("COURSE_REQUIRE_SHARED", "") not in ("", "0")


#: The thread settings the test run started with, restored for the book build (see below).
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")
_STARTING_THREADS = {name: os.environ.get(name) for name in _THREAD_VARIABLES}


def pytest_configure(config):
    config.addinivalue_line("markers", "book: builds the whole book (every chapter executed); `-m 'not book'` leaves it out")
    workers = getattr(config, "workerinput", {}).get("workercount", 1)
    if workers > 1:
        # Each of the worker processes (`make test TEST_PROCESSES=2`) shares the cores: one torch
        # thread each (and in the processes they start: grading runs, the CLI), so that two workers
        # do not run twice as many threads as there are cores. Set before any test imports torch.
        for name in _THREAD_VARIABLES:
            os.environ[name] = "1"
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(1)


# --- Two processes (`make test`: pytest -n 2, pytest-xdist) -----------------------------------------
# The tests are handed to the two worker processes in units. A test file is one unit, so that a
# module-scoped fixture (a grading batch, a trained model) is computed once, on one worker. The
# files of the built book's tests are one unit, "book": the book is built once, on one worker, while
# the other worker runs the other tests. The units go out in the order below, longest first (the
# book build, then the grading batches), then in file order; the order within a unit is kept.
BOOK_GROUP = "book"
BOOK_FILES = ("tests/book/test_book_build.py", "tests/book/test_book_browser.py")
LONGEST_FIRST = (*BOOK_FILES, "tests/test_grading.py", "tests/test_grading_sandbox.py")
# A file whose module fixtures each serve a single test may be split: each of its tests is a unit.
ONE_UNIT_PER_TEST = ("tests/test_grading_sandbox.py",)  # its two grading batches, one per test


def xdist_unit_of(nodeid: str) -> str:
    """The unit of work of the test ``nodeid`` (relative to the repository): ``"book"``, its file, or itself."""
    path = nodeid.split("::", 1)[0]
    if path in BOOK_FILES:
        return BOOK_GROUP
    return nodeid if path in ONE_UNIT_PER_TEST else path


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """pytest-xdist's scheduler, with :func:`xdist_unit_of` as its units, whatever ``--dist`` says.

    (pytest-xdist's own ``--dist loadgroup`` marks its groups by renaming each test's node id,
    which pytest 9.2 no longer lets it do: its groups were ignored.)"""
    from xdist.scheduler import LoadScopeScheduling

    class CourseUnits(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return xdist_unit_of(nodeid)

    config.option.loadscopereorder = False  # the order of LONGEST_FIRST, not the number of tests
    return CourseUnits(config, log)


def _repo_path(item: pytest.Item) -> str:
    path = Path(item.path).resolve()
    return path.relative_to(REPO_ROOT).as_posix() if path.is_relative_to(REPO_ROOT) else path.as_posix()


def pytest_collection_modifyitems(config, items):
    """Longest units first (see LONGEST_FIRST); a test of the built book outside BOOK_FILES is an error."""
    for item in items:
        uses_book = item.get_closest_marker("book") is not None or "built_book" in getattr(item, "fixturenames", ())
        if uses_book and _repo_path(item) not in BOOK_FILES:
            raise pytest.UsageError(f"{item.nodeid} uses the built book: add its file to BOOK_FILES in tests/conftest.py "
                                    "(the book is built once, by the worker process that runs those files)")
    rank = {path: k for k, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(_repo_path(item), len(rank)))  # stable: the rest keep their order


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def test_data() -> Path:
    """``tests/data/``: small fixtures in the real formats, written by us (see its README)."""
    return TEST_DATA


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` beside the repository: published reference files for the cross-checks.

    Skips the test when it is absent (a user's or contributor's clone); with
    ``COURSE_REQUIRE_SHARED=1`` (CI) the test fails instead.
    """
    data = SHARED_DIR / "data"
    if not data.is_dir():
        reason = f"{data} is absent: a cross-check against the published reference files, run by the course's CI only"
        if REQUIRE_SHARED:
            pytest.fail(f"COURSE_REQUIRE_SHARED is set but the cross-check cannot run: {reason}")
        pytest.skip(reason)
    return SHARED_DIR


# --- The book build: every chapter notebook is executed here, once per test run ---------------------

BOOK_DIR = REPO_ROOT / "book"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def book_build_command(book_dir: Path) -> list[str]:
    """`make book`'s command, rebuilding every page (`--all`: an incremental build would not re-run
    a notebook whose code in course_lib changed). `-W` turns every warning into an error, and an
    exception in a notebook cell is a warning (myst-nb, with ``allow_errors: false``)."""
    return [str(Path(sys.executable).parent / "jupyter-book"), "build", str(book_dir), "--all", "--keep-going", "-W", "-n"]


def run_book_build(book_dir: Path, timeout_s: float = 1800) -> subprocess.CompletedProcess:
    """Run :func:`book_build_command`; the log (stdout + stderr, colours stripped) is in ``.stdout``."""
    # Without MPLBACKEND the kernel uses its inline backend; `make` exports Agg, which would leave
    # every chapter without figures.
    env = {key: value for key, value in os.environ.items() if key != "MPLBACKEND"}
    # The chapters run with the threads the user's `make book` gives them, not a test worker's one.
    for name, value in _STARTING_THREADS.items():
        env.pop(name, None)
        if value is not None:
            env[name] = value
    result = subprocess.run(book_build_command(book_dir), cwd=REPO_ROOT, capture_output=True, text=True,
                            timeout=timeout_s, env=env)
    result.stdout = ANSI.sub("", result.stdout + result.stderr)
    return result


def warning_lines(log: str) -> list[str]:
    """Sphinx's warnings and errors in a build log (``path: WARNING: ...``), not a kernel's own log lines."""
    return [line for line in log.splitlines() if re.search(r"(^|: )(WARNING|ERROR|CRITICAL):", line)]


#: Written after a clean build of the whole book, by `make book` or by :func:`built_book`, with the
#: time the build STARTED (a file changed during the build makes it stale).
CLEAN_BUILD_STAMP = BOOK_DIR / "_build" / ".clean-build"
ENV_PREFIX = Path(sys.prefix)  # where `make` leaves its install stamp, .installed-<hash>


def book_inputs() -> list[Path]:
    """Everything a build of the book depends on beyond Sphinx's own view: the book's sources,
    ``course_lib``, the installed environment (its install stamp) and the recordings (npm's lock)."""
    inputs = [REPO_ROOT / "pyproject.toml", REPO_ROOT / "node_modules" / ".package-lock.json"]
    inputs += ENV_PREFIX.glob(".installed-*")
    for root in (BOOK_DIR, REPO_ROOT / "course_lib"):
        inputs += (path for path in root.rglob("*")
                   if "_build" not in path.parts and "__pycache__" not in path.parts and path.is_file())
    return [path for path in inputs if path.is_file()]


def _newest_source_mtime() -> float:
    return max((path.stat().st_mtime for path in book_inputs()), default=0.0)


def clean_build_is_current() -> bool:
    """True when the last clean build of the whole book started after every input last changed."""
    html = BOOK_DIR / "_build" / "html" / "index.html"
    return (CLEAN_BUILD_STAMP.is_file() and html.is_file()
            and CLEAN_BUILD_STAMP.stat().st_mtime > _newest_source_mtime())


@dataclass(frozen=True)
class BuiltBook:
    html: Path
    log: str | None  # the build's log; None when the last clean build was reused


@pytest.fixture(scope="session")
def built_book() -> BuiltBook:
    """The whole book built as `make book` builds it, executing every chapter notebook: the one
    execution of the chapters in `make test` (nbval runs only the exercises). Reuses the last clean
    build of the whole book, by `make book` (the README's first command) or by this fixture, when
    nothing it depends on (:func:`book_inputs`) changed since that build started: a build that
    failed (a chapter that raises fails `make book`, ``-W``) leaves no stamp, so the book is built
    again here, and fails here. Fails, with the warnings, when the build fails."""
    html = BOOK_DIR / "_build" / "html"
    if clean_build_is_current():
        return BuiltBook(html, None)
    CLEAN_BUILD_STAMP.unlink(missing_ok=True)
    started_at, started = time.time(), time.perf_counter()
    result = run_book_build(BOOK_DIR)
    if result.returncode != 0:
        pytest.fail(
            f"the book build failed ({' '.join(result.args)}), exit {result.returncode}.\n"
            + "Warnings and errors:\n" + "\n".join(warning_lines(result.stdout)[:40])
            + "\n\nEnd of the log:\n" + result.stdout[-4000:]
        )
    CLEAN_BUILD_STAMP.touch()
    os.utime(CLEAN_BUILD_STAMP, (started_at, started_at))
    print(f"built the book in {time.perf_counter() - started:.0f} s")
    return BuiltBook(html, result.stdout)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
