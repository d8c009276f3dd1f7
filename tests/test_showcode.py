"""course_lib.showcode: library code printed on a page stays within the column, and stays code."""

from __future__ import annotations

import ast

from course_lib.showcode import _wrap_line, code_without_docstring


def test_a_trailing_comment_moves_above_its_code_and_nothing_breaks_inside_it():
    line = "        h = self.stack(x).mean(dim=2)  # (batch, C, T'): average over frequency, then time"
    lines = _wrap_line(line, 60)
    assert lines[0].startswith("        # (batch, C, T'): average")  # the comment, whole words, at the code's indent
    assert all(piece.lstrip().startswith("#") for piece in lines[:-1])
    assert lines[-1] == "        h = self.stack(x).mean(dim=2)"


def test_long_comment_lines_are_wrapped_as_comments():
    lines = _wrap_line("    # " + "word, " * 30, 50)
    assert len(lines) > 1 and all(len(piece) <= 50 and piece.startswith("    # ") for piece in lines)


def test_code_breaks_after_commas_outside_strings_and_stays_valid_python():
    line = 'x = f(aaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbb, cccccccccccccccccccccc, "a, # b")'
    lines = _wrap_line(line, 40)
    assert len(lines) > 1 and all(len(piece) <= 40 for piece in lines[:-1])
    assert '"a, # b"' in "\n".join(lines)
    ast.parse("\n".join(lines))


def test_short_lines_and_hash_inside_strings_are_left_alone():
    assert _wrap_line('    s = "#" + y', 10) == ['    s = "#" + y']
    assert _wrap_line("x = 1", 88) == ["x = 1"]


def _example(values, scale=2):
    """Doc."""
    if scale < 0:
        raise ValueError("scale must be >= 0")
    return [value * scale for value in values]  # a comment that makes this line rather long indeed, yes


def test_code_without_docstring_fits_the_width_and_parses():
    code = code_without_docstring(_example, width=60)
    assert '"""Doc."""' not in code and "# ... 1 input check left out ..." in code
    assert all(len(line) <= 60 for line in code.splitlines())
    ast.parse(code)
