"""Sphinx extension of the book: a runnable ``.ipynb`` on every chapter page, and launch buttons
only once the repository address is known.

Notebooks.  myst-nb writes each executed chapter, with its outputs, to ``<build>/jupyter_execute``
(next to the HTML folder).  For every page whose source is a notebook (its metadata has a
``kernelspec``, as the MyST chapters do), this extension writes a clean copy to
``<html>/_notebooks/<page>.ipynb`` and links it from the page's download drop-down (entry
``.ipynb``), or from a header button of its own when the build turns the download drop-down off
(the student edition).  The copy is taken from *this* build's executed notebooks, so a build
of a stripped source tree ships stripped notebooks; and a build with sphinx-exercise's
``hide_solutions: True`` also drops every ``{solution}`` block and every
``solution-start``/``solution-end`` span (code cells included) from the copy, since the
executed notebooks of such a build still hold the solutions.  ``notebook_links_enabled =
False`` (``sphinx: config:`` in ``_config.yml``) turns the whole thing off.  Known limit: with
``execute_notebooks: cache`` myst-nb 1.4 writes ``jupyter_execute`` copies *without* outputs
(the page itself has them), so the linked notebooks have none; the book's builds use ``force``.

Launch buttons.  Jupyter Book fills in its own repository address when ``repository: url:``
is not set, so configured Binder/JupyterHub buttons would launch *jupyter-book's* repository.
Unless ``repository: url:`` is set in ``_config.yml`` (the one place to set it), this extension
removes the launch providers; once it is set it also turns on the repository button.
Checked in ``tests/test_local_use.py``.
"""
from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)
NOTEBOOK_DIR = "_notebooks"
# what Jupyter Book puts in when `repository: url:` is not set
JUPYTER_BOOK_PLACEHOLDER = "https://github.com/executablebooks/jupyter-book"
LAUNCH_PROVIDERS = ("binderhub_url", "jupyterhub_url", "colab_url", "deepnote_url",
                    "jupyterlite_url", "thebe")

_FENCE = re.compile(r"^(?P<fence>`{3,}|:{3,})\s*\{(?P<name>[a-z-]+)\}")


def repository_is_set(url) -> bool:
    """True when the book names its own repository (not empty, not Jupyter Book's default)."""
    return bool(url) and str(url).rstrip("/") != JUPYTER_BOOK_PLACEHOLDER


def _configure_launch(app, config) -> None:
    opts = config.html_theme_options
    if repository_is_set(opts.get("repository_url")):
        opts["use_repository_button"] = True
        return
    launch = dict(opts.get("launch_buttons") or {})
    if any(launch.get(key) for key in LAUNCH_PROVIDERS):
        LOGGER.info("notebook_links: no `repository: url:` in _config.yml, so no launch buttons")
    for key in LAUNCH_PROVIDERS:
        launch[key] = False if key == "thebe" else ""
    opts["launch_buttons"] = launch


def strip_solutions(nb):
    """A copy of ``nb`` without sphinx-exercise solutions.

    Removes every fenced ``{solution}`` block and every span from a ``{solution-start}`` fence
    to the end of its ``{solution-end}`` fence, across cells (the code cells of a gated
    solution go with it); cells left empty are dropped.
    """
    out = copy.deepcopy(nb)
    cells = []
    gated = False          # inside solution-start ... solution-end
    block_fence = None     # inside a {solution} block closed by this fence
    end_fence = None       # inside the {solution-end} directive itself
    for cell in out.cells:
        if cell.cell_type != "markdown":
            if not (gated or block_fence):
                cells.append(cell)
            continue
        kept = []
        for line in cell.source.splitlines():
            stripped = line.strip()
            if end_fence is not None:
                if stripped == end_fence:
                    end_fence = None
                continue
            if block_fence is not None:
                if stripped == block_fence:
                    block_fence = None
                continue
            m = _FENCE.match(stripped)
            if m and m["name"] == "solution-start":
                gated = True
            if gated:
                if m and m["name"] == "solution-end":
                    gated, end_fence = False, m["fence"]
                continue
            if m and m["name"] == "solution":
                block_fence = m["fence"]
                continue
            kept.append(line)
        text = "\n".join(kept).strip("\n")
        if text.strip():
            cell.source = text
            cells.append(cell)
    if gated or block_fence or end_fence:
        raise ValueError("unterminated solution block in notebook")
    out.cells = cells
    return out


def reader_notebook(nb, *, hide_solutions: bool):
    """The notebook a reader downloads: jupytext's text-format header removed (it is an .ipynb
    now), solutions removed when the build hides them."""
    out = strip_solutions(nb) if hide_solutions else copy.deepcopy(nb)
    out.metadata.pop("jupytext", None)
    return out


def _is_notebook_page(app, pagename) -> bool:
    return "kernelspec" in app.env.metadata.get(pagename, {})


def _add_link(app, pagename, templatename, context, doctree) -> None:
    if not app.config.notebook_links_enabled or app.builder.format != "html":
        return
    if not _is_notebook_page(app, pagename):
        return
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not executed.is_file():
        LOGGER.warning(f"notebook_links: no executed notebook for {pagename} at {executed}")
        return
    nb = nbformat.read(executed, as_version=4)
    hide = bool(getattr(app.config, "hide_solutions", False))
    target = Path(app.outdir) / NOTEBOOK_DIR / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    reader_nb = reader_notebook(nb, hide_solutions=hide)
    nbformat.write(reader_nb, target)
    if context.get("ipynb_source"):  # the theme's own copy (launch buttons on): same content
        nbformat.write(reader_nb, Path(app.outdir) / "_sources" / context["ipynb_source"])

    url = context["pathto"](f"{NOTEBOOK_DIR}/{pagename}.ipynb", 1)
    button = {"type": "link", "url": url, "text": ".ipynb", "icon": "fas fa-code",
              "tooltip": "Download this chapter as a runnable notebook (with its outputs)",
              "label": "download-notebook-button"}
    buttons = context.setdefault("header_buttons", [])
    group = next((b for b in buttons if b.get("label") == "download-buttons"), None)
    if group is None:  # download drop-down turned off: a button of its own
        buttons.insert(0, button)
        return
    entries = group["buttons"]
    # the theme adds an unfiltered copy of its own when launch buttons are on: replace it
    entries[:] = [b for b in entries if b.get("label") != "download-notebook-button"]
    entries.insert(0, button)


def setup(app):
    app.add_config_value("notebook_links_enabled", True, "html", types=[bool])
    app.connect("config-inited", _configure_launch)
    # after sphinx-book-theme has built its header buttons (priority 501)
    app.connect("html-page-context", _add_link, priority=502)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
