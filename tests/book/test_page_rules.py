"""The page-rule detectors of tests/book/page_rules.py (issue 16 point 6), each shown a tiny notebook
or text with and without its problem, so that a rule cannot pass the book silently."""

from __future__ import annotations

import json

import page_rules
import pytest
from page_rules import check_browser_page, check_notebook, find_machine_paths, find_warnings, is_plumbing

LITERALS = page_rules.machine_path_literals(repo_root="/work/course", home="/home/ana", tmp="/tmp",
                                            prefix="/work/course/.venv")


def _nb(*cells: dict) -> dict:
    return {"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def _code(source: str, tags=(), outputs=()) -> dict:
    return {"cell_type": "code", "source": source, "metadata": {"tags": list(tags)},
            "outputs": list(outputs), "execution_count": 1}


def _stream(text: str, name: str = "stdout") -> dict:
    return {"output_type": "stream", "name": name, "text": text}


def _rules(nb: dict) -> list[str]:
    return [v.rule for v in check_notebook(nb, "page.ipynb", LITERALS)]


# --- plumbing --------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [
    'glue("n", n, display=False)',
    'from myst_nb import glue\nglue("n", n, display=False)\nglue("m", f"{m:.1f}", display=False)',
    'text = f"{n} clips"\nglue("text", Markdown(text), display=False)',
    'names = ", ".join(f"`{x}`" for x in NAMES)\nglue("names", Markdown(names), display=False)',
    'KEYS = ["a", "b"]\nif not REAL:\n    for key in KEYS:\n        glue(key, "n/a", display=False)',
    'verdict = "better" if a > b else "worse"\nglue("verdict", verdict, display=False)',
    'display(Markdown(f"**{n}** clips"))',
    'import myst_nb\nmyst_nb.glue("n", 3, display=False)',
])
def test_plumbing_cells_are_recognised(code):
    assert is_plumbing(code)
    assert _rules(_nb(_code(code))) == ["plumbing"]
    assert _rules(_nb(_code(code, tags=["remove-input"]))) == []
    assert _rules(_nb(_code(code, tags=["remove-cell"]))) == []


@pytest.mark.parametrize("code", [
    "model = build_model('cnn')\nprint(model)",
    'print(f"{n} clips")',
    "x = torch.zeros(3)",
    "%timeit f()",
    "",
    "def f(:",  # does not parse: not called plumbing
])
def test_code_that_teaches_is_not_plumbing(code):
    assert not is_plumbing(code)


def test_a_visible_glue_beside_teaching_code_must_be_hidden_or_moved():
    code = 'accuracy = evaluate(model)\nprint(accuracy)\nglue("acc", f"{accuracy:.2f}", display=False)'
    assert _rules(_nb(_code(code))) == ["visible glue"]
    assert _rules(_nb(_code(code, tags=["hide-input"]))) == []
    assert _rules(_nb(_code(code, tags=["remove-input"]))) == []
    assert _rules(_nb(_code("accuracy = evaluate(model)\nprint(accuracy)"))) == []
    # "glue" in a comment or a string is no call
    assert _rules(_nb(_code('print("we glue numbers into the prose")  # glue(...)'))) == []


def test_violations_name_the_page_the_cell_and_the_fix():
    nb = _nb({"cell_type": "markdown", "source": "# Title", "metadata": {}},
             _code('glue("n_classes", len(CLASS_NAMES), display=False)'))
    (violation,) = check_notebook(nb, "chapters/ch09.ipynb", LITERALS)
    text = str(violation)
    assert text.startswith('chapters/ch09.ipynb, cell 2 (`glue("n_classes", len(CLASS_NAMES), display=False)`)')
    long = _nb(_code('glue("a_much_longer_name", some_function(argument), display=False)'))
    assert check_notebook(long, "p", LITERALS)[0].where == 'cell 1 (`glue("a_much_longer_name", some_function(argume...`)'
    assert "remove-input" in violation.fix and "fix:" in text


