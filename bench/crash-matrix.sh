#!/usr/bin/env bash
# Crash matrix: SIGKILL at seeded random points during a sync, a post's
# delivery, follow-list edits, waiting list changes (queued and applied), DM sends, a store migration and the relay's
# group commit (crates/cli/tests/crash_matrix.rs), KILLS times each; after
# every kill the store is reopened and checked (integrity_check, the search
# index, one current version per replaceable, no pending delivery without
# its event, every acknowledged event present). Prints kills survived /
# kills tried per scenario. The normal test suite runs the same with 3.
#
#   bench/crash-matrix.sh [KILLS] [SEED]      (default 25 kills, seed 1)
set -euo pipefail
cd "$(dirname "$0")/.."
export SAMIZDAT_CRASH_KILLS=${1:-25}
export SAMIZDAT_CRASH_SEED=${2:-1}
echo "crash matrix: $SAMIZDAT_CRASH_KILLS kills per scenario, seed $SAMIZDAT_CRASH_SEED"
cargo test -q -p samizdat-cli --test crash_matrix -- --nocapture --test-threads 2 2>&1 \
  | grep -oE 'crash matrix: .*|panicked.*|kill [0-9]+: .*|test result.*'
