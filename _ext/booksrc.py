"""Read the book's MyST sources: exercises, solutions, theorem-like blocks, and strip solutions.

One parser serves the instructor tools: the student edition (``strip_solutions``), the leak test
(``solutions`` and ``student_text``), the instructor guide's exercise table and the theorem index
(``exercises``, ``statements``; rendered by ``_ext/instructor_tables.py``) and the printable
solutions (``scripts/build-solutions.sh``).  It only reads text, so it needs no Sphinx.

Conventions it relies on (checked in ``tests/test_instructor.py``):

* an exercise is a ``{exercise}`` block or a gated ``{exercise-start}`` ... ``{exercise-end}``
  pair, with a ``:label: ex-NN-k`` option;
* its body starts with one *tag line* giving kind, difficulty and time, e.g.
  ``*Pencil · difficulty 2/3 · 20 min*`` (kind ``Pencil`` or ``Code``);
* a solution is a ``{solution} ex-NN-k`` block or a gated ``{solution-start} ex-NN-k`` ...
  ``{solution-end}`` pair (prose and code cells in between).
"""
from __future__ import annotations

import dataclasses
import pathlib
import re

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]

#: the tag line that opens every exercise body
TAG_RE = re.compile(r"^\*(?P<kind>Pencil|Code) · difficulty (?P<difficulty>[123])/3 · "
                    r"(?P<minutes>\d+) min\*$")
KINDS = ("Pencil", "Code")
STATEMENT_KINDS = ("definition", "theorem", "proposition", "lemma", "corollary")

_OPEN_RE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}\s*(?P<arg>.*?)\s*$")


@dataclasses.dataclass
class Block:
    """A directive in a source file: its name, argument, options, body and line span."""
    name: str
    arg: str
    options: dict
    body: str
    start: int  # index of the opening line
    end: int    # index of the closing line (inclusive)


@dataclasses.dataclass
class Exercise:
    chapter: str        # docname, e.g. "chapters/03_categorical"
    label: str
    title: str
    body: str
    kind: str | None
    difficulty: int | None
    minutes: int | None
    tag_line: str | None


@dataclasses.dataclass
class Solution:
    chapter: str
    label: str          # the exercise it solves
    body: str           # MyST text, code cells included
    start: int          # first line of the span (0-based)
    end: int            # last line of the span (inclusive)


@dataclasses.dataclass
class Statement:
    chapter: str
    kind: str           # theorem, definition, ...
    label: str
    title: str


def _closes(line: str, fence: str) -> bool:
    s = line.rstrip()
    return len(s) >= len(fence) and set(s) == {fence[0]}


def blocks(text: str) -> list[Block]:
    """Every top-level directive of a MyST file (nested directives are left in their body)."""
    lines = text.split("\n")
    out, i = [], 0
    while i < len(lines):
        m = _OPEN_RE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, j = m.group("fence"), i + 1
        while j < len(lines) and not _closes(lines[j], fence):
            j += 1
        inner = lines[i + 1:j]
        options, k = {}, 0
        if inner and inner[0].strip() == "---":  # YAML option block
            k = 1
            while k < len(inner) and inner[k].strip() != "---":
                k += 1
            options = yaml.safe_load("\n".join(inner[1:k])) or {}
            k += 1
        else:
            while k < len(inner) and re.match(r"^:[\w-]+:", inner[k]):
                key, _, value = inner[k][1:].partition(":")
                options[key.strip()] = value.strip()
                k += 1
        out.append(Block(m.group("name"), m.group("arg"), options, "\n".join(inner[k:]).strip("\n"),
                         i, min(j, len(lines) - 1)))
        i = j + 1
    return out


