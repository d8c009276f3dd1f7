"""The grader against hostile submissions (``tests/submissions/hostile/``), with the sandbox and without.

Each mode grades one batch through the instructor's command, with short limits: a process that
survives the kill and keeps writing to the score table, a write into site-packages, a fork bomb, a
memory hog and an output flood, with honest submissions (the solution) graded after them. Whatever
the hostile ones do, the honest ones must score full marks, the hostile ones must be reported, no
process of the batch may survive it, and the score tables must verify.

The sandboxed batch needs bubblewrap (it is skipped without it, and fails instead when
``COURSE_REQUIRE_SANDBOX=1``, as in CI). The unsandboxed batch runs with ``--no-sandbox --run-as root``
(the least protected mode) in a throw-away virtual environment layered over the project's, on a copy
of the package: the site-packages attack then lands in that throw-away environment, and restoring
the package's files cannot touch the working tree.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest
from test_grading import REPO, SUBMISSIONS, build_submission, parse_spec

from course_lib.grading.sandbox import REQUIRE_SANDBOX_ENV, Isolation

HOSTILE = SUBMISSIONS / "hostile"
# Small limits; no run here lasts its time limit (an honest run takes 5-20 s), which is generous for loaded machines.
LIMIT_ARGS = ["--timeout", "120", "--memory-mb", "1500", "--max-processes", "64", "--output-mb", "16"]
# Graded in this order (the folder names sort so): honest runs after the attacks that target later runs.
ORDER = [
    "ex02_hostile_survives_kill",
    "ex02_hostile_site_packages",
    "honest",
    "ex02_hostile_fork_bomb",
    "ex02_hostile_memory_hog",
    "ex02_hostile_output_flood",
    "honest",
]


def _build_batch(root: Path) -> Path:
    subs = root / "submissions"
    for k, stem in enumerate(ORDER):
        spec = {"exercise": "ex02_specaugment"} if stem == "honest" else parse_spec(HOSTILE / f"{stem}.py")
        build_submission(spec, subs / f"{k:02d}_{stem}" / "ex02_specaugment.ipynb")
    return subs


def _processes_with_env(marker: str) -> list[int]:
    """Processes whose environment holds ``marker`` (every process a graded run starts inherits it)."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) != os.getpid():
            try:
                if marker.encode() in Path(f"/proc/{name}/environ").read_bytes():
                    found.append(int(name))
            except OSError:
                pass
    return found


def _grade(python: str, root: Path, extra: list[str], cwd: Path, pythonpath: str | None = None) -> dict:
    subs = _build_batch(root)
    out = root / "grades"
    out.mkdir()
    target = out / "scores.csv"  # the leftover process appends to it while it lives
    marker = f"GRADING_TEST_MARKER={root.name}-{os.getpid()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(GRADING_TEST_TARGET=str(target), GRADING_TEST_MARKER=marker.split("=", 1)[1])
    env.pop("PYTHONPATH", None)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    start = time.monotonic()
    proc = subprocess.run([python, "-m", "course_lib.grading", str(subs), "--out", str(out), *LIMIT_ARGS, *extra],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    time.sleep(2.0)  # a process that survived would keep writing to the score table now
    scores = json.loads((out / "scores.json").read_text()) if (out / "scores.json").is_file() else {}
    verify = subprocess.run([python, "-m", "course_lib.grading", "--verify", str(out)], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=300)
    return {
        "proc": proc, "scores": scores, "out": out, "verify": verify, "seconds": time.monotonic() - start,
        "survivors": _processes_with_env(marker),
        "by": {s["student"].split("_", 1)[1]: s for s in scores.get("submissions", [])},
        "honest": [s for s in scores.get("submissions", []) if s["student"].endswith("_honest")],
    }


@pytest.fixture(scope="module")
def sandboxed(tmp_path_factory):
    isolation = Isolation.detect()
    if not isolation.sandbox:
        if os.environ.get(REQUIRE_SANDBOX_ENV) == "1":
            pytest.fail(f"{REQUIRE_SANDBOX_ENV}=1 but the sandbox is off: {isolation.reason}")
        pytest.skip(f"no sandbox here: {isolation.reason}")
    return _grade(sys.executable, tmp_path_factory.mktemp("sandboxed"), [], REPO)


@pytest.fixture(scope="module")
def unsandboxed(tmp_path_factory):
    """A throw-away environment over the project's, with a copy of the package: attacks land in copies."""
    root = tmp_path_factory.mktemp("unsandboxed")
    project = root / "project"
    shutil.copytree(REPO / "course_lib", project / "course_lib", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "exercises", project / "exercises")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    purelib = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  capture_output=True, text=True, check=True).stdout.strip())
    base_pth = purelib / "course_base.pth"
    base_pth.write_text(f"{project}\nimport site; site.addsitedir({sysconfig.get_paths()['purelib']!r})\n")
    original_pth = base_pth.read_bytes()
    batch = _grade(str(python), root, ["--no-sandbox", "--run-as", "root"], project)
    batch.update(purelib=purelib, base_pth=base_pth, original_pth=original_pth, project=project)
    return batch


