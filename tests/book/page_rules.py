"""The page rules of issue 16 point 6, "No plumbing on the page", as plain functions.

A reader of the book should see code that teaches and outputs that explain, nothing else:

1. ``plumbing``: a code cell whose every statement only glues values into the prose
   (``glue(...)``, ``from myst_nb import glue``) or builds prose strings (f-strings, string
   lists, ``Markdown(...)``) carries the ``remove-input`` (or ``remove-cell``) tag.
   ``visible glue``: a cell that teaches and also glues is tagged ``hide-input``, or its glue
   calls move to a ``remove-input`` cell of their own after it: no ``glue(...)`` in plain sight.
2. ``long code line``: no visible code line is longer than 88 characters.
3. ``wide output``: no output line is longer than 88 characters (what fits a 1280 px window in
   monospace); the browser test measures the rendered page itself (``scrollWidth``).
4. ``machine path``: no output (and no prose) shows a path of the machine that built the book:
   the repository's absolute path, the home folder, the temporary folder, the virtual environment,
   a cache folder, ``/tmp/...``, ``/root``, ``/home/<user>``.
5. ``warning``: no output is a warning: no stderr stream, no ``UserWarning``/``Warning:`` text.

Used by ``tests/book/test_book_browser.py`` (on the notebook sources, and on the output texts the
browser reports) and by hand on one executed notebook, no book build and no browser needed::

    .venv/bin/jupyter nbconvert --to notebook --execute --output /tmp/me/ch03.ipynb \\
        book/chapters/ch03_data_pipeline.ipynb
    .venv/bin/python tests/book/page_rules.py /tmp/me/ch03.ipynb   # exit 1 and a list if any fails

Given a notebook without outputs (as stored), only rules 1 and 2 can be checked.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

MAX_LINE = 88  # characters of monospace that fit the book's column at a 1280 px window
HIDING_TAGS = {"remove-input", "remove-cell"}
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Violation:
    page: str  # the notebook or page, e.g. "chapters/ch03_data_pipeline.ipynb"
    where: str  # the cell or element, e.g. "cell 4 (`glue("n_classes", len(CLASS_NAMES), ...`)"
    rule: str  # one of RULES
    detail: str  # what was found
    fix: str  # what to do about it

    def __str__(self) -> str:
        return f"{self.page}, {self.where}: {self.rule}: {self.detail}\n    fix: {self.fix}"


FIXES = {
    "plumbing": "tag the cell `remove-input` in its metadata (its outputs, if any, still show; "
    "`remove-cell` when it shows nothing)",
    "visible glue": "move the glue(...) calls into a cell of their own right after this one, tagged "
    "`remove-input` (the values are still in scope), or tag this cell `hide-input`",
    "long code line": f"wrap the line at {MAX_LINE} characters (black/ruff style)",
    "wide output": f"keep printed lines under {MAX_LINE} characters: shorter prints, or wrap the "
    "message where it is made (textwrap.fill in course_lib), or a narrower table",
    "machine path": "print paths relative to the repository or the data folder's name only "
    "(e.g. `path.relative_to(data_dir())` or `path.name`), never an absolute path",
    "warning": "fix the cause of the warning (or catch exactly that warning where it is expected and "
    "say so in the prose); a page shows no stderr output",
}
RULES = tuple(FIXES)


# --- Rule 1: plumbing cells ------------------------------------------------------------------

_PROSE_CALLS = {"glue", "Markdown", "display", "textwrap.fill", "textwrap.dedent", "dedent", "fill"}


def _call_name(node: ast.AST) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _call_name(node.value)
        return f"{base}.{node.attr}" if base else node.attr
    return ""


def _builds_prose(value: ast.AST) -> bool:
    """An expression whose value is text for the prose: a string, an f-string, a list or dict of
    them, their concatenation or join, str.format/%, or Markdown(...)."""
    if isinstance(value, ast.Constant):
        return isinstance(value.value, str)
    if isinstance(value, ast.JoinedStr):
        return True
    if isinstance(value, ast.IfExp):
        return _builds_prose(value.body) and _builds_prose(value.orelse)
    if isinstance(value, (ast.List, ast.Tuple, ast.Set)):
        return bool(value.elts) and all(_builds_prose(e) for e in value.elts)
    if isinstance(value, ast.Dict):
        return bool(value.values) and all(_builds_prose(v) for v in value.values)
    if isinstance(value, ast.BinOp) and isinstance(value.op, (ast.Add, ast.Mod)):
        return _builds_prose(value.left)
    if isinstance(value, ast.Call):
        name = _call_name(value)
        if name.split(".")[-1] in {"join", "format"} and isinstance(value.func, ast.Attribute):
            return _builds_prose(value.func.value)
        return name in {"Markdown", "textwrap.fill", "textwrap.dedent", "dedent", "fill"}
    return False


def _is_plumbing(stmt: ast.stmt) -> bool:
    if isinstance(stmt, ast.ImportFrom):
        return {a.name for a in stmt.names} <= {"glue", "Markdown", "display"}
    if isinstance(stmt, ast.Import):
        return {a.name for a in stmt.names} <= {"myst_nb", "textwrap"}
    if isinstance(stmt, ast.Expr):
        # glue(...), display(Markdown(...)), Markdown(...), a bare string
        if isinstance(stmt.value, ast.Call):
            name = _call_name(stmt.value).split(".")[-1]
            if name == "glue":
                return True
            if name == "display":
                return all(_builds_prose(a) for a in stmt.value.args) and bool(stmt.value.args)
        return _builds_prose(stmt.value)
    if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        return stmt.value is not None and _builds_prose(stmt.value)
    if isinstance(stmt, (ast.If, ast.For, ast.While, ast.With)):
        body = list(stmt.body) + list(getattr(stmt, "orelse", []))
        return all(_is_plumbing(s) for s in body)
    return isinstance(stmt, ast.Pass)


def _python_source(code: str) -> str:
    # IPython magics and shell escapes are not Python: blank them (they are not plumbing either,
    # so a cell with one is never called plumbing).
    return "\n".join("_magic_()" if line.lstrip().startswith(("%", "!")) else line for line in code.splitlines())


def glue_calls(code: str) -> int:
    """How many glue(...) calls the cell makes (0 when it does not parse)."""
    try:
        tree = ast.parse(_python_source(code))
    except SyntaxError:
        return 0
    return sum(isinstance(n, ast.Call) and _call_name(n).split(".")[-1] == "glue" for n in ast.walk(tree))


def is_plumbing(code: str) -> bool:
    """True when every statement of the cell only glues values or builds prose strings."""
    try:
        tree = ast.parse(_python_source(code))
    except SyntaxError:
        return False
    return bool(tree.body) and all(_is_plumbing(stmt) for stmt in tree.body)


# --- Rules 4 and 5 on text -------------------------------------------------------------------

# A path of some building machine, whoever builds: not after a letter, '.', '/' or ':' (so not
# inside a URL or a relative path such as data/tmp/x).
GENERIC_PATH = re.compile(
    r"(?<![\w./:~-])(/tmp/\S*|/var/tmp/\S*|/var/folders/\S*|/root(?:/\S*)?(?=[\s'\"),:]|$)"
    r"|/home/[\w.-]+\S*|/Users/[\w.-]+\S*|[A-Za-z]:\\Users\\\S*|~/\.cache\S*|/\.cache/\S*)"
)
WARNING_TEXT = re.compile(r"\b(?:[A-Z]\w*Warning|warnings\.warn)\b|\bWarning:|\bWARNING:")


def machine_path_literals(
    repo_root: Path | str | None = REPO_ROOT,
    home: str | None = None,
    tmp: str | None = None,
    prefix: str | None = None,
) -> list[str]:
    """The absolute paths of this machine that must never show: repository, home, temp, venv."""
    home = home if home is not None else os.path.expanduser("~")
    tmp = tmp if tmp is not None else tempfile.gettempdir()
    prefix = prefix if prefix is not None else sys.prefix
    found = []
    for path in (repo_root, home, tmp, prefix, os.path.join(home, ".cache") if home else None):
        text = str(path).rstrip("/") if path else ""
        if len(text) > 1 and text not in found:  # never "/" itself
            found.append(text)
    return sorted(found, key=len, reverse=True)


def find_machine_paths(text: str, literals: list[str] | tuple[str, ...] = (), generic: bool = True) -> list[str]:
    """The paths of a building machine in `text`: each literal (as a whole path, so /root does not
    match /rootfs), and with `generic` any /tmp/..., /home/<user>, ~/.cache, ... path."""
    hits: list[str] = []
    for literal in literals:
        for m in re.finditer(r"(?<![\w./:~-])" + re.escape(literal) + r"(?![\w.-])\S*", text):
            hits.append(m.group(0))
    if generic:
        hits += [m.group(0) for m in GENERIC_PATH.finditer(text)]
    unique: list[str] = []
    for hit in hits:
        hit = hit.rstrip("'\".,;:)]}")
        if hit and not any(hit in other for other in unique):
            unique = [u for u in unique if u not in hit] + [hit]
    return unique


def find_warnings(text: str) -> list[str]:
    """Lines of `text` that report a Python warning (``UserWarning``, ``Warning:``, ...)."""
    return [line.strip()[:160] for line in text.splitlines() if WARNING_TEXT.search(line)]


def long_lines(text: str, limit: int = MAX_LINE) -> list[str]:
    return [line for line in text.splitlines() if len(line.rstrip()) > limit]


def check_output_text(
    page: str, where: str, text: str, *, stderr: bool = False, literals=(), measure_lines: bool = True
) -> list[Violation]:
    """Rules 3-5 on one output's text (a stream, a text/plain result, or what the browser read)."""
    found = []
    if measure_lines and (lines := long_lines(text)):
        found.append(Violation(page, where, "wide output",
                               f"{len(lines)} line(s) over {MAX_LINE} characters, e.g. "
                               f"{lines[0].rstrip()[:120]!r} ({len(lines[0].rstrip())} chars)",
                               FIXES["wide output"]))
    if paths := find_machine_paths(text, literals):
        found.append(Violation(page, where, "machine path", f"shows {paths[:3]}", FIXES["machine path"]))
    warnings = find_warnings(text)
    if stderr or warnings:
        shown = warnings[0] if warnings else text.strip().splitlines()[0][:160] if text.strip() else ""
        found.append(Violation(page, where, "warning",
                               f"{'stderr output' if stderr else 'warning text'}: {shown!r}",
                               FIXES["warning"]))
    return found


