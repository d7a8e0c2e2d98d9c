"""The whole book builds with warnings as errors, and the HTML shows what a reader expects.

The build executes every chapter at its default parameters (``execute_notebooks: force``), from
scratch, so a change in ``lib/`` always re-executes the chapters.  It happens once per test run,
into ``_build/html``, and the browser suite reads the same pages.  Set ``SKIP_BOOK_BUILD=1`` to
skip locally, or ``BOOK_HTML=_build/html`` to check an existing build.
"""
from __future__ import annotations

import json
import os
import re
import sys

import pytest

from conftest import ROOT, chapter_paths


@pytest.fixture(scope="module")
def html(book_html):
    """The book built once per test run (see ``book_html`` in conftest.py), shared with the
    browser suite (tests/test_browser.py)."""
    return book_html


def test_index_and_references(html):
    assert (html / "index.html").exists()
    refs = (html / "references.html").read_text()
    assert "Shumailov" in refs


def test_math_is_served_offline(html):
    page = (html / "intro.html").read_text()
    scripts = re.findall(r'<script[^>]+src="([^"]*mathjax[^"]*)"', page, re.I)
    assert scripts and all(not s.startswith("http") for s in scripts), scripts


@pytest.mark.parametrize("chapter", chapter_paths(), ids=lambda p: p.stem)
def test_chapter_page(html, chapter):
    page = (html / "chapters" / f"{chapter.stem}.html").read_text()
    source = chapter.read_text()
    # glued numbers were substituted, references resolved
    assert "{glue" not in page and "{prf:ref}" not in page
    if "{glue:" in source:
        assert 'class="pasted-text"' in page or 'class="pasted-inline"' in page
    # theorem, proposition, ... and exercise boxes rendered by sphinx-proof and sphinx-exercise
    for kind in ("theorem", "proposition", "lemma", "corollary", "definition"):
        if "{prf:" + kind + "}" in source:
            assert re.search(rf'class="[^"]*proof {kind}', page), f"no rendered {kind} box"
    if "{exercise" in source:
        assert re.search(r'class="[^"]*exercise', page)
    if "{solution" in source:
        # solutions are hidden by default (dropdown)
        assert re.search(r'class="[^"]*solution[^"]*dropdown', page)
    # every myst-nb figure has a caption and an image
    n_fig = len(re.findall(r"^\s*name: fig-", source, re.M))
    assert page.count("<figcaption") >= n_fig
    assert page.count("<img") >= n_fig
    # the page offers its own source for download, and the file is there
    assert f'_sources/chapters/{chapter.name}"' in page
    assert (html / "_sources" / "chapters" / chapter.name).exists()
    # ... and its runnable notebook, executed by this build (outputs kept; _ext/notebook_links.py)
    assert f'_notebooks/chapters/{chapter.stem}.ipynb"' in page
    nb = json.loads((html / "_notebooks" / "chapters" / f"{chapter.stem}.ipynb").read_text())
    assert any(c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")
    assert "kernelspec" in nb["metadata"] and "jupytext" not in nb["metadata"]
    # no executed cell raised
    assert "Traceback (most recent call last)" not in page


def test_instructor_guide_and_theorem_index_pages(html):
    """The generated tables list every exercise and every result, with working links."""
    sys.path.insert(0, str(ROOT / "_ext"))
    import booksrc

    guide = (html / "instructors" / "guide.html").read_text()
    for e in booksrc.exercises(ROOT):
        assert f'href="../{e.chapter}.html#{e.label}"' in guide, e.label
    index = (html / "theorem_index.html").read_text()
    for s in booksrc.statements(ROOT):
        assert f'{s.chapter}.html#{s.label}"' in index, s.label
    assert not (html / "genindex.html").exists() and "genindex.html" not in index
    assert not list(html.glob("prf-*.html"))


def test_solutions_handout(html, tmp_path):
    """scripts/build-solutions.sh's handout: every exercise with its solution, expanded, and
    every link and image pointing at a file of the book."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import solutions_handout

    info = solutions_handout.build(html, tmp_path)
    sys.path.insert(0, str(ROOT / "_ext"))
    import booksrc

    assert info["exercises"] == info["solutions"] == len(booksrc.exercises(ROOT))
    for page in sorted(tmp_path.glob("*.html")):
        text = page.read_text()
        assert "solution dropdown" not in text, page.name
        for url in re.findall(r'(?:href|src)="([^"#]+)', text):
            if not re.match(r"^[a-z]+:", url):
                assert (tmp_path / url.split("?")[0]).exists(), (page.name, url)
    all_page = (tmp_path / "all.html").read_text()
    for e in booksrc.exercises(ROOT):
        assert f'id="{e.label}"' in all_page, e.label