# --- code blocks in markdown ---------------------------------------------------------------


def _md(source: str) -> dict:
    return {"cell_type": "markdown", "source": source, "metadata": {}}


def test_markdown_code_blocks_over_88_characters():
    long = "python -m course_lib train --root my_sounds --out runs/cnn --model attention_cnn --x 1234"
    assert len(long) == 89
    assert _rules(_nb(_md(f"Run:\n\n```bash\n{long}\n```\n"))) == ["long code line"]
    assert _rules(_nb(_md(f"```\n{long}\n```"))) == ["long code line"]
    assert _rules(_nb(_md(f"```{{code-block}} python\n{long}\n```"))) == ["long code line"]
    # a code block inside a directive counts; the directive's prose does not
    nested = f"````{{dropdown}} Answers\n{'prose ' * 30}\n```bash\n{long}\n```\n````"
    assert _rules(_nb(_md(nested))) == ["long code line"]
    prose_only = f"```{{warning}}\n{'a long sentence of prose ' * 10}\n```\n\n:::{{note}}\n{'x ' * 60}\n:::"
    assert _rules(_nb(_md(prose_only))) == []
    assert _rules(_nb(_md(f"```bash\n{long[:88]}\n```"))) == []
    assert page_rules.markdown_code_lines(nested) == [long]


# --- long code and output lines ---------------------------------------------------------


def test_code_lines_over_88_characters():
    ok = "x = " + "1" * 84  # 88 characters
    assert _rules(_nb(_code(ok))) == []
    assert _rules(_nb(_code(ok + "1"))) == ["long code line"]
    assert _rules(_nb(_code(ok + "1", tags=["remove-input"]))) == []  # not shown


def test_output_lines_over_88_characters():
    assert _rules(_nb(_code("f()", outputs=[_stream("y" * 88 + "\n")]))) == []
    assert _rules(_nb(_code("f()", outputs=[_stream("short\n" + "y" * 89 + "\n")]))) == ["wide output"]
    result = {"output_type": "execute_result", "execution_count": 1, "metadata": {},
              "data": {"text/plain": "z" * 120}}
    assert _rules(_nb(_code("f()", outputs=[result]))) == ["wide output"]
    # an HTML table is measured by the browser, not by characters
    html = {"output_type": "display_data", "metadata": {},
            "data": {"text/html": "<table>" + "<td>x</td>" * 50 + "</table>", "text/plain": "t" * 200}}
    assert _rules(_nb(_code("f()", outputs=[html]))) == []
    assert _rules(_nb(_code("f()", tags=["remove-output"], outputs=[_stream("y" * 200)]))) == []


# --- machine paths -----------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("saved to /tmp/tmpab12/cache.pt", "/tmp/tmpab12/cache.pt"),
    ("Downloading to /root/.cache/torch/hub/checkpoints/x.pth", "/root/.cache/torch/hub/checkpoints/x.pth"),
    ("found in /home/bob/data/esc50", "/home/bob/data/esc50"),
    ("see ~/.cache/course/esc50", "~/.cache/course/esc50"),
    ("repository at /work/course/book/chapters", "/work/course/book/chapters"),
    ("python at /work/course/.venv/bin/python", "/work/course/.venv/bin/python"),
    ("'/var/folders/x1/T/tmp9'", "/var/folders/x1/T/tmp9"),
    ("C:\\Users\\ana\\data", "C:\\Users\\ana\\data"),
])
def test_machine_paths_are_found(text, expected):
    assert expected in find_machine_paths(text, LITERALS)
    rules = _rules(_nb(_code("f()", outputs=[_stream(text + "\n")])))
    assert rules == ["machine path"]


@pytest.mark.parametrize("text", [
    "see https://example.org/home/page and https://x.org/tmp/y",
    "data/tmp/x.wav and esc50/audio/1-100.wav",
    "the /rootfs image",  # not /root
    "a ratio 3/4 and 1/tmp",
    "course_lib/pretrained/aisfx.py",
])
def test_text_without_machine_paths(text):
    assert find_machine_paths(text, LITERALS) == []


