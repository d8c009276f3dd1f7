"""Compatibility module: the grader's code lives in one module per step (see :mod:`course_lib.grading`).

``course_lib.grading.core`` re-exports the names it used to define, so existing imports keep working;
new code imports from :mod:`course_lib.grading.base`, :mod:`~course_lib.grading.assemble`,
:mod:`~course_lib.grading.grade`, :mod:`~course_lib.grading.protect`,
:mod:`~course_lib.grading.report` and :mod:`~course_lib.grading.sandbox`.
"""

from __future__ import annotations

# Re-exports: the code lives in the modules named in the docstring.
# ruff: noqa: F401
from .assemble import _read_notebook, assemble_notebook
from .base import (
    ANSWER_TAG,
    PACKAGE_DIR,
    REPO_ROOT,
    SKIP_TAG,
    Check,
    CheckResult,
    Exercise,
    GradingError,
    SubmissionResult,
)
from .grade import (
    _RUNNER_SOURCE,
    _default_protected,
    _load_collected,
    _read_plain_file,
    _run_checks,
    _run_isolated,
    find_submissions,
    grade_submission,
    grade_submissions,
    student_name,
)
from .protect import EnvironmentGuard, _Snapshot, sha256_file, startup_files
from .report import _write_atomically, summary_text, verify_tables, write_tables
from .sandbox import Isolation, Limits

__all__ = [
    "Check",
    "CheckResult",
    "SubmissionResult",
    "Exercise",
    "GradingError",
    "assemble_notebook",
    "grade_submission",
    "grade_submissions",
    "find_submissions",
    "write_tables",
    "summary_text",
    "verify_tables",
]
