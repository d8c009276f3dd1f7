"""The score tables: ``scores.csv``, ``scores.json`` and its SHA-256, written atomically, and the summary.

Part of :mod:`course_lib.grading` (the last step of ``python -m course_lib.grading``; ``--verify``
calls :func:`verify_tables`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
from pathlib import Path

from .base import SubmissionResult
from .protect import sha256_file

__all__ = ["write_tables", "verify_tables", "summary_text"]


def _write_atomically(path: Path, data: bytes) -> None:
    """Write a whole file or nothing: a temporary file beside it, flushed to disk, then renamed over it."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_tables(results: list[SubmissionResult], out_dir: Path) -> tuple[Path, Path]:
    """Write ``scores.csv`` (student × check rows), ``scores.json`` and ``scores.json.sha256``; returns the first two.

    Each file is written atomically. ``scores.json`` holds the SHA-256 of ``scores.csv``, and
    ``scores.json.sha256`` (``sha256sum`` format) the SHA-256 of ``scores.json``, which
    :func:`summary_text` prints: :func:`verify_tables` then tells whether either table changed.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path, json_path = out_dir / "scores.csv", out_dir / "scores.json"
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["student", "exercise", "status", "check", "points", "max_points", "passed", "message"])
    for r in results:
        for c in r.checks:
            writer.writerow([r.student, r.exercise, r.status, c.name, c.points, c.max_points, c.passed, c.message])
        writer.writerow([r.student, r.exercise, r.status, "TOTAL", r.score, r.max_score, r.score == r.max_score, r.detail])
    csv_bytes = buffer.getvalue().encode("utf-8")
    _write_atomically(csv_path, csv_bytes)
    payload = {
        "sandbox": bool(results) and all(r.sandbox for r in results),
        "scores_csv_sha256": hashlib.sha256(csv_bytes).hexdigest(),
        "submissions": [r.to_dict() for r in results],
        "summary": {
            "n_submissions": len(results),
            "n_full_marks": sum(r.score == r.max_score for r in results),
            "n_timeouts": sum(r.status == "timeout" for r in results),
            "n_crashed": sum(r.status in ("crashed", "invalid") for r in results),
            "n_tampering": sum(bool(r.tampering) for r in results),
            "n_leftover_processes_killed": sum(r.leftover_processes for r in results),
            "mean_fraction": (sum(r.score / r.max_score for r in results if r.max_score) / len(results)) if results else 0.0,
        },
    }
    json_bytes = json.dumps(payload, indent=2).encode("utf-8")
    _write_atomically(json_path, json_bytes)
    _write_atomically(out_dir / "scores.json.sha256", f"{hashlib.sha256(json_bytes).hexdigest()}  scores.json\n".encode())
    return csv_path, json_path


def verify_tables(out_dir: Path, expected: str | None = None) -> tuple[bool, str]:
    """Recompute the tables' hashes: ``(ok, message)``.

    ``scores.json`` must match ``scores.json.sha256`` (and ``expected``, the hash the summary printed,
    when given: a file beside the tables could have been rewritten with them), and ``scores.csv``
    the hash recorded inside ``scores.json``.
    """
    out_dir = Path(out_dir)
    json_path, csv_path, sum_path = out_dir / "scores.json", out_dir / "scores.csv", out_dir / "scores.json.sha256"
    for path in (json_path, csv_path, sum_path):
        if not path.is_file():
            return False, f"{path}: missing. Fix: pass the --out folder the grader wrote."
    actual = sha256_file(json_path)
    stored = sum_path.read_text(encoding="utf-8").split()[0] if sum_path.read_text(encoding="utf-8").split() else ""
    if actual != stored:
        return False, f"{json_path} was changed after grading: SHA-256 {actual}, recorded {stored}"
    if expected is not None and expected.strip().lower() != actual:
        return False, f"{json_path} has SHA-256 {actual}, not the {expected.strip()} printed when it was graded"
    try:
        recorded_csv = json.loads(json_path.read_text(encoding="utf-8"))["scores_csv_sha256"]
    except (ValueError, KeyError, TypeError):
        return False, f"{json_path} holds no scores_csv_sha256 (written by an older grader?)"
    if sha256_file(csv_path) != recorded_csv:
        return False, f"{csv_path} was changed after grading: its SHA-256 is not the one recorded in scores.json"
    return True, f"{json_path} (SHA-256 {actual}) and {csv_path} are as the grader wrote them"


def summary_text(results: list[SubmissionResult], json_path: Path | None = None) -> str:
    """A short table: one line per submission, then the totals (and the SHA-256 of ``json_path`` when given)."""
    lines = [f"{'student':<28} {'exercise':<24} {'status':<8} {'score':>11}  failed checks"]
    for r in results:
        failed = ", ".join(c.name for c in r.checks if not c.passed) or "-"
        lines.append(f"{r.student[:28]:<28} {r.exercise[:24]:<24} {r.status:<8} {r.score:>5g}/{r.max_score:<5g}  {failed}")
        if r.tampering:
            lines.append(f"{'':<28} !! changed files outside its folder: {'; '.join(r.tampering[:3])}")
        if r.leftover_processes:
            lines.append(f"{'':<28} !! left {r.leftover_processes} process(es) running: killed")
    full = sum(r.score == r.max_score for r in results)
    lines.append(f"{len(results)} submission(s): {full} with full marks, "
                 f"{sum(r.status == 'timeout' for r in results)} timed out, "
                 f"{sum(r.status in ('crashed', 'invalid') for r in results)} crashed or invalid, "
                 f"{sum(bool(r.tampering) for r in results)} changed files outside their folder, "
                 f"{sum(r.leftover_processes for r in results)} process(es) left running were killed.")
    if results:
        lines.append("Sandbox: " + ("bubblewrap for every run." if all(r.sandbox for r in results)
                                    else "NOT used (see the warning at the start)."))
    if json_path is not None:
        lines.append(f"SHA-256 of {json_path}: {sha256_file(Path(json_path))}  (check later: --verify {Path(json_path).parent})")
    return "\n".join(lines)
