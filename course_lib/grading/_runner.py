"""The child side of the grader: runs one assembled notebook, then collects its answers as plain data.

Introduced with the exercises (``book/exercises/``). This file is **not imported** by the grader:
:mod:`course_lib.grading.grade` reads its text once, when the grader starts, and passes it to
``python -c`` in a fresh process, so a submission that rewrites this file on disk cannot change how
later submissions are run.

Protocol (everything lives in the submission's fresh temporary folder, which is the working folder):

* ``job.json`` (written by the grader): ``{"cells": [{"source", "skip"}], "collector": "module:function",
  "result": "collected.pt", "cells_log": "cells.json"}``.
* The cells run one by one in an IPython shell (``get_ipython()`` exists, magics work). A cell
  that raises is recorded and the run goes on, as a learner's kernel would.
* Then the collector (a function of :mod:`course_lib.grading.exercises`) receives the notebook's
  namespace and returns a dict of plain data (tensors, numbers, strings, lists, dicts), which is
  written with ``torch.save``. The grader loads it with ``torch.load(weights_only=True)`` in its own
  process, where no learner code ever ran, and checks it there.

Whatever the submission does to this process (monkey-patching, overriding the traceback display,
redefining ``course_lib`` functions), it can at most spoil its own collected data: it cannot reach
the checks.
"""

import importlib
import json
import sys
import time
import traceback


def _main() -> None:
    with open("job.json", encoding="utf-8") as handle:
        job = json.load(handle)
    # Import what the collector needs *before* any learner code runs.
    module_name, func_name = job["collector"].split(":")
    collector = getattr(importlib.import_module(module_name), func_name)
    import torch  # noqa: F401  (the collector's data is saved with torch)
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    log = []
    for index, cell in enumerate(job["cells"]):
        if cell.get("skip"):
            log.append({"index": index, "status": "skipped"})
            continue
        start = time.perf_counter()
        entry = {"index": index, "status": "ok"}
        try:
            result = shell.run_cell(cell["source"], store_history=False, silent=False)
            error = result.error_before_exec or result.error_in_exec
            if error is not None:
                entry = {"index": index, "status": "error", "error": f"{type(error).__name__}: {error}"[:500]}
        except BaseException as err:  # a learner's SystemExit / KeyboardInterrupt must not end the run
            entry = {"index": index, "status": "error", "error": f"{type(err).__name__}: {err}"[:500]}
        entry["seconds"] = round(time.perf_counter() - start, 3)
        log.append(entry)
        with open(job["cells_log"], "w", encoding="utf-8") as handle:
            json.dump(log, handle)
    try:
        data = collector(dict(shell.user_ns))
        status = "ok"
    except BaseException:
        data = {}
        status = "collector failed: " + traceback.format_exc(limit=3)[-800:]
    import torch as _torch

    _torch.save({"status": status, "data": data}, job["result"])


if __name__ == "__main__":
    _main()
    sys.stdout.flush()
