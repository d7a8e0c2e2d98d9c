#!/usr/bin/env bash
# Build a student edition into _build/student/html: exercise solutions removed and page sources
# not copied (the download button would otherwise leak them).  Same environment as the book.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-env.sh
export PYTHONHASHSEED=0
unset MPLBACKEND  # kernels then use the inline backend, so figures are captured
cfg=$(mktemp --suffix=.yml)
trap 'rm -f "$cfg"' EXIT
.venv/bin/python - "$cfg" <<'PY'
import os, sys, yaml
cfg = yaml.safe_load(open("_config.yml"))
cfg["title"] = cfg["title"] + " (student edition)"
sphinx_cfg = cfg.setdefault("sphinx", {}).setdefault("config", {})
sphinx_cfg["hide_solutions"] = True
sphinx_cfg["html_copy_source"] = False
cfg.setdefault("html", {})["use_download_button"] = False
# the temporary config lives elsewhere: local extension paths must not be relative to it
local = cfg["sphinx"].get("local_extensions") or {}
cfg["sphinx"]["local_extensions"] = {k: os.path.abspath(v) for k, v in local.items()}
yaml.safe_dump(cfg, open(sys.argv[1], "w"), sort_keys=False)
PY
.venv/bin/jupyter-book build . --config "$cfg" --path-output _build/student -W -n --keep-going "$@"
echo "Student edition built: open $(pwd)/_build/student/_build/html/index.html"
