"""A script on every page so that a reader's browser logs no error on a first visit.

pydata-sphinx-theme 0.17 starts a first visit (nothing in localStorage) from an empty theme mode
and logs "Got invalid theme mode: . Resetting to auto."; the mode now defaults to "auto", which
is what the theme then falls back to anyway.

Checked in a real browser by tests/test_browser.py::test_no_console_errors.
"""
from __future__ import annotations


def setup(app):
    app.add_js_file(None, body='document.documentElement.dataset.mode = '
                               'document.documentElement.dataset.mode || "auto";', priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
