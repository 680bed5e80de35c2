#!/usr/bin/env bash
# A throwaway PostgreSQL server on 127.0.0.1 for the relay's tests and
# benchmarks: `bench/postgres.sh start` initialises a cluster under
# target/postgres (trust auth, loopback only), starts it and prints its URL;
# `bench/postgres.sh stop` stops it. Installs Debian's postgresql when no
# server binaries are found. The server refuses to run as root, so as root it
# runs as the `postgres` user.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${SAMIZDAT_PG_PORT:-55432}"
DIR="$PWD/target/postgres"

bindir() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi
}

case "${1:-start}" in
  start)
    if [ -z "$(bindir)" ]; then
      echo "installing postgresql for the relay's PostgreSQL tests" >&2
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fi
    BIN="$(bindir)"
    mkdir -p "$DIR"
    [ "$(id -u)" = 0 ] && chown postgres "$DIR"
    if [ ! -f "$DIR/data/PG_VERSION" ]; then
      as_owner "'$BIN/initdb' -D '$DIR/data' -A trust -U samizdat >'$DIR/initdb.log' 2>&1"
    fi
    if ! as_owner "'$BIN/pg_ctl' -D '$DIR/data' status" >/dev/null 2>&1; then
      as_owner "'$BIN/pg_ctl' -D '$DIR/data' -l '$DIR/server.log' -w \
        -o \"-p $PORT -k '$DIR' -c listen_addresses=127.0.0.1 -c synchronous_commit=off -c max_connections=300\" start" >/dev/null
    fi
    echo "postgres://samizdat@127.0.0.1:$PORT/postgres"
    ;;
  stop)
    BIN="$(bindir)"
    [ -n "$BIN" ] && [ -d "$DIR/data" ] && as_owner "'$BIN/pg_ctl' -D '$DIR/data' -m fast stop" >/dev/null 2>&1 || true
    ;;
  *)
    echo "usage: bench/postgres.sh start|stop" >&2
    exit 2
    ;;
esac
