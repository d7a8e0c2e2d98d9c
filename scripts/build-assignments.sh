#!/usr/bin/env bash
# Build every autograded assignment with otter-grader (no Docker, no network):
#   assignments/NN_slug.md  (jupytext MyST: otter's master notebook, reviewable)
#   -> _build/assignments/NN_slug/student/NN_slug.ipynb   (the notebook to hand out, + tests/)
#   -> _build/assignments/NN_slug/autograder/NN_slug-autograder_*.zip  (for scripts/grade.sh)
# `otter assign` runs each reference solution against every check and fails if one fails.
# Usage: bash scripts/build-assignments.sh [--no-run-tests] [--out DIR] [NN_slug ...]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-env.sh
export PYTHONHASHSEED=0 MPLBACKEND=Agg
exec .venv/bin/python scripts/build_assignments.py "$@"
