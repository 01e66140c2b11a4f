#!/usr/bin/env bash
# bench/events-api/export-rss.sh [BUILD_DIR] [ROWS]: the events API's memory while it streams a
# CSV export. Fills a fresh data dir (civic-bench-events-export-fill: event 1 with ROWS
# registrations, default 100,000; event 2 with 1,000 of the same people), starts
# civic-events-api on 127.0.0.1 (port 0, 2 workers), reads its RSS idle (after one small JSON
# request), then downloads GET /v1/events/{id}/registrations.csv with curl while sampling the
# process's VmRSS every 10 ms, for: the 1,000-row export (the baseline in the same run), the
# ROWS export as fast as curl reads, and the ROWS export read by a slow client (curl
# --limit-rate 4M: the server waits while the socket is full), then as an organiser of the
# program (whose contacts are decided row by row) instead of the admin. Prints the peak RSS of each
# against the idle RSS, the time, the bytes and the rows (counted by Python's csv module).
set -euo pipefail
cd "$(dirname "$0")/../.."
build="${1:-build/release}"
rows="${2:-100000}"
api="$build/services/events-api/civic-events-api"
fill="$build/bench/events-api/civic-bench-events-export-fill"
[[ -x "$api" && -x "$fill" ]] || { echo "build $api and $fill first" >&2; exit 1; }

work="$(mktemp -d)"
pid=""
cleanup() {
  if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$fill" --data-dir "$work/data" --registrations "$rows" --small 1000
key="civ_bench-admin-key-0123456789abcdefghijkl"
CIVIC_EVENTS_ADMIN_KEY="$key" CIVIC_EVENTS_SYNCHRONOUS=normal \
  "$api" --host 127.0.0.1 --port 0 --data-dir "$work/data" --workers 2 --log-level warn \
  >"$work/out.log" 2>&1 &
pid=$!
for _ in $(seq 1 200); do
  port="$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/out.log" | head -1)"
  [[ -n "$port" ]] && break
  sleep 0.1
done
[[ -n "${port:-}" ]] || { cat "$work/out.log" >&2; exit 1; }
base="http://127.0.0.1:$port"
auth="Authorization: Bearer $key"

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$pid/status"; }

curl -sf -H "$auth" "$base/v1/events/1" >/dev/null
sleep 1
idle="$(rss_kib)"
echo "idle RSS: $idle KiB"

# export EVENT LABEL [curl options...]: peak RSS while the export streams.
export_run() {
  local event="$1" label="$2"
  shift 2
  local peak=0
  curl -sf -H "$auth" "$@" -o "$work/export.csv" \
    -w '%{time_total} %{size_download}\n' "$base/v1/events/$event/registrations.csv" \
    >"$work/curl.out" &
  local curl_pid=$!
  while kill -0 "$curl_pid" 2>/dev/null; do
    local now
    now="$(rss_kib)"
    (( now > peak )) && peak=$now
    sleep 0.01
  done
  wait "$curl_pid"
  read -r seconds bytes <"$work/curl.out"
  local count
  count="$(python3 -c 'import csv,sys; print(sum(1 for _ in csv.reader(open(sys.argv[1], encoding="utf-8-sig", newline=""))) - 1)' "$work/export.csv")"
  printf '%-34s rows %7d  bytes %10d  time %6.2f s  peak RSS %7d KiB  (idle + %d KiB, x%.2f)\n' \
    "$label" "$count" "$bytes" "$seconds" "$peak" "$((peak - idle))" \
    "$(echo "$peak / $idle" | bc -l)"
}

export_run 2 "1,000 rows (baseline)"
export_run 1 "$rows rows"
export_run 1 "$rows rows, client at 4 MB/s" --limit-rate 4M
# An organiser of the program: contacts decided row by row (access::ContactsVisibleSql).
organizer="$(curl -sf -H "$auth" -H 'Content-Type: application/json' \
  -d '{"name":"bench","role":"organizer","program_ids":[1]}' "$base/v1/api-keys" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')"
auth="Authorization: Bearer $organizer"
export_run 1 "$rows rows, organiser's key"
echo "RSS after the exports: $(rss_kib) KiB"
