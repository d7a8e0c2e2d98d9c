#!/usr/bin/env bash
# Build every autograded assignment with otter-grader (no Docker, no network):
#   assignments/NN_slug.md  (jupytext MyST: otter's master notebook, reviewable)
#   -> _build/assignments/NN_slug/student/NN_slug.ipynb   (the notebook to hand out, + tests/)
#   -> _build/assignments/NN_slug/autograder/NN_slug-autograder_*.zip  (for scripts/grade.sh)
# `otter assign` also runs the reference solution against every test and fails if one fails.
# Usage: bash scripts/build-assignments.sh [NN_slug ...]   (default: every assignment)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-env.sh
export PYTHONHASHSEED=0 MPLBACKEND=Agg
out=_build/assignments
mkdir -p "$out/masters"
if [ "$#" -gt 0 ]; then names=("$@"); else
  names=(); for f in assignments/[0-9][0-9]_*.md; do names+=("$(basename "${f%.md}")"); done
fi
for name in "${names[@]}"; do
  src="assignments/$name.md"
  [ -f "$src" ] || { echo "no such assignment: $src" >&2; exit 2; }
  master="$out/masters/$name.ipynb"
  .venv/bin/jupytext --quiet --to ipynb --output "$master" "$src"
  rm -rf "${out:?}/$name"
  .venv/bin/otter assign "$master" "$out/$name" > "$out/masters/$name.log" 2>&1 \
    || { cat "$out/masters/$name.log" >&2; echo "otter assign failed for $name" >&2; exit 1; }
  echo "built $out/$name: $(ls "$out/$name"/autograder/*.zip)"
done
