"""``python -m course_lib.grading``: grade exercise notebooks offline and write score tables.

Introduced with the exercises (``book/exercises/``); documented in the README.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .core import GradingError, grade_submissions, summary_text, write_tables
from .exercises import EXERCISE_NAMES, detect_exercise, get_exercise


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.grading",
        description=(
            "Grade exercise notebooks offline. Each submission runs in its own process and fresh temporary "
            "folder with a time limit; the hidden checks run in the grader's process on the collected answers. "
            "Writes OUT/scores.csv (one row per student and check) and OUT/scores.json, and prints a summary."
        ),
    )
    parser.add_argument("paths", nargs="+", type=Path, help="submission notebooks (.ipynb) or folders of them")
    parser.add_argument("--out", type=Path, default=Path("grades"), help="folder for scores.csv / scores.json (default: grades)")
    parser.add_argument(
        "--exercise", choices=list(EXERCISE_NAMES) + [n.split("_")[0] for n in EXERCISE_NAMES],
        help="grade every notebook as this exercise (default: read from each notebook's metadata or file name)",
    )
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds per submission before it is killed (default 180)")
    parser.add_argument("--exercises-dir", type=Path, default=None, help="folder of the reference learner notebooks (default: exercises/)")
    parser.add_argument("--protect", type=Path, action="append", default=[],
                        help="extra file or folder to snapshot and restore after every submission (repeatable)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.timeout <= 0:
        print("error: --timeout must be a positive number of seconds", file=sys.stderr)
        return 2
    cache: dict[str, object] = {}

    def exercise_for(path: Path):
        name = args.exercise or detect_exercise(path)
        if name not in cache:
            cache[name] = get_exercise(name, exercises_dir=args.exercises_dir)
        return cache[name]

    def progress(result) -> None:
        print(f"  {result.student}: {result.status}, {result.score:g}/{result.max_score:g} ({result.seconds:.1f} s)", flush=True)

    try:
        results = grade_submissions(args.paths, exercise_for, timeout_s=args.timeout, protect=args.protect, progress=progress)
    except GradingError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    csv_path, json_path = write_tables(results, args.out)
    print(summary_text(results))
    print(f"Wrote {csv_path} and {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
