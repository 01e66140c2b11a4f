#!/usr/bin/env bash
# Events API list benchmark (issue: 10,000 events, 100,000 people; list and filtered-list GET
# throughput and p99 at 64 connections, with the same server's /healthz as the ceiling).
#
#   bench/events-api/run.sh [seconds per run, default 15] [connections, default 64]
#
# Builds Release, starts civic-events-api on 127.0.0.1 (port 0) with a fresh data dir, loads
# the data set through the API, then runs wrk against each endpoint in turn. Prints a Markdown
# table for docs/performance.md. Everything stops by itself; the data dir is removed.
set -euo pipefail
cd "$(dirname "$0")/../.."
duration="${1:-15}"
connections="${2:-64}"
scripts/build.sh build/release -DCMAKE_BUILD_TYPE=Release >/dev/null

work="$(mktemp -d)"
# The admin key the load tool writes with (a bench-only secret, made per run).
CIVIC_BENCH_KEY="civ_$(head -c 24 /dev/urandom | base64 -w0 | tr '+/' '-_')"
export CIVIC_BENCH_KEY
export CIVIC_EVENTS_ADMIN_KEY="$CIVIC_BENCH_KEY"
# One client sends the whole load: rate limits that never trip (the limiter still runs).
export CIVIC_EVENTS_RATE_LIMITS='*@*=100000000:100000000'
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

build/release/services/events-api/civic-events-api --host 127.0.0.1 --port 0 \
  --data-dir "$work/data" --threads "${CIVIC_BENCH_THREADS:-1}" \
  --workers "${CIVIC_BENCH_WORKERS:-2}" --synchronous normal --log-level warn \
  >"$work/out" 2>"$work/err" &
server_pid=$!
for _ in $(seq 100); do
  grep -q "listening on" "$work/out" 2>/dev/null && break
  sleep 0.1
done
url="$(grep -o 'http://[0-9.]*:[0-9]*' "$work/out")"
echo "server: $url (threads=${CIVIC_BENCH_THREADS:-1}, workers=${CIVIC_BENCH_WORKERS:-2})"

build/release/bench/events-api/civic-bench-events-load --url "$url" \
  --people "${CIVIC_BENCH_PEOPLE:-100000}" --events "${CIVIC_BENCH_EVENTS:-10000}"

lua="bench/events-api/lua"
run() {  # name, path or lua script
  local name="$1" target="$2" args=()
  if [[ "$target" == *.lua ]]; then
    args=(-s "$target" "$url")
  else
    args=("$url$target")
  fi
  local out
  out="$(wrk -t2 -c"$connections" -d"${duration}s" --latency -H 'Connection: keep-alive' \
        "${args[@]}")"
  local rps p50 p99 errors
  rps="$(echo "$out" | awk '/Requests\/sec/ {print $2}')"
  p50="$(echo "$out" | awk '$1 == "50%" {print $2}')"
  p99="$(echo "$out" | awk '$1 == "99%" {print $2}')"
  errors="$(echo "$out" | awk '/Non-2xx/ {print $5}')"
  printf '| %s | %s | %s | %s | %s |\n' "$name" "$rps" "$p50" "$p99" "${errors:-0}"
  echo "$rps" >"$work/rps-$name"
}

echo
echo "| endpoint | req/s | p50 | p99 | non-2xx |"
echo "|---|---|---|---|---|"
run "healthz (ceiling)" /healthz
run "people, first page (limit 20)" "/v1/people?limit=20"
run "people by city (limit 20)" "$lua/people_by_city.lua"
run "people by organisation, page 2" "$lua/people_by_org_page2.lua"
run "events by start (limit 20)" "/v1/events?limit=20&sort=starts_at"
run "events by city + kind + date range" "$lua/events_filtered.lua"
run "event by id" "$lua/event_by_id.lua"
run "people, text search (first + last name)" "$lua/people_search.lua"
run "events, text search (one match)" "$lua/events_search.lua"
echo
ceiling="$(cat "$work/rps-healthz (ceiling)")"
for f in "$work"/rps-*; do
  name="${f##*/rps-}"
  awk -v n="$name" -v r="$(cat "$f")" -v c="$ceiling" \
    'BEGIN { printf "%-40s %5.1f%% of the ceiling\n", n, 100 * r / c }'
done
