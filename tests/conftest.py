"""Shared helpers for the test suite: where the book is and which chapters it has."""
from __future__ import annotations

import pathlib
import re

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTER_DIR = ROOT / "chapters"


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        for ch in part.get("chapters", []):
            files.append(ch["file"])
            files.extend(s["file"] for s in ch.get("sections", []))
    return files


def chapter_paths() -> list[pathlib.Path]:
    return sorted(CHAPTER_DIR.glob("*.md"))


def front_matter(path: pathlib.Path) -> dict:
    text = path.read_text()
    m = re.match(r"^---\n(.*?)\n---\n", text, re.S)
    return yaml.safe_load(m.group(1)) if m else {}


# --- the built book, shared by the build checks and the browser suite ---------------------------
BOOK_DIR = ROOT / "_build" / "html"


def _build_book_once() -> dict:
    """Build the book into ``_build/html`` once per test run, whichever test asks first.

    With pytest-xdist every worker may ask; a file lock makes the others wait, and a stamp
    naming the run (``PYTEST_XDIST_TESTRUNUID``) tells them the build is done and how it ended.
    The build starts from scratch (old ``_build/html`` and doctrees removed), so a change in
    ``lib/`` always re-executes every chapter.
    """
    import fcntl
    import json
    import os
    import shutil
    import subprocess
    import sys
    import uuid

    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID") or os.environ.setdefault(
        "COLLAPSELAB_TEST_RUN", uuid.uuid4().hex)
    build = ROOT / "_build"
    build.mkdir(exist_ok=True)
    stamp = build / "book-build.json"
    with open(build / ".book-build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists():
            done = json.loads(stamp.read_text())
            if done.get("run") == run_id:
                return done
        for old in (BOOK_DIR, build / ".doctrees", build / "jupyter_execute"):
            shutil.rmtree(old, ignore_errors=True)
        exe = shutil.which("jupyter-book", path=os.path.dirname(sys.executable)) or "jupyter-book"
        env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
        env["PYTHONHASHSEED"] = "0"
        proc = subprocess.run([exe, "build", str(ROOT), "-W", "-n", "--keep-going"],
                              capture_output=True, text=True, env=env, cwd=ROOT)
        (build / "book-build.log").write_text(proc.stdout + proc.stderr)
        done = {"run": run_id, "returncode": proc.returncode,
                "tail": "\n".join((proc.stdout + proc.stderr).splitlines()[-80:])}
        stamp.write_text(json.dumps(done))
        return done


@pytest.fixture(scope="session")
def book_html():
    """The built HTML book (``_build/html``), built once per test run with warnings as errors.

    ``BOOK_HTML=path`` uses an existing build instead (e.g. ``BOOK_HTML=_build/html`` after
    ``scripts/build-book.sh``); ``SKIP_BOOK_BUILD=1`` skips every test that needs the book."""
    import os

    if os.environ.get("SKIP_BOOK_BUILD") == "1":
        pytest.skip("SKIP_BOOK_BUILD=1")
    given = os.environ.get("BOOK_HTML")
    if given:
        path = pathlib.Path(given)
        path = path if path.is_absolute() else ROOT / path
        if not (path / "index.html").exists():
            pytest.fail(f"BOOK_HTML={given} holds no built book (no index.html)")
        return path
    done = _build_book_once()
    if done["returncode"] != 0:
        pytest.fail(f"jupyter-book build -W -n failed (exit {done['returncode']}); full log in "
                    f"_build/book-build.log:\n{done['tail']}")
    return BOOK_DIR
