"""`make lab`: JupyterLab starts in the repository root, answers, and runs the course's Python.

The test runs `make lab` as a reader does, on a free port of 127.0.0.1 with a token of its own,
waits (at most ``START_TIMEOUT_S``) for ``/api/status`` to answer, asks the server which kernel a
notebook gets, and shuts it down. Whatever happens, the server's process group is killed at the
end: the test cannot leave a server running or hang the suite.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 120.0  # JupyterLab starts in a few seconds; generous for a loaded 2-core machine


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, token: str) -> dict:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)


def test_make_lab_serves_jupyterlab_with_the_course_environment_as_kernel(tmp_path):
    make = shutil.which("make")
    assert make, "`make lab` needs make (see the README's requirements)"
    port, token = _free_port(), secrets.token_hex(16)
    # The user's Jupyter configuration, runtime files and workspaces stay out of it.
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"))
    # VENV: the environment running this test; STAMP empty: no install step inside a test.
    cmd = [make, "--no-print-directory", "-C", str(REPO_ROOT), "lab", f"VENV={sys.prefix}", "STAMP=",
           f"LAB_PORT={port}", f"LAB_ARGS=--ServerApp.port_retries=0 --IdentityProvider.token={token}"]
    log_path = tmp_path / "lab.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline, status = time.monotonic() + START_TIMEOUT_S, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status = _get(f"{base}/api/status", token)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        log_text = log_path.read_text()
        assert status is not None, (
            f"JupyterLab did not answer on {base}/api/status within {START_TIMEOUT_S:.0f} s "
            f"(exit code {proc.poll()}); its log:\n{log_text[-3000:]}"
        )
        assert "started" in status and status.get("kernels") == 0, status
        # The URL a reader opens is printed, and it serves JupyterLab itself, rooted at the repository.
        assert f"127.0.0.1:{port}/lab" in log_text, log_text[-3000:]
        contents = _get(f"{base}/api/contents/book/chapters", token)
        assert {item["name"] for item in contents["content"]} >= {"ch01_audio_as_tensors.ipynb"}
        # The notebooks' kernel ("python3") is this environment's own interpreter.
        specs = _get(f"{base}/api/kernelspecs", token)
        assert specs["default"] == "python3", specs["default"]
        argv = specs["kernelspecs"]["python3"]["spec"]["argv"]
        assert Path(argv[0]) == Path(sys.executable), f"the python3 kernel runs {argv[0]}, not {sys.executable}"
        request = urllib.request.Request(f"{base}/api/shutdown", method="POST", headers={"Authorization": f"token {token}"})
        urllib.request.urlopen(request, timeout=10).close()
        proc.wait(timeout=30)
    finally:
        _stop(proc)
