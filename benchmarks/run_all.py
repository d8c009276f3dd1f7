"""Run every benchmark, time the book, and write ``benchmarks/results.md``.

``make bench`` runs this. It

1. runs each ``benchmarks/*.py`` script (except this one) in its own process and keeps the
   last line it prints, one JSON object by the project's convention, plus its wall time;
2. builds the whole book the way ``make book`` does (``jupyter-book build book -W -n
   --keep-going``, every notebook executed), into a temporary folder so that it starts cold
   and leaves ``book/_build`` alone, and times it;
3. reads each notebook's execution time from that build's log (myst-nb prints
   ``Executed notebook in N seconds``), so no chapter is run twice;
4. runs ``make test`` twice and times each, keeping its ten slowest tests (``pytest --durations=10``;
   with two worker processes a test's time is its own, on one process, so they can add up to more
   than the wall time): first cold, as CI runs it in a fresh clone (no clean book build to reuse:
   the tests build the book), then as a user runs it after the README's ``make book`` (the tests
   reuse that clean build, ``book/_build/.clean-build``; here the one the first run left) — the
   run the 10-minute target is for;
5. compares the figures with the course's targets and writes the report.

It prints the report's figures and, as its last line, one JSON object. It exits 1 when a
benchmark fails or a target is missed (the report is written first, saying which).

    python benchmarks/run_all.py [--skip-book] [--skip-test] [--only NAME ...] [--output FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = REPO_ROOT / "benchmarks"
BOOK_DIR = REPO_ROOT / "book"
SCRIPT_TIMEOUT_S = 1800

# Targets from the course's issues: (script stem, JSON key) -> (comparison, threshold, meaning).
RATIO_TARGETS = {
    ("pipeline", "cached_vs_seed"): (">=", 20.0, "later epochs vs the seed's per-item pipeline"),
    ("pipeline", "first_epoch_vs_seed"): (">=", 2.0, "first epoch (features in memory, the default) vs the seed's per-item pipeline"),
}
BOOK_BUILD_TARGET_S = 300.0  # the whole `make book` after the install, on 2 cores
CHAPTER_TARGET_S = 60.0  # each chapter notebook's execution
MAKE_TEST_TARGET_S = 600.0  # the whole `make test` after the install, on 2 cores
MAKE_TEST_TIMEOUT_S = 3600
# The mark of the last clean build of the whole book (`make book`, or tests/conftest.py's `built_book`).
CLEAN_BUILD_STAMP = BOOK_DIR / "_build" / ".clean-build"

EXECUTED = re.compile(r"^(?P<path>\S+\.(?:ipynb|md)): Executed notebook in (?P<s>[0-9.]+) seconds", re.M)
ANSI = re.compile(r"\x1b\[[0-9;]*m")
FAILED = re.compile(r"^(?P<path>\S+\.(?:ipynb|md)): (?:WARNING: )?Executing notebook failed", re.M)
# pytest --durations: a "slowest N durations" banner, then lines "12.34s call     tests/x.py::test_y".
DURATIONS_BANNER = re.compile(r"^=+ slowest (?:\d+ )?durations =+$", re.M)
DURATION = re.compile(r"^(?P<s>[0-9]+(?:\.[0-9]+)?)s (?P<when>call|setup|teardown)\s+(?P<test>\S.*?)\s*$", re.M)


@dataclass
class ScriptResult:
    name: str
    seconds: float
    returncode: int
    figures: dict | None
    tail: str
    problem: str | None = None
    load: tuple[float, float] = (float("nan"), float("nan"))  # 1-minute load average, before/after


@dataclass
class BookResult:
    seconds: float
    returncode: int
    notebooks: dict[str, float] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    tail: str = ""
    load: tuple[float, float] = (float("nan"), float("nan"))


@dataclass
class TestRunResult:
    seconds: float
    returncode: int
    slowest: list[tuple[float, str, str]] = field(default_factory=list)  # (seconds, phase, test id)
    tail: str = ""
    load: tuple[float, float] = (float("nan"), float("nan"))


def last_json_line(stdout: str) -> dict | None:
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line:
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                return None
            return value if isinstance(value, dict) else None
    return None


def run_script(path: Path) -> ScriptResult:
    print(f"--- {path.name}", flush=True)
    load_before = _load()
    started = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, str(path)], cwd=REPO_ROOT, capture_output=True,
                              text=True, timeout=SCRIPT_TIMEOUT_S)
        stdout, stderr, code = proc.stdout, proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as error:
        stdout = error.stdout.decode() if isinstance(error.stdout, bytes) else (error.stdout or "")
        stderr, code = f"timed out after {SCRIPT_TIMEOUT_S} s", -1
    seconds = time.perf_counter() - started
    print(stdout.rstrip(), flush=True)
    figures = last_json_line(stdout)
    problem = None
    if code != 0:
        problem = f"exit code {code}: {stderr.strip().splitlines()[-1] if stderr.strip() else ''}"
    elif figures is None:
        problem = "its last line is not one JSON object"
    tail = "\n".join(stdout.strip().splitlines()[-40:])
    if problem and stderr.strip():
        tail += "\n--- stderr ---\n" + "\n".join(stderr.strip().splitlines()[-20:])
    return ScriptResult(path.stem, seconds, code, figures, tail, problem, (load_before, _load()))


def build_book() -> BookResult:
    """The `make book` command, into a fresh temporary folder, timed."""
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    with tempfile.TemporaryDirectory(prefix="bench-book-") as out:
        cmd = [str(jupyter_book), "build", str(BOOK_DIR), "--path-output", out,
               "--keep-going", "-W", "-n"]
        print("--- book:", " ".join(cmd), flush=True)
        # As `make book`: no MPLBACKEND, so the kernel draws figures with its inline backend.
        env = {key: value for key, value in os.environ.items() if key != "MPLBACKEND"}
        load_before = _load()
        started = time.perf_counter()
        proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, env=env)
        seconds = time.perf_counter() - started
        load = (load_before, _load())
    log = ANSI.sub("", proc.stdout + proc.stderr)
    problems = [line for line in log.splitlines() if re.search(r"\b(WARNING|ERROR)\b", line)]
    tail = "\n".join(problems[:30] + ["..."] + log.strip().splitlines()[-15:])
    result = BookResult(seconds, proc.returncode, tail=tail, load=load)
    for match in EXECUTED.finditer(log):
        result.notebooks[_relative(match["path"])] = float(match["s"])
    result.failed = sorted({_relative(m["path"]) for m in FAILED.finditer(log)})
    return result


def slowest_tests(log: str, n: int = 10) -> list[tuple[float, str, str]]:
    """The ``n`` slowest (seconds, phase, test) over every ``--durations`` report in a log (`make test`
    runs pytest twice). A module fixture's cost shows as the ``setup`` of its first test."""
    rows = []
    for section in DURATIONS_BANNER.split(log)[1:]:
        section = re.split(r"^=", section, maxsplit=1, flags=re.M)[0]  # up to pytest's next banner
        rows += [(float(m["s"]), m["when"], _without_xdist_group(m["test"])) for m in DURATION.finditer(section)]
    return sorted(rows, key=lambda row: -row[0])[:n]


