"""Two fixes to the scripts of every page, so that a reader's browser logs no error.

* sphinx-thebe adds its configuration script (``const THEBE_JS_URL = ...``) each time Sphinx
  reads the sources, and Jupyter Book reads them in two passes: the page declared the same
  ``const`` twice (an uncaught SyntaxError), and sphinx-togglebutton's selector twice too.  Each
  script is now kept once per page (an inline script's file name is ``None`` in one copy and
  ``""`` in the other, so both count as "no file").
* pydata-sphinx-theme 0.17 starts a first visit (nothing in localStorage) from an empty theme
  mode and logs "Got invalid theme mode: . Resetting to auto."; the mode now defaults to "auto",
  which is what the theme then falls back to anyway.

Checked in a real browser by tests/test_browser.py::test_no_console_errors.
"""
from __future__ import annotations


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for script in scripts:
        key = (getattr(script, "filename", None) or "",
               tuple(sorted((k, str(v)) for k, v in getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            kept.append(script)
    scripts[:] = kept  # in place: the builder resets this list before each page


def setup(app):
    app.add_js_file(None, body='document.documentElement.dataset.mode = '
                               'document.documentElement.dataset.mode || "auto";', priority=100)
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
