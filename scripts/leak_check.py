"""Search a built edition of the book for the text of every solution.

Usage: python scripts/leak_check.py HTML_DIR [--window K]

Fragments: every run of K consecutive words of a solution (prose, captions, alt text and code,
taken from the chapter sources) that occurs nowhere in the student-visible sources (the book with
its solutions removed).  Text is normalised the same way on both sides: lower case, words only
(markup, punctuation and whitespace ignored), maths and MyST roles treated as breaks, since they
render differently.

Every file of the output is searched: HTML (text and alt/title attributes), ``searchindex.js``,
notebooks (every string of the JSON), Markdown, text, JavaScript, anything that decodes as text.
``searchindex.js`` holds stemmed words rather than text, so it is also checked word by word: no
stem of a word that only solutions use may appear in it.

Exit status 1 when anything leaked.  ``tests/test_student_edition.py`` runs this on a fresh
student build; it fails on the old ``hide_solutions`` mechanism.
"""
from __future__ import annotations

import argparse
import dataclasses
import html as htmllib
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))
import booksrc  # noqa: E402

BREAK = "\x00"
WINDOW = 6
_WORD_RE = re.compile(r"[^\W_]+|\x00")
_MATH_SRC = re.compile(r"\$\$.*?\$\$|\$[^$\n]+?\$|\\begin\{(\w+\*?)\}.*?\\end\{\1\}", re.S)
_MATH_OUT = re.compile(r"\\\(.*?\\\)|\\\[.*?\\\]|\$\$.*?\$\$|\\begin\{(\w+\*?)\}.*?\\end\{\1\}",
                       re.S)
_ROLE = re.compile(r"\{[\w:-]+\}`[^`]*`")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_FENCE = re.compile(r"^\s*(`{3,}|:{3,}|~{3,})")
_OPTION = re.compile(r"^\s*:[\w-]+:.*$")
_YAML_KEY = re.compile(r"^\s*[\w-]+:\s*[|>]?-?\s*")
_LIST = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")


def words(text: str) -> list[str]:
    return _WORD_RE.findall(text.lower())


def myst_segments(text: str) -> list[str]:
    """Split MyST text into runs that render as contiguous text: prose paragraphs, code lines,
    caption/alt lines; maths and roles become breaks."""
    segments, para = [], []
    in_code = False
    in_yaml = False

    def flush():
        if para:
            segments.append(" ".join(para))
            para.clear()

    for line in text.split("\n"):
        if _FENCE.match(line):
            flush()
            in_code = "{code-cell}" in line or (line.strip().startswith("```") and
                                                  not in_code and "{" not in line)
            in_yaml = False
            continue
        if in_code and line.strip() == "---":
            in_yaml = not in_yaml
            continue
        if in_yaml:  # mystnb options: captions and alt text render, keys do not
            segments.append(_YAML_KEY.sub("", line))
            continue
        if _OPTION.match(line) or line.strip() in ("+++",):
            flush()
            continue
        if in_code:
            segments.append(line)
            continue
        if not line.strip():
            flush()
            continue
        line = _LIST.sub("", line)
        line = re.sub(r"^\s*#+\s*", "", line)
        para.append(line)
    flush()
    out = []
    for s in segments:
        s = _MATH_SRC.sub(BREAK, s)
        s = _ROLE.sub(BREAK, s)
        s = _LINK.sub(r"\1", s)
        s = s.replace("\\", "")
        out.append(s)
    return out


def windows(tokens: list[str], k: int) -> set[str]:
    """All runs of k consecutive words that do not cross a break."""
    out = set()
    run: list[str] = []
    for t in tokens + [BREAK]:
        if t == BREAK:
            for i in range(len(run) - k + 1):
                out.add(" ".join(run[i:i + k]))
            run = []
        else:
            run.append(t)
    return out


def source_tokens(text: str) -> list[str]:
    toks: list[str] = []
    for seg in myst_segments(text):
        toks += words(seg) + [BREAK]
    return toks


@dataclasses.dataclass
class Fragments:
    by_solution: dict[str, set[str]]   # label -> distinctive word windows
    only_stems: dict[str, set[str]]    # label -> stems of words no student page uses
    window: int

    @property
    def all(self) -> dict[str, str]:
        return {f: lab for lab, fs in self.by_solution.items() for f in fs}


def solution_fragments(root: pathlib.Path = ROOT, k: int = WINDOW) -> Fragments:
    student = booksrc.student_text(root) + "\n" + (root / "references.bib").read_text()
    # The reference corpus is tokenised several ways (roles and maths as breaks, or deleted, as
    # an unexecuted build renders glue; no line structure), so it excludes more, never less.
    seen = windows(source_tokens(student), k)
    for repl in (BREAK, " "):
        seen |= windows(words(_ROLE.sub(repl, _MATH_SRC.sub(repl, student))), k)
    # ... and with the maths kept as written, as a downloaded notebook's Markdown cells hold it
    seen |= windows(words(student), k)
    student_words = set(words(student)) - {BREAK}
    from sphinx.search.en import SearchEnglish
    stem = SearchEnglish({}).stem
    student_stems = {stem(w) for w in student_words}
    by_solution, only = {}, {}
    for sol in booksrc.solutions(root):
        toks = source_tokens(sol.body)
        by_solution[sol.label] = {w for w in windows(toks, k) - seen
                                  if sum(len(t) > 2 and t.isalpha() for t in w.split()) >= 3}
        sol_words = {t for t in toks if t != BREAK and t.isalpha() and len(t) > 3}
        only[sol.label] = {stem(w) for w in sol_words - student_words} - student_stems
    return Fragments(by_solution, only, k)


