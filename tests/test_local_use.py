"""Readers who run the book themselves: notebooks from the site, launch buttons, JupyterLab.

- ``_ext/notebook_links.py``: every notebook page of a (small) book links a runnable ``.ipynb``
  with its outputs; a build that hides solutions ships notebooks without them; launch buttons
  appear only once ``repository: url:`` is set (with the book's own ``launch_buttons``).
- A Jupyter server started from ``.venv`` serves ``chapters/02_gaussian.md`` as a notebook through
  its contents API, and JupyterLab's default viewer for Markdown is jupytext's notebook (the
  setting ``scripts/setup-env.sh`` copies from ``jupyter/lab-overrides.json``).
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import nbformat
import pytest
import yaml

from conftest import ROOT

sys.path.insert(0, str(ROOT / "_ext"))
from notebook_links import repository_is_set, strip_solutions  # noqa: E402

BIN = os.path.dirname(sys.executable)

PAGE = """\
---
jupytext:
  text_representation: {extension: .md, format_name: myst}
kernelspec: {display_name: Python 3, language: python, name: python3}
---
# A page

```{code-cell} ipython3
print(6 * 7)
```

```{exercise} Pencil
:label: ex-a-1
What is six times seven?
```

```{solution} ex-a-1
:class: dropdown
SECRET-ANSWER-ONE
```
"""
GATED = """\
````{exercise-start} Code
:label: ex-a-2
````
Compute it.
````{exercise-end}
````

````{solution-start} ex-a-2
:class: dropdown
````
SECRET-ANSWER-TWO
```{code-cell} ipython3
print("SECRET-CODE")
```
````{solution-end}
````
"""
TAIL = "\nAfter the exercises.\n"


def _small_book(tmp_path, page, **overrides):
    """A one-page book with the real book's extensions, launch and repository settings."""
    real = yaml.safe_load((ROOT / "_config.yml").read_text())
    cfg = {"title": "t", "only_build_toc_files": True, "exclude_patterns": ["_build"],
           "execute": {"execute_notebooks": "force"},
           "html": dict(real["html"]), "launch_buttons": real["launch_buttons"],
           "repository": dict(real["repository"]),
           "sphinx": {"local_extensions": {"notebook_links": str(ROOT / "_ext")},
                      "extra_extensions": ["sphinx_exercise"], "config": {}}}
    for key, value in overrides.items():
        section, _, name = key.partition("__")
        cfg[section][name] = value
    book = tmp_path / "book"
    book.mkdir()
    (book / "_config.yml").write_text(yaml.safe_dump(cfg))
    (book / "_toc.yml").write_text("format: jb-book\nroot: page\n")
    (book / "page.md").write_text(page)
    exe = shutil.which("jupyter-book", path=BIN) or "jupyter-book"
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    proc = subprocess.run([exe, "build", str(book), "-W", "-n", "--keep-going"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    html = book / "_build" / "html"
    return (html / "page.html").read_text(), html


def test_small_book_links_its_executed_notebook_and_has_no_launch_without_repository(tmp_path):
    assert not repository_is_set(yaml.safe_load((ROOT / "_config.yml").read_text())
                                 ["repository"].get("url")), "update this test once url is set"
    page, html = _small_book(tmp_path, PAGE + GATED + TAIL)
    # one .ipynb entry, in the download drop-down, pointing at this build's executed notebook
    assert page.count('href="_notebooks/page.ipynb"') == 1
    assert "btn-download-notebook-button" in page
    nb = nbformat.read(html / "_notebooks" / "page.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[0].outputs[0]["text"].strip() == "42"
    assert "jupytext" not in nb.metadata and nb.metadata.kernelspec.name == "python3"
    text = json.dumps(nb)
    assert "SECRET-ANSWER-ONE" in text and "SECRET-CODE" in text   # solutions kept in this build
    # the book's launch settings name a provider, but without a repository address: no launch
    assert "mybinder.org" not in page and "launch-buttons" not in page


def test_small_book_with_repository_and_hidden_solutions(tmp_path):
    repo = "https://github.com/example-org/example-book"
    # (a gated solution crashes sphinx-exercise 1.2.1's HTML writer under hide_solutions, so this
    # page has a plain one; test_strip_solutions covers gated ones)
    # (JB 1.x does not pass `html: use_download_button` on to the theme: set the theme option)
    page, html = _small_book(tmp_path, PAGE + TAIL, repository__url=repo,
                             sphinx__recursive_update=True,
                             sphinx__config={"hide_solutions": True,
                                             "html_theme_options": {"use_download_button": False}})
    # launch buttons wired to the repository, opening the page's MyST source in JupyterLab
    assert "https://mybinder.org/v2/gh/example-org/example-book/main?urlpath=lab/tree/page.md" \
        in page
    assert repo in page  # repository button
    # no download drop-down in this build: the notebook gets a header button of its own
    assert 'href="_notebooks/page.ipynb"' in page and "download-buttons" not in page
    for path in (html / "_notebooks" / "page.ipynb", html / "_sources" / "page.ipynb"):
        text = path.read_text()
        assert "SECRET" not in text, path
        assert "After the exercises." in text and "What is six times seven?" in text


def test_strip_solutions_keeps_exercises_and_drops_gated_code():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("Intro\n\n```{solution} ex-1\n:class: dropdown\nA1\n```\n"
                                      "Between\n\n````{solution-start} ex-2\n````\nA2"),
        nbformat.v4.new_code_cell("print('solution code')"),
        nbformat.v4.new_markdown_cell("more A2\n````{solution-end}\n````\nAfter"),
        nbformat.v4.new_code_cell("print('kept')"),
    ])
    out = strip_solutions(nb)
    assert [c.source for c in out.cells] == ["Intro\n\nBetween", "After", "print('kept')"]
    assert len(nb.cells) == 4  # the input is not changed
    bad = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("```{solution} x\nA")])
    with pytest.raises(ValueError, match="unterminated"):
        strip_solutions(bad)


# --- a Jupyter server from .venv -------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url, token):
    req = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def test_jupyter_server_opens_a_chapter_as_a_notebook(tmp_path):
    lab = shutil.which("jupyter-lab", path=BIN)
    assert lab, "jupyterlab is not installed in the test environment (requirements.txt)"
    port, token = _free_port(), "collapselab-test-token"
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTER_CONFIG_DIR=str(tmp_path / "config"))  # nothing from the user's home
    proc = subprocess.Popen(
        [lab, "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
         "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={ROOT}"],
        stdout=subprocess.DEVNULL, stderr=open(tmp_path / "server.log", "w"), env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                _get(f"{base}/api/status", token)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("Jupyter server did not start:\n"
                                + (tmp_path / "server.log").read_text()[-3000:])
                time.sleep(0.5)
        model = _get(f"{base}/api/contents/chapters/02_gaussian.md?type=notebook&content=1", token)
        assert model["type"] == "notebook" and model["format"] == "json"
        nb = nbformat.from_dict(model["content"])
        assert nb.metadata.kernelspec.name == "python3"
        tags = [c.metadata.get("tags", []) for c in nb.cells if c.cell_type == "code"]
        assert ["parameters"] in tags and any("loop_explorer(" in c.source for c in nb.cells)
        # JupyterLab opens Markdown files with jupytext's notebook viewer by default
        plugin = _get(f"{base}/lab/api/settings/@jupyterlab/docmanager-extension:plugin", token)
        viewers = plugin["schema"]["properties"]["defaultViewers"]["default"]
        assert viewers.get("markdown") == "Jupytext Notebook"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
