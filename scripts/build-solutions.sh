#!/usr/bin/env bash
# Printable solutions for instructors: every exercise with its solution, one page per chapter
# plus all.html (and solutions.pdf when Debian's chromium is installed), in _build/solutions.
# The handout is cut out of the built book (_build/html), which is (re)built first when it is
# missing or older than the sources; `--html DIR` uses another build as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-env.sh
html=_build/html
if [ "${1:-}" = "--html" ]; then
  html="$2"; shift 2
elif [ ! -f _build/html/index.html ] || \
     [ -n "$(find chapters lib/collapselab _config.yml _toc.yml -newer _build/html/index.html \
               -name '*.md' -o -newer _build/html/index.html -name '*.py' \
               -o -newer _build/html/index.html -name '*.yml' | head -1)" ]; then
  bash scripts/build-book.sh
fi
.venv/bin/python scripts/solutions_handout.py --html "$html" --pdf "$@"
