#!/usr/bin/env bash
# Screenshot a built page as a reader sees it: scripts/screenshot.sh chapters/02_gaussian [out.png] [height]
# Needs Debian's chromium (apt-get install chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
page="${1:-intro}"; out="${2:-/tmp/${page//\//_}.png}"; height="${3:-3000}"
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$(mktemp -d)" --hide-scrollbars --window-size=1280,"$height" \
  --virtual-time-budget=5000 --screenshot="$out" "file://$(pwd)/_build/html/${page}.html" 2>/dev/null
echo "$out"
