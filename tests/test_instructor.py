"""The instructor path's sources: exercise tag lines, the generated exercise table and theorem
index, and the source-level removal of solutions used by the student edition.  No build here
(``test_student_edition.py`` builds the student edition; ``test_book_build.py`` checks the
rendered guide and index pages)."""
from __future__ import annotations

import ast
import re
import sys

import jupytext
import pytest

from conftest import ROOT, chapter_paths

sys.path.insert(0, str(ROOT / "_ext"))
import booksrc  # noqa: E402
import instructor_tables  # noqa: E402

EX_LABEL_RE = re.compile(r"^:label:\s*(ex-\d\d-\d+)\s*$", re.M)


def _chapter_labels(path) -> list[str]:
    """Exercise labels by a plain scan of the source, independent of the parser."""
    return EX_LABEL_RE.findall(path.read_text())


@pytest.mark.parametrize("chapter", chapter_paths(), ids=lambda p: p.stem)
def test_every_exercise_opens_with_one_tag_line(chapter):
    docname = f"chapters/{chapter.stem}"
    exercises, solutions, _ = booksrc.parse(docname)
    labels = _chapter_labels(chapter)
    assert [e.label for e in exercises] == labels and labels, "parser and scan disagree"
    text = chapter.read_text()
    tags = [line for line in text.split("\n") if booksrc.TAG_RE.match(line.strip())]
    assert len(tags) == len(exercises), "one tag line per exercise, and only there"
    for e in exercises:
        assert e.kind in booksrc.KINDS and e.difficulty in (1, 2, 3) and 0 < e.minutes <= 120, e
        assert not booksrc.TAG_RE.match(e.body.strip().split("\n")[0]), f"{e.label}: two tags"
        assert e.title.strip(), f"{e.label} has no title"
    # the old, inconsistent kind labels are gone
    assert not re.search(r"\((Pencil|Code|Coding)[^)]*\.\)", text)
    # every exercise has exactly one solution and every solution an exercise
    assert sorted(s.label for s in solutions) == sorted(labels)


def test_exercise_table_lists_every_exercise_in_book_order():
    rows = instructor_tables.exercise_rows(ROOT)
    expected = [lab for p in chapter_paths() for lab in _chapter_labels(p)]
    assert [r["label"] for r in rows] == expected
    assert len(set(expected)) == len(expected), "duplicate exercise labels"
    for r in rows:
        assert r["number"] == int(r["label"][3:5]), r  # ex-NN-k lives in chapter NN
        assert r["autograded"] == (r["label"] in instructor_tables.autograded_labels(ROOT))


def test_autograded_means_the_label_appears_under_assignments(tmp_path):
    (tmp_path / "assignments" / "ch03").mkdir(parents=True)
    (tmp_path / "assignments" / "ch03" / "03.md").write_text(
        "name: ex-03-2\nname: manual-03-1\nsee index-03-4 and ex-03-55x\n")
    assert instructor_tables.autograded_labels(tmp_path) == {"ex-03-2"}
    assert instructor_tables.hand_graded_labels(tmp_path) == {"ex-03-1"}
    assert instructor_tables.autograded_labels(tmp_path / "nowhere") == set()


def test_theorem_index_lists_every_result_and_real_tests():
    rows = instructor_tables.statement_rows(ROOT, ROOT)
    kinds = "|".join(booksrc.STATEMENT_KINDS)
    expected = []
    for p in chapter_paths():
        text = p.read_text()
        for m in re.finditer(rf"^`{{3,}}\{{prf:({kinds})\}}.*\n:label:\s*(\S+)", text, re.M):
            expected.append(m.group(2))
    assert [r["label"] for r in rows] == expected and expected
    assert len(set(expected)) == len(expected), "duplicate result labels"
    tested = 0
    for r in rows:
        assert re.match(rf"^(def|thm|prop|lem|cor)-{r['number']:02d}-", r["label"]), r["label"]
        for t in r["tests"]:  # a listed test really names the label
            path, name = t.split("::", 1)
            src = (ROOT / path).read_text()
            assert re.search(rf"def {name.split('::')[-1]}\b", src) and r["label"] in src, t
        tested += bool(r["tests"] or r["via"])
    theorems = [r for r in rows if r["kind"] == "theorem"]
    untested = [r["label"] for r in theorems if not (r["tests"] or r["via"])]
    assert len(untested) <= len(theorems) // 4, f"theorems without any test: {untested}"


