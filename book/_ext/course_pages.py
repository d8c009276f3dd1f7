"""Measured page facts: how long each page takes to read and to run, shown where a reader plans.

* Every chapter and exercise page gets a line under its title: the reading time (words of prose and
  code at :data:`WORDS_PER_MINUTE` and :data:`CODE_LINES_PER_MINUTE`) and the time its notebook took
  to execute **in this build** (myst-nb's execution record), e.g. "≈ 24 min to read · runs in 19 s".
* The directive ``{course-pages}`` (used on the landing page) draws a table with one row per listed
  page: its title as a link, a one-line summary written in the directive's body, the data it uses,
  and the same two measured times.

Nothing is typed by hand: both times come from the pages and the build that made them. A page that
was not executed in this build (e.g. a Markdown page) shows its reading time only.

* An exercise page (``exercises/<name>``) is the solved notebook; its download button must give the
  learner the notebook to work in. After the build, the page's downloadable source
  (``_sources/exercises/<name>.ipynb``) is replaced by the learner notebook ``exercises/<name>.ipynb``
  of the repository (config value ``course_learner_notebooks``, relative to the book folder).
"""

from __future__ import annotations

import math
import re
import shutil
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment

WORDS_PER_MINUTE = 200  # prose, read carefully (technical text is read at 150-250 words/minute)
CODE_LINES_PER_MINUTE = 12  # code is read line by line, with its output

FACTS_CLASS = "course-page-facts"


def count_reading(doctree: nodes.document) -> tuple[int, int]:
    """(words of prose, lines of source code) in a page's doctree; cell outputs are not counted."""
    words = 0
    code_lines = 0
    for node in doctree.findall(nodes.Text):
        if _inside(node, "cell_output"):
            continue
        if _in_literal(node):
            if _inside(node, "cell_input"):
                code_lines += len([line for line in node.astext().splitlines() if line.strip()])
            continue
        words += len(re.findall(r"\w+", node.astext()))
    return words, code_lines


def reading_minutes(words: int, code_lines: int) -> int:
    """Minutes to read ``words`` of prose and ``code_lines`` of code (at least 1)."""
    if words < 0 or code_lines < 0:
        raise ValueError(f"counts must be >= 0, got words={words}, code_lines={code_lines}")
    return max(1, math.ceil(words / WORDS_PER_MINUTE + code_lines / CODE_LINES_PER_MINUTE))


def format_runtime(seconds: float | None) -> str | None:
    """'runs in 19 s' / 'runs in 1 min 05 s'; ``None`` when the page was not executed."""
    if seconds is None:
        return None
    total = max(1, round(seconds))
    if total < 60:
        return f"runs in {total} s"
    return f"runs in {total // 60} min {total % 60:02d} s"


def _inside(node: nodes.Node, cls: str) -> bool:
    parent = node.parent
    while parent is not None:
        if cls in parent.get("classes", []):
            return True
        parent = parent.parent
    return False


def _in_literal(node: nodes.Node) -> bool:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, (nodes.literal_block, nodes.literal, nodes.raw)):
            return True
        parent = parent.parent
    return False


def _runtime(env: BuildEnvironment, docname: str) -> float | None:
    try:
        from myst_nb.sphinx_ import NbMetadataCollector
    except ImportError:  # pragma: no cover - myst-nb is part of jupyter-book
        return None
    data = NbMetadataCollector.get_exec_data(env, docname) if docname in env.all_docs else None
    if not data or not data.get("succeeded"):
        return None
    return data.get("runtime")


def page_facts(env: BuildEnvironment, docname: str) -> tuple[int, float | None]:
    words, code_lines = getattr(env, "course_reading", {}).get(docname, (0, 0))
    return reading_minutes(words, code_lines), _runtime(env, docname)


def _facts_text(env: BuildEnvironment, docname: str) -> str:
    minutes, runtime = page_facts(env, docname)
    parts = [f"≈ {minutes} min to read"]
    ran = format_runtime(runtime)
    if ran:
        parts.append(f"{ran} on the machine that built this book")
    return " · ".join(parts)


# ---------------------------------------------------------------------------------- collection
def collect(app: Sphinx, doctree: nodes.document) -> None:
    env = app.env
    if not hasattr(env, "course_reading"):
        env.course_reading = {}
    env.course_reading[env.docname] = count_reading(doctree)


def purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    getattr(env, "course_reading", {}).pop(docname, None)


def merge(app: Sphinx, env: BuildEnvironment, docnames, other: BuildEnvironment) -> None:
    if not hasattr(env, "course_reading"):
        env.course_reading = {}
    env.course_reading.update(getattr(other, "course_reading", {}))


# ---------------------------------------------------------------------------------- rendering
class course_pages_table(nodes.General, nodes.Element):
    """Placeholder filled in when every page has been read (see :func:`resolve`)."""


class CoursePagesDirective(Directive):
    """``{course-pages}``: body lines ``docname | summary | data``; a table with measured times."""

    has_content = True

    def run(self):
        rows = []
        for number, line in enumerate(self.content, start=1):
            if not line.strip():
                continue
            fields = [field.strip() for field in line.split("|")]
            if len(fields) != 3 or not all(fields):
                raise self.error(
                    f"course-pages line {number}: expected 'docname | summary | data', got {line!r}"
                )
            rows.append(fields)
        node = course_pages_table()
        node["rows"] = rows
        return [node]


def _paragraph(text: str) -> nodes.paragraph:
    return nodes.paragraph(text=text)


def _table(app: Sphinx, fromdocname: str, rows: list[list[str]]) -> nodes.table:
    env = app.env
    headers = ["Page", "What you do there", "Data", "Read", "Run"]
    table = nodes.table(classes=["course-pages"])
    group = nodes.tgroup(cols=len(headers))
    table += group
    for width in (22, 46, 16, 8, 8):
        group += nodes.colspec(colwidth=width)
    head = nodes.thead()
    group += head
    row = nodes.row()
    for header in headers:
        row += nodes.entry("", _paragraph(header))
    head += row
    body = nodes.tbody()
    group += body
    for docname, summary, data in rows:
        if docname not in env.all_docs:
            raise ValueError(
                f"course-pages in {fromdocname}: no page {docname!r} in this book "
                f"(names are paths under book/ without the suffix, as in _toc.yml)"
            )
        minutes, runtime = page_facts(env, docname)
        title = env.titles[docname].astext()
        link = nodes.reference("", title, internal=True)
        link["refuri"] = app.builder.get_relative_uri(fromdocname, docname)
        cells = [
            nodes.paragraph("", "", link),
            _paragraph(summary),
            _paragraph(data),
            _paragraph(f"{minutes} min"),
            _paragraph(f"{max(1, round(runtime))} s" if runtime is not None else "—"),
        ]
        row = nodes.row()
        for cell in cells:
            row += nodes.entry("", cell)
        body += row
    return table


def resolve(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    env = app.env
    for node in list(doctree.findall(course_pages_table)):
        node.replace_self(_table(app, docname, node["rows"]))
    if docname == env.config.root_doc:
        return
    # The facts line goes right under the page's first title.
    for section in doctree.findall(nodes.section):
        title = section.next_node(nodes.title)
        if title is None:
            continue
        facts = nodes.paragraph(classes=[FACTS_CLASS])
        facts += nodes.emphasis(text=_facts_text(env, docname))
        title.parent.insert(title.parent.index(title) + 1, facts)
        break


def serve_learner_notebooks(app: Sphinx, exception: Exception | None) -> None:
    """Replace each exercise page's downloadable source by the learner notebook."""
    if exception is not None or app.builder.format != "html":
        return
    learner_dir = (Path(app.srcdir) / app.config.course_learner_notebooks).resolve()
    for docname in sorted(app.env.found_docs):
        if not docname.startswith("exercises/"):
            continue
        name = docname.split("/", 1)[1]
        learner = learner_dir / f"{name}.ipynb"
        if not learner.is_file():
            raise FileNotFoundError(
                f"course_pages: no learner notebook {learner} for the page {docname}; "
                "run `make exercises` (it writes exercises/ from solutions/)"
            )
        target = Path(app.outdir) / "_sources" / f"{docname}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(learner, target)


def setup(app: Sphinx) -> dict:
    app.add_config_value("course_learner_notebooks", "../exercises", "html")
    app.connect("build-finished", serve_learner_notebooks)
    app.add_node(course_pages_table)
    app.add_directive("course-pages", CoursePagesDirective)
    app.connect("doctree-read", collect)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    app.connect("doctree-resolved", resolve)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
