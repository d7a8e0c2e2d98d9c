"""Build the student edition: a copy of the book with every solution removed at the source.

Usage: python scripts/student_edition.py [--no-execute] [--out DIR] [-- JUPYTER-BOOK ARGS]

1. copy the book (sources, config, bibliography, local extensions) into a scratch folder;
2. remove every ``{solution}`` block and every ``solution-start`` ... ``solution-end`` span
   (prose and code cells) from every page, and drop the instructor pages (``instructors/``)
   from the copy and its table of contents;
3. build the copy with Jupyter Book (chapters executed unless ``--no-execute``; ``-W -n`` when
   executed), with ``html_copy_source: false`` and no download button;
4. keep only the HTML folder (``DIR/html``): no doctrees, no ``jupyter_execute`` copies.

Nothing here hides a solution at render time, so no search index, download or page source can
hold one; ``tests/test_student_edition.py`` checks the output file by file.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import subprocess
import sys
import time

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))
import booksrc  # noqa: E402

#: what is never copied into the student sources
SKIP = {".git", ".venv", "_build", ".pytest_cache", ".hypothesis", "instructors", "assignments",
        "lib", "tests", "scripts", ".ci", "__pycache__"}
INSTRUCTOR_PREFIX = "instructors/"


def _drop_instructor_entries(entries):
    kept = []
    for e in entries or []:
        if str(e.get("file", "")).startswith(INSTRUCTOR_PREFIX):
            continue
        if "sections" in e:
            e = dict(e, sections=_drop_instructor_entries(e["sections"]))
        kept.append(e)
    return kept


def write_sources(src: pathlib.Path, root: pathlib.Path = ROOT) -> dict:
    """Write the stripped copy of the book into ``src``; return what was removed."""
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    for item in root.iterdir():
        if item.name in SKIP or item.name.startswith("."):
            continue
        dest = src / item.name
        if item.is_dir():
            shutil.copytree(item, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc",
                                                                       ".ipynb_checkpoints"))
        else:
            shutil.copy2(item, dest)
    removed = 0
    pages = 0
    for md in sorted(src.rglob("*.md")):
        text, n = booksrc.strip_solutions(md.read_text())
        if n:
            md.write_text(text)
        removed += n
        pages += 1
    toc = yaml.safe_load((src / "_toc.yml").read_text())
    parts = []
    for part in toc.get("parts", []):
        part = dict(part, chapters=_drop_instructor_entries(part.get("chapters")))
        if part["chapters"]:
            parts.append(part)
    toc["parts"] = parts
    (src / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False))
    return {"solutions_removed": removed, "pages": pages}


def write_config(src: pathlib.Path, execute: bool, root: pathlib.Path = ROOT) -> pathlib.Path:
    cfg = yaml.safe_load((src / "_config.yml").read_text())
    cfg["title"] = cfg["title"] + " (student edition)"
    if not execute:
        cfg.setdefault("execute", {})["execute_notebooks"] = "off"
    sphinx_cfg = cfg.setdefault("sphinx", {}).setdefault("config", {})
    sphinx_cfg["html_copy_source"] = False
    sphinx_cfg["instructor_repo_root"] = str(root)  # tests/ and lib/ for the theorem index
    cfg.setdefault("html", {})["use_download_button"] = False
    path = src / "_config.yml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def build(out: pathlib.Path, execute: bool = True, extra: list[str] | None = None,
          root: pathlib.Path = ROOT, strict: bool | None = None) -> dict:
    """Build the student edition into ``out/html``; return a summary (times, counts)."""
    t0 = time.perf_counter()
    out = out.resolve()
    work = out.parent / (out.name + "-work")
    src = work / "src"
    info = write_sources(src, root)
    write_config(src, execute, root)
    exe = shutil.which("jupyter-book", path=os.path.dirname(sys.executable)) or "jupyter-book"
    strict = execute if strict is None else strict
    cmd = [exe, "build", str(src), "--path-output", str(work / "build"), "--keep-going"]
    if strict:
        cmd += ["-W", "-n"]
    cmd += list(extra or [])
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env["PYTHONHASHSEED"] = "0"
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
    info["log"] = proc.stdout + proc.stderr
    if proc.returncode != 0:
        sys.stderr.write(info["log"][-6000:])
        raise SystemExit(f"student edition: jupyter-book build failed (exit {proc.returncode}); "
                         f"the stripped sources and the build are left in {work} to inspect")
    html = work / "build" / "_build" / "html"
    if (out / "html").exists():
        shutil.rmtree(out / "html")
    out.mkdir(parents=True, exist_ok=True)
    shutil.move(str(html), str(out / "html"))
    shutil.rmtree(work)  # sources, doctrees and executed notebooks are not shipped
    info["seconds"] = time.perf_counter() - t0
    info["html"] = out / "html"
    return info


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-execute", action="store_true", help="do not execute the chapters")
    ap.add_argument("--out", default=str(ROOT / "_build" / "student"))
    ap.add_argument("extra", nargs="*", help="passed to jupyter-book build (after --)")
    args = ap.parse_args(argv)
    info = build(pathlib.Path(args.out), execute=not args.no_execute, extra=args.extra)
    print(f"Student edition: {info['solutions_removed']} solutions removed from "
          f"{info['pages']} pages, built in {info['seconds']:.0f} s.")
    print(f"Open {info['html'] / 'index.html'}")


if __name__ == "__main__":
    main()
