"""``python -m course_lib.grading``: grade exercise notebooks offline and write score tables.

Introduced with the exercises (``book/exercises/``); documented in the README.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .base import GradingError
from .exercises import EXERCISE_NAMES, detect_exercise, get_exercise
from .grade import grade_submissions
from .report import summary_text, verify_tables, write_tables
from .sandbox import Isolation, Limits, SandboxUnavailable


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.grading",
        description=(
            "Grade exercise notebooks offline. Each submission runs in its own process and fresh temporary "
            "folder, in a bubblewrap sandbox where it is installed (read-only system, no network, own PID "
            "namespace), with time, memory, process and output limits; the hidden checks run in the grader's "
            "process on the collected answers. Writes OUT/scores.csv (one row per student and check), "
            "OUT/scores.json and OUT/scores.json.sha256, and prints a summary with that hash."
        ),
    )
    parser.add_argument("paths", nargs="*", type=Path, help="submission notebooks (.ipynb) or folders of them")
    parser.add_argument("--out", type=Path, default=Path("grades"), help="folder for scores.csv / scores.json (default: grades)")
    parser.add_argument(
        "--exercise", choices=list(EXERCISE_NAMES) + [n.split("_")[0] for n in EXERCISE_NAMES],
        help="grade every notebook as this exercise (default: read from each notebook's metadata or file name)",
    )
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds per submission before it is killed (default 180)")
    parser.add_argument("--exercises-dir", type=Path, default=None, help="folder of the reference learner notebooks (default: exercises/)")
    parser.add_argument("--protect", type=Path, action="append", default=[],
                        help="without the sandbox: extra file or folder to snapshot and restore after every submission "
                             "(repeatable; in the sandbox everything outside a run's folder is read-only)")
    parser.add_argument("--memory-mb", type=int, default=Limits.memory_mb,
                        help=f"memory per submission, all its processes together (default {Limits.memory_mb})")
    parser.add_argument("--max-processes", type=int, default=Limits.max_processes,
                        help=f"processes and threads per submission at once (default {Limits.max_processes})")
    parser.add_argument("--output-mb", type=int, default=Limits.output_mb,
                        help=f"printed output, and files written, per submission (default {Limits.output_mb})")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="do not use bubblewrap even where it works (also: COURSE_GRADING_SANDBOX=0); see the README")
    parser.add_argument("--run-as", default="nobody",
                        help="when the grader runs as root, the user submissions run as (default nobody; 'root' is unsafe)")
    parser.add_argument("--verify", type=Path, metavar="OUT",
                        help="check that OUT/scores.json and OUT/scores.csv are as the grader wrote them, then exit")
    parser.add_argument("--expect-sha256", metavar="HASH",
                        help="with --verify: the SHA-256 of scores.json that the grading summary printed")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.verify is not None:
        ok, message = verify_tables(args.verify, args.expect_sha256)
        print(("OK: " if ok else "FAILED: ") + message, file=sys.stdout if ok else sys.stderr)
        return 0 if ok else 1
    if not args.paths:
        print("error: pass submission notebooks or folders (or --verify OUT)", file=sys.stderr)
        return 2
    if args.timeout <= 0:
        print("error: --timeout must be a positive number of seconds", file=sys.stderr)
        return 2
    try:
        limits = Limits(timeout_s=args.timeout, memory_mb=args.memory_mb, max_processes=args.max_processes,
                        output_mb=args.output_mb)
        isolation = Isolation.detect(sandbox=False if args.no_sandbox else None, run_as=args.run_as)
    except (ValueError, SandboxUnavailable) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(isolation.warning() if not isolation.sandbox else f"Grading in a {isolation.description()}.",
          file=sys.stderr if not isolation.sandbox else sys.stdout, flush=True)
    cache: dict[str, object] = {}

    def exercise_for(path: Path):
        name = args.exercise or detect_exercise(path)
        if name not in cache:
            cache[name] = get_exercise(name, exercises_dir=args.exercises_dir)
        return cache[name]

    def progress(result) -> None:
        print(f"  {result.student}: {result.status}, {result.score:g}/{result.max_score:g} ({result.seconds:.1f} s)", flush=True)

    try:
        results = grade_submissions(args.paths, exercise_for, limits=limits, isolation=isolation, protect=args.protect,
                                    progress=progress)
    except GradingError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    csv_path, json_path = write_tables(results, args.out)
    print(summary_text(results, json_path))
    print(f"Wrote {csv_path}, {json_path} and {json_path}.sha256")
    return 0


if __name__ == "__main__":
    sys.exit(main())
