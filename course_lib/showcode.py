"""Library code shown on a page: a function's source without its docstring and input checks.

Chapters print the code they discuss (``print(code_without_docstring(f))``) so that the library
stays the single source and the book displays it. Introduced in chapter 3; used by every chapter
that shows library code.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable

__all__ = ["code_without_docstring"]


def _comment_start(line: str) -> int:
    """Index of the ``#`` that starts a comment in ``line`` (outside any string), or -1."""
    quote = ""
    for i, char in enumerate(line):
        if quote:
            if char == quote and line[i - 1] != "\\":
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "#":
            return i
    return -1


def _wrap_line(line: str, width: int) -> list[str]:
    """Break a long code line so that no piece is over ``width`` characters where possible.

    A trailing comment moves to its own line above the code; a long comment is wrapped into
    several comment lines; code is broken after ``", "`` outside strings and comments, the
    continuation indented 4 more spaces. A line with nowhere to break is kept as it is.
    """
    if len(line) <= width:
        return [line]
    lead = " " * (len(line) - len(line.lstrip()))
    comment_at = _comment_start(line)
    if comment_at >= 0 and line[:comment_at].strip():  # code, then a comment: comment first
        return _wrap_line(lead + line[comment_at:], width) + _wrap_line(line[:comment_at].rstrip(), width)
    if comment_at >= 0:  # a comment line
        text = line[comment_at:].lstrip("#").strip()
        return textwrap.wrap(text, width, initial_indent=lead + "# ", subsequent_indent=lead + "# ") or [line]
    indent = lead + "    "
    out: list[str] = []
    while len(line) > width:
        cuts = [i for i in range(len(indent), width) if line.startswith(", ", i)
                and line[:i].count('"') % 2 == 0 and line[:i].count("'") % 2 == 0]  # never inside a string
        if not cuts:
            break
        cut = cuts[-1]
        out.append(line[: cut + 1])
        line = indent + line[cut + 2 :]
    return out + [line]


def code_without_docstring(function: Callable, *, checks: bool = False, width: int = 88) -> str:
    """The source of ``function`` without its docstring (and its input checks): the lines that do the work.

    Chapter 6 prints the code it discusses; the docstring (shapes, arguments) is in the reference,
    and the boundary checks (``if <bad input>: raise ...`` at the top of the body) teach nothing
    about the pitfall, so they are replaced by one comment unless ``checks=True``. Lines longer than
    ``width`` characters are broken after a comma, so the page never scrolls sideways.
    """
    source = textwrap.dedent(inspect.getsource(function))
    node = ast.parse(source).body[0]
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        raise TypeError(f"code_without_docstring expects a function or class, got {type(function).__name__}.")
    lines = source.splitlines()
    drop: list[tuple[int, int]] = []
    body = list(node.body)
    if ast.get_docstring(node) is not None:
        drop.append((body[0].lineno, body[0].end_lineno))
        body = body[1:]
    n_checks = 0
    if not checks:
        for statement in body:
            if isinstance(statement, ast.If) and not statement.orelse and all(isinstance(b, ast.Raise) for b in statement.body):
                drop.append((statement.lineno, statement.end_lineno))
                n_checks += 1
    first_check = min((a for a, _ in drop[-n_checks:]), default=None) if n_checks else None
    kept: list[str] = []
    for number, line in enumerate(lines, start=1):
        if any(a <= number <= b for a, b in drop):
            if number == first_check:
                kept.append(" " * body[0].col_offset + f"# ... {n_checks} input check{'s' if n_checks > 1 else ''} left out ...")
            continue
        kept.extend(_wrap_line(line, width))
    return "\n".join(kept).rstrip() + "\n"
