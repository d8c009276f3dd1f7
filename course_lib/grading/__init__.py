"""The instructor's grader for the course's exercises: isolated runs, hidden checks, score tables.

Introduced with the exercises (``book/exercises/``). Use it from a shell::

    python -m course_lib.grading submissions/ --out grades/          # a folder of notebooks
    python -m course_lib.grading alice/ex02_specaugment.ipynb        # one notebook

See :mod:`course_lib.grading.core` for how a submission is restored, run, collected and checked,
:mod:`course_lib.grading.sandbox` for the sandbox and limits each run gets, and
:mod:`course_lib.grading.assign` for how ``make exercises`` builds the learner notebooks.
"""

from .core import (
    Check,
    CheckResult,
    Exercise,
    GradingError,
    SubmissionResult,
    assemble_notebook,
    find_submissions,
    grade_submission,
    grade_submissions,
    summary_text,
    verify_tables,
    write_tables,
)
from .exercises import EXERCISE_NAMES, detect_exercise, get_exercise
from .sandbox import Isolation, Limits

__all__ = [
    "Check",
    "CheckResult",
    "Exercise",
    "GradingError",
    "SubmissionResult",
    "assemble_notebook",
    "find_submissions",
    "grade_submission",
    "grade_submissions",
    "summary_text",
    "verify_tables",
    "write_tables",
    "Isolation",
    "Limits",
    "EXERCISE_NAMES",
    "detect_exercise",
    "get_exercise",
]
