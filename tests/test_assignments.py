"""The autograded assignments (assignments/, otter-grader; see assignments/README.md).

One build of every assignment and one grading run over a folder of submissions, shared by the
tests below: for every assignment its reference solution, its untouched student notebook, and
the student notebook with one planted wrong answer (PLANTED).  The build and the grading go
through the two commands the README documents (scripts/build-assignments.sh, scripts/grade.sh).
"""
from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess

import pytest
import yaml

from conftest import ROOT, chapter_paths

SOURCES = sorted((ROOT / "assignments").glob("[0-9][0-9]_*.md"))
NAMES = [p.stem for p in SOURCES]

# assignment -> (question, a cell appended to the untouched student notebook that answers that
# question wrongly, words the grader's feedback must contain)
PLANTED = {
    "01_loop": ("ex-01-1",
                'real_points = {"replace": 100, "accumulate": 100, "mix fresh": 300, '
                '"mix fixed": 100, "inject": 300, "all-real": 1000}\n'
                'most_per_real_point = "accumulate"',
                "Some real-data counts are wrong"),
    "02_gaussian": ("ex-02-2", "def k_star(n):\n    return n - 1.0\n\nvar_T = np.ones(replicates)",
                    "k_star(n) should make E log(Q / k) = 0"),
    "05_kde": ("ex-05-5", "t_exact = 50\nt_approx = 99", "Take the first t >= 1"),
    "13_curation": ("ex-13-3", "alpha_needed = 0.5", "must equal 0.9 sigma^2"),
}


def _cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _questions(master):
    """[(name, config)] of the BEGIN QUESTION cells of a master notebook."""
    out = []
    for cell in _cells(master):
        src = "".join(cell["source"])
        if cell["cell_type"] == "raw" and src.lstrip().startswith("# BEGIN QUESTION"):
            cfg = yaml.safe_load(src.split("\n", 1)[1])
            out.append((cfg["name"], cfg))
    return out


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Build every assignment, grade reference / blank / planted submissions; the CSV rows."""
    tmp = tmp_path_factory.mktemp("assignments")
    out, subs = tmp / "built", tmp / "submissions"
    subs.mkdir()
    build = subprocess.run(["bash", str(ROOT / "scripts/build-assignments.sh"), "--no-run-tests",
                            "--out", str(out)], cwd=ROOT, capture_output=True, text=True)
    assert build.returncode == 0, build.stdout + build.stderr
    for name in NAMES:
        shutil.copy(out / name / "autograder" / f"{name}.ipynb", subs / f"{name}-reference.ipynb")
        shutil.copy(out / name / "student" / f"{name}.ipynb", subs / f"{name}-blank.ipynb")
        if name in PLANTED:
            nb = json.loads((out / name / "student" / f"{name}.ipynb").read_text())
            nb["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [],
                                "execution_count": None, "source": PLANTED[name][1]})
            (subs / f"{name}-planted.ipynb").write_text(json.dumps(nb))
    table = tmp / "scores.csv"
    proc = subprocess.run(["bash", str(ROOT / "scripts/grade.sh"), str(subs), str(table),
                           "--assignments", str(out)], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(table, newline="") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        r["kind"] = re.search(r"-(reference|blank|planted)\.ipynb$", r["submission"]).group(1)
    return {"rows": rows, "out": out}


def _rows(graded, name, kind):
    return [r for r in graded["rows"] if r["assignment"] == name and r["kind"] == kind]


@pytest.mark.parametrize("name", NAMES)
def test_reference_scores_full_marks(graded, name):
    auto = [r for r in _rows(graded, name, "reference") if r["score"] != ""]
    expected = {q for q, cfg in _questions(graded["out"] / "masters" / f"{name}.ipynb")
                if not cfg.get("manual")}
    assert {r["question"] for r in auto} == expected and expected
    for r in auto:
        assert float(r["max"]) > 0
        assert float(r["score"]) == float(r["max"]), f"{r['question']}: {r['feedback']}"


@pytest.mark.parametrize("name", NAMES)
def test_untouched_student_notebook_scores_zero(graded, name):
    rows = _rows(graded, name, "blank")
    auto = [r for r in rows if r["score"] != ""]
    assert auto and all(float(r["score"]) == 0 for r in auto), auto
    assert all(r["feedback"] for r in auto), "every failed question says why"
    manual = [r for r in rows if r["score"] == ""]
    assert all(r["feedback"] == "graded by hand" for r in manual)


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_planted_wrong_answer_fails_with_its_message(graded, name):
    question, _, words = PLANTED[name]
    (row,) = [r for r in _rows(graded, name, "planted") if r["question"] == question]
    assert float(row["score"]) < float(row["max"])
    assert words in row["feedback"], row["feedback"]


@pytest.mark.parametrize("name", NAMES)
def test_student_notebook_holds_no_solution(graded, name):
    """No line of a reference solution (code or prose) reaches the student's files."""
    master = graded["out"] / "masters" / f"{name}.ipynb"
    solution_lines, prompt_lines, public_lines = set(), set(), set()
    in_block = in_code = False
    for cell in _cells(master):
        src = "".join(cell["source"])
        if cell["cell_type"] == "raw":
            in_block = {"# BEGIN SOLUTION": True, "# END SOLUTION": False}.get(src.strip(), in_block)
            continue
        if not in_block:
            # what the student is shown anyway: the questions' text and the visible checks
            if cell["cell_type"] == "markdown" or "hidden: true" not in src:
                public_lines.update(line.strip() for line in src.splitlines())
            continue
        in_prompt = False
        for line in src.splitlines():
            s = line.strip()
            if s.endswith(("# BEGIN PROMPT", "# END PROMPT")):
                in_prompt = s.endswith("# BEGIN PROMPT")
                continue
            if in_prompt:
                prompt_lines.add(s)
                continue
            if "# BEGIN SOLUTION" in s:
                in_code = True
                continue
            if "# END SOLUTION" in s:
                in_code = False
                continue
            keep = in_code or cell["cell_type"] == "markdown"
            if keep and len(s) >= 12 and not s.startswith(("#", '"""')):
                solution_lines.add(s)
    # what the student is given anyway: the template, the questions' text, the visible checks
    public_text = "\n".join(prompt_lines | public_lines)
    solution_lines = {s for s in solution_lines if s not in public_text}
    assert solution_lines, "the master holds reference solutions"
    student = graded["out"] / name / "student"
    files = [p for p in student.rglob("*") if p.is_file()]
    assert student / f"{name}.ipynb" in files
    # notebooks as their cells' decoded text (JSON escapes quotes), other files as they are
    text = "\n".join("\n".join("".join(c["source"]) for c in _cells(p)) if p.suffix == ".ipynb"
                     else p.read_text(encoding="utf-8") for p in files)
    nb_text = "\n".join("".join(c["source"]) for c in _cells(student / f"{name}.ipynb"))
    student_lines = {line.strip() for line in text.splitlines()}
    leaked = sorted(s for s in solution_lines
                    if s in student_lines or (len(s) >= 25 and s in text))
    assert not leaked, f"solution lines in the student files: {leaked[:5]}"
    assert "hidden=True" not in text, "hidden checks shipped to students"
    assert "SOLUTION" not in nb_text


