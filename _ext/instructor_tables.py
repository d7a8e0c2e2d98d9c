"""Sphinx extension: tables generated at build time from the chapter sources.

``{exercise-table}``  every exercise (chapter, label with link, title, kind, difficulty, time,
                      autograded), for the instructor guide;
``{theorem-index}``   every definition, theorem, proposition, lemma and corollary (number and
                      link, title, chapter) with the tests that check it.

Both read the sources with ``booksrc`` (same folder), so they can never drift from the book; the
page is rebuilt whenever a chapter, a test file or an assignment changes.  "Autograded" means the
exercise's label appears in a file under ``assignments/``; the tests are found by the label
appearing in ``tests/test_*.py``, or in the docstring of a library function that a test calls.
"""
from __future__ import annotations

import pathlib
import re

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

import booksrc

KIND_ORDER = {k: i for i, k in enumerate(booksrc.STATEMENT_KINDS)}


def repo_root(env) -> pathlib.Path:
    """Where tests/, lib/ and assignments/ live (the student edition builds from a copy)."""
    configured = env.config.instructor_repo_root
    return pathlib.Path(configured) if configured else pathlib.Path(env.srcdir)


def chapter_titles(root: pathlib.Path) -> dict[str, str]:
    out = {}
    for d in booksrc.chapter_docnames(root):
        m = re.search(r"^# (.+)$", (root / f"{d}.md").read_text(), re.M)
        out[d] = m.group(1).strip() if m else d
    return out


def chapter_number(docname: str) -> int:
    return int(pathlib.PurePosixPath(docname).name.split("_", 1)[0])


def _assignment_labels(root: pathlib.Path, prefix: str) -> set[str]:
    """Exercise labels ``{prefix}-NN-k`` that appear in any file under ``assignments/``, as
    ``ex-NN-k`` (read at build time)."""
    folder = root / "assignments"
    found: set[str] = set()
    if folder.is_dir():
        pattern = re.compile(rf"(?<![\w-]){prefix}-(\d\d-\d+)(?![\w-])")
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.stat().st_size < 5_000_000:
                try:
                    found |= {f"ex-{m}" for m in pattern.findall(path.read_text(errors="ignore"))}
                except OSError:
                    continue
    return found


def autograded_labels(root: pathlib.Path) -> set[str]:
    """Exercises whose label ``ex-NN-k`` appears under ``assignments/`` (autograded)."""
    return _assignment_labels(root, "ex")


def hand_graded_labels(root: pathlib.Path) -> set[str]:
    """Exercises set in an assignment as a hand-graded question, named ``manual-NN-k``."""
    return _assignment_labels(root, "manual") - autograded_labels(root)


def exercise_rows(root: pathlib.Path) -> list[dict]:
    """One dict per exercise, in book order: what the instructor guide's table shows."""
    graded = autograded_labels(root)
    by_hand = hand_graded_labels(root)
    rows = []
    for e in booksrc.exercises(root):
        rows.append(dict(chapter=e.chapter, number=chapter_number(e.chapter), label=e.label,
                         title=e.title, kind=e.kind, difficulty=e.difficulty, minutes=e.minutes,
                         autograded=e.label in graded, by_hand=e.label in by_hand))
    return rows


def statement_rows(root: pathlib.Path, repo: pathlib.Path) -> list[dict]:
    rows = []
    for s in booksrc.statements(root):
        rows.append(dict(chapter=s.chapter, number=chapter_number(s.chapter), kind=s.kind,
                         label=s.label, title=s.title,
                         tests=booksrc.test_references(s.label, repo),
                         via=booksrc.indirect_test_references(s.label, repo)))
    return rows


class _TableDirective(SphinxDirective):
    has_content = False

    def _note_sources(self, root: pathlib.Path, repo: pathlib.Path):
        for d in booksrc.chapter_docnames(root):
            self.env.note_dependency(str(root / f"{d}.md"))
        for pattern in ("tests/test_*.py", "assignments/**/*", "lib/collapselab/**/*.py"):
            for path in repo.glob(pattern):
                if path.is_file():
                    self.env.note_dependency(str(path))

    def _cell(self, text: str) -> nodes.entry:
        entry = nodes.entry()
        if text:
            self.state.nested_parse(StringList(text.split("\n")), self.content_offset, entry)
        return entry

    def _table(self, header: list[str], rows: list[list[str]], widths: list[int],
               cls: str) -> nodes.table:
        table = nodes.table(classes=["colwidths-given", cls])
        group = nodes.tgroup(cols=len(header))
        table += group
        for w in widths:
            group += nodes.colspec(colwidth=w)
        head = nodes.thead()
        group += head
        row = nodes.row()
        for h in header:
            row += nodes.entry("", nodes.paragraph(text=h))
        head += row
        body = nodes.tbody()
        group += body
        for cells in rows:
            row = nodes.row()
            for c in cells:
                row += self._cell(c)
            body += row
        return table

    def _paragraph(self, text: str) -> list[nodes.Node]:
        box = nodes.container()
        self.state.nested_parse(StringList([text]), self.content_offset, box)
        return list(box.children)