def test_machine_path_literals_come_from_this_machine(tmp_path, monkeypatch):
    literals = page_rules.machine_path_literals()
    assert str(page_rules.REPO_ROOT) in literals
    import os
    import sys
    import tempfile

    assert os.path.expanduser("~").rstrip("/") in literals
    assert tempfile.gettempdir().rstrip("/") in literals and sys.prefix.rstrip("/") in literals
    assert "/" not in literals and "" not in literals
    # longest first, so a repository inside the home folder is reported whole
    assert literals == sorted(literals, key=len, reverse=True)


def test_a_glued_path_reaches_the_prose_and_counts():
    glued = {"output_type": "display_data",
             "metadata": {"scrapbook": {"name": "where", "mime_prefix": "application/papermill.record/"}},
             "data": {"application/papermill.record/text/plain": "'/home/ana/cache/x'"}}
    assert _rules(_nb(_code('glue("where", str(p), display=False)', tags=["remove-input"],
                            outputs=[glued]))) == ["machine path"]


# --- warnings ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "/x.py:3: UserWarning: Converting a tensor with requires_grad=True to a scalar",
    "DeprecationWarning: this is old",
    "Warning: the file is short",
    "FutureWarning: the default changes",
])
def test_warning_texts_are_found(text):
    assert find_warnings("ok\n" + text) != []


def test_stderr_is_a_warning_and_plain_words_are_not():
    assert _rules(_nb(_code("f()", outputs=[_stream("progress 10%\n", name="stderr")]))) == ["warning"]
    assert _rules(_nb(_code("f()", outputs=[_stream("a warning sign; the warnings module\n")]))) == []
    assert find_warnings("we warn the reader") == []
    error = {"output_type": "error", "ename": "ValueError", "evalue": "bad", "traceback": []}
    assert _rules(_nb(_code("f()", outputs=[error]))) == ["warning"]


# --- what the browser reports ------------------------------------------------------------------


def test_browser_findings_become_violations():
    found = {
        "wide": [
            {"where": 'cell 3 of the page (`print(x)`), its output, in section "A"', "element": "pre.",
             "scrollWidth": 2000, "clientWidth": 700, "pastColumn": 0, "longestLine": "y" * 200,
             "longestChars": 200},
            {"where": 'cell 3 of the page (`print(x)`), its code, in section "A"', "element": "pre.",
             "scrollWidth": 900, "clientWidth": 700, "pastColumn": 0, "longestLine": "", "longestChars": 0},
        ],
        "outputTexts": [
            {"where": "cell 4", "stderr": True, "text": "/tmp/ipykernel_7/2.py:1: UserWarning: x"},
            {"where": "cell 5", "stderr": False, "text": "accuracy 0.93"},
        ],
        "prose": "The model was saved in /work/course/book/_build/m.pt. See /tmp for scratch files.",
    }
    violations = check_browser_page("chapters/ch09.html", found, LITERALS)
    rules = sorted(v.rule for v in violations)
    assert rules == ["long code line", "machine path", "machine path", "warning", "wide output"], violations
    prose = [v for v in violations if v.where.startswith("the prose")]
    assert len(prose) == 1 and "/work/course/book/_build/m.pt" in prose[0].detail
    assert check_browser_page("x.html", {"wide": [], "outputTexts": [], "prose": "plain words"},
                              LITERALS) == []


def test_command_line_checks_one_notebook(tmp_path, capsys):
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(_nb(_code('glue("n", 3, display=False)'))))
    assert page_rules.main([str(path)]) == 1
    assert "plumbing" in capsys.readouterr().out
    path.write_text(json.dumps(_nb(_code("print(3)", outputs=[_stream("3\n")]))))
    assert page_rules.main([str(path)]) == 0
