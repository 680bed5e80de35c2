#!/usr/bin/env bash
# Side-by-side relay load benchmark on this machine, loopback only.
#
# Runs `samizdat bench relay` (events signed before the clock starts; 50
# clients publishing with OK-wait, then tag REQs) against:
#   - our relay (`samizdat relay`) on SQLite, and on PostgreSQL (a throwaway
#     server from bench/postgres.sh, also pinned to core 0; synchronous_commit
#     off, which matches SQLite's WAL with synchronous=NORMAL),
#   - nostr-rs-relay 0.8.12 (crates.io; built once into the cache),
#   - the Python nostr-relay package (PyPI; installed once into a venv in the cache),
# each relay pinned to core 0 and the load generator to core 1, and prints
# every result and our ratio to each. Independent relays are built/installed
# outside the repository, in $SAMIZDAT_BENCH_CACHE (default ~/.cache/samizdat-bench).
#
# Usage: bench/compare-relays.sh [--events N] [--reqs N] [--clients N] [--skip-rs] [--skip-py] [--skip-pg]
set -euo pipefail
cd "$(dirname "$0")/.."

EVENTS=20000 REQS=5000 CLIENTS=50 SKIP_RS=0 SKIP_PY=0 SKIP_PG=0
while [ $# -gt 0 ]; do
  case "$1" in
    --events) EVENTS=$2; shift 2 ;;
    --reqs) REQS=$2; shift 2 ;;
    --clients) CLIENTS=$2; shift 2 ;;
    --skip-rs) SKIP_RS=1; shift ;;
    --skip-py) SKIP_PY=1; shift ;;
    --skip-pg) SKIP_PG=1; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

CACHE=${SAMIZDAT_BENCH_CACHE:-$HOME/.cache/samizdat-bench}
WORK=$(mktemp -d)
mkdir -p "$CACHE"
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

cargo build --release -q -p samizdat-cli
SAMIZDAT=$PWD/target/release/samizdat

wait_port() { for _ in $(seq 1 100); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.2; done; echo "port $1 never opened" >&2; return 1; }

load() { # label port
  taskset -c 1 "$SAMIZDAT" --log warn bench relay --url "ws://127.0.0.1:$2" --label "$1" \
    --events "$EVENTS" --reqs "$REQS" --clients "$CLIENTS" --json | tee -a "$WORK/results.jsonl"
}

# --- ours
taskset -c 0 "$SAMIZDAT" --log warn relay --listen 127.0.0.1:7911 --db "$WORK/samizdat.sqlite" \
  --config bench/relay-bench.toml > "$WORK/samizdat.log" 2>&1 &
PIDS+=($!); wait_port 7911; load samizdat 7911

# --- ours on PostgreSQL (a fresh database each run)
if [ "$SKIP_PG" = 0 ]; then
  PG_URL=$(bench/postgres.sh start)
  PG_PID=$(head -1 target/postgres/data/postmaster.pid)
  taskset -cp 0 "$PG_PID" >/dev/null
  for child in $(pgrep -P "$PG_PID"); do taskset -cp 0 "$child" >/dev/null; done
  psql -q "$PG_URL" -c "DROP DATABASE IF EXISTS samizdat_bench" -c "CREATE DATABASE samizdat_bench"
  taskset -c 0 "$SAMIZDAT" --log warn relay --listen 127.0.0.1:7914 --db "${PG_URL%/postgres}/samizdat_bench" \
    --config bench/relay-bench.toml > "$WORK/samizdat-pg.log" 2>&1 &
  PIDS+=($!); wait_port 7914; load samizdat-postgres 7914
fi

# --- nostr-rs-relay
if [ "$SKIP_RS" = 0 ]; then
  RS=$CACHE/nostr-rs-relay-0.8.12/target/release/nostr-rs-relay
  if [ ! -x "$RS" ]; then
    command -v protoc >/dev/null || { apt-get update -qq && apt-get install -y -qq protobuf-compiler; }
    cargo info nostr-rs-relay@0.8.12 >/dev/null 2>&1 || true
    CRATE=$(ls ~/.cargo/registry/cache/*/nostr-rs-relay-0.8.12.crate | head -n 1)
    tar -xzf "$CRATE" -C "$CACHE"
    (cd "$CACHE/nostr-rs-relay-0.8.12" && cargo update -q -p time@0.3.25 && cargo build --release -q --locked)
  fi
  mkdir -p "$WORK/rs-data"
  cat > "$WORK/rs.toml" <<CONF
[network]
address = "127.0.0.1"
port = 7912
[database]
engine = "sqlite"
data_directory = "$WORK/rs-data"
CONF
  taskset -c 0 "$RS" --config "$WORK/rs.toml" --db "$WORK/rs-data" > "$WORK/rs.log" 2>&1 &
  PIDS+=($!); wait_port 7912; load nostr-rs-relay 7912
fi

# --- Python nostr-relay
if [ "$SKIP_PY" = 0 ]; then
  VENV=$CACHE/py-nostr-relay
  if [ ! -x "$VENV/bin/nostr-relay" ]; then
    python3 -m venv "$VENV" && "$VENV/bin/pip" install -q nostr-relay
  fi
  PYCONF=$("$VENV/bin/python" -c 'import nostr_relay, os; print(os.path.join(os.path.dirname(nostr_relay.__file__), "config.yaml"))')
  sed -e "s#sqlite+aiosqlite:///[^ ]*#sqlite+aiosqlite:///$WORK/py.sqlite#" -e 's/6969/7913/g' -e 's/6970/7913/g' \
    "$PYCONF" > "$WORK/py.yaml"
  (cd "$WORK" && taskset -c 0 "$VENV/bin/nostr-relay" -c "$WORK/py.yaml" serve > "$WORK/py.log" 2>&1) &
  PIDS+=($!); wait_port 7913; load python-nostr-relay 7913
fi

python3 - "$WORK/results.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ours = next(r for r in rows if r["label"] == "samizdat")
print()
print(f'{"relay":<20}{"publish ev/s":>14}{"REQ/s":>10}{"REQ p50 ms":>12}{"REQ p99 ms":>12}{"accepted":>10}')
for r in rows:
    print(f'{r["label"]:<20}{r["publish_eps"]:>14.0f}{r["req_per_s"]:>10.0f}{r["req_p50_ms"]:>12.2f}{r["req_p99_ms"]:>12.2f}{r["accepted"]:>10}')
for r in rows:
    if r is ours: continue
    pe = ours["publish_eps"] / r["publish_eps"] if r["publish_eps"] else float("inf")
    rq = ours["req_per_s"] / r["req_per_s"] if r["req_per_s"] else float("inf")
    print(f'samizdat / {r["label"]}: publish x{pe:.1f}, REQ x{rq:.1f}')
PY