def check_browser_page(page: str, found: dict, literals=None) -> list[Violation]:
    """The page rules on what tests/book/browser/check_pages.mjs reported for one rendered page:
    ``wide`` blocks (measured at 1280 px), each output's text, and the prose outside cells."""
    literals = machine_path_literals() if literals is None else literals
    violations = []
    for block in found.get("wide", []):
        line = block.get("longestLine") or ""
        shown = f"; longest line {block.get('longestChars')} chars: {line[:100]!r}" if line else ""
        violations.append(Violation(
            page, block["where"], "wide output" if "output" in block["where"] else "long code line",
            f"{block['element']} scrolls sideways at 1280 px (scrollWidth {block['scrollWidth']} > "
            f"clientWidth {block['clientWidth']}, {block.get('pastColumn', 0)} px past the column){shown}",
            FIXES["wide output" if "output" in block["where"] else "long code line"]))
    for output in found.get("outputTexts", []):
        violations += check_output_text(page, output["where"], output["text"], stderr=output["stderr"],
                                        literals=literals, measure_lines=False)
    if paths := find_machine_paths(found.get("prose", ""), literals, generic=False):
        violations.append(Violation(page, "the prose (a glued value?)", "machine path", f"shows {paths[:3]}",
                                    FIXES["machine path"]))
    return violations


