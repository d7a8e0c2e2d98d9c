"""Printable solutions: every exercise with its solution, per chapter, cut out of the built book.

Usage: python scripts/solutions_handout.py [--html _build/html] [--out _build/solutions] [--pdf]

For each chapter, the "Exercises" section of the built page (figures, glued numbers and
references exactly as in the book) is copied into a plain page with the book's style sheets
and offline MathJax, solutions expanded (no dropdowns), links pointing back into the book.
Writes ``OUT/NN_slug.html`` per chapter, ``OUT/all.html`` (every chapter, each on a new printed
page) and ``OUT/index.html``; with ``--pdf`` and Debian's ``chromium`` also ``OUT/solutions.pdf``.
"""
from __future__ import annotations

import argparse
import html as htmllib
import os
import pathlib
import re
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))
import booksrc  # noqa: E402

PRINT_CSS = """
body { max-width: 52rem; margin: 2rem auto; padding: 0 1.5rem; }
.chapter + .chapter { margin-top: 3rem; }
.handout-note { color: #555; font-size: 0.9em; }
@media print {
  .chapter + .chapter { break-before: page; margin-top: 0; }
  .admonition, figure { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
  .handout-nav { display: none; }
}
"""


def section_by_id(page: str, sid: str) -> str | None:
    """The ``<section id=sid>`` element of a page, nested sections included."""
    m = re.search(rf'<section id="{re.escape(sid)}"[^>]*>', page)
    if not m:
        return None
    depth, pos = 1, m.end()
    for t in re.finditer(r"<(/?)section\b[^>]*>", page[pos:]):
        depth += -1 if t.group(1) else 1
        if depth == 0:
            return page[m.start():pos + t.end()]
    return None


def exercises_section(page: str, first_label: str) -> str:
    """The section of the page that holds the chapter's exercises."""
    sec = section_by_id(page, "exercises")
    if sec and f'id="{first_label}"' in sec:
        return sec
    raise ValueError(f"no 'Exercises' section holding {first_label}")


def _rewrite_links(fragment: str, page_path: pathlib.Path, book: pathlib.Path,
                   out_dir: pathlib.Path, local_ids: set[str]) -> str:
    page_rel = page_path.relative_to(book).as_posix()

    def fix(m):
        attr, url = m.group(1), m.group(2)
        if re.match(r"^(?:[a-z][\w+.-]*:|//|/)", url):
            return m.group(0)
        if url.startswith("#"):
            if url[1:] in local_ids:
                return m.group(0)
            url = pathlib.PurePosixPath(page_rel).name + url
        target, _, anchor = url.partition("#")
        path = (page_path.parent / target).resolve() if target else page_path
        rel = os.path.relpath(path, out_dir).replace(os.sep, "/")
        return f'{attr}="{rel}{"#" + anchor if anchor else ""}"'

    return re.sub(r'\b(href|src)="([^"]*)"', fix, fragment)


