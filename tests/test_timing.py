"""course_lib.timing: best-of-n wall-clock timing."""

from __future__ import annotations

import time

import pytest

from course_lib.timing import best_time


def test_best_time_is_the_shortest_run():
    delays = iter([0.03, 0.0, 0.03])
    seconds = best_time(lambda: time.sleep(next(delays)), repeat=3)
    assert 0.0 <= seconds < 0.02


def test_best_time_validates():
    with pytest.raises(TypeError, match="lambda"):
        best_time(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="repeat"):
        best_time(lambda: None, repeat=0)
