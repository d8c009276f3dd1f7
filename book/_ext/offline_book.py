"""Make every page of the book self-contained: it loads nothing from another machine.

A default Jupyter Book 1 page asks three CDNs for scripts (MathJax 3, and on pages with
ipywidgets require.js and the widget manager), and sphinx-thebe writes a script that fails
in a real browser.  ``_config.yml`` removes sphinx-thebe, points ``mathjax_path`` at a local
copy and empties ``nb_ipywidgets_js``; this extension does the rest:

* it copies MathJax 2.7 from the ``jupyter-server-mathjax`` wheel (installed by ``make book``
  from PyPI, so no Node.js is needed) into ``_static/mathjax/`` of the built site;
* it refuses to build a page whose ``mathjax_path`` or widget scripts point off the machine;
* it replaces each ipywidgets view (which needs a running kernel, so it would be an empty box
  in the web page) with a short note telling the reader where the controls come alive.

The browser test (``tests/book/test_book_browser.py``) checks the result the way a reader sees it.
"""

from __future__ import annotations

from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import ConfigError
from sphinx.util.fileutil import copy_asset

WIDGET_VIEW_MIMETYPE = "application/vnd.jupyter.widget-view+json"
MATHJAX_TARGET = "mathjax"  # inside the built site's _static/

WIDGET_NOTE = (
    "Interactive controls appear here when you run this notebook in Jupyter. "
    "A web page cannot run Python, so the figures beside them show what the settings do."
)


def _is_remote(url: str) -> bool:
    return url.startswith(("http://", "https://", "//"))


def mathjax_source_dir() -> Path:
    """The MathJax 2.7 tree shipped by the ``jupyter-server-mathjax`` wheel."""
    try:
        import jupyter_server_mathjax
    except ImportError as error:  # pragma: no cover - depends on the install
        raise ConfigError(
            "offline_book: the package 'jupyter-server-mathjax' is missing; "
            "install the book extra: pip install -e '.[book]' (make book does it)"
        ) from error
    static = Path(jupyter_server_mathjax.__file__).parent / "static"
    if not (static / "MathJax.js").is_file():  # pragma: no cover - a broken install
        raise ConfigError(f"offline_book: no MathJax.js in {static}")
    return static


def check_config(app: Sphinx, config) -> None:
    """Fail early, with a message saying what to change, if a page would load a remote script."""
    if _is_remote(config.mathjax_path):
        raise ConfigError(
            f"offline_book: mathjax_path is remote ({config.mathjax_path}); set it in "
            f"book/_config.yml to '{MATHJAX_TARGET}/MathJax.js?config=...'"
        )
    remote = [url for url in (config.nb_ipywidgets_js or {}) if _is_remote(url)]
    if remote:
        raise ConfigError(
            f"offline_book: nb_ipywidgets_js loads {remote}; set it to {{}} in book/_config.yml"
        )
    if "sphinx_thebe" in config.extensions:
        raise ConfigError(
            "offline_book: sphinx_thebe writes THEBE_JS_URL twice (a page error in a browser); "
            "leave it out of sphinx.config.extensions"
        )


def replace_widget_views(app: Sphinx, doctree: nodes.document) -> None:
    """Swap each widget view (a script only a kernel-backed manager can draw) for a note."""
    for raw in list(doctree.findall(nodes.raw)):
        if WIDGET_VIEW_MIMETYPE not in raw.astext():
            continue
        note = nodes.admonition(classes=["note", "widget-static-note"])
        note += nodes.title(text="Interactive in Jupyter")
        note += nodes.paragraph(text=WIDGET_NOTE)
        raw.replace_self(note)


def copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / MATHJAX_TARGET
    copy_asset(str(mathjax_source_dir()), str(target))


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", check_config)
    app.connect("doctree-read", replace_widget_views)
    app.connect("build-finished", copy_mathjax)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