def _common_checks(batch: dict, sandbox: bool) -> None:
    proc, scores = batch["proc"], batch["scores"]
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert scores["sandbox"] is sandbox
    # the honest submissions graded after the attacks score full marks
    assert len(batch["honest"]) == 2
    for honest in batch["honest"]:
        assert honest["status"] == "ok" and honest["score"] == honest["max_score"] == 20, honest["detail"]
        assert not honest["tampering"] and not honest["leftover_processes"], honest
    # nothing the batch started is still running, and the score tables are as the grader wrote them
    assert batch["survivors"] == [], f"processes of the batch still running: {batch['survivors']}"
    assert batch["verify"].returncode == 0, batch["verify"].stderr
    assert "tampered" not in (batch["out"] / "scores.csv").read_text()
    by = batch["by"]
    # the process that survived the kill is reported (and was killed)
    assert by["ex02_hostile_survives_kill"]["leftover_processes"] >= 1
    assert scores["summary"]["n_leftover_processes_killed"] >= 1
    assert "process(es) left running were killed" in proc.stdout
    # the fork bomb is bounded by the process limit: fork() failed, or the grader ended the run
    bomb = by["ex02_hostile_fork_bomb"]
    stopped = "process limit" in bomb["detail"] or any("BlockingIOError" in e["error"] for e in bomb["cell_errors"])
    assert stopped, bomb
    # the memory hog: one process could not take 3 GiB, and the tree's 2 GB ended the run
    hog = by["ex02_hostile_memory_hog"]
    assert hog["status"] == "crashed" and "memory limit" in hog["detail"], hog
    assert not any("no per-process memory limit" in e["error"] for e in hog["cell_errors"]), hog
    # the output flood: the log stopped at the limit, and the folder's 64 MB ended the run
    flood = by["ex02_hostile_output_flood"]
    assert flood["status"] == "crashed" and "MB into its folder" in flood["detail"], flood
    assert "printed output reached the 16 MB limit" in flood["detail"], flood
    assert batch["seconds"] < 600


def test_hostile_submissions_in_the_sandbox(sandboxed):
    _common_checks(sandboxed, sandbox=True)
    assert "Grading in a sandbox: bubblewrap" in sandboxed["proc"].stdout
    assert "WARNING" not in sandboxed["proc"].stderr
    # the writes into site-packages failed on the read-only file system: nothing to restore
    attack = sandboxed["by"]["ex02_hostile_site_packages"]
    assert any("Read-only file system" in e["error"] for e in attack["cell_errors"]), attack
    assert not list(Path(sysconfig.get_paths()["purelib"]).glob("zz_grading_hijack.pth"))


def test_hostile_submissions_without_the_sandbox(unsandboxed):
    _common_checks(unsandboxed, sandbox=False)
    stderr = unsandboxed["proc"].stderr
    assert "WARNING: grading WITHOUT the sandbox" in stderr and "apt-get install bubblewrap" in stderr
    # the site-packages attack succeeded, was reported, and was undone before the next run
    attack = unsandboxed["by"]["ex02_hostile_site_packages"]
    changes = "\n".join(attack["tampering"])
    assert "zz_grading_hijack.pth (deleted)" in changes, attack["tampering"]
    assert "course_base.pth (restored)" in changes, attack["tampering"]
    assert not (unsandboxed["purelib"] / "zz_grading_hijack.pth").exists()
    assert unsandboxed["base_pth"].read_bytes() == unsandboxed["original_pth"]
    assert unsandboxed["scores"]["summary"]["n_tampering"] >= 1
    # (the survivor could write into the score table while its run lasted: nothing stops that without
    # the sandbox; the grader's atomic write replaced the file, and _common_checks saw nothing written after)


def test_verify_detects_an_edited_table(tmp_path):
    from course_lib.grading import write_tables
    from course_lib.grading.base import CheckResult, SubmissionResult
    from course_lib.grading.report import verify_tables

    result = SubmissionResult("alice", "ex02_specaugment", "a.ipynb", "ok", 20.0, 20.0,
                              [CheckResult("c", 20.0, 20.0, True, "ok")], [], [], 1.0)
    _, json_path = write_tables([result], tmp_path)
    digest = (tmp_path / "scores.json.sha256").read_text().split()[0]
    assert verify_tables(tmp_path, digest)[0]
    assert not verify_tables(tmp_path, "0" * 64)[0]
    csv_path = tmp_path / "scores.csv"
    csv_path.write_text(csv_path.read_text().replace("20.0", "0.0"))
    ok, message = verify_tables(tmp_path)
    assert not ok and "scores.csv was changed" in message
    write_tables([result], tmp_path)
    json_path.write_text(json_path.read_text().replace('"score": 20.0', '"score": 0.0'))
    ok, message = verify_tables(tmp_path)
    assert not ok and "scores.json was changed" in message
    assert not list(tmp_path.glob(".scores*"))  # no temporary files left by the atomic writes


def test_a_checkout_under_tmp_stays_visible_in_the_sandbox(monkeypatch):
    """The sandbox's private /tmp must not hide a course environment or clone kept under /tmp."""
    import tempfile

    from course_lib.grading import sandbox

    checkout = Path(tempfile.mkdtemp(prefix="course-clone-", dir="/tmp"))
    try:
        (checkout / "src").mkdir()
        monkeypatch.setattr(sys, "path", [str(checkout), str(checkout / "src"), "/tmp", *sys.path])
        shown = sandbox._paths_hidden_by_private_tmp()
        assert str(checkout) in shown
        assert str(checkout / "src") not in shown, "a folder inside a shown one is covered by it"
        assert "/tmp" not in shown, "the whole of /tmp would undo the private /tmp"
        argv = Isolation(True, "", None, ("bwrap",)).command(["python", "-V"], Path("/tmp/run"))
        tmpfs_at = argv.index("/tmp", argv.index("--tmpfs"))
        bind_at = argv.index(str(checkout))
        assert argv[bind_at - 1] == "--ro-bind" and bind_at > tmpfs_at, "bound read-only, after the private /tmp"
        assert argv.index("/tmp/run") > bind_at, "the run's own folder stays writable"
    finally:
        shutil.rmtree(checkout, ignore_errors=True)
