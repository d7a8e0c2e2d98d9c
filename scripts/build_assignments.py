"""Build the autograded assignments (see assignments/README.md); called by build-assignments.sh.

Usage: python scripts/build_assignments.py [--out DIR] [--no-run-tests] [NN_slug ...]

For each ``assignments/NN_slug.md`` (a jupytext MyST file holding otter-grader's master
notebook): convert it to ``OUT/masters/NN_slug.ipynb`` and run ``otter assign`` on it into
``OUT/NN_slug/`` (``student/``: the notebook to hand out and its visible tests;
``autograder/``: the reference notebook, every test and the autograder zip).  Unless
``--no-run-tests``, otter assign runs the reference solution against every check first and
fails on any failure.  All assignments are built in one process (one import of otter).
"""
from __future__ import annotations

import argparse
import contextlib
import io
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def sources(names):
    src = ROOT / "assignments"
    if not names:
        return sorted(src.glob("[0-9][0-9]_*.md"))
    out = []
    for name in names:
        p = src / f"{Path(name).stem}.md"
        if not p.exists():
            raise SystemExit(f"no such assignment: {p}")
        out.append(p)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("names", nargs="*")
    ap.add_argument("--out", default=str(ROOT / "_build" / "assignments"))
    ap.add_argument("--no-run-tests", action="store_true")
    args = ap.parse_args(argv)
    import jupytext
    from otter.assign import main as assign
    out = Path(args.out).resolve()
    (out / "masters").mkdir(parents=True, exist_ok=True)
    for src in sources(args.names):
        name = src.stem
        master = out / "masters" / f"{name}.ipynb"
        jupytext.write(jupytext.read(src), master, fmt="ipynb")
        dest = out / name
        shutil.rmtree(dest, ignore_errors=True)
        log = io.StringIO()
        try:
            with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
                assign(str(master), str(dest), no_pdfs=True, no_run_tests=args.no_run_tests)
        except BaseException:
            sys.stderr.write(log.getvalue())
            sys.stderr.write(f"otter assign failed for {name}\n")
            raise
        (out / "masters" / f"{name}.log").write_text(log.getvalue(), encoding="utf-8")
        zips = sorted((dest / "autograder").glob("*.zip"))
        print(f"built {dest.relative_to(out.parent) if out.parent in dest.parents else dest}: "
              f"{zips[-1].name if zips else 'NO ZIP'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
