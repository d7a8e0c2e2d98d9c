#!/usr/bin/env bash
# Build the whole book into _build/html, executing every chapter (warnings are errors).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-env.sh
export PYTHONHASHSEED=0
unset MPLBACKEND  # kernels then use the inline backend, so figures are captured
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}  # no BLAS oversubscription
.venv/bin/jupyter-book build . -W -n --keep-going "$@"
echo "Book built: open $(pwd)/_build/html/index.html"