def _without_xdist_group(test_id: str) -> str:
    """The test id without the ``@group`` pytest-xdist appends under ``--dist loadgroup``."""
    at = test_id.rfind("@")
    return test_id[:at] if at > test_id.rfind("]") else test_id


def time_make_test(*, cold: bool) -> TestRunResult:
    """`make test` after the install, timed: ``cold`` as in a fresh clone (no clean book build to
    reuse), else reusing the clean build that `make book` (or the previous run) left."""
    if cold:
        CLEAN_BUILD_STAMP.unlink(missing_ok=True)
    addopts = (os.environ.get("PYTEST_ADDOPTS", "") + " --durations=10").strip()
    env = dict(os.environ, PYTEST_ADDOPTS=addopts)
    cmd = ["make", "--no-print-directory", "test"]
    print(f"--- make test, {'cold' if cold else 'after make book'} (PYTEST_ADDOPTS={addopts})", flush=True)
    load_before = _load()
    started = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, env=env,
                              timeout=MAKE_TEST_TIMEOUT_S)
        log, code = ANSI.sub("", proc.stdout + proc.stderr), proc.returncode
    except subprocess.TimeoutExpired as error:
        out = error.stdout.decode() if isinstance(error.stdout, bytes) else (error.stdout or "")
        log, code = ANSI.sub("", out) + f"\ntimed out after {MAKE_TEST_TIMEOUT_S} s", -1
    seconds = time.perf_counter() - started
    summaries = [line for line in log.splitlines() if re.match(r"^=+ .*\b(passed|failed|error)", line)]
    tail = "\n".join(summaries + ["..."] + log.strip().splitlines()[-15:])
    print("\n".join(summaries), flush=True)
    return TestRunResult(seconds, code, slowest_tests(log), tail, (load_before, _load()))


