#!/usr/bin/env bash
# A throwaway PostgreSQL server on 127.0.0.1 for the relay's tests and
# benchmarks: `bench/postgres.sh start` initialises a cluster under
# target/postgres (trust auth, loopback only), starts it and prints its URL;
# `bench/postgres.sh stop` stops it; `bench/postgres.sh ca` prints the path of
# the certificate authority that signed its TLS certificate (TLS is on, for
# the tests of `sslmode=require`; plain connections still work). Installs
# Debian's postgresql when no server binaries are found. The server refuses to
# run as root, so as root it runs as the `postgres` user.
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
    TLS="$DIR/tls"
    if [ ! -f "$TLS/server.pem" ]; then
      # A throwaway authority and a certificate for 127.0.0.1 and localhost.
      mkdir -p "$TLS"
      openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=samizdat test CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
        -keyout "$TLS/ca.key" -out "$TLS/ca.pem" 2>/dev/null
      openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
        -keyout "$TLS/server.key" -out "$TLS/server.csr" 2>/dev/null
      printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' >"$TLS/ext.cnf"
      openssl x509 -req -in "$TLS/server.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca.key" \
        -CAcreateserial -days 3650 -extfile "$TLS/ext.cnf" -out "$TLS/server.pem" 2>/dev/null
      chmod 600 "$TLS/server.key"
      [ "$(id -u)" = 0 ] && chown postgres "$TLS/server.key" "$TLS/server.pem"
    fi
    if ! as_owner "'$BIN/pg_ctl' -D '$DIR/data' status" >/dev/null 2>&1; then
      as_owner "'$BIN/pg_ctl' -D '$DIR/data' -l '$DIR/server.log' -w \
        -o \"-p $PORT -k '$DIR' -c listen_addresses=127.0.0.1 -c synchronous_commit=off -c max_connections=300 \
        -c ssl=on -c ssl_cert_file='$TLS/server.pem' -c ssl_key_file='$TLS/server.key'\" start" >/dev/null
    fi
    echo "postgres://samizdat@127.0.0.1:$PORT/postgres"
    ;;
  ca)
    echo "$DIR/tls/ca.pem"
    ;;
  stop)
    BIN="$(bindir)"
    [ -n "$BIN" ] && [ -d "$DIR/data" ] && as_owner "'$BIN/pg_ctl' -D '$DIR/data' -m fast stop" >/dev/null 2>&1 || true
    ;;
  *)
    echo "usage: bench/postgres.sh start|stop|ca" >&2
    exit 2
    ;;
esac
