#!/usr/bin/env bash
# Single votes with the answers of a committed batch handed to their sockets in one io_uring
# submission (the default) against one send() each (CIVIC_HTTP_URING=off), on the same binary,
# alternating, ROUNDS rounds (docs/performance.md, session 14):
#   bench/ballot/uring-ab.sh     # ROUNDS=4 DURATION=4s CONNECTIONS=64 BALLOT_THREADS=2
# Each measurement is a fresh ballot on an empty store: GET /healthz, single votes (vote.lua,
# distinct voters), GET /healthz again, DURATION each; the ceiling is the mean of the two
# /healthz rates around the votes, so that a machine whose speed drifts during a round (a
# shared host) skews the share less. Needs wrk; builds Release first.
set -euo pipefail
cd "$(dirname "$0")/../.."

ROUNDS="${ROUNDS:-4}"
DURATION="${DURATION:-4s}"
CONNECTIONS="${CONNECTIONS:-64}"
BALLOT_THREADS="${BALLOT_THREADS:-2}"

source bench/ballot/common.sh

healthz() {
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" -H "Connection: keep-alive" \
    "http://127.0.0.1:$port/healthz" | awk '/Requests\/sec/ {printf "%.0f", $2}'
}

for r in $(seq 1 "$ROUNDS"); do
  for mode in off on; do
    dir="$work/$mode-$r"
    "$preload" --data-dir "$dir" --votes 0 >/dev/null
    export CIVIC_HTTP_URING="$mode"
    start_ballot "$dir"
    unset CIVIC_HTTP_URING
    c1=$(healthz)
    out=$(VOTER_PREFIX="u$mode$r$RANDOM" LEAN=1 wrk -t2 -c"$CONNECTIONS" -d"$DURATION" \
      --latency -s bench/ballot/vote.lua "http://127.0.0.1:$port")
    c2=$(healthz)
    stop_ballot
    rm -rf "$dir"
    v=$(sed -n 's/.*votes_per_s=\([0-9]*\).*/\1/p' <<<"$out")
    p99=$(sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p' <<<"$out")
    echo "round $r uring=$mode healthz=$c1/$c2 votes=$v p99=${p99}ms share=$(awk \
      -v a="$c1" -v b="$c2" -v v="$v" 'BEGIN {printf "%.1f", 200 * v / (a + b)}')%"
  done
done
