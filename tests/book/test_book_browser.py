"""The built book, opened page by page in headless Chromium, the way a reader sees it.

Takes the book built by the ``built_book`` fixture of ``tests/conftest.py`` (a full build, or the
last clean build when nothing in ``book/`` or ``course_lib/`` changed since), serves it on
127.0.0.1, and runs
``tests/book/browser/check_pages.mjs`` (npm ``playwright-core`` driving Debian's ``/usr/bin/chromium``).
For every page in ``book/_toc.yml`` it checks: no page error, no console error, no failed
request and no request leaving the machine; all math typeset; every ``<audio>`` decodes; no
Python traceback in an output; no empty widget box. Every chapter notebook must show a
figure, and a player where its code makes one. Following links from the front page must
reach every chapter and exercise. Screenshots land in ``book/_build/screenshots/``.

Every toc page also meets the page rules of issue 16 point 6 (``tests/book/page_rules.py``): no code
or output block scrolls sideways at a 1280 px window, no output or prose shows a path of the
building machine, no warning or stderr output, and (from the notebook sources, no browser
needed) no visible glue/prose-building plumbing and no code line over 88 characters.

Without Chromium, Node.js or ``node_modules/playwright-core`` the tests skip and say how to
install them; with ``COURSE_REQUIRE_BROWSER=1`` (set by ``.ci/run``) they fail instead.
``COURSE_BOOK_HTML=DIR`` checks an already built site instead of building one.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import page_rules
import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
BOOK_DIR = REPO_ROOT / "book"
CHECKER = Path(__file__).resolve().parent / "browser" / "check_pages.mjs"
REQUIRE_BROWSER = os.environ.get("COURSE_REQUIRE_BROWSER", "") not in ("", "0")
INSTALL_HINT = (
    "to run the browser test install Chromium and Node.js (Debian/Ubuntu: "
    "`sudo apt-get install chromium nodejs npm`), then `npm ci` in the repository root "
    "(it installs playwright-core only and downloads no browser)"
)
# A call that makes a player: IPython's Audio or course_lib.plots.audio_player.
AUDIO_CALL = re.compile(r"\b(Audio|audio_player)\s*\(")


@dataclass(frozen=True)
class TocPage:
    docname: str  # e.g. "chapters/ch01_audio_as_tensors"
    part: str  # the toc caption, e.g. "Chapters"; "" for the root page
    source: Path | None

    @property
    def html(self) -> str:
        return f"{self.docname}.html"

    @property
    def code_cells(self) -> list[str] | None:
        """Code of the page if it is a notebook (.ipynb or MyST notebook), else None."""
        if self.source is None:
            return None
        text = self.source.read_text(encoding="utf-8")
        if self.source.suffix == ".ipynb":
            cells = json.loads(text)["cells"]
            return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
        front = re.match(r"^---\n(.*?)\n---\n", text, re.S)
        if not front or "kernelspec" not in (yaml.safe_load(front.group(1)) or {}):
            return None
        return re.findall(r"^```\{code-cell\}[^\n]*\n(.*?)^```", text, re.S | re.M)

    @property
    def is_chapter_notebook(self) -> bool:
        return self.part.lower().startswith("chapter") and self.code_cells is not None

    @property
    def makes_audio(self) -> bool:
        return any(AUDIO_CALL.search(code) for code in self.code_cells or [])


def _source(docname: str) -> Path | None:
    for suffix in (".ipynb", ".md"):
        path = BOOK_DIR / f"{docname}{suffix}"
        if path.is_file():
            return path
    return None


def toc_pages() -> list[TocPage]:
    toc = yaml.safe_load((BOOK_DIR / "_toc.yml").read_text(encoding="utf-8"))
    pages = [TocPage(toc["root"], "", _source(toc["root"]))]

    def walk(entries, part):
        for entry in entries or []:
            if "file" in entry:
                pages.append(TocPage(entry["file"], part, _source(entry["file"])))
            walk(entry.get("sections"), part)

    for part in toc.get("parts", []):
        walk(part.get("chapters"), part.get("caption", ""))
    walk(toc.get("chapters"), "Chapters")
    return pages


PAGES = toc_pages()


def _chromium() -> str | None:
    for candidate in (os.environ.get("COURSE_CHROMIUM"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file():
            return candidate
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    return None


def _unavailable() -> str | None:
    """Why the browser test cannot run here, or None."""
    missing = []
    if _chromium() is None:
        missing.append("Chromium (/usr/bin/chromium)")
    if shutil.which("node") is None:
        missing.append("Node.js (node)")
    if not (REPO_ROOT / "node_modules" / "playwright-core" / "package.json").is_file():
        missing.append("node_modules/playwright-core")
    return f"missing {', '.join(missing)}: {INSTALL_HINT}" if missing else None


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output readable
        pass


@pytest.fixture(scope="module")
def report(tmp_path_factory, request) -> dict:
    reason = _unavailable()
    if reason:
        if REQUIRE_BROWSER:
            pytest.fail(f"COURSE_REQUIRE_BROWSER is set but the browser test cannot run: {reason}")
        pytest.skip(reason)
    if override := os.environ.get("COURSE_BOOK_HTML"):
        html = Path(override)
        assert (html / "index.html").is_file(), f"COURSE_BOOK_HTML={override} has no index.html"
    else:  # the build of tests/conftest.py (which executes every chapter once per test run)
        html = request.getfixturevalue("built_book").html
    screenshots = html.parent / "screenshots"
    shutil.rmtree(screenshots, ignore_errors=True)  # no stale picture of a page that is gone
    # Every toc page, plus the pages a reader reaches from the search box and the index.
    pages = ["index.html"] + [page.html for page in PAGES] + ["search.html", "genindex.html"]
    return _check_site(html, pages, screenshots, tmp_path_factory.mktemp("browser"), timeout_s=600)


def _check_site(site: Path, pages: list[str], screenshots: Path, work: Path, *, timeout_s: float) -> dict:
    """Serve ``site`` on 127.0.0.1, run the page checker on ``pages`` (from index.html), return its report."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    config = {"base": f"http://127.0.0.1:{server.server_address[1]}/", "start": "index.html", "pages": pages,
              "chromium": _chromium(), "screenshots": str(screenshots), "report": str(work / "report.json")}
    (work / "config.json").write_text(json.dumps(config))
    try:
        result = subprocess.run(["node", str(CHECKER), str(work / "config.json")], cwd=REPO_ROOT,
                                capture_output=True, text=True, timeout=timeout_s)
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 0, f"{CHECKER.name} failed:\n{result.stdout}\n{result.stderr}"
    print(result.stdout.strip())
    return json.loads((work / "report.json").read_text())