def _load() -> float:
    """The 1-minute load average: above the core count, other work shared the CPU."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def _relative(path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(REPO_ROOT))
    except ValueError:
        return path


def _compare(value: float, op: str, threshold: float) -> bool:
    return value >= threshold if op == ">=" else value <= threshold


def check_targets(scripts: list[ScriptResult], book: BookResult | None,
                  tests: TestRunResult | None = None, cold: TestRunResult | None = None) -> list[dict]:
    checks = []
    for (stem, key), (op, threshold, meaning) in RATIO_TARGETS.items():
        script = next((s for s in scripts if s.name == stem), None)
        if script is None:
            continue
        value = (script.figures or {}).get(key)
        ok = isinstance(value, (int, float)) and _compare(float(value), op, threshold)
        checks.append({"what": f"{stem}: {key} ({meaning})", "value": value,
                       "target": f"{op} {threshold:g}", "ok": ok})
    models = next((s for s in scripts if s.name == "models" and s.figures), None)
    if models is not None:
        accuracy = float(models.figures.get("threshold_accuracy", 0.9))
        budget = float(models.figures.get("budget_seconds", 30.0))
        for name, row in sorted((models.figures.get("models") or {}).items()):
            checks.append({"what": f"models: {name} test accuracy", "value": row.get("test_accuracy"),
                           "target": f">= {accuracy:g}", "ok": (row.get("test_accuracy") or 0) >= accuracy})
            checks.append({"what": f"models: {name} training time (s)", "value": row.get("train_seconds"),
                           "target": f"<= {budget:g} s",
                           "ok": row.get("train_seconds") is not None and row["train_seconds"] <= budget})
    if book is not None:
        checks.append({"what": "whole book build (make book, cold)", "value": round(book.seconds, 1),
                       "target": f"<= {BOOK_BUILD_TARGET_S:g} s",
                       "ok": book.returncode == 0 and book.seconds <= BOOK_BUILD_TARGET_S})
        for notebook, seconds in sorted(book.notebooks.items()):
            checks.append({"what": f"execute {notebook}", "value": round(seconds, 1),
                           "target": f"<= {CHAPTER_TARGET_S:g} s", "ok": seconds <= CHAPTER_TARGET_S})
        for notebook in book.failed:
            checks.append({"what": f"execute {notebook}", "value": "failed",
                           "target": f"<= {CHAPTER_TARGET_S:g} s", "ok": False})
    if cold is not None:
        checks.append({"what": "make test, cold (as CI: the tests build the book)",
                       "value": round(cold.seconds, 1) if cold.returncode == 0 else f"exit code {cold.returncode}",
                       "target": "passing (time reported)", "ok": cold.returncode == 0})
    if tests is not None:
        checks.append({"what": "make test after make book (the README's order)",
                       "value": round(tests.seconds, 1) if tests.returncode == 0 else f"exit code {tests.returncode}",
                       "target": f"<= {MAKE_TEST_TARGET_S:g} s, passing",
                       "ok": tests.returncode == 0 and tests.seconds <= MAKE_TEST_TARGET_S})
    for script in scripts:
        if script.problem:
            checks.append({"what": f"benchmarks/{script.name}.py runs", "value": script.problem,
                           "target": "exit 0, JSON last line", "ok": False})
    return checks


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (dict, list)):
        return "`" + json.dumps(value) + "`"
    return str(value)


def _flatten(figures: dict, prefix: str = "") -> list[tuple[str, object]]:
    rows = []
    for key, value in figures.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows.extend(_flatten(value, name + "."))
        else:
            rows.append((name, value))
    return rows


def machine_description() -> str:
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{os.cpu_count()} CPU cores ({cpu}), torch {torch.__version__} with "
            f"{torch.get_num_threads()} threads, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")


def write_report(path: Path, scripts: list[ScriptResult], book: BookResult | None,
                 checks: list[dict], started: datetime, machine: str,
                 tests: TestRunResult | None = None, cold: TestRunResult | None = None) -> None:
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` (`benchmarks/run_all.py`) on {started:%Y-%m-%d %H:%M} UTC.",
        f"Machine: {machine}.",
        "",
        "Every figure below was measured by the run that wrote this file; nothing is typed by hand.",
        "Times are wall-clock and depend on what else the machine was doing: each run below gives",
        "the 1-minute load average before and after it; a load above the number of cores means",
        "other work shared the CPU, and the times are pessimistic.",
        "",
        "## Targets",
        "",
        "| check | measured | target | met |",
        "|---|---|---|---|",
    ]
    for check in checks:
        lines.append(f"| {check['what']} | {_fmt(check['value'])} | {check['target']} | "
                     f"{'yes' if check['ok'] else '**no**'} |")
    if not checks:
        lines.append("| (no targets were checked) | | | |")

    if book is not None:
        lines += ["", "## The book", "",
                  f"`jupyter-book build book -W -n --keep-going` into an empty folder (what `make book` "
                  f"does after the install) took **{book.seconds:.1f} s** "
                  f"(exit code {book.returncode}; load average {book.load[0]:.1f} before, "
                  f"{book.load[1]:.1f} after).", "",
                  "| notebook | execution time (s) |", "|---|---|"]
        for notebook, seconds in sorted(book.notebooks.items()):
            lines.append(f"| {notebook} | {seconds:.1f} |")
        if not book.notebooks:
            lines.append("| (the build executed no notebook) | |")
        if book.returncode != 0:
            lines += ["", "The build failed; its warnings and the end of its log:", "", "```text",
                      book.tail, "```"]

    for run, how in ((cold, "cold, as CI runs it in a fresh clone (the tests build the book, executing every chapter)"),
                     (tests, "after `make book`, as the README has a user run it (the tests reuse that clean build)")):
        if run is None:
            continue
        if run is cold or cold is None:
            lines += ["", "## The test suite", ""]
        lines += [f"`make test` after the install, {how}, took "
                  f"**{run.seconds:.1f} s** (exit code {run.returncode}; load average "
                  f"{run.load[0]:.1f} before, {run.load[1]:.1f} after). Its ten slowest tests "
                  "(`pytest --durations=10`; a module fixture's cost is the `setup` of its first test):", "",
                  "| seconds | phase | test |", "|---|---|---|"]
        lines += [f"| {seconds:.1f} | {when} | `{test}` |" for seconds, when, test in run.slowest]
        if not run.slowest:
            lines.append("| (pytest reported no durations) | | |")
        if run.returncode != 0:
            lines += ["", "`make test` failed; its summaries and the end of its log:", "", "```text",
                      run.tail, "```"]
        lines.append("")

    models = next((s for s in scripts if s.name == "models" and s.figures), None)
    if models is not None and models.figures.get("models"):
        lines += ["", "## Models: training and inference speed", "",
                  "From `benchmarks/models.py` (default synthetic data, compact sizes, the recommended "
                  "recipe). Inference clips per second = 1000 / milliseconds per clip.", "",
                  "| model | parameters | test accuracy | epochs | training (s) | training s / epoch "
                  "| training (clips / s) | inference (ms / clip) | inference (clips / s) |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for name, row in sorted(models.figures["models"].items()):
            ms = row.get("inference_ms_per_clip")
            epochs = row.get("epochs_run")
            train_s = row.get("train_seconds")
            per_epoch = train_s / epochs if train_s is not None and epochs else None
            train_rate = row.get("train_clips_per_second")
            if train_rate is None and row.get("train_clips") and per_epoch:
                train_rate = row["train_clips"] / per_epoch
            lines.append(
                f"| {name} | {_fmt(row.get('parameters'))} | {_fmt(row.get('test_accuracy'))} | "
                f"{_fmt(epochs)} | {_fmt(train_s)} | {_fmt(per_epoch) if per_epoch else '—'} | "
                f"{_fmt(train_rate) if train_rate else '—'} | "
                f"{_fmt(ms)} | {_fmt(1000.0 / ms) if ms else '—'} |")

    pretrained = next((s for s in scripts if s.name == "pretrained" and s.figures), None)
    real = pretrained.figures.get("real_task") if pretrained is not None else None
    aisfx = pretrained.figures.get("aisfx") if pretrained is not None else None
    if aisfx or real:
        lines += ["", "## Transfer learning: the pretrained sound-event encoder vs training from scratch", "",
                  "From `benchmarks/pretrained.py` (issue 15). The encoder is aiSFX (Ma & Lerch, ISMIR 2022; "
                  "weights CC BY 4.0)."]
    if aisfx:
        lines += ["", f"Embeddings on {aisfx.get('threads')} CPU threads: {_fmt(aisfx.get('clips_per_s_5s'))} clips/s "
                  f"for 5-s clips at 44.1 kHz ({_fmt(aisfx.get('audio_s_per_s_5s'))} s of audio per second), "
                  f"{_fmt(aisfx.get('clips_per_s_1s'))} clips/s for 1-s windows."]
    if real:
        lines += ["", f"Real recordings (Sonic Pi, CC0): {real['windows']} one-second windows from {real['recordings']} "
                  f"recordings, {real['classes']} classes; test accuracy over {len(real['transfer']['seeds'])} seeds "
                  "(each a different split, grouped by recording, and a different initialisation).", "",
                  "| recipe | test accuracy, mean ± std | each seed | prepare once (s) | training per seed (s) |",
                  "|---|---|---|---|---|"]
        for key, what, prep in (("transfer", "frozen aiSFX + linear head (`train --encoder aisfx`)", "embeddings"),
                                ("scratch", "from scratch (`train`, the recommended recipe)", "log-mel features")):
            row = real[key]
            seeds = ", ".join(f"{r['test_accuracy']:.3f}" for r in row["seeds"])
            lines.append(f"| {what} | {row['test_accuracy_mean']:.3f} ± {row['test_accuracy_std']:.3f} | {seeds} | "
                         f"{_fmt(row['prepare_s'])} ({prep}) | {_fmt(row['train_s_mean'])} |")

    lines += ["", "## Benchmark scripts", ""]
    if not scripts:
        lines.append("No `benchmarks/*.py` script besides this runner was found.")
    for script in scripts:
        lines += [f"### `benchmarks/{script.name}.py`", "",
                  f"Ran in {script.seconds:.1f} s (exit code {script.returncode}; load average "
                  f"{script.load[0]:.1f} before, {script.load[1]:.1f} after)."
                  + (f" **Problem:** {script.problem}." if script.problem else ""), ""]
        if script.figures:
            lines += ["| figure | value |", "|---|---|"]
            lines += [f"| {name} | {_fmt(value)} |" for name, value in _flatten(script.figures)]
            lines.append("")
        lines += ["<details><summary>What it printed (last lines)</summary>", "", "```text",
                  script.tail, "```", "", "</details>", ""]
    path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-book", action="store_true", help="do not build and time the book")
    parser.add_argument("--skip-test", action="store_true", help="do not run and time `make test`")
    parser.add_argument("--only", nargs="*", default=None, help="run only these scripts (stems)")
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "results.md")
    args = parser.parse_args(argv)

    started = datetime.now(UTC)
    paths = sorted(p for p in BENCH_DIR.glob("*.py") if p.name != Path(__file__).name)
    if args.only is not None:
        paths = [p for p in paths if p.stem in args.only]
    scripts = [run_script(path) for path in paths]
    if not args.skip_book:  # a first report now: the book build is the longest step
        write_report(args.output, scripts, None, check_targets(scripts, None), started, machine_description())
    book = None if args.skip_book else build_book()
    if not args.skip_test:  # a report before `make test`, the other long step
        write_report(args.output, scripts, book, check_targets(scripts, book), started, machine_description())
    cold = None if args.skip_test else time_make_test(cold=True)
    tests = None if args.skip_test else time_make_test(cold=False)
    checks = check_targets(scripts, book, tests, cold)
    write_report(args.output, scripts, book, checks, started, machine_description(), tests, cold)

    print(f"\nwrote {_relative(str(args.output))}")
    for check in checks:
        print(f"{'ok  ' if check['ok'] else 'MISS'} {check['what']}: {_fmt(check['value'])} "
              f"(target {check['target']})")
    summary = {
        "scripts": {s.name: s.figures for s in scripts},
        "failed_scripts": [s.name for s in scripts if s.problem],
        "book_build_s": None if book is None else round(book.seconds, 1),
        "notebook_execution_s": {} if book is None else {k: round(v, 1) for k, v in book.notebooks.items()},
        "make_test_s": None if tests is None else round(tests.seconds, 1),
        "make_test_cold_s": None if cold is None else round(cold.seconds, 1),
        "slowest_tests": [] if tests is None else [
            {"seconds": seconds, "phase": when, "test": test} for seconds, when, test in tests.slowest],
        "targets_missed": [c["what"] for c in checks if not c["ok"]],
    }
    print(json.dumps(summary))
    return 1 if summary["targets_missed"] else 0


if __name__ == "__main__":
    sys.exit(main())