# --- A whole notebook ------------------------------------------------------------------------


_FENCE = re.compile(r"^\s*(`{3,}|~{3,}|:{3,})\s*(.*?)\s*$")
_CODE_DIRECTIVES = {"{code-block}", "{code}", "{code-cell}", "{sourcecode}"}


def markdown_code_lines(text: str) -> list[str]:
    """The lines of the code blocks of a markdown cell: ```` ```python ````, ```` ``` ````,
    ```` ```{code-block} ````, also inside directives (```` ```{dropdown} ````, whose prose is
    not code)."""
    lines: list[str] = []
    directives: list[str] = []  # the fences of the open directives, innermost last
    code_fence = None
    for line in text.splitlines():
        m = _FENCE.match(line)
        if code_fence is not None:
            if m and m.group(1)[0] == code_fence[0] and len(m.group(1)) >= len(code_fence) and not m.group(2):
                code_fence = None
            else:
                lines.append(line)
            continue
        if not m:
            continue
        fence, info = m.group(1), m.group(2)
        if not info and directives and fence[0] == directives[-1][0] and len(fence) >= len(directives[-1]):
            directives.pop()  # closes the innermost directive
        elif fence[0] != ":" and (not info or not info.startswith("{") or info.split()[0] in _CODE_DIRECTIVES):
            code_fence = fence
        else:
            directives.append(fence)
    return lines