class ExerciseTable(_TableDirective):
    """The instructor guide's table of every exercise of every chapter (``:summary:``: one row
    per chapter with its counts and total time)."""

    option_spec = {"summary": lambda arg: True}

    def run(self):
        root = pathlib.Path(self.env.srcdir)
        repo = repo_root(self.env)
        self._note_sources(root, repo)
        rows = exercise_rows(root)
        titles = chapter_titles(root)
        missing = [r["label"] for r in rows if r["kind"] is None]
        if missing:
            raise self.error("exercises without a tag line (kind · difficulty · time): "
                             + ", ".join(missing))
        if "summary" in self.options:
            return [self._summary(rows, titles)]
        n_code = sum(r["kind"] == "Code" for r in rows)
        n_graded = sum(r["autograded"] for r in rows)
        n_hand = sum(r["by_hand"] for r in rows)
        hours = sum(r["minutes"] for r in rows) / 60
        out = self._paragraph(
            f"The book has **{len(rows)} exercises** in {len({r['chapter'] for r in rows})} "
            f"chapters: {len(rows) - n_code} pencil-and-paper and {n_code} coding exercises, "
            f"{n_graded} of them autograded and {n_hand} more set in the assignments as questions "
            f"graded by hand, about {hours:.0f} hours of work in all (the minutes column is a first "
            "estimate for a student who has read the chapter).")
        body = []
        for r in rows:
            body.append([
                f"{{doc}}`{r['number']} </{r['chapter']}>`",
                # explicit text: an implicit {ref} becomes a numref, which loads the target
                # chapter's doctree once per exercise (seconds per build)
                f"{{ref}}`{r['label']} <{r['label']}>`",
                r["title"],
                r["kind"].lower(),
                "★" * r["difficulty"] + "☆" * (3 - r["difficulty"]),
                str(r["minutes"]),
                "yes" if r["autograded"] else ("by hand" if r["by_hand"] else "no"),
            ])
        out.append(self._table(["ch.", "exercise", "title", "kind", "difficulty", "minutes",
                                "auto-graded"], body, [5, 11, 48, 8, 10, 9, 9],
                               "exercise-table"))
        return out


    def _summary(self, rows, titles):
        body = []
        for docname, title in titles.items():
            rs = [r for r in rows if r["chapter"] == docname]
            minutes = sum(r["minutes"] or 0 for r in rs)
            body.append([f"{chapter_number(docname)}\\. {{doc}}`{title} </{docname}>`",
                         str(len(rs)), str(sum(r["kind"] == "Pencil" for r in rs)),
                         str(sum(r["kind"] == "Code" for r in rs)),
                         str(sum(r["autograded"] for r in rs)), f"{minutes / 60:.1f} h"])
        return self._table(["chapter", "exercises", "pencil", "code", "autograded", "time"],
                           body, [40, 12, 12, 12, 12, 12], "exercise-summary")


class TheoremIndex(_TableDirective):
    """Every definition, theorem, proposition, lemma and corollary, with the tests that check it."""

    def run(self):
        root = pathlib.Path(self.env.srcdir)
        repo = repo_root(self.env)
        self._note_sources(root, repo)
        rows = statement_rows(root, repo)
        titles = chapter_titles(root)
        n_direct = sum(bool(r["tests"]) for r in rows)
        n_tested = sum(bool(r["tests"] or r["via"]) for r in rows)
        counts = {k: sum(r["kind"] == k for r in rows) for k in booksrc.STATEMENT_KINDS}
        plural = {"corollary": "corollaries"}
        summary = ", ".join(f"{n} {k if n == 1 else plural.get(k, k + 's')}"
                            for k, n in counts.items() if n)
        out = self._paragraph(
            f"{len(rows)} results ({summary}). {n_tested} of them are checked by at least one "
            f"test: {n_direct} by a test that names the result's label (shown), the others "
            "through a library function whose docstring names the result and that a test calls "
            "(shown with two of its tests). A definition is usually "
            "checked through the code that implements it.")
        for docname in booksrc.chapter_docnames(root):
            chapter_rows = [r for r in rows if r["chapter"] == docname]
            if not chapter_rows:
                continue
            section = nodes.rubric(text=f"{chapter_number(docname)}. {titles[docname]}")
            out.append(section)
            body = []
            for r in chapter_rows:
                body.append([f"{{prf:ref}}`{r['label']}`", r["title"] or "—", self._tests(r)])
            out.append(self._table(["result", "title", "checked by"], body, [14, 34, 52],
                                   "theorem-index"))
        return out


    @staticmethod
    def _tests(r) -> str:
        """Tests naming the label (up to four); failing those, tests of the library functions
        whose docstring names it (up to two functions, two tests each)."""
        def short(t):
            return "`" + t.removeprefix("tests/").replace(".py::", ".py` `", 1) + "`"

        def some(tests, k):
            more = f" and {len(tests) - k} more" if len(tests) > k else ""
            return ", ".join(short(t) for t in tests[:k]) + more

        if r["tests"]:
            return some(r["tests"], 4)
        lines = [f"via `{fn}`: {some(tests, 2)}" for fn, tests in sorted(r["via"].items())[:2]]
        return "\n\n".join(lines) or "—"


def setup(app):
    app.add_config_value("instructor_repo_root", "", "env")
    app.add_directive("exercise-table", ExerciseTable)
    app.add_directive("theorem-index", TheoremIndex)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
