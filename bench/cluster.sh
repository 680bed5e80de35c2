#!/usr/bin/env bash
# A relay cluster on this machine: 3 `samizdat relay` nodes on one local
# PostgreSQL (bench/postgres.sh; a fresh database `cluster_bench`), rate limits
# off (bench/relay-bench.toml: every client is 127.0.0.1). Prints:
#  1. live fan-out latency (publish on node A -> EVENT at a subscriber on node C),
#     idle: `samizdat bench cluster`, 1,000 events at 200/s;
#  2. the same while our generator loads all three nodes (`samizdat bench relay`,
#     17 clients per node: publish/s and REQ/s per node);
#  3. nostr-bench 0.4.0 (an independent load generator; installed into
#     ~/.cache/samizdat-bench when missing) `event` then `req`, 17 clients on each
#     node at once, SECS seconds each: its last JSON line per node.
# Usage: bench/cluster.sh [SECS]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-15}
CACHE=${SAMIZDAT_BENCH_CACHE:-$HOME/.cache/samizdat-bench}
NB=$CACHE/nostr-bench/bin/nostr-bench
cargo build --release -q -p samizdat-cli
SAMIZDAT=$PWD/target/release/samizdat
PG=$(bench/postgres.sh start)
BASE=${PG%/*}
psql "$PG" -q -c "DROP DATABASE IF EXISTS cluster_bench" -c "CREATE DATABASE cluster_bench" >/dev/null
DB="$BASE/cluster_bench"
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
wait_port() { for _ in $(seq 1 100); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.2; done; return 1; }
PORTS=(7941 7942 7943)
for port in "${PORTS[@]}"; do
  "$SAMIZDAT" --log warn relay --listen "127.0.0.1:$port" --db "$DB" --no-media \
    --config bench/relay-bench.toml >/dev/null 2>&1 &
  PIDS+=($!)
  wait_port "$port"
done
NODES=ws://127.0.0.1:7941,ws://127.0.0.1:7942,ws://127.0.0.1:7943
sleep 1
echo "== fan-out A -> C, idle"
"$SAMIZDAT" bench cluster --nodes "$NODES" --events 1000 --rate 200 --label idle
echo "== fan-out A -> C while our generator loads every node (17 clients each)"
LOAD=()
for port in "${PORTS[@]}"; do
  "$SAMIZDAT" bench relay --url "ws://127.0.0.1:$port" --clients 17 --events 20000 --reqs 5000 \
    --label "node-$port" &
  LOAD+=($!)
done
sleep 1
"$SAMIZDAT" bench cluster --nodes "$NODES" --events 1000 --rate 200 --label "under load"
for p in "${LOAD[@]}"; do wait "$p"; done
echo "== nostr-bench, 17 clients on each node at once, ${SECS}s per mode"
[ -x "$NB" ] || cargo install nostr-bench@0.4.0 --locked --root "$CACHE/nostr-bench" >/dev/null 2>&1 || true
if [ -x "$NB" ]; then
  for mode in event req; do
    RUNS=()
    for port in "${PORTS[@]}"; do
      ( line=$(timeout "$SECS" "$NB" "$mode" "ws://127.0.0.1:$port" -c 17 -t 1 --json 2>/dev/null | tail -n 1 || true)
        echo "node-$port $mode $line" ) &
      RUNS+=($!)
    done
    for p in "${RUNS[@]}"; do wait "$p"; done
  done
else
  echo "nostr-bench could not be installed: skipped"
fi
