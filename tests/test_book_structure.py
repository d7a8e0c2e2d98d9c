"""The book's structure: every chapter listed, parameters cell, labels, exercises, citations."""
from __future__ import annotations

import re

import pytest

from conftest import ROOT, chapter_paths, front_matter, toc_files

CHAPTERS = chapter_paths()


def test_every_chapter_is_in_the_toc_and_every_toc_file_exists():
    listed = toc_files()
    for path in CHAPTERS:
        assert f"chapters/{path.stem}" in listed, f"{path.name} is missing from _toc.yml"
    for f in listed:
        assert (ROOT / f"{f}.md").exists(), f"_toc.yml lists {f} but {f}.md does not exist"


def test_top_level_layout():
    for name in ["_config.yml", "_toc.yml", "README.md", "requirements.txt", "references.bib",
                 "intro.md", ".ci/run", "lib/pyproject.toml"]:
        assert (ROOT / name).exists(), name


def test_requirements_are_pinned():
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and not line.startswith("-e"):
            assert "==" in line, f"unpinned requirement: {line}"


def _bib_keys():
    return set(re.findall(r"@\w+\{([^,\s]+),", (ROOT / "references.bib").read_text()))


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_conventions(chapter):
    text = chapter.read_text()
    meta = front_matter(chapter)
    num = chapter.stem[:2]
    assert meta.get("kernelspec", {}).get("name") == "python3"
    assert "ci_parameters" in meta, "front matter needs ci_parameters for the papermill test"
    assert re.search(r"```\{code-cell\}[^\n]*\n:tags: \[[^\]]*parameters", text), "no parameters cell"
    # the parameters cell must hold the names papermill overrides
    params_cell = re.search(r":tags: \[[^\]]*parameters[^\]]*\]\n(.*?)```", text, re.S).group(1)
    for key in meta["ci_parameters"]:
        assert re.search(rf"^{key}\s*=", params_cell, re.M), f"{key} not in the parameters cell"
    assert "sys.path" not in text, "import the library as a package, not through sys.path"
    # labels carry kind and chapter number
    for label in re.findall(r"^:label: (\S+)", text, re.M):
        assert re.match(rf"(thm|def|lem|cor|prop|ex|fig|alg|rem|eq|conj|ass)-{num}-", label), label
    for name in re.findall(r"^\s{4,}name: (\S+)", text, re.M):
        assert re.match(rf"fig-{num}-", name), f"figure name {name} should start with fig-{num}-"
    for key in re.findall(r'glue\("([^"]+)"', text):
        assert key.startswith(f"ch{num}_"), f"glue key {key} should start with ch{num}_"
    # citations exist
    keys = _bib_keys()
    for group in re.findall(r"\{cite[a-z:]*\}`([^`]+)`", text):
        for key in group.split(","):
            assert key.strip() in keys, f"unknown citation {key}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_exercises_have_hidden_solutions(chapter):
    text = chapter.read_text()
    exercises = re.findall(r"```\{exercise(?:-start)?\}[^\n]*\n:label: (\S+)", text)
    exercises += re.findall(r"````\{exercise(?:-start)?\}[^\n]*\n:label: (\S+)", text)
    assert len(set(exercises)) >= 4, f"{chapter.name} has {len(set(exercises))} exercises, needs >= 4"
    for label in set(exercises):
        m = re.search(r"`{3,4}\{solution(?:-start)?\} " + re.escape(label) + r"\n((?::\w+:.*\n)*)", text)
        assert m, f"exercise {label} has no solution"
        assert ":class: dropdown" in m.group(1), f"solution of {label} must be a dropdown"
    assert re.search(r"\{prf:theorem\}|\{prf:proposition\}", text), "no theorem or proposition"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_figures_are_designed_for_the_column(chapter):
    """Figures fit the content column at the book's dpi and keep labels legible there
    (the sizes are explained in collapselab.plotting)."""
    from collapselab.plotting import FIGURE_MAX_WIDTH, MIN_FONT_SIZE
    text = chapter.read_text()
    for width in re.findall(r"figsize=\(\s*([0-9.]+)\s*,", text):
        assert float(width) <= FIGURE_MAX_WIDTH, f"figsize width {width} > {FIGURE_MAX_WIDTH} in"
    for size in re.findall(r"\b(?:title_)?fontsize=([0-9.]+)", text):
        assert float(size) >= MIN_FONT_SIZE, f"fontsize={size} < {MIN_FONT_SIZE} pt"
