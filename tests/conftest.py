"""Shared test set-up: headless plotting, quiet progress bars, the test data and the reference data.

``tests/data/`` holds the small fixtures the tests need everywhere (written by us, in the real
formats). ``../shared/data/`` beside the repository holds published reference files (the real
ESC-50 metadata sample, the fault-filtered GTZAN lists) that exist only beside the course's own CI:
the cross-checks against them run when it is there and are skipped, with the reason, when it is
not. ``COURSE_REQUIRE_SHARED=1`` (set by ``.ci/run``) turns that skip into a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("TQDM_DISABLE", "1")

REPO_ROOT = Path(__file__).resolve().parents[1]
TEST_DATA = Path(__file__).resolve().parent / "data"
SHARED_DIR = REPO_ROOT.parent / "shared"
REQUIRE_SHARED = os.environ.get("COURSE_REQUIRE_SHARED", "") not in ("", "0")


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


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
