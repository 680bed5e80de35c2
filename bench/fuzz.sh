#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer through cargo fuzz, nightly) of every
# parser of outside input: each target in fuzz/fuzz_targets/ for SECS seconds
# (default 600), starting from its committed seeds (fuzz/seeds/<target>) and
# the corpus earlier runs grew (target/fuzz-corpus/<target>, not committed).
#
#   bench/fuzz.sh [SECS] [TARGET...]     FUZZ_PARALLEL=2 runs two at once
#
# Prints per target: executions, exec/s, coverage (libFuzzer's cov = edges,
# ft = features), corpus size, and the verdict. A crash leaves its input in
# fuzz/artifacts/<target>/; fix it, then move the input to
# fuzz/regressions/<target>/ so the normal test suite replays it for ever
# (crates/fuzzing/tests/corpus.rs). Exits non-zero when any target crashed.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-600}
shift || true
if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(ls fuzz/fuzz_targets | sed 's/\.rs$//' | sort)
fi
parallel=${FUZZ_PARALLEL:-1}

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --version 0.13.2
# Debug assertions on (overflow checks, as in tests), AddressSanitizer for
# the unsafe code underneath (secp256k1, negentropy, SQLite's Rust side).
cargo +nightly fuzz build --debug-assertions
mkdir -p target/fuzz-logs
# SQLite's amalgamation defines a few globals twice (once per crate that
# compiles it in); that is not a bug of ours, and cargo fuzz turns it off too.
export ASAN_OPTIONS="detect_odr_violation=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"

run_one() {
  local t=$1 secs=$2
  local corpus=target/fuzz-corpus/$t log=target/fuzz-logs/$t.log
  mkdir -p "$corpus" "fuzz/artifacts/$t"
  local status=ok
  # The binary itself, not `cargo fuzz run`: that would rebuild mid-run
  # whenever the sources change.
  "fuzz/target/x86_64-unknown-linux-gnu/release/$t" "$corpus" "fuzz/seeds/$t" \
    -max_total_time="$secs" -print_final_stats=1 -rss_limit_mb=2048 -timeout=10 \
    -max_len=65536 -artifact_prefix="fuzz/artifacts/$t/" >"$log" 2>&1 || status=CRASH
  local execs cov ft corp
  execs=$(grep -ao 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  cov=$(grep -ao 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
  ft=$(grep -ao 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
  corp=$(ls "$corpus" | wc -l)
  printf '%-14s %6ss %12s %9s %7s %7s %7s  %s\n' "$t" "$secs" "${execs:-?}" \
    "$(( ${execs:-0} / (secs > 0 ? secs : 1) ))" "${cov:-?}" "${ft:-?}" "$corp" "$status"
}
export -f run_one

printf '%-14s %7s %12s %9s %7s %7s %7s  %s\n' target time executions exec/s cov ft corpus result
printf '%s\n' "${targets[@]}" | xargs -P "$parallel" -I{} bash -c "run_one {} $secs" | tee target/fuzz-logs/summary.txt
! grep -q CRASH target/fuzz-logs/summary.txt
