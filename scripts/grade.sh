#!/usr/bin/env bash
# Grade every submitted notebook in a folder with otter-grader's local runner (no Docker) and
# write a CSV score table (submission, assignment, question, score, max, feedback).
# Usage: bash scripts/grade.sh SUBMISSIONS_DIR [OUT.csv]   (build first: scripts/build-assignments.sh)
set -euo pipefail
[ "$#" -ge 1 ] || { echo "usage: bash scripts/grade.sh SUBMISSIONS_DIR [OUT.csv]" >&2; exit 2; }
here="$(cd "$(dirname "$0")/.." && pwd)"
bash "$here/scripts/setup-env.sh"
export PYTHONHASHSEED=0 MPLBACKEND=Agg
exec "$here/.venv/bin/python" "$here/scripts/grade.py" "$@"
