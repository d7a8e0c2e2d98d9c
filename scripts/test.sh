#!/usr/bin/env bash
# Run every test: the library and its theorems, the book's structure, every chapter through
# nbval (default parameters) and papermill (small parameters, twice, for reproducibility),
# the full book build with warnings as errors (once, into _build/html), and every built page in
# a real browser (tests/test_browser.py: Debian's chromium, `apt-get install chromium`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-env.sh
export PYTHONHASHSEED=0
unset MPLBACKEND  # kernels then use the inline backend, so figures are captured
# two pytest workers share the 2 cores: one BLAS thread each avoids oversubscription
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
# nbval collects only .ipynb: convert the MyST chapters into a scratch folder first
rm -rf _build/nbval && mkdir -p _build/nbval
for ch in chapters/*.md; do
  .venv/bin/jupytext --quiet --to ipynb --output "_build/nbval/$(basename "${ch%.md}").ipynb" "$ch"
done
.venv/bin/python -m pytest tests _build/nbval --nbval-lax --nbval-current-env -p no:cacheprovider \
  -n "${PYTEST_WORKERS:-2}" --dist loadfile --durations=15 "$@"