def test_strip_solutions_removes_both_forms_and_keeps_the_rest():
    text = "\n".join([
        "Intro.", "", "```{exercise}", ":label: ex-99-1", "", "Do it.", "```", "",
        "```{solution} ex-99-1", ":class: dropdown", "", "SECRET-A.", "```", "",
        "````{solution-start} ex-99-1", ":class: dropdown", "````", "", "SECRET-B prose.", "",
        "```{code-cell} ipython3", "secret_c = 1", "```", "", "````{solution-end}", "````", "",
        "```{code-cell} ipython3", "kept = 2", "```", "", "Outro."])
    out, n = booksrc.strip_solutions(text)
    assert n == 2
    assert "SECRET" not in out and "secret_c" not in out and "solution" not in out
    assert "Do it." in out and "kept = 2" in out and "Outro." in out and "Intro." in out
    assert "\n\n\n" not in out
    with pytest.raises(ValueError, match="never closed"):
        booksrc.strip_solutions("````{solution-start} ex-1\n````\nx\n")
    with pytest.raises(ValueError, match="without solution-start"):
        booksrc.strip_solutions("````{solution-end}\n````\n")


def _glue_patterns(cells) -> list:
    """The keys glued by some cells, as regular expressions (f-string keys become patterns)."""
    out = []
    for key in re.findall(r"glue\(\s*f?[\"']([^\"']+)[\"']", "\n".join(cells)):
        parts = re.split(r"\{[^}]*\}", key)
        out.append(re.compile(r"\w+".join(re.escape(p) for p in parts)))
    return out


def _parse(cell: str):
    """A code cell as Python (IPython magics and shell escapes commented out)."""
    return ast.parse(re.sub(r"^(\s*)([%!])", r"\1#\2", cell, flags=re.M))


def _defined_names(tree) -> set[str]:
    out = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            out.add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(n.name)
        elif isinstance(n, ast.alias):
            out.add((n.asname or n.name).split(".")[0])
        elif isinstance(n, ast.arg):
            out.add(n.arg)
    return out


@pytest.mark.parametrize("chapter", chapter_paths(), ids=lambda p: p.stem)
def test_student_chapter_needs_nothing_from_its_solutions(chapter):
    """The stripped chapter keeps every other cell unchanged, and none of them uses a name, a
    glued value or a label that only a solution defines (else the student build would fail)."""
    full = chapter.read_text()
    stripped, n = booksrc.strip_solutions(full)
    assert n == len(booksrc.parse(f"chapters/{chapter.stem}")[1])
    assert not re.search(r"\{solution(-start|-end)?\}", stripped)
    assert _chapter_labels(chapter) == EX_LABEL_RE.findall(stripped), "exercises are kept"
    code = lambda t: [c.source for c in jupytext.reads(t, fmt="md:myst").cells  # noqa: E731
                      if c.cell_type == "code"]
    all_cells, kept = code(full), code(stripped)
    assert all(c in all_cells for c in kept)
    solution_cells = [c for c in all_cells if c not in kept]
    only_in_solutions = set()
    for c in solution_cells:
        only_in_solutions |= _defined_names(_parse(c))
    defined = set()
    for c in kept:
        tree = _parse(c)
        loads = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)
                 and isinstance(n.ctx, ast.Load)}
        missing = (loads & only_in_solutions) - defined - _defined_names(tree)
        assert not missing, f"a student cell uses {missing}, defined only in a solution"
        defined |= _defined_names(tree)
    used = set(re.findall(r"\{glue(?::\w+)?\}`(\w+)", stripped))
    kept_keys = _glue_patterns(kept)
    from_solutions = {k for k in used if any(p.fullmatch(k) for p in _glue_patterns(solution_cells))
                      and not any(p.fullmatch(k) for p in kept_keys)}
    assert not from_solutions, f"glue keys defined only in solutions: {from_solutions}"
    sol_text = "\n".join(s.body for s in booksrc.parse(f"chapters/{chapter.stem}")[1])
    sol_labels = set(re.findall(r"name:\s*([\w-]+)", sol_text)) | set(
        re.findall(r":label:\s*([\w-]+)", sol_text)) | set(re.findall(r"^\(([\w-]+)\)=", sol_text, re.M))
    refs = set(re.findall(r"\{(?:numref|ref|prf:ref|eq)\}`(?:[^`<]*<)?([\w-]+)>?`", stripped))
    assert not (refs & sol_labels), f"student text refers to solution-only labels {refs & sol_labels}"