def test_question_names_are_book_labels():
    """Autograded questions are named by their exercise label (ex-NN-K) and only they use
    that spelling; pencil questions are named manual-NN-K, so the instructor guide can mark an
    exercise autograded iff its label occurs in a file under assignments/.  Every exercise of
    the book is in the assignment of its chapter."""
    labels = set()
    for ch in chapter_paths():
        labels |= set(re.findall(r":label: (ex-\d\d-\d+)", ch.read_text()))
    autograded, covered = set(), set()
    for src in SOURCES:
        text = src.read_text()
        chapter = src.stem[:2]
        qs = [yaml.safe_load(m) for m in
              re.findall(r"```\{raw-cell\}\n# BEGIN QUESTION\n(.*?)```", text, re.S)]
        auto = {q["name"] for q in qs if not q.get("manual")}
        manual = {q["name"] for q in qs if q.get("manual")}
        assert auto <= labels, f"{src.name}: not book labels: {auto - labels}"
        assert all(q.startswith(f"ex-{chapter}-") for q in auto)
        assert {m.replace("manual-", "ex-") for m in manual} <= labels - auto
        assert all(m.startswith(f"manual-{chapter}-") for m in manual)
        mentioned = set(re.findall(r"ex-\d\d-\d+", text))
        assert mentioned == auto, f"{src.name}: labels outside autograded questions: {mentioned - auto}"
        autograded |= auto
        covered |= auto | {m.replace("manual-", "ex-") for m in manual}
    assert covered == labels, f"exercises in no assignment: {sorted(labels - covered)}"
    for other in (ROOT / "assignments").rglob("*"):
        if other.is_file() and other not in SOURCES:
            stray = set(re.findall(r"ex-\d\d-\d+", other.read_text())) - autograded
            assert not stray, f"{other.name} names exercises that are not autograded: {stray}"
