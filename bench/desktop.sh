#!/usr/bin/env bash
# The desktop app's benchmark under Xvfb with Mesa's software renderer:
# time from start to the first painted feed (demo network), then frame times
# scrolling a 10,000-note feed, and memory. Runs twice on one demo profile:
# cold (empty store) then warm (the second run, its feed already stored).
# Prints one JSON line per run, each with "start": "cold" or "warm".
# Needs: xvfb, libgl1-mesa-dri (apt-get install xvfb libgl1-mesa-dri).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p samizdat-desktop
fd=$(mktemp)
Xvfb -displayfd 3 -screen 0 1280x900x24 -nolisten tcp 3>"$fd" 2>/dev/null &
xvfb=$!
trap 'kill $xvfb 2>/dev/null || true; rm -f "$fd"' EXIT
for _ in $(seq 50); do [ -s "$fd" ] && break; sleep 0.1; done
home=$(mktemp -d)
for start in cold warm; do
  DISPLAY=":$(cat "$fd")" LIBGL_ALWAYS_SOFTWARE=1 \
    target/release/samizdat-desktop --demo --keep-demo --bench --home "$home" "$@" |
    grep '^{' | sed "s/^{/{\"start\":\"$start\",/"
done
rm -rf "$home"
