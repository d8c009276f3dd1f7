"""The module tables (README.md and course_lib/__init__.py) say which chapter introduces each module.

"Introduces" means: the first chapter whose code cells import the module, directly or through a
compatibility module that re-exports it (a module whose public names all live in another module
introduces that module where it is first imported, if that comes first). A module no chapter imports is
listed under "—". Every public module of ``course_lib`` is listed exactly once in each table, so
a new module, a moved one or a chapter that starts importing another module shows up here.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from pathlib import Path

import pytest

import course_lib

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = sorted((ROOT / "book" / "chapters").glob("ch0*.ipynb"))


def imported_modules(code: str) -> set[str]:
    """Top-level ``course_lib`` modules that ``code`` imports (``from course_lib.x.y import ...``
    counts as ``x``; ``from course_lib import a, b as c`` as ``a`` and ``b``)."""
    found = {m.split(".")[1] for m in re.findall(r"^\s*from (course_lib(?:\.\w+)+) import", code, re.M)}
    found |= {m.split(".")[1] for m in re.findall(r"^\s*import (course_lib(?:\.\w+)+)", code, re.M)}
    for names in re.findall(r"^\s*from course_lib import \(?([\w ,]+)", code, re.M):
        found |= {n.strip().split(" as ")[0].strip() for n in names.split(",") if n.strip()}
    return found


def test_imported_modules_reads_every_import_form():
    code = "from course_lib.data.esc50 import X\nimport course_lib.plots\nfrom course_lib import sonicpi, showcode as sc\n"
    assert imported_modules(code) == {"data", "plots", "sonicpi", "showcode"}


def public_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(course_lib.__path__) if not m.name.startswith("_"))


def reexported_homes(name: str) -> set[str]:
    """For a compatibility module (every public name defined elsewhere): the top-level modules
    that define its names. Empty for a module that defines anything itself."""
    module = importlib.import_module(f"course_lib.{name}")
    where = {getattr(getattr(module, n), "__module__", None) for n in getattr(module, "__all__", [])}
    where.discard(None)
    own = module.__name__
    if not where or any(w == own or w.startswith(own + ".") for w in where):
        return set()
    return {w.split(".")[1] for w in where if w.startswith("course_lib.")}


def introduced_in() -> dict[str, int]:
    """Module → the chapter that introduces it (see the module docstring)."""
    first: dict[str, int] = {}
    for notebook in CHAPTERS:
        chapter = int(re.match(r"ch0(\d)", notebook.name).group(1))
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        for module in imported_modules(code):
            first.setdefault(module, chapter)
    for module, chapter in list(first.items()):
        for home in reexported_homes(module):
            first[home] = min(first.get(home, chapter), chapter)
    return first


def readme_table() -> dict[str, str]:
    """Module → the chapter column of its row in the README's module table (``"—"`` or a number)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text[text.index("| chapter | modules it introduces |"):]
    table = table[: table.index("\n\n")]
    listed: dict[str, str] = {}
    for row in table.splitlines()[2:]:
        chapter = row.split("|")[1].strip()
        for module in re.findall(r"`course_lib\.(\w+)`", row):
            assert module not in listed, f"README.md lists course_lib.{module} twice in the module table."
            listed[module] = chapter
    return listed


def init_table() -> dict[str, str]:
    """Module → the chapter in brackets at the end of its line in ``course_lib/__init__.py``."""
    listed: dict[str, str] = {}
    for module, chapter in re.findall(r"^``course_lib\.(\w+)``\s.*\((\d|—)\)$", course_lib.__doc__, re.M):
        assert module not in listed, f"course_lib/__init__.py lists course_lib.{module} twice."
        listed[module] = chapter
    return listed


@pytest.mark.parametrize("where, read", [("README.md", readme_table), ("course_lib/__init__.py", init_table)])
def test_the_module_table_names_the_chapter_that_introduces_each_module(where, read):
    assert len(CHAPTERS) == 7, [p.name for p in CHAPTERS]
    listed = read()
    first = introduced_in()
    modules = public_modules()
    assert sorted(listed) == modules, (
        f"{where}: the module table must list every public module of course_lib once; "
        f"missing {sorted(set(modules) - set(listed))}, not modules {sorted(set(listed) - set(modules))}."
    )
    wrong = {m: (listed[m], first.get(m, "—")) for m in modules if listed[m] != str(first.get(m, "—"))}
    assert not wrong, (
        f"{where}: module → (chapter in the table, chapter that introduces it): {wrong}. "
        "Fix the table (or the import in the chapter)."
    )
