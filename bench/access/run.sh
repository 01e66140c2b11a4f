#!/usr/bin/env bash
# What checking a key costs (issue #27: at most 5 %), on one Release build, in one run:
#   1. events API, GET /v1/events/{id} of a published event: no key (the public route's own
#      path), an organizer's key (hash, look-up, scope condition), an admin's key;
#   2. ballot, single votes: the bootstrap client key of --client-key-file (a constant-time
#      compare, as before keys were synced) against a voting_client key learned from the events
#      API (SHA-256 of the token, a look-up, the award scope).
# Rounds alternate which variant goes first (the host drifts). wrk on the same 2 cores, so the
# server's own CPU time per request (from /proc/<pid>/stat) is printed beside requests/s: it is
# the steadier of the two figures when wrk and the server compete for the cores.
#   bench/access/run.sh            ROUNDS=4 DURATION=5s by default
set -euo pipefail
cd "$(dirname "$0")/../.."
BALLOT_THREADS=2
# shellcheck source=bench/ballot/common.sh
source bench/ballot/common.sh
ROUNDS="${ROUNDS:-4}"
DURATION="${DURATION:-5s}"
events_bin=build/release/services/events-api/civic-events-api
events_pid=""
trap 'cleanup; [ -n "$events_pid" ] && kill -TERM "$events_pid" 2>/dev/null; wait 2>/dev/null || true' EXIT

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # user + system, in clock ticks
tick_us=$((1000000 / $(getconf CLK_TCK)))

token() { printf 'civ_%s' "$(head -c 24 /dev/urandom | base64 -w0 | tr '+/' '-_')"; }
admin_key="$(token)"
CIVIC_EVENTS_RATE_LIMITS='*@*=100000000:100000000' CIVIC_EVENTS_ADMIN_KEY="$admin_key" "$events_bin" --port 0 --data-dir "$work/events" \
  --synchronous normal --log-level warn >"$work/events.out" 2>"$work/events.err" &
events_pid=$!
until grep -q "listening on" "$work/events.out" 2>/dev/null; do sleep 0.05; done
events="$(grep -o 'http://[0-9.]*:[0-9]*' "$work/events.out")"
post() {  # path body -> the answer
  curl -sf -X POST -H "Authorization: Bearer $admin_key" -H 'Content-Type: application/json' \
    -d "$2" "$events$1"
}
id() { sed -n 's/^{"id":\([0-9]*\).*/\1/p; s/.*"id":\([0-9]*\).*/\1/p' | head -1; }
city=$(post /v1/cities '{"name":"Новокузнецк","time_zone":"Asia/Novokuznetsk"}' | id)
program=$(post /v1/programs '{"title":"Люди для города","kind":"forum","starts_on":"2026-12-01"}' | id)
event=$(post /v1/events "{\"kind\":\"rally\",\"title\":\"Слёт\",\"program_id\":$program,\"city_id\":$city,\"format\":\"offline\",\"starts_at\":\"2027-03-01T10:00:00+07:00\",\"ends_at\":\"2027-03-02T18:00:00+07:00\",\"status\":\"published\"}" | id)
organizer_key=$(post /v1/api-keys "{\"name\":\"bench\",\"role\":\"organizer\",\"program_ids\":[$program]}" |
  sed -n 's/.*"token":"\([^"]*\)".*/\1/p')

echo "## GET /v1/events/$event, 64 connections, $DURATION per run"
declare -A sum cpu
for r in $(seq 1 "$ROUNDS"); do
  order="none organizer admin"; [ $((r % 2)) = 0 ] && order="admin organizer none"
  line="round $r:"
  for which in $order; do
    auth=()
    [ "$which" = organizer ] && auth=(-H "Authorization: Bearer $organizer_key")
    [ "$which" = admin ] && auth=(-H "Authorization: Bearer $admin_key")
    t0=$(cpu_ticks "$events_pid")
    out=$(wrk -t2 -c64 -d"$DURATION" -H "Connection: keep-alive" "${auth[@]}" \
      "$events/v1/events/$event")
    t1=$(cpu_ticks "$events_pid")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    total=$(awk '/requests in/ {print $1}' <<<"$out")
    us=$(awk -v t=$((t1 - t0)) -v u="$tick_us" -v n="$total" 'BEGIN{printf "%.1f", t*u/n}')
    sum[$which]=$(awk -v a="${sum[$which]:-0}" -v b="$rps" 'BEGIN{print a+b}')
    cpu[$which]=$(awk -v a="${cpu[$which]:-0}" -v b="$us" 'BEGIN{print a+b}')
    line="$line $which=$rps/s,${us}us"
  done
  echo "$line"
done
for which in organizer admin; do
  awk -v k="${sum[$which]}" -v n="${sum[none]}" -v w="$which" \
    'BEGIN{printf "mean %s/none: %.3f (requests/s)\n", w, k/n}'
  awk -v k="${cpu[$which]}" -v n="${cpu[none]}" -v w="$which" \
    'BEGIN{printf "mean %s/none: %.3f (server CPU per request)\n", w, k/n}'
done
kill -TERM "$events_pid"; wait "$events_pid" || true; events_pid=""

echo "## ballot single votes, 64 connections, $DURATION per run"
"$preload" --data-dir "$work/ballot" --votes 0 >/dev/null
synced_key="$(token)"
hash=$(printf '%s' "$synced_key" | sha256sum | cut -d' ' -f1)
sqlite3 "$work/ballot/ballot.db" "INSERT INTO service_meta(key, value) VALUES ('synced_keys', \
'{\"protocol\":1,\"keys\":[{\"id\":1,\"prefix\":\"${synced_key:0:12}\",\"token_sha256\":\"$hash\",\
\"role\":\"voting_client\",\"award_ids\":[7],\"expires_at\":null,\"revoked_at\":null}]}')"
start_ballot "$work/ballot"
declare -A votes vcpu
for r in $(seq 1 "$ROUNDS"); do
  order="bootstrap synced"; [ $((r % 2)) = 0 ] && order="synced bootstrap"
  line="round $r:"
  for which in $order; do
    key="$BALLOT_CLIENT_KEY"; [ "$which" = synced ] && key="$synced_key"
    t0=$(cpu_ticks "$pid")
    out=$(BALLOT_CLIENT_KEY="$key" VOTER_PREFIX="$which-$r-$$" LEAN=1 wrk -t2 -c64 \
      -d"$DURATION" -s bench/ballot/vote.lua "http://127.0.0.1:$port")
    t1=$(cpu_ticks "$pid")
    v=$(sed -n 's/.*votes_per_s=\([0-9]*\).*/\1/p' <<<"$out")
    total=$(awk '/requests in/ {print $1}' <<<"$out")
    us=$(awk -v t=$((t1 - t0)) -v u="$tick_us" -v n="$total" 'BEGIN{printf "%.1f", t*u/n}')
    votes[$which]=$(( ${votes[$which]:-0} + v ))
    vcpu[$which]=$(awk -v a="${vcpu[$which]:-0}" -v b="$us" 'BEGIN{print a+b}')
    line="$line $which=$v/s,${us}us"
  done
  echo "$line"
done
awk -v s="${votes[synced]}" -v b="${votes[bootstrap]}" \
  'BEGIN{printf "mean synced/bootstrap: %.3f (votes/s)\n", s/b}'
awk -v s="${vcpu[synced]}" -v b="${vcpu[bootstrap]}" \
  'BEGIN{printf "mean synced/bootstrap: %.3f (server CPU per vote)\n", s/b}'
stop_ballot
