"""Timing a piece of work on a busy computer: the best of a few runs.

Introduced in chapter 3 (``book/chapters/ch03_data_pipeline.ipynb``), which measures what each step
of the data pipeline costs; ``benchmarks/pipeline.py`` uses it too.

Wall-clock time on a shared machine only ever gets *longer* than the work needs (other programs,
caches, frequency scaling), so the minimum of a few runs is the most repeatable estimate of the
work itself (the reasoning of Python's :mod:`timeit`). For the latency of a model on single
clips, see :func:`course_lib.evaluation.inference_time_per_clip`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ._checks import check_int

__all__ = ["best_time"]


def best_time(fn: Callable[[], object], repeat: int = 1) -> float:
    """Wall-clock seconds of ``fn()``, the best (shortest) of ``repeat`` runs.

    Args:
        fn: the work, a function of no arguments (wrap a call in ``lambda: ...``).
        repeat: how many times to run it (>= 1).

    Returns:
        Seconds, as a float.

    >>> best_time(lambda: sum(range(1000)), repeat=3) >= 0
    True
    """
    if not callable(fn):
        raise TypeError(f"best_time needs a function of no arguments, got {type(fn).__name__}; wrap the call in a lambda.")
    check_int(repeat, "repeat", minimum=1)
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best
