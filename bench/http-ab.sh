#!/usr/bin/env bash
# A/B of two builds of the ballot: GET /healthz and single votes (64 connections, wrk, distinct
# voters), alternating the builds, ROUNDS rounds of DURATION each. Compares this checkout's
# Release build with another commit's, built first by hand:
#   git worktree add /tmp/oldtree <commit> && cmake -S /tmp/oldtree -B /tmp/oldtree/build \
#     -DCMAKE_BUILD_TYPE=Release && cmake --build /tmp/oldtree/build --target civic-ballot
#   OLD=/tmp/oldtree/build/services/ballot/civic-ballot bench/http-ab.sh
# BATCH=1 also measures batches (bench/ballot/batch.lua, 1,000 votes each, 16 connections) on
# the same server after the single votes. NEW_ARGS adds flags to the new build only (e.g.
# NEW_ARGS="--access-log off").
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
ROUNDS="${ROUNDS:-3}"; DURATION="${DURATION:-5s}"; CONNECTIONS=64; WRK_THREADS=2; BALLOT_THREADS=2
new=build/release/services/ballot/civic-ballot
old="${OLD:?set OLD to the civic-ballot binary of the other build}"
preload=build/release/bench/civic-ballot-preload
work="$(mktemp -d /tmp/ab-work.XXXXXX)"
pid=""
trap '[ -n "$pid" ] && kill -TERM $pid 2>/dev/null; rm -rf "$work"' EXIT
export CIVIC_BALLOT_VOTER_KEY="bench-voter-key-0123456789abcdef0123456789"
export BALLOT_CLIENT_KEY="bench-client-key-0123456789"
export CIVIC_BALLOT_CLIENT_KEY="$BALLOT_CLIENT_KEY"
export CIVIC_BALLOT_ADMIN_KEY="bench-admin-key-0123456789"
# One client sends the whole load: rate limits that never trip (the limiter still runs).
export CIVIC_BALLOT_RATE_LIMITS='*@*=100000000:100000000'
start() {
  local bin="$1" dir="$2"; shift 2
  rm -f "$work/out.log"
  "$bin" --port 0 --data-dir "$dir" --threads "$BALLOT_THREADS" --log-level warn \
    --events-url http://127.0.0.1:9 "$@" >"$work/out.log" 2>"$work/err.log" &
  pid=$!
  until grep -q "listening on" "$work/out.log" 2>/dev/null; do sleep 0.01; done
  port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/out.log")
}
stop() { kill -TERM "$pid"; wait "$pid" || true; pid=""; }
for r in $(seq 1 "$ROUNDS"); do
  order="old new"; [ $((r % 2)) = 0 ] && order="new old"  # alternate who goes first: the host drifts
  for which in $order; do
    bin=$old; [ "$which" = new ] && bin=$new
    dir="$work/$which-$r"
    "$preload" --data-dir "$dir" --votes 0 >/dev/null
    args=(); [ "$which" = new ] && read -r -a args <<<"${NEW_ARGS:-}"
    start "$bin" "$dir" "${args[@]}"
    c=$(wrk -t$WRK_THREADS -c$CONNECTIONS -d"$DURATION" -H "Connection: keep-alive" "http://127.0.0.1:$port/healthz" | awk '/Requests\/sec/ {print $2}')
    v=$(VOTER_PREFIX="$which-$r" LEAN=1 wrk -t$WRK_THREADS -c$CONNECTIONS -d"$DURATION" --latency -s bench/ballot/vote.lua "http://127.0.0.1:$port" | grep votes_per_s | sed -n 's/.*votes_per_s=\([0-9]*\).*/\1/p')
    b=""
    if [ "${BATCH:-0}" = 1 ]; then
      b=" batch_votes=$(VOTER_PREFIX="$which-b$r" BATCH_SIZE=1000 wrk -t$WRK_THREADS -c16 -d"$DURATION" -s bench/ballot/batch.lua "http://127.0.0.1:$port" | sed -n 's/.*votes_per_s=\([0-9]*\).*/\1/p')"
    fi
    echo "round $r $which healthz=$c votes=$v share=$(awk -v c=$c -v v=$v 'BEGIN{printf "%.1f", 100*v/c}')%$b"
    stop
  done
done
