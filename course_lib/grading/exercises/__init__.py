"""The exercises the grader knows, each a module with ``collect`` (child side) and ``CHECKS`` (grader side).

Introduced with the exercises (``book/exercises/``); the learner notebooks are ``exercises/<name>.ipynb``.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

from ..base import REPO_ROOT, Exercise, GradingError

#: Exercise name → module under ``course_lib.grading.exercises``.
EXERCISE_NAMES: tuple[str, ...] = (
    "ex01_gtzan_genres",
    "ex02_specaugment",
    "ex03_transfer_learning",
    "ex04_attention",
)


def get_exercise(name: str, *, exercises_dir: Path | None = None) -> Exercise:
    """The :class:`~course_lib.grading.base.Exercise` called ``name`` (``ex02`` or ``ex02_specaugment``)."""
    matches = [n for n in EXERCISE_NAMES if n == name or n.split("_")[0] == name]
    if len(matches) != 1:
        raise GradingError(f"unknown exercise {name!r}; choose one of {', '.join(EXERCISE_NAMES)}.")
    full = matches[0]
    module_name = f"{__name__}.{full}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        raise GradingError(f"exercise {full!r} has no checks yet ({err}).") from None
    reference = Path(exercises_dir or REPO_ROOT / "exercises") / f"{full}.ipynb"
    if not reference.is_file():
        raise GradingError(f"{reference}: the learner notebook of {full} is missing. Fix: run `make exercises`.")
    return Exercise(full, reference, f"{module_name}:collect", tuple(module.CHECKS))


def detect_exercise(path: Path) -> str:
    """Which exercise a submission answers: otter's ``assignment_name`` in its metadata, else its file name."""
    path = Path(path)
    try:
        meta = json.loads(path.read_text(encoding="utf-8")).get("metadata", {})
        name = meta.get("otter", {}).get("assignment_name")
        if isinstance(name, str) and name in EXERCISE_NAMES:
            return name
    except (OSError, ValueError, AttributeError):
        pass
    for full in EXERCISE_NAMES:
        if full in path.name or path.name.startswith(full.split("_")[0]):
            return full
    raise GradingError(
        f"{path}: cannot tell which exercise this notebook answers (no otter assignment_name in its metadata, "
        f"and its name contains none of {', '.join(EXERCISE_NAMES)}). Fix: pass --exercise NAME."
    )
