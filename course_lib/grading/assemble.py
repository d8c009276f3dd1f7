"""Step 1, restore: the notebook to run, from the reference learner notebook and the submission's answers.

Part of :mod:`course_lib.grading` (see :mod:`course_lib.grading` for all the steps). Every cell
comes from the reference except the answer cells (tagged ``otter_answer_cell``) and the code cells
the learner added; otter's check cells are dropped and cells tagged ``grader-skip`` are not run.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from .base import ANSWER_TAG, SKIP_TAG, GradingError

__all__ = ["assemble_notebook"]


_OTTER_CELL = re.compile(r"^\s*(#\s*Initialize Otter|import otter\b)|grader\.(check|check_all|export)\(|otter\.Notebook\(", re.M)


def _tags(cell: dict) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _read_notebook(path: Path) -> dict:
    try:
        return nbformat.read(str(path), as_version=4)
    except Exception as err:  # nbformat raises several types for bad JSON / schema
        raise GradingError(f"{path}: cannot be read as a notebook ({type(err).__name__}: {err}).") from None


def assemble_notebook(reference: dict, submission: dict) -> tuple[list[dict], list[str]]:
    """Merge a submission into the reference notebook.

    Returns the list of cells to run (``{"source", "skip"}``) and notes about what was restored.
    Answer cells are matched by cell id, then by order among the submission's answer cells; every
    other reference cell is taken from the reference; code cells the learner added (ids unknown to
    the reference) are kept after the cell they follow.
    """
    notes: list[str] = []
    ref_cells = reference["cells"]
    ref_ids = {c.get("id") for c in ref_cells}
    sub_cells = [c for c in submission.get("cells", []) if c.get("cell_type") == "code"]
    sub_by_id = {c.get("id"): c for c in sub_cells if c.get("id")}
    sub_answers = [c for c in sub_cells if ANSWER_TAG in _tags(c)]
    ref_answers = [c for c in ref_cells if ANSWER_TAG in _tags(c)]
    used: set[int] = set()

    answer_source: dict[str, str] = {}
    for k, ref in enumerate(ref_answers):
        cid = ref.get("id")
        sub = sub_by_id.get(cid)
        if sub is None and k < len(sub_answers) and sub_answers[k].get("id") not in ref_ids:
            sub = sub_answers[k]
        if sub is None:
            notes.append(f"answer cell {k + 1} ({cid}) missing from the submission: the empty stub was run")
            answer_source[cid] = _source(ref)
        else:
            used.add(id(sub))
            answer_source[cid] = _source(sub)

    # learner-added code cells, keyed by the reference cell they follow in the submission
    added_after: dict[str | None, list[str]] = {}
    anchor: str | None = None
    for cell in submission.get("cells", []):
        cid = cell.get("id")
        if cid in ref_ids:
            anchor = cid
            continue
        if cell.get("cell_type") == "code" and id(cell) not in used:
            src = _source(cell)
            if _OTTER_CELL.search(src):
                continue
            added_after.setdefault(anchor, []).append(src)
    restored = 0
    for ref in ref_cells:
        sub = sub_by_id.get(ref.get("id"))
        if ref["cell_type"] == "code" and ANSWER_TAG not in _tags(ref):
            if sub is None or _source(sub) != _source(ref):
                restored += 1
    if restored:
        notes.append(f"{restored} non-answer cell(s) edited or deleted in the submission were restored from the source")

    run: list[dict] = [{"source": s, "skip": False} for s in added_after.get(None, [])]
    for ref in ref_cells:
        cid = ref.get("id")
        if ref["cell_type"] == "code":
            if cid in answer_source:
                run.append({"source": answer_source[cid], "skip": False})
            elif not _OTTER_CELL.search(_source(ref)):
                run.append({"source": _source(ref), "skip": SKIP_TAG in _tags(ref)})
        run.extend({"source": s, "skip": False} for s in added_after.get(cid, []))
    return run, notes
