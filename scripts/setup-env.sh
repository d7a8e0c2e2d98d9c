#!/usr/bin/env bash
# Create (or refresh) the project's virtual environment in .venv and install everything into it.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.requirements.sha
want=$(cat requirements.txt lib/pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
  .venv/bin/python -m pip check
  echo "$want" > "$stamp"
fi
# JupyterLab opens chapters/*.md as notebooks (jupytext's "Jupytext Notebook" viewer) by default:
# the setting lives in this environment's JupyterLab settings, not in the user's home.
mkdir -p .venv/share/jupyter/lab/settings
cp jupyter/lab-overrides.json .venv/share/jupyter/lab/settings/overrides.json
