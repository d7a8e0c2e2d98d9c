#!/usr/bin/env bash
# Build the student edition into _build/student/html: the book with every solution removed from
# its sources (prose and code), the instructor pages dropped, chapters executed, no page sources.
# Only the HTML folder is kept.  `--no-execute` builds a quick preview without running the
# chapters; other arguments go to jupyter-book build (after --).  Same environment as the book.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-env.sh
export PYTHONHASHSEED=0
unset MPLBACKEND  # kernels then use the inline backend, so figures are captured
.venv/bin/python scripts/student_edition.py "$@"
