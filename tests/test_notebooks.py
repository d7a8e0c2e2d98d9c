"""Every chapter runs with small parameters under papermill — twice, with identical outputs.

The `parameters` cell of each chapter is overridden with the `ci_parameters` of its front matter.
Two executions must agree on every output: glued numbers (kept by papermill as
`application/papermill.record/...`), printed text and figures (PNG bytes), so a rebuild
reproduces the book exactly.  nbval runs the default parameters (see scripts/test.sh).
"""
from __future__ import annotations

import re

import jupytext
import nbformat
import papermill
import pytest

from conftest import CHAPTER_DIR, chapter_paths, front_matter

ADDRESS = re.compile(r"0x[0-9a-fA-F]+")
GLUE_ROLE = re.compile(r"\{glue(?::[a-z]+)?\}`([^`:]+)")   # {glue:text}`key:.2f` -> key


def _execute(src, out, params):
    papermill.execute_notebook(str(src), str(out), parameters=params, cwd=str(CHAPTER_DIR),
                               kernel_name="python3", progress_bar=False, log_output=False)
    return nbformat.read(str(out), as_version=4)


def _outputs(nb):
    """Comparable outputs: consecutive stdout chunks of a cell merged (their split is timing)."""
    result = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or "injected-parameters" in cell.metadata.get("tags", []):
            continue
        stdout = ""
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                if out.name == "stdout":  # stderr holds progress bars and timings
                    stdout += out.text
                continue
            if out.output_type in ("display_data", "execute_result"):
                for mime, value in sorted(out.data.items()):
                    if mime == "application/vnd.jupyter.widget-view+json":
                        continue  # model ids are random by design
                    if isinstance(value, str):
                        value = ADDRESS.sub("0x", value)
                    result.append((i, mime, value))
            elif out.output_type == "error":
                result.append((i, "error", out.ename))
        if stdout:
            result.append((i, "stdout", ADDRESS.sub("0x", stdout)))
    return result


@pytest.mark.parametrize("chapter", chapter_paths(), ids=lambda p: p.stem)
def test_chapter_small_parameters_reproducible(chapter, tmp_path):
    params = front_matter(chapter).get("ci_parameters")
    assert params, f"{chapter.name} must declare ci_parameters in its front matter"
    src = tmp_path / f"{chapter.stem}.ipynb"
    jupytext.write(jupytext.read(chapter), src)
    first = _execute(src, tmp_path / "run1.ipynb", params)
    injected = [c for c in first.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected, "papermill found no cell tagged `parameters` to override"
    second = _execute(src, tmp_path / "run2.ipynb", params)
    a, b = _outputs(first), _outputs(second)
    assert len(a) == len(b), "the two runs produced different numbers of outputs"
    for (cell_a, mime_a, val_a), (cell_b, mime_b, val_b) in zip(a, b):
        assert (cell_a, mime_a) == (cell_b, mime_b)
        assert val_a == val_b, f"cell {cell_a} output {mime_a} differs between two seeded runs"
    # every key the prose pastes was glued by the run (a missing one is a broken page)
    recorded = {out.get("metadata", {}).get("scrapbook", {}).get("name")
                for cell in first.cells for out in cell.get("outputs", [])}
    used = set(GLUE_ROLE.findall(chapter.read_text()))
    assert used <= recorded, f"pasted in prose but never glued: {sorted(used - recorded)}"