def toc_docnames(root: pathlib.Path = ROOT) -> list[str]:
    """Docnames in ``_toc.yml`` order (root first)."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    names = [toc["root"]]

    def walk(entries):
        for e in entries or []:
            if "file" in e:
                names.append(str(e["file"]).removesuffix(".md"))
            walk(e.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return names


def chapter_docnames(root: pathlib.Path = ROOT) -> list[str]:
    return [d for d in toc_docnames(root) if d.startswith("chapters/")]


def _lead_title(body: str) -> str:
    """The bold or italic lead phrase of an exercise ("**Counting real data.** ..."), if any."""
    first = " ".join(body.split("\n\n", 1)[0].split())
    m = re.match(r"^(\*\*|\*)(?P<t>[^*]+?)\1", first)
    if m:
        return m.group("t").strip().strip("()").rstrip(".")
    return ""


_ATOM_RE = re.compile(r"\{[\w:-]+\}`[^`]*`|`[^`]*`|\$[^$]*\$|\S+")


def _first_words(body: str, n: int = 10) -> str:
    """The first ``n`` words of the first paragraph; math, code and roles count as one word."""
    text = " ".join(body.strip().split("\n\n", 1)[0].split())
    atoms = _ATOM_RE.findall(text)
    return " ".join(atoms[:n]) + (" …" if len(atoms) > n else "")


def parse(docname: str, root: pathlib.Path = ROOT):
    """Exercises, solutions and statements of one source file, in source order."""
    text = (root / f"{docname}.md").read_text()
    lines = text.split("\n")
    bl = blocks(text)
    exercises, solutions, statements = [], [], []
    open_ex = None
    open_sol = None
    for b in bl:
        if b.name in ("exercise", "exercise-start"):
            if b.name == "exercise":
                body = b.body
            else:
                open_ex = b
                continue
            exercises.append(_exercise(docname, b, body))
        elif b.name == "exercise-end" and open_ex is not None:
            body = "\n".join(lines[open_ex.end + 1:b.start]).strip("\n")
            exercises.append(_exercise(docname, open_ex, body))
            open_ex = None
        elif b.name == "solution":
            solutions.append(Solution(docname, b.arg, b.body, b.start, b.end))
        elif b.name == "solution-start":
            open_sol = b
        elif b.name == "solution-end" and open_sol is not None:
            body = "\n".join(lines[open_sol.end + 1:b.start]).strip("\n")
            solutions.append(Solution(docname, open_sol.arg, body, open_sol.start, b.end))
            open_sol = None
        elif b.name.startswith("prf:") and b.name[4:] in STATEMENT_KINDS:
            statements.append(Statement(docname, b.name[4:], str(b.options.get("label", "")),
                                        b.arg.strip()))
    return exercises, solutions, statements


def _exercise(docname: str, b: Block, body: str) -> Exercise:
    lines = body.strip("\n").split("\n")
    m = TAG_RE.match(lines[0].strip()) if lines else None
    rest = "\n".join(lines[1:]).strip("\n") if m else body
    title = b.arg.strip() or _lead_title(rest) or _first_words(rest)
    return Exercise(docname, str(b.options.get("label", "")), title, rest,
                    m.group("kind") if m else None,
                    int(m.group("difficulty")) if m else None,
                    int(m.group("minutes")) if m else None,
                    lines[0].strip() if m else None)


def exercises(root: pathlib.Path = ROOT) -> list[Exercise]:
    return [e for d in chapter_docnames(root) for e in parse(d, root)[0]]


def solutions(root: pathlib.Path = ROOT) -> list[Solution]:
    return [s for d in chapter_docnames(root) for s in parse(d, root)[1]]


def statements(root: pathlib.Path = ROOT) -> list[Statement]:
    return [s for d in chapter_docnames(root) for s in parse(d, root)[2]]


def strip_solutions(text: str) -> tuple[str, int]:
    """Remove every ``{solution}`` block and every ``solution-start`` ... ``solution-end`` span
    (code cells inside it included).  Returns the new text and the number of solutions removed."""
    lines = text.split("\n")
    drop = set()
    n = 0
    open_start = None
    for b in blocks(text):
        if b.name == "solution":
            drop.update(range(b.start, b.end + 1))
            n += 1
        elif b.name == "solution-start":
            open_start = b.start
        elif b.name == "solution-end":
            if open_start is None:
                raise ValueError(f"solution-end without solution-start at line {b.start + 1}")
            drop.update(range(open_start, b.end + 1))
            open_start = None
            n += 1
    if open_start is not None:
        raise ValueError(f"solution-start at line {open_start + 1} is never closed")
    # a removed span leaves a blank line on each side of it: keep only one
    kept = []
    for i, line in enumerate(lines):
        if i in drop:
            continue
        if not line.strip() and (i - 1) in drop and kept and not kept[-1].strip():
            continue
        kept.append(line)
    return "\n".join(kept), n


def student_text(root: pathlib.Path = ROOT) -> str:
    """Every source page of the book with its solutions removed (what a student may see)."""
    parts = []
    for d in toc_docnames(root):
        path = root / f"{d}.md"
        if path.exists():
            parts.append(strip_solutions(path.read_text())[0])
    return "\n".join(parts)


def test_references(label: str, root: pathlib.Path = ROOT) -> list[str]:
    """Tests naming ``label`` in their source: ``tests/file.py::test_name``."""
    return _test_index(root)[0].get(label, [])


def indirect_test_references(label: str, root: pathlib.Path = ROOT) -> dict[str, list[str]]:
    """Tests that call a library function whose docstring names ``label``: {function: tests}."""
    return _test_index(root)[1].get(label, {})


_TEST_INDEX: dict = {}


def _test_index(root: pathlib.Path):
    key = str(root)
    if key in _TEST_INDEX:
        return _TEST_INDEX[key]
    import ast
    label_re = re.compile(r"\b(?:thm|def|prop|lem|cor)-\d\d-[\w-]*\w")
    # library functions (and classes) whose docstring names a label
    lib_funcs: dict[str, set[str]] = {}
    for path in sorted((root / "lib").rglob("*.py")):
        try:
            tree = ast.parse(path.read_text())
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                for lab in label_re.findall(ast.get_docstring(node) or ""):
                    lib_funcs.setdefault(lab, set()).add(node.name)
    direct: dict[str, list[str]] = {}
    via: dict[str, dict[str, list[str]]] = {}
    for path in sorted((root / "tests").glob("test_*.py")):
        src = path.read_text()
        src_lines = src.split("\n")
        tree = ast.parse(src)
        for node in tree.body:
            funcs = []
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
                funcs = [(node.name, node)]
            elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
                funcs = [(f"{node.name}::{f.name}", f) for f in node.body
                         if isinstance(f, ast.FunctionDef) and f.name.startswith("test")]
            for name, fn in funcs:
                test_id = f"tests/{path.name}::{name}"
                segment = "\n".join(src_lines[fn.lineno - 1:fn.end_lineno])
                for lab in sorted(set(label_re.findall(segment))):
                    direct.setdefault(lab, []).append(test_id)
                called = {n.attr if isinstance(n, ast.Attribute) else n.id
                          for n in ast.walk(fn) if isinstance(n, (ast.Attribute, ast.Name))}
                for lab, fns in lib_funcs.items():
                    for f in sorted(fns & called):
                        via.setdefault(lab, {}).setdefault(f, []).append(test_id)
    _TEST_INDEX[key] = (direct, via)
    return _TEST_INDEX[key]
