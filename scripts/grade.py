"""Grade a folder of submitted assignment notebooks with otter-grader's local runner.

Usage: python scripts/grade.py SUBMISSIONS_DIR [OUT.csv] [--assignments DIR] [--jobs N]

Every ``*.ipynb`` under SUBMISSIONS_DIR is matched to its assignment by the notebook metadata
that ``otter assign`` writes (``metadata.otter.assignment_name``; a notebook without it is
matched by the file-name prefix ``NN_slug``), then graded with ``otter.api.grade_submission``
against ``DIR/<assignment>/autograder/*.zip`` (no Docker: the submission runs in this Python
environment, which must have collapselab installed).  One CSV row per submission and question:

    submission, assignment, question, score, max, feedback

``feedback`` holds the failure messages of the checks that failed.  Manually graded
(pencil-and-paper) questions get an empty score and the feedback "graded by hand".
"""
from __future__ import annotations

import argparse
import csv
import glob
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIELDS = ["submission", "assignment", "question", "score", "max", "feedback"]


def assignment_of(nb_path: Path, known: set[str]) -> str:
    """The assignment a submission belongs to: otter's metadata, else the file-name prefix."""
    meta = json.loads(nb_path.read_text(encoding="utf-8")).get("metadata", {})
    name = (meta.get("otter") or {}).get("assignment_name")
    if name in known:
        return name
    for cand in sorted(known, key=len, reverse=True):
        if nb_path.name.startswith(cand):
            return cand
    raise ValueError(f"{nb_path}: cannot tell its assignment (metadata.otter.assignment_name "
                     f"is {name!r}; known assignments: {sorted(known)})")


def autograder_zip(assignments_dir: Path, name: str) -> Path:
    zips = sorted(glob.glob(str(assignments_dir / name / "autograder" / "*.zip")), key=os.path.getmtime)
    if not zips:
        raise FileNotFoundError(f"no autograder zip for {name} under {assignments_dir}: "
                                "run scripts/build-assignments.sh first")
    return Path(zips[-1])


def manual_questions(assignments_dir: Path, name: str) -> list[tuple[str, float]]:
    """(name, points) of the manually graded questions, read from the built master notebook."""
    import yaml
    master = assignments_dir / "masters" / f"{name}.ipynb"
    out = []
    if not master.exists():
        return out
    for cell in json.loads(master.read_text(encoding="utf-8"))["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] == "raw" and src.lstrip().startswith("# BEGIN QUESTION"):
            cfg = yaml.safe_load(src.split("\n", 1)[1]) or {}
            if cfg.get("manual"):
                out.append((cfg["name"], float(cfg.get("points", 1))))
    return out


def _feedback(result) -> str:
    """The check's failure message in words, then the last line of what it raised."""
    detail = (result.message or "").strip().splitlines()
    detail = detail[-1].strip() if detail else ""
    words = result.test_case.failure_message or ""
    if words and detail:
        return f"{words} [{detail}]"
    return words or detail or "failed"


def grade_one(sub: str, name: str, zip_path: str) -> list[dict]:
    """Grade one submission in this process; rows for its autograded questions."""
    import contextlib
    import io
    from otter.api import grade_submission
    with contextlib.redirect_stderr(io.StringIO()):
        results = grade_submission(sub, zip_path, quiet=True)
    rows = []
    for q, tf in sorted(results.results.items()):
        msgs = [_feedback(r) for r in tf.test_case_results if not r.passed]
        rows.append(dict(submission=sub, assignment=name, question=q, score=float(tf.score),
                         max=float(tf.possible), feedback=" | ".join(msgs)))
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("submissions")
    ap.add_argument("out", nargs="?", default="scores.csv")
    ap.add_argument("--assignments", default=str(ROOT / "_build" / "assignments"))
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("GRADE_JOBS", "2")))
    args = ap.parse_args(argv)
    sub_dir, ag_dir = Path(args.submissions), Path(args.assignments)
    if not sub_dir.is_dir():
        raise SystemExit(f"submissions must be a folder: {sub_dir}")
    if args.jobs < 1:
        raise SystemExit("--jobs must be at least 1")
    known = {p.parent.parent.name for p in ag_dir.glob("*/autograder/*.zip")}
    if not known:
        raise SystemExit(f"no built assignments under {ag_dir}: run scripts/build-assignments.sh")
    subs = sorted(p for p in sub_dir.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    if not subs:
        raise SystemExit(f"no .ipynb submissions under {sub_dir}")
    jobs = [(str(p), assignment_of(p, known)) for p in subs]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(grade_one, s, n, str(autograder_zip(ag_dir, n))) for s, n in jobs]
        rows = []
        for (sub, name), fut in zip(jobs, futures):
            rows += fut.result()
            rows += [dict(submission=sub, assignment=name, question=q, score="", max=pts,
                          feedback="graded by hand") for q, pts in manual_questions(ag_dir, name)]
    with open(args.out, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS)
        w.writeheader()
        w.writerows(rows)
    auto = [r for r in rows if r["score"] != ""]
    print(f"graded {len(jobs)} submission(s): {sum(r['score'] for r in auto):g} of "
          f"{sum(r['max'] for r in auto):g} autograded points; table in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
