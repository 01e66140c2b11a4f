# Sourced by bench/ballot/run.sh and cpu-budget.sh (from the repository root): builds Release,
# makes a temporary work dir (removed on exit, with the ballot stopped), exports the bench keys,
# and defines start_ballot / stop_ballot. Needs BALLOT_THREADS.

scripts/build.sh build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
bin=build/release/services/ballot/civic-ballot
preload=build/release/bench/civic-ballot-preload
work="$(mktemp -d /tmp/ballot-bench.XXXXXX)"
pid=""
cleanup() {
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

export CIVIC_BALLOT_VOTER_KEY="bench-voter-key-0123456789abcdef0123456789"
export BALLOT_CLIENT_KEY="bench-client-key-0123456789"
export CIVIC_BALLOT_CLIENT_KEY="$BALLOT_CLIENT_KEY"
export CIVIC_BALLOT_ADMIN_KEY="bench-admin-key-0123456789"
# One client sends the whole load: rate limits that never trip (the limiter still runs).
export CIVIC_BALLOT_RATE_LIMITS='*@*=100000000:100000000'

# start_ballot DIR: starts the ballot on a free port; sets pid, port, start_ms (to listening).
start_ballot() {
  local dir="$1" t0 t1
  rm -f "$work/out.log" "$work/err.log"
  t0=$(date +%s%N)
  "$bin" --port 0 --data-dir "$dir" --threads "$BALLOT_THREADS" --log-level warn \
    --events-url http://127.0.0.1:9 >"$work/out.log" 2>"$work/err.log" &
  pid=$!
  until grep -q "listening on" "$work/out.log" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { cat "$work/err.log"; exit 1; }
    sleep 0.01
  done
  t1=$(date +%s%N)
  port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/out.log")
  start_ms=$(( (t1 - t0) / 1000000 ))
}
stop_ballot() {
  kill -TERM "$pid"
  wait "$pid" || true
  pid=""
}
