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


def pytest_configure(config):
    config.addinivalue_line("markers", "book: builds the whole book (every chapter executed); `-m 'not book'` leaves it out")


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
    result = subprocess.run(book_build_command(book_dir), cwd=REPO_ROOT, capture_output=True, text=True,
                            timeout=timeout_s, env=env)
    result.stdout = ANSI.sub("", result.stdout + result.stderr)
    return result


def warning_lines(log: str) -> list[str]:
    """Sphinx's warnings and errors in a build log (``path: WARNING: ...``), not a kernel's own log lines."""
    return [line for line in log.splitlines() if re.search(r"(^|: )(WARNING|ERROR|CRITICAL):", line)]


def _newest_source_mtime() -> float:
    newest = 0.0
    for root in (BOOK_DIR, REPO_ROOT / "course_lib"):
        for path in root.rglob("*"):
            if "_build" in path.parts or "__pycache__" in path.parts or not path.is_file():
                continue
            newest = max(newest, path.stat().st_mtime)
    return newest


@dataclass(frozen=True)
class BuiltBook:
    html: Path
    log: str | None  # the build's log; None when the last clean build was reused


@pytest.fixture(scope="session")
def built_book() -> BuiltBook:
    """The whole book built as `make book` builds it, executing every chapter notebook: the one
    execution of the chapters in `make test` (nbval runs only the exercises). Reuses the last clean
    build when nothing in ``book/`` or ``course_lib/`` changed since it. Fails, with the warnings,
    when the build fails, e.g. when a chapter raises."""
    html = BOOK_DIR / "_build" / "html"
    stamp = BOOK_DIR / "_build" / ".browser-test-clean-build"
    if stamp.is_file() and (html / "index.html").is_file() and stamp.stat().st_mtime > _newest_source_mtime():
        return BuiltBook(html, None)
    stamp.unlink(missing_ok=True)
    started = time.perf_counter()
    result = run_book_build(BOOK_DIR)
    if result.returncode != 0:
        pytest.fail(
            f"the book build failed ({' '.join(result.args)}), exit {result.returncode}.\n"
            + "Warnings and errors:\n" + "\n".join(warning_lines(result.stdout)[:40])
            + "\n\nEnd of the log:\n" + result.stdout[-4000:]
        )
    stamp.touch()
    print(f"built the book in {time.perf_counter() - started:.0f} s")
    return BuiltBook(html, result.stdout)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
