"""The interactive explorers of the chapters run in a kernel and react to their controls.

The book build and the notebook tests skip the explorer cells (tagged ``skip-execution``: the
static page cannot move a slider).  Here each chapter that calls ``loop_explorer(`` is run in a
Jupyter kernel with its ``ci_parameters``, up to its last explorer cell, with those cells
switched on; after each explorer a check cell moves the batch-size slider as a reader would and
asserts, inside the kernel, that the loop re-ran with the new value and the plot was redrawn.
The kernel's Output widget must then hold the new figure (nbclient keeps widget state).
"""
from __future__ import annotations

import ast
import json
import os

import jupytext
import nbformat
import papermill
import pytest
from nbclient import NotebookClient

from conftest import CHAPTER_DIR, chapter_paths, front_matter

CALL = "loop_explorer("

CHECK = """\
import json
from collapselab.widgets import LoopExplorer as _Explorer
_ex = {shown}  # what the explorer cell displays
assert isinstance(_ex, _Explorer), f"the explorer cell must end with the explorer, got {{_ex!r}}"
_draws, _fig, _traj = _ex.draws, _ex.figure, _ex.trajectory
_slider = _ex.controls["n"]
_new = _slider.value + 1 if _slider.value < _slider.max else _slider.value - 1
_slider.value = _new  # what moving the slider does
assert _ex.draws == _draws + 1, "moving the slider did not redraw"
assert _ex.trajectory is not _traj and _ex.trajectory.n == _new, "the loop did not re-run"
assert _ex.values.shape[0] == _ex.settings()["generations"] + 1
assert _ex.figure is not _fig and f"n = {{_new}}" in _ex.figure.axes[0].get_title()
print(json.dumps({{"output_model": _ex.output.model_id, "n": _new}}))
"""


def _shown(source: str) -> str:
    """The expression an explorer cell ends with (what the cell displays)."""
    last = ast.parse(source).body[-1]
    assert isinstance(last, ast.Expr), "an explorer cell must end with the explorer it displays"
    return ast.get_source_segment(source, last)


def _explorer_chapters():
    found = []
    for path in chapter_paths():
        nb = jupytext.read(path)
        if any(c.cell_type == "code" and CALL in c.source for c in nb.cells):
            found.append(path)
    return found


def test_the_known_explorers_are_found():
    names = {p.stem for p in _explorer_chapters()}
    assert {"02_gaussian", "03_categorical", "08_contraction"} <= names, names


@pytest.mark.parametrize("chapter", _explorer_chapters(), ids=lambda p: p.stem)
def test_explorer_runs_in_a_kernel_and_follows_its_slider(chapter, tmp_path):
    src, prepared = tmp_path / "chapter.ipynb", tmp_path / "prepared.ipynb"
    jupytext.write(jupytext.read(chapter), src)
    papermill.execute_notebook(str(src), str(prepared), prepare_only=True, kernel_name="python3",
                               parameters=front_matter(chapter)["ci_parameters"])
    nb = nbformat.read(prepared, as_version=4)
    cells, checks = [], 0
    last = max(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and CALL in c.source)
    for cell in nb.cells[:last + 1]:
        cells.append(cell)
        if cell.cell_type == "code" and CALL in cell.source:
            tags = cell.metadata.get("tags", [])
            cell.metadata["tags"] = [t for t in tags if t != "skip-execution"]
            cells.append(nbformat.v4.new_code_cell(CHECK.format(shown=_shown(cell.source))))
            checks += 1
    nb.cells = cells
    env_backend = os.environ.pop("MPLBACKEND", None)  # the kernel uses the inline backend
    try:
        NotebookClient(nb, timeout=600, kernel_name="python3", store_widget_state=True,
                       resources={"metadata": {"path": str(CHAPTER_DIR)}}).execute()
    finally:
        if env_backend is not None:
            os.environ["MPLBACKEND"] = env_backend
    reports = [json.loads(out["text"]) for cell in nb.cells if "_Explorer" in cell.source
               for out in cell.outputs if out.get("name") == "stdout"]
    assert len(reports) == checks >= 1
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    for report in reports:
        outputs = state[report["output_model"]]["state"]["outputs"]
        images = [o for o in outputs if "image/png" in o.get("data", {})]
        assert len(images) == 1, f"the explorer's plot area holds {len(images)} figures"
