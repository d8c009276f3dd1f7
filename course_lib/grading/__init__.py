"""The instructor's grader for the course's exercises: isolated runs, hidden checks, score tables.

Introduced with the exercises (``book/exercises/``). Use it from a shell::

    python -m course_lib.grading submissions/ --out grades/          # a folder of notebooks
    python -m course_lib.grading alice/ex02_specaugment.ipynb        # one notebook

``make exercises`` builds the learner notebooks with :mod:`course_lib.grading.assign`.

How one submission is graded
----------------------------
1. **Restore.** The graded notebook is rebuilt from the reference learner notebook
   (``exercises/<exercise>.ipynb``, generated from ``solutions/`` by ``make exercises``): every cell
   comes from the reference except the *answer cells* (tagged ``otter_answer_cell``), which come
   from the submission, and the code cells the learner added. Edited or deleted prose, set-up and
   check cells are therefore restored; otter's ``grader.check`` cells are dropped (the hidden
   checks replace them); cells tagged ``grader-skip`` (long experiments) are not run.
2. **Run, isolated.** The notebook runs in a new Python process inside a fresh temporary folder
   that is its working folder and ``HOME``, in a bubblewrap sandbox where the system allows it (see
   :mod:`course_lib.grading.sandbox`: read-only file system but for that folder, no network, its own
   PID namespace), with limits on time, memory, processes and output. Whatever it leaves running is
   killed when it ends. A cell that raises is recorded and the run goes on.
3. **Collect.** After the last cell, the exercise's collector calls the learner's functions on
   probe inputs and saves the answers as plain data (tensors, numbers, strings).
4. **Check, out of reach.** This process — where no learner code ever runs — loads the data with
   ``torch.load(weights_only=True)`` (an object with a rigged ``__eq__`` cannot even be loaded) and
   runs the hidden checks, which test types and shapes, not only values. The checks and the runner
   were loaded into memory when the grader started, so files a submission writes or deletes cannot
   change them. In the sandbox the file system outside the run's folder is read-only. Without it,
   the grader's own files and the reference notebooks (plus any ``--protect`` path) are
   snapshotted, and whatever a submission changed there is restored and reported, and so is the
   Python environment (:class:`~course_lib.grading.sandbox.EnvironmentGuard`).

Everything ends up in ``scores.csv`` (one row per student and check) and ``scores.json``
(per student: status, score, checks, cell errors, tampering, processes left behind; whether the
sandbox was used), written atomically, plus ``scores.json.sha256`` and a printed summary with that
hash; ``verify_tables`` (``--verify``) recomputes it.

Where the code lives:

* :mod:`course_lib.grading.base`: :class:`Exercise`, :class:`Check`, the result classes, the tags;
* :mod:`course_lib.grading.assemble`: step 1, :func:`assemble_notebook`;
* :mod:`course_lib.grading.sandbox` (with :mod:`~course_lib.grading.processes`): step 2's isolation;
* :mod:`course_lib.grading.grade`: steps 2-4, :func:`grade_submission`, :func:`grade_submissions`;
* :mod:`course_lib.grading.protect`: step 4 without the sandbox (snapshot, environment guard);
* :mod:`course_lib.grading.report`: :func:`write_tables`, :func:`verify_tables`, :func:`summary_text`;
* :mod:`course_lib.grading.exercises`: one module per exercise (its collector and hidden checks).
"""

from .assemble import assemble_notebook
from .base import Check, CheckResult, Exercise, GradingError, SubmissionResult
from .exercises import EXERCISE_NAMES, detect_exercise, get_exercise
from .grade import find_submissions, grade_submission, grade_submissions
from .report import summary_text, verify_tables, write_tables
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