def _head(page: str, page_path: pathlib.Path, book: pathlib.Path, out_dir: pathlib.Path,
          title: str) -> str:
    keep = re.findall(r'<link[^>]+rel="stylesheet"[^>]*>', page)
    keep += [s for s in re.findall(r"<script\b[^>]*>.*?</script>", page, re.S)
             if "MathJax" in s or "mathjax" in s]
    head = "\n".join(_rewrite_links(k, page_path, book, out_dir, set()) for k in keep)
    return (f'<!DOCTYPE html>\n<html lang="en" data-theme="light">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{htmllib.escape(title)}</title>\n{head}\n<style>{PRINT_CSS}</style>\n</head>\n")


def _expand(fragment: str) -> str:
    fragment = re.sub(r'(class="solution) dropdown', r"\1", fragment)
    fragment = re.sub(r'(class="[^"]*)\btoggle-hidden\b', r"\1", fragment)
    return re.sub(r"<details\b(?![^>]*\bopen\b)", "<details open", fragment)


def build(book: pathlib.Path, out: pathlib.Path, root: pathlib.Path = ROOT) -> dict:
    book, out = book.resolve(), out.resolve()
    if not (book / "index.html").exists():
        raise SystemExit(f"{book} holds no built book: run bash scripts/build-book.sh first")
    out.mkdir(parents=True, exist_ok=True)
    chapters, counts = [], {}
    sols = {}
    for s in booksrc.solutions(root):
        sols.setdefault(s.chapter, []).append(s.label)
    first_head = None
    by_chapter = {}
    for e in booksrc.exercises(root):
        by_chapter.setdefault(e.chapter, []).append(e)
    for docname in booksrc.chapter_docnames(root):
        exs = by_chapter.get(docname)
        if not exs:
            continue
        page_path = book / f"{docname}.html"
        page = page_path.read_text()
        title_m = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S)
        title = re.sub(r"<[^>]+>|#", "", title_m.group(1)).strip() if title_m else docname
        sec = exercises_section(page, exs[0].label)
        n_ex = len(re.findall(r'<div class="exercise admonition"', sec))
        n_sol = len(re.findall(r'<div class="solution[^"]*admonition"', sec))
        if n_ex != len(exs) or n_sol != len(sols.get(docname, [])):
            raise SystemExit(f"{docname}: found {n_ex} exercises and {n_sol} solutions in the "
                             f"built page, expected {len(exs)} and {len(sols.get(docname, []))}")
        ids = set(re.findall(r'\bid="([^"]+)"', sec))
        body = _expand(_rewrite_links(sec, page_path, book, out, ids))
        body = body.replace('<section id="exercises"', f'<section id="{pathlib.PurePosixPath(docname).name}"', 1)
        link = os.path.relpath(page_path, out).replace(os.sep, "/")
        block = (f'<div class="chapter">\n<h1>{htmllib.escape(title)}: exercises and solutions</h1>\n'
                 f'<p class="handout-note">From the chapter <a href="{link}">{htmllib.escape(title)}</a>; '
                 f"figures and numbers as in the built book.</p>\n{body}\n</div>\n")
        head = _head(page, page_path, book, out, f"Solutions — {title}")
        first_head = first_head or page
        name = pathlib.PurePosixPath(docname).name + ".html"
        nav = '<p class="handout-nav"><a href="index.html">All chapters</a></p>\n'
        (out / name).write_text(head + "<body>\n" + nav + block + "</body>\n</html>\n")
        chapters.append((name, title, block))
        counts[docname] = (n_ex, n_sol)
    index_page = book / "intro.html" if (book / "intro.html").exists() else book / "index.html"
    head_all = _head(index_page.read_text(), index_page, book, out, "Exercises and solutions")
    (out / "all.html").write_text(head_all + "<body>\n" + "".join(b for _, _, b in chapters)
                                  + "</body>\n</html>\n")
    items = "\n".join(f'<li><a href="{n}">{htmllib.escape(t)}</a></li>' for n, t, _ in chapters)
    (out / "index.html").write_text(
        head_all + "<body>\n<h1>Exercises and solutions</h1>\n"
        f'<p>For instructors: every exercise of the book with its solution, one page per '
        f'chapter, or <a href="all.html">all chapters on one page</a> (print it from the '
        f"browser; each chapter starts on a new page).</p>\n<ol>\n{items}\n</ol>\n"
        "</body>\n</html>\n")
    return {"chapters": len(chapters), "exercises": sum(c[0] for c in counts.values()),
            "solutions": sum(c[1] for c in counts.values()), "out": out}


def print_pdf(out: pathlib.Path) -> pathlib.Path | None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("chromium not found (Debian: apt-get install chromium): no PDF written")
        return None
    pdf = out / "solutions.pdf"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                    "--run-all-compositor-stages-before-draw", "--virtual-time-budget=30000",
                    "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
                    (out / "all.html").as_uri()], check=True, capture_output=True, timeout=600)
    return pdf


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--html", type=pathlib.Path, default=ROOT / "_build" / "html")
    ap.add_argument("--out", type=pathlib.Path, default=ROOT / "_build" / "solutions")
    ap.add_argument("--pdf", action="store_true", help="also print all.html to a PDF (chromium)")
    args = ap.parse_args(argv)
    info = build(args.html, args.out)
    print(f"Solutions handout: {info['exercises']} exercises and {info['solutions']} solutions "
          f"in {info['chapters']} chapters. Open {info['out'] / 'index.html'}")
    if args.pdf:
        pdf = print_pdf(info["out"])
        if pdf:
            print(f"PDF: {pdf}")


if __name__ == "__main__":
    main()
