#!/usr/bin/env bash
# Soak: our relay (release build, SQLite, bench/relay-bench.toml: per-IP rate
# limits off, since every client here is 127.0.0.1) under `samizdat bench
# soak` for SECS seconds (default 600): publishers, readers, live and slow
# subscribers, reconnect storms, oversize / malformed / forged frames. Prints
# RSS and open files (start, peak, end), p99 REQ latency per minute, and
# checks every acknowledged event against the relay's database at the end.
#
#   bench/soak.sh [SECS] [RATE]      RATE: events/s published in all (200)
#   SOAK_CACHE_MIB=8 bench/soak.sh   the relay's SQLite page cache per connection
#                                    (cache_mib; 64 by default): the heap's ceiling
#   SOAK_HEAP=1 bench/soak.sh        also the heap's curve: the allocator's bytes in
#                                    use and free beside RssAnon every 5 s (CSV kept
#                                    in target/soak/heap.csv), summarised at the end
#   SOAK_DHAT=1 bench/soak.sh        the same with dhat as the relay's allocator
#                                    (built with --features heap-profile): the
#                                    allocation sites still holding memory at the end
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-600}
rate=${2:-200}
work=$(mktemp -d)
relay_pid=
cleanup() { [ -n "$relay_pid" ] && kill "$relay_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

cargo build --release -q -p samizdat-cli
samizdat=$PWD/target/release/samizdat
relay_bin=$samizdat
out=$PWD/target/soak
mkdir -p "$out"
heap_args=()
if [ -n "${SOAK_DHAT:-}" ]; then
  # Same target dir (only the cli crate differs), then the normal build back.
  cargo build --release -q -p samizdat-cli --features heap-profile
  relay_bin=$out/samizdat-heap-profile
  cp target/release/samizdat "$relay_bin"
  cargo build --release -q -p samizdat-cli
  export SAMIZDAT_DHAT=$out/dhat-heap.json
  SOAK_HEAP=1
fi
[ -n "${SOAK_HEAP:-}" ] && heap_args=(--heap-log "$out/heap.csv")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
{ [ -n "${SOAK_CACHE_MIB:-}" ] && echo "cache_mib = $SOAK_CACHE_MIB"; cat bench/relay-bench.toml; } >"$work/relay.toml"
"$relay_bin" relay --db "$work/soak.sqlite" --listen "127.0.0.1:$port" --config "$work/relay.toml" \
  "${heap_args[@]}" >"$work/relay.log" 2>&1 &
relay_pid=$!
for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.2
done
"$samizdat" bench soak --url "ws://127.0.0.1:$port" --pid "$relay_pid" --db "$work/soak.sqlite" \
  --secs "$secs" --rate "$rate"
# Stopped gracefully, so that dhat writes its profile.
kill -TERM "$relay_pid" 2>/dev/null && wait "$relay_pid" 2>/dev/null || true
relay_pid=
[ -n "${SOAK_HEAP:-}" ] && python3 bench/heap-summary.py "$out/heap.csv" ${SOAK_DHAT:+"$out/dhat-heap.json"}
echo "relay log: $(wc -l <"$work/relay.log") lines, $(grep -c ' ERROR ' "$work/relay.log" || true) errors, panics: $(grep -c panicked "$work/relay.log" || true)"