def _page(report: dict, page: TocPage) -> dict:
    found = report["pages"].get(page.html)
    assert found is not None, f"{page.html} was never opened"
    assert found["status"] == 200, f"{page.html}: HTTP {found['status']}"
    return found


def _problems(found: dict) -> dict:
    problems = {
        "requests leaving the machine": found.get("requestsOffMachine", []),
        "failed requests": found.get("failedRequests", []),
        "page errors": found.get("pageErrors", []),
        "console errors": found.get("consoleErrors", []),
        "Python tracebacks in outputs": found.get("tracebacks", []),
        "untypeset math": found.get("rawMath", []),
        "MathJax errors": found.get("mathErrors", []),
        "broken images": found.get("brokenImages", []),
        "audio players that do not decode": [
            a for a in found.get("audio", []) if a["error"] or not (a["duration"] or 0) > 0
        ],
    }
    if found.get("emptyWidgets", 0):
        problems["widget views left empty (offline_book should replace them)"] = [found["emptyWidgets"]]
    return {what: items for what, items in problems.items() if items}


@pytest.mark.parametrize("page", PAGES, ids=[p.docname for p in PAGES])
@pytest.mark.book
def test_page_is_offline_and_error_free(report, page):
    found = _page(report, page)
    problems = _problems(found)
    assert not problems, f"{page.html}: {json.dumps(problems, indent=1)}\nscreenshot: {found.get('screenshot')}"


@pytest.mark.book
def test_other_pages_are_offline_and_error_free(report):
    """Pages outside the toc that a reader can still open: search, the index, the redirect."""
    toc = {page.html for page in PAGES}
    others = {key: found for key, found in report["pages"].items() if key not in toc}
    assert {"index.html", "search.html", "genindex.html"} <= set(others), sorted(others)
    problems = {key: _problems(found) for key, found in others.items()}
    problems = {key: found for key, found in problems.items() if found}
    assert not problems, json.dumps(problems, indent=1)


@pytest.mark.parametrize("page", PAGES, ids=[p.docname for p in PAGES])
@pytest.mark.book
def test_page_shows_no_plumbing(report, page):
    """Issue 16 point 6 on the rendered page: nothing scrolls sideways at 1280 px, no path of the
    building machine, no warning."""
    found = _page(report, page)
    violations = page_rules.check_browser_page(page.html, found)
    assert not violations, (
        f"{len(violations)} page-rule violation(s) on {page.html} (screenshot: {found.get('screenshot')}):\n"
        + "\n".join(map(str, violations))
    )


