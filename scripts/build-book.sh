#!/usr/bin/env bash
# Build the whole book into _build/html, executing every chapter (warnings are errors).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-env.sh
export PYTHONHASHSEED=0
unset MPLBACKEND  # kernels then use the inline backend, so figures are captured
.venv/bin/jupyter-book build . -W -n --keep-going "$@"
echo "Book built: open $(pwd)/_build/html/index.html"
