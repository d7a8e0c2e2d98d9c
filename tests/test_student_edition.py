"""The student edition holds no solution anywhere.

Builds the student edition as ``scripts/build-student.sh`` does (the book copied with every
solution removed at the source, instructor pages dropped, HTML only), with execution off so the
test stays fast, then searches every file of the output for distinctive fragments of every
solution of every chapter (``scripts/leak_check.py``).  Run on the old mechanism (sphinx-exercise's
``hide_solutions`` with its ``solution_end_node`` crash patched out, execution off) the same
search found 2,756 leaks from all 41 gated solutions in 16 of its files, ``searchindex.js``
included (30 solution-only stems).  Set ``SKIP_BOOK_BUILD=1`` to skip the build here.
"""
from __future__ import annotations

import os
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "_ext"))
import booksrc  # noqa: E402
import leak_check  # noqa: E402
import student_edition  # noqa: E402

needs_build = pytest.mark.skipif(os.environ.get("SKIP_BOOK_BUILD") == "1",
                                 reason="SKIP_BOOK_BUILD=1")


@pytest.fixture(scope="module")
def fragments():
    return leak_check.solution_fragments(ROOT)


@pytest.fixture(scope="module")
def student_html(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    info = student_edition.build(out, execute=False)
    assert info["solutions_removed"] == len(booksrc.solutions(ROOT))
    return info["html"]


def test_every_solution_has_distinctive_fragments(fragments):
    labels = [s.label for s in booksrc.solutions(ROOT)]
    assert sorted(fragments.by_solution) == sorted(labels)
    empty = [lab for lab, f in fragments.by_solution.items() if not f]
    assert not empty, f"solutions the leak test could not recognise: {empty}"


@needs_build
def test_student_edition_leaks_no_solution(student_html, fragments):
    report = leak_check.scan(student_html, fragments)
    print(report.summary())
    assert report.files > 20 and (student_html / "searchindex.js").exists()
    assert not report.leaks, report.summary() + "\n" + "\n".join(
        f"  {lab}: '{frag}' in {rel}" for lab, frag, rel in report.leaks[:30])


@needs_build
def test_student_edition_ships_html_only(student_html):
    names = {p.name for p in student_html.parent.iterdir()}
    assert names == {"html"}, names  # no doctrees, no jupyter_execute, no sources
    assert not (student_html / "_sources").exists()
    assert not list(student_html.rglob("*.doctree"))
    assert not (student_html / "instructors").exists()
    assert "student edition" in (student_html / "intro.html").read_text()
    # no empty general index and no raw-label proof index; the theorem index is there
    assert not (student_html / "genindex.html").exists()
    assert not list(student_html.glob("prf-*.html"))
    assert (student_html / "theorem_index.html").exists()
    for page in student_html.rglob("*.html"):
        text = page.read_text()
        assert "genindex.html" not in text and "instructors/guide" not in text, page
    # every exercise is still there, with its tag line
    for e in booksrc.exercises(ROOT):
        page = (student_html / f"{e.chapter}.html").read_text()
        assert f'id="{e.label}"' in page, e.label


def test_leak_check_finds_planted_leaks(tmp_path, fragments):
    """The search is not vacuous: a page quoting one solution's prose and one quoting its code,
    and a search index holding a solution-only word, are all caught."""
    sols = booksrc.solutions(ROOT)
    prose = next(s for s in sols if "{code-cell}" not in s.body)
    code = next(s for s in sols if "{code-cell}" in s.body)
    code_src = code.body.split("```{code-cell} ipython3", 1)[1].split("```", 1)[0]
    (tmp_path / "page.html").write_text(
        "<html><body><p>" + prose.body.replace("\n", " <em>x</em>\n") + "</p></body></html>")
    (tmp_path / "nb.ipynb").write_text(
        '{"cells": [{"cell_type": "code", "source": %s}]}' % repr(code_src).replace("'", '"'))
    stemmed = next((lab, st) for lab, sts in fragments.only_stems.items() for st in sorted(sts))
    (tmp_path / "searchindex.js").write_text(
        'Search.setIndex({"terms": {"%s": [1]}, "titleterms": {}})' % stemmed[1])
    report = leak_check.scan(tmp_path, fragments)
    found = {(lab, rel) for lab, _, rel in report.leaks}
    assert (prose.label, "page.html") in found
    assert (code.label, "nb.ipynb") in found
    assert (stemmed[0], "searchindex.js") in found