NOTEBOOK_PAGES = [p for p in PAGES if p.source is not None and p.source.suffix == ".ipynb"]


@pytest.mark.parametrize("page", NOTEBOOK_PAGES, ids=[p.docname for p in NOTEBOOK_PAGES])
def test_notebook_hides_its_plumbing(page):
    """Issue 16 point 6 on the notebook source (no build, no browser): no visible cell that only
    glues values or builds prose strings, no glue(...) in plain sight, no code line over 88."""
    rel = page.source.relative_to(REPO_ROOT)
    violations = page_rules.check_notebook_file(page.source, str(rel))
    source = rel
    if rel.parts[:2] == ("book", "exercises"):  # generated: the fix goes into the solution
        source = Path("solutions") / rel.name
    assert not violations, (
        f"{len(violations)} page-rule violation(s) in {rel} (edit {source}"
        + (", then `make exercises`" if source != rel else "")
        + f"; check one notebook: `.venv/bin/python tests/book/page_rules.py {source}`):\n"
        + "\n".join(map(str, violations))
    )


# A page with one violation of each rule the browser measures or reads, and a clean page: the
# checker must find every one on the first and nothing on the second (no book build needed).
_RULE_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title>
<link rel="icon" href="data:,"><style>
article {{ width: 700px; font-family: monospace; }} pre {{ overflow-x: auto; font-size: 14px; }}
</style></head><body><article class="bd-article"><h1>{title}</h1><h2>Section A</h2>
<p>Some prose{prose}.</p>
<div class="cell docutils container"><div class="cell_input docutils container">
<div class="highlight"><pre>x = compute()
{code}</pre></div></div>
<div class="cell_output docutils container">
<div class="output stream highlight-myst-ansi notranslate"><div class="highlight"><pre>{out}</pre></div></div>
{stderr}{table}</div></div>
<details class="hide above-input"><summary>Show code</summary><div class="cell docutils container">
<div class="cell_input docutils container"><div class="highlight"><pre>y = 1{folded}</pre></div></div>
</div></details>
</article></body></html>"""


def _rule_page(title: str, bad: bool) -> str:
    wide = "w" * 300
    return _RULE_PAGE.format(
        title=title,
        prose=f" saved to {REPO_ROOT}/book/x.wav" if bad else "",
        code=f"print('{wide}')" if bad else "print(x)",
        out=("loaded /root/.cache/torch/hub/checkpoints/m.pt\nUserWarning: converting a tensor"
             if bad else "loaded m.pt"),
        stderr=('<div class="output stderr highlight-myst-ansi notranslate"><div class="highlight">'
                "<pre>/tmp/ipykernel_1/1.py:3: some message</pre></div></div>") if bad else "",
        table=(f"<div class=\"output text_html\"><table><tr><td>{' '.join(['cell'] * 200)}</td>"
               "<td>" + "x" * 400 + "</td></tr></table></div>") if bad else "",
        folded=f"\n# {wide}" if bad else "",
    )


def test_checker_finds_each_rule_violation_on_a_tiny_page(tmp_path):
    """check_pages.mjs + page_rules on two hand-made pages: every rule fires on the bad page,
    none on the good one (so the rules cannot pass silently on the book)."""
    reason = _unavailable()
    if reason:
        if REQUIRE_BROWSER:
            pytest.fail(f"COURSE_REQUIRE_BROWSER is set but the browser test cannot run: {reason}")
        pytest.skip(reason)
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(
        '<!DOCTYPE html><html><head><link rel="icon" href="data:,"></head><body>'
        '<article class="bd-article"><a href="bad.html">bad</a> <a href="good.html">good</a>'
        "</article></body></html>")
    (site / "bad.html").write_text(_rule_page("Bad", bad=True))
    (site / "good.html").write_text(_rule_page("Good", bad=False))
    pages = _check_site(site, ["bad.html", "good.html"], tmp_path / "shots", tmp_path, timeout_s=300)["pages"]
    literals = page_rules.machine_path_literals()
    bad = page_rules.check_browser_page("bad.html", pages["bad.html"], literals)
    good = page_rules.check_browser_page("good.html", pages["good.html"], literals)
    assert good == [], "\n".join(map(str, good))
    rules = {}
    for violation in bad:
        rules.setdefault(violation.rule, []).append(violation)
    # The wide code line (shown and folded), the wide table: three blocks that scroll or overflow.
    wide = pages["bad.html"]["wide"]
    assert len(wide) == 3, json.dumps(wide, indent=1)
    assert any("table" in w["element"] or "text_html" in w["element"] for w in wide), wide
    assert len(rules.get("long code line", [])) == 2 and len(rules.get("wide output", [])) == 1, bad
    assert all("cell" in v.where and "Section A" in v.where for v in rules["long code line"]), bad
    paths = " ".join(v.detail for v in rules["machine path"])
    assert "/root/.cache/torch" in paths and "/tmp/ipykernel_1" in paths and str(REPO_ROOT) in paths, paths
    warnings = " ".join(v.detail for v in rules["warning"])
    assert "stderr output" in warnings and "UserWarning" in warnings, warnings
    assert pages["bad.html"]["screenshot"] and Path(pages["bad.html"]["screenshot"]).is_file()


CHAPTER_NOTEBOOKS = [p for p in PAGES if p.is_chapter_notebook]


@pytest.mark.parametrize("page", CHAPTER_NOTEBOOKS, ids=[p.docname for p in CHAPTER_NOTEBOOKS])
@pytest.mark.book
def test_chapter_shows_a_figure_and_its_audio(report, page):
    found = _page(report, page)
    assert found["figures"] >= 1, f"{page.html} shows no figure; screenshot: {found.get('screenshot')}"
    if page.makes_audio:
        playable = [a for a in found["audio"] if (a["duration"] or 0) > 0 and not a["error"]]
        assert playable, (
            f"{page.source.name} makes an audio player but {page.html} shows no working one: "
            f"{found['audio']}"
        )


@pytest.mark.book
def test_navigation_reaches_every_chapter_and_exercise(report):
    reached = set(report["reached"])
    unreached = [page.html for page in PAGES if page.html not in reached]
    assert not unreached, f"no link from the front page leads to {unreached}"
    sidebar = set(report["pages"][PAGES[0].html]["navLinks"])
    missing = [page.html for page in PAGES if page.html not in sidebar]
    assert not missing, f"the sidebar of {PAGES[0].html} does not list {missing}"


def test_every_toc_entry_has_a_source():
    missing = [page.docname for page in PAGES if page.source is None]
    assert not missing, f"book/_toc.yml names pages with no .ipynb or .md source: {missing}"


# --- The offline configuration itself (no browser needed) -----------------------------------


def _book_sphinx_config() -> dict:
    return yaml.safe_load((BOOK_DIR / "_config.yml").read_text(encoding="utf-8"))["sphinx"]["config"]


def _offline_book():
    """book/_ext/offline_book.py, imported as Sphinx imports it (from local_extensions)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("offline_book", BOOK_DIR / "_ext" / "offline_book.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_extension_list_is_jupyter_books_default_without_thebe():
    """`sphinx.config.extensions` replaces Jupyter Book's list whole: keep it in step."""
    from jupyter_book.config import get_default_sphinx_config

    default = get_default_sphinx_config()["extensions"]
    ours = _book_sphinx_config()["extensions"]
    expected = [name for name in default if name != "sphinx_thebe"] + ["offline_book", "course_pages"]
    assert sorted(ours) == sorted(expected), (
        f"book/_config.yml extensions {ours} differ from Jupyter Book's default list without "
        f"sphinx_thebe, plus offline_book and course_pages: {expected}"
    )


def test_mathjax_is_served_from_the_site():
    config = _book_sphinx_config()
    assert not config["mathjax_path"].startswith(("http:", "https:", "//"))
    assert config["nb_ipywidgets_js"] == {}
    offline_book = _offline_book()
    script = config["mathjax_path"].split("?")[0]
    assert script.startswith(offline_book.MATHJAX_TARGET + "/")
    shipped = offline_book.mathjax_source_dir() / script.removeprefix(offline_book.MATHJAX_TARGET + "/")
    assert shipped.is_file(), f"{shipped} is not in the jupyter-server-mathjax wheel"
    config_name = config["mathjax_path"].split("config=")[1]
    assert (offline_book.mathjax_source_dir() / "config" / f"{config_name}.js").is_file()


def test_widget_views_become_a_note():
    from docutils import nodes
    from docutils.frontend import get_default_settings
    from docutils.parsers.rst import Parser
    from docutils.utils import new_document

    offline_book = _offline_book()
    doc = new_document("page", get_default_settings(Parser))
    view = '<script type="application/vnd.jupyter.widget-view+json">{"model_id": "x"}</script>'
    doc += nodes.raw("", view, format="html")
    doc += nodes.raw("", "<p>other raw html</p>", format="html")
    offline_book.replace_widget_views(None, doc)
    raws = [node.astext() for node in doc.findall(nodes.raw)]
    assert raws == ["<p>other raw html</p>"]
    notes = list(doc.findall(nodes.admonition))
    assert len(notes) == 1 and offline_book.WIDGET_NOTE in notes[0].astext()