def _html_text(raw: str) -> str:
    attrs = " \x00 ".join(htmllib.unescape(v) for v in
                          re.findall(r'\b(?:alt|title|aria-label|content|value)="([^"]*)"', raw))
    text = re.sub(r"<!--.*?-->", " ", raw, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    return htmllib.unescape(text) + " \x00 " + attrs


def _json_strings(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _json_strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _json_strings(v)


def file_tokens(path: pathlib.Path) -> list[str] | None:
    """The words of one output file, or None for a binary file."""
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        return None
    try:
        raw = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm", ".xml", ".svg"):
        return words(_MATH_OUT.sub(BREAK, _html_text(raw)))
    if suffix == ".ipynb":
        try:
            strings = list(_json_strings(json.loads(raw)))
        except ValueError:
            strings = [raw]
        toks: list[str] = []
        for s in strings:
            toks += source_tokens(s) + words(_MATH_OUT.sub(BREAK, s)) + [BREAK]
        return toks
    if suffix in (".md", ".myst", ".txt", ".rst"):
        return source_tokens(raw) + [BREAK] + words(_MATH_OUT.sub(BREAK, htmllib.unescape(raw)))
    return words(_MATH_OUT.sub(BREAK, htmllib.unescape(raw)))


def searchindex_terms(path: pathlib.Path) -> set[str]:
    raw = path.read_text()
    m = re.search(r"Search\.setIndex\((.*)\)\s*;?\s*$", raw, re.S)
    if not m:
        return set()
    index = json.loads(m.group(1))
    return set(index.get("terms", {})) | set(index.get("titleterms", {}))


@dataclasses.dataclass
class Report:
    solutions: int
    fragments: int
    stems: int
    files: int
    binary: int
    leaks: list[tuple[str, str, str]]  # (solution label, fragment or stem, file)

    @property
    def leaked_solutions(self) -> set[str]:
        return {lab for lab, _, _ in self.leaks}

    def summary(self) -> str:
        s = (f"{self.solutions} solutions searched ({self.fragments} distinctive {WINDOW}-word "
             f"fragments, {self.stems} solution-only word stems) in {self.files} text files "
             f"({self.binary} binary files skipped): {len(self.leaks)} leaks")
        if self.leaks:
            s += f" from {len(self.leaked_solutions)} solutions"
        return s


def _matches(tokens: list[str], wanted, firsts: set[str], k: int) -> set[str]:
    """The fragments that occur in a token stream (checked only where a fragment could start)."""
    hits = set()
    for i, t in enumerate(tokens):
        if t in firsts:
            w = " ".join(tokens[i:i + k])
            if w in wanted:
                hits.add(w)
    return hits


def scan(html_dir: pathlib.Path, frags: Fragments) -> Report:
    wanted = frags.all
    firsts = {f.split(" ", 1)[0] for f in wanted}
    leaks = []
    n_files = n_binary = 0
    for path in sorted(p for p in html_dir.rglob("*") if p.is_file()):
        toks = file_tokens(path)
        if toks is None:
            n_binary += 1
            continue
        n_files += 1
        rel = str(path.relative_to(html_dir))
        for f in _matches(toks, wanted, firsts, frags.window):
            leaks.append((wanted[f], f, rel))
        if path.name == "searchindex.js":
            terms = searchindex_terms(path)
            for lab, stems in frags.only_stems.items():
                for st in sorted(stems & terms):
                    leaks.append((lab, f"stem '{st}'", rel))
    return Report(len(frags.by_solution), len(wanted),
                  sum(len(s) for s in frags.only_stems.values()), n_files, n_binary, leaks)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("html_dir", type=pathlib.Path)
    ap.add_argument("--window", type=int, default=WINDOW)
    ap.add_argument("--show", type=int, default=20, help="leaks to print")
    args = ap.parse_args(argv)
    frags = solution_fragments(ROOT, args.window)
    report = scan(args.html_dir, frags)
    print(report.summary())
    for lab, frag, rel in report.leaks[:args.show]:
        print(f"  {lab}: '{frag}' in {rel}")
    empty = [lab for lab, fs in frags.by_solution.items() if not fs]
    if empty:
        print("solutions without a distinctive fragment:", ", ".join(empty))
    return 1 if report.leaks else 0


if __name__ == "__main__":
    sys.exit(main())
