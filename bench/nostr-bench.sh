#!/usr/bin/env bash
# The independent load generator (nostr-bench 0.4.0, crates.io) against our
# relay on SQLite, on PostgreSQL, and nostr-rs-relay (as built by
# compare-relays.sh), loopback only: each relay pinned to core 0, nostr-bench
# (one thread) to core 1, 50 clients, SECS seconds of `event` then of `req`
# per relay; prints nostr-bench's last JSON line for each. Our rate limits are
# off (bench/relay-bench.toml): all clients are 127.0.0.1.
# Usage: bench/nostr-bench.sh [SECS]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-20}
CACHE=${SAMIZDAT_BENCH_CACHE:-$HOME/.cache/samizdat-bench}
NB=$CACHE/nostr-bench/bin/nostr-bench
[ -x "$NB" ] || cargo install nostr-bench@0.4.0 --locked --root "$CACHE/nostr-bench"
RS=$CACHE/nostr-rs-relay-0.8.12/target/release/nostr-rs-relay
cargo build --release -q -p samizdat-cli
SAMIZDAT=$PWD/target/release/samizdat
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
wait_port() { for _ in $(seq 1 100); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.2; done; return 1; }
run() { # label port
  for mode in event req; do
    line=$(timeout "$SECS" taskset -c 1 "$NB" "$mode" "ws://127.0.0.1:$2" -c 50 -t 1 --json 2>/dev/null | tail -n 1 || true)
    echo "$1 $mode $line"
  done
}
taskset -c 0 "$SAMIZDAT" --log warn relay --listen 127.0.0.1:7931 --db "$WORK/s.sqlite" --config bench/relay-bench.toml >/dev/null 2>&1 &
PIDS+=($!); wait_port 7931; run samizdat 7931
PG_URL=$(bench/postgres.sh start)
psql -q "$PG_URL" -c "DROP DATABASE IF EXISTS samizdat_nb" -c "CREATE DATABASE samizdat_nb"
PG_PID=$(head -1 target/postgres/data/postmaster.pid); taskset -cp 0 "$PG_PID" >/dev/null
taskset -c 0 "$SAMIZDAT" --log warn relay --listen 127.0.0.1:7932 --db "${PG_URL%/postgres}/samizdat_nb" --config bench/relay-bench.toml >/dev/null 2>&1 &
PIDS+=($!); wait_port 7932; run samizdat-postgres 7932
if [ -x "$RS" ]; then
  mkdir -p "$WORK/rs"
  printf '[network]\naddress = "127.0.0.1"\nport = 7933\n[database]\nengine = "sqlite"\ndata_directory = "%s"\n' "$WORK/rs" > "$WORK/rs.toml"
  taskset -c 0 "$RS" --config "$WORK/rs.toml" --db "$WORK/rs" >/dev/null 2>&1 &
  PIDS+=($!); wait_port 7933; run nostr-rs-relay 7933
fi
