#!/usr/bin/env bash
# The desktop app's benchmark under Xvfb with Mesa's software renderer:
# time from start to the first painted feed (demo network), then frame times
# scrolling a 10,000-note feed, and memory. Runs on one demo profile: cold
# (empty store), warm (its feed already stored), then with the store filled to
# 100,000 events (one run fills, two start warm on it). Prints one JSON line
# per run, with "start" naming it. first_feed_ms counts from launch (the demo
# network starts first: session_open_ms); feed_after_open_ms is the stored
# feed read and painted, before any relay answers.
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
run() {
  local start="$1"; shift
  DISPLAY=":$(cat "$fd")" LIBGL_ALWAYS_SOFTWARE=1 \
    target/release/samizdat-desktop --demo --keep-demo --bench --home "$home" "$@" |
    grep '^{' | sed "s/^{/{\"start\":\"$start\",/"
}
run cold "$@"
run warm "$@"
# The same profile with its store filled to 100,000 events: the fill run
# signs and stores them first (its figures include that), then a warm start.
run fill-100k --bench-fill 100000 "$@"
run warm-100k --bench-fill 100000 "$@"
run warm-100k-again --bench-fill 100000 "$@"
rm -rf "$home"