def _first_line(code: str) -> str:
    lines = [line for line in code.strip().splitlines() if line.strip()]
    first = lines[0] if lines else ""
    return first if len(first) <= 50 else first[:47] + "..."


def cell_label(index: int, code: str) -> str:
    """How a failure names a code cell: its number among all cells (from 1) and first line."""
    return f"cell {index + 1} (`{_first_line(code)}`)"


def _tags(cell: dict) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else (value or "")


def check_notebook(nb: dict, page: str, literals=None) -> list[Violation]:
    """Every page rule that a notebook's cells (and outputs, when it was executed) can show."""
    literals = machine_path_literals() if literals is None else literals
    found: list[Violation] = []
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") == "markdown" and (lines := long_lines("\n".join(
                markdown_code_lines(_text(cell.get("source")))))):
            found.append(Violation(page, f"cell {index + 1} (markdown)", "long code line",
                                   f"a code block with {len(lines)} line(s) over {MAX_LINE} "
                                   f"characters, e.g. {lines[0].strip()[:100]!r} ({len(lines[0].rstrip())} chars)",
                                   FIXES["long code line"]))
        if cell.get("cell_type") != "code":
            continue
        code, tags = _text(cell.get("source")), _tags(cell)
        where = cell_label(index, code)
        if "remove-cell" in tags:
            continue
        if "remove-input" not in tags:
            if is_plumbing(code):
                found.append(Violation(page, where, "plumbing",
                                       "the cell only glues values / builds prose strings, and shows",
                                       FIXES["plumbing"]))
            elif "hide-input" not in tags and (calls := glue_calls(code)):
                found.append(Violation(page, where, "visible glue",
                                       f"{calls} glue(...) call(s) shown beside the code that teaches",
                                       FIXES["visible glue"]))
            if lines := long_lines(code):
                found.append(Violation(page, where, "long code line",
                                       f"{len(lines)} line(s) over {MAX_LINE} characters, e.g. "
                                       f"{lines[0].strip()[:100]!r} ({len(lines[0].rstrip())} chars)",
                                       FIXES["long code line"]))
        if "remove-output" in tags:
            continue
        for output in cell.get("outputs", []):
            kind = output.get("output_type")
            if kind == "stream":
                found += check_output_text(page, where, _text(output.get("text")),
                                           stderr=output.get("name") == "stderr", literals=literals)
            elif kind in ("execute_result", "display_data"):
                data = output.get("data", {})
                glued = [key for key in data if key.startswith("application/papermill.record/")]
                if glued:  # a myst_nb glue: its value lands in the prose, so only paths count
                    text = "\n".join(_text(data[key]) for key in glued if key.endswith("text/plain"))
                    found += [v for v in check_output_text(page, where, text, literals=literals,
                                                           measure_lines=False) if v.rule == "machine path"]
                    continue
                if "text/html" in data or "text/markdown" in data or "image/png" in data:
                    # rendered as HTML: width is the browser test's to measure; paths still count
                    text = _text(data.get("text/html") or data.get("text/markdown") or "")
                    found += check_output_text(page, where, text, literals=literals, measure_lines=False)
                elif "text/plain" in data:
                    found += check_output_text(page, where, _text(data["text/plain"]), literals=literals)
            elif kind == "error":
                found.append(Violation(page, where, "warning",
                                       f"an error output: {output.get('ename')}: {output.get('evalue')}"[:200],
                                       "fix the error; a page shows no traceback"))
    return found


def check_notebook_file(path: Path, page: str | None = None, literals=None) -> list[Violation]:
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    return check_notebook(nb, page or Path(path).name, literals)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path, help="notebooks (executed ones for rules 3-5)")
    args = parser.parse_args(argv)
    violations = [v for path in args.notebooks for v in check_notebook_file(path, str(path))]
    for violation in violations:
        print(violation)
    print(f"{len(violations)} violation(s) of the page rules in {len(args.notebooks)} notebook(s)")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
