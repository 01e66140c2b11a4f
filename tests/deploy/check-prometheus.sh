#!/usr/bin/env bash
# Debian's Prometheus on loopback, with deploy/prometheus/rules.yml, scraping both services
# (built binaries, started on free ports, the ballot syncing from the events API): both targets
# are up, every recording rule and alert evaluates without an error (GET /api/v1/rules: health
# "ok"), and every panel query of deploy/grafana/civic-platform.json answers without an error
# (check-dashboard.py), votes by award with a series: an award is set up at the events API and a
# few votes are cast at the ballot first; and docs/operations.md names every metric the services
# expose and every alert. Bounded: about 90 s at most.
# Usage: check-prometheus.sh EVENTS_API_BIN BALLOT_BIN
set -euo pipefail
events_bin="$1"
ballot_bin="$2"
here="$(cd "$(dirname "$0")" && pwd)"
rules="$here/../../deploy/prometheus/rules.yml"
dashboard="$here/../../deploy/grafana/civic-platform.json"
work="$(mktemp -d /tmp/civic-prometheus.XXXXXX)"
pids=()
trap 'kill -TERM "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

key() { printf 'civ_%s' "$(head -c 24 /dev/urandom | base64 -w0 | tr '+/' '-_')"; }
start() {  # name, then the command: waits for its "listening on" line
  local name="$1"; shift
  "$@" >"$work/$name.out" 2>"$work/$name.err" &
  pids+=($!)
  for _ in $(seq 1 200); do
    grep -q "listening on" "$work/$name.out" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "$name did not start"; cat "$work/$name.err"; exit 1
}
address() { grep -o '127.0.0.1:[0-9]*' "$work/$1.out" | head -1; }
admin=$(key) ballot_admin=$(key) client=$(key)
CIVIC_EVENTS_ADMIN_KEY="$admin" CIVIC_EVENTS_BALLOT_ADMIN_KEY="$ballot_admin" \
  start events "$events_bin" --host 127.0.0.1 --port 0 --data-dir "$work/events"
events=$(address events)
CIVIC_BALLOT_VOTER_KEY="$(key)" CIVIC_BALLOT_CLIENT_KEY="$client" \
  CIVIC_BALLOT_ADMIN_KEY="$ballot_admin" start ballot "$ballot_bin" --host 127.0.0.1 --port 0 \
  --data-dir "$work/ballot" --events-url "http://$events" --sync-interval-ms 300
ballot=$(address ballot)

# An award open for votes, with one nominee; an event with a registration.
post() {  # address, key, path, JSON body: prints the answer's id
  curl -sf -X POST "http://$1$3" -H "Authorization: Bearer $2" \
    -H 'Content-Type: application/json' --data "$4" |
    python3 -c 'import json, sys; print(json.load(sys.stdin).get("id", ""))'
}
utc() { date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ; }
city=$(post "$events" "$admin" /v1/cities '{"name": "Саров", "time_zone": "Europe/Moscow"}')
award=$(post "$events" "$admin" /v1/awards "{\"title\": \"Новые Созидатели\", \"edition_year\": 2026,
  \"voting_opens_at\": \"$(utc '-1 hour')\", \"voting_closes_at\": \"$(utc '+1 hour')\",
  \"results_visibility\": \"live\", \"status\": \"published\"}")
nomination=$(post "$events" "$admin" /v1/nominations \
  "{\"award_id\": $award, \"title\": \"Лидер изменений\"}")
person=$(post "$events" "$admin" /v1/people "{\"name\": \"Ирина Лебедева\", \"city_id\": $city}")
nominee=$(post "$events" "$admin" /v1/nominees "{\"nomination_id\": $nomination,
  \"kind\": \"person\", \"person_id\": $person, \"name\": \"Ирина Лебедева\", \"city_id\": $city}")
event=$(post "$events" "$admin" /v1/events "{\"kind\": \"rally\", \"title\": \"Слёт\",
  \"city_id\": $city, \"format\": \"offline\", \"starts_at\": \"$(utc '+30 days')\",
  \"ends_at\": \"$(utc '+31 days')\", \"capacity\": 10, \"status\": \"published\"}")
post "$events" "$admin" "/v1/events/$event/registrations" "{\"person_id\": $person}" >/dev/null
for _ in $(seq 1 100); do  # the ballot learns the award at its next sync
  curl -sf "http://$ballot/v1/awards/$award/results" >/dev/null && break
  sleep 0.1
done
vote() {  # voter: prints the HTTP status
  curl -s -o /dev/null -w '%{http_code}' -X POST "http://$ballot/v1/awards/$award/votes" \
    -H "Authorization: Bearer $client" -H 'Content-Type: application/json' \
    --data "{\"voter\": \"voter-$1\", \"nomination\": $nomination, \"nominee\": $nominee}"
}
for voter in 1 2 3; do
  [ "$(vote $voter)" = 201 ] || { echo "vote $voter not counted"; cat "$work/ballot.err"; exit 1; }
done

port=$((20000 + RANDOM % 20000))
cat >"$work/prometheus.yml" <<YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: ["$rules"]
scrape_configs:
  - job_name: civic-events-api
    static_configs: [{targets: ["$events"]}]
  - job_name: civic-ballot
    static_configs: [{targets: ["$ballot"]}]
YAML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$port" >"$work/prometheus.log" 2>&1 &
pids+=($!)
api="http://127.0.0.1:$port/api/v1"

rule_count=$(grep -cE '^ *- (record|alert):' "$rules")
ok=""
for _ in $(seq 1 120); do
  sleep 0.5
  targets=$(curl -s "$api/targets" || true)
  rules_state=$(curl -s "$api/rules" || true)
  up=$( (grep -o '"health":"up"' <<<"$targets" || true) | wc -l)
  evaluated=$( (grep -o '"health":"ok"' <<<"$rules_state" || true) | wc -l)
  if [ "$up" -ge 2 ] && [ "$evaluated" -ge "$rule_count" ] ||
    grep -q '"health":"err"' <<<"$rules_state"; then
    ok=yes
    break
  fi
done
[ -n "$ok" ] || {
  echo "targets up: ${up:-0}/2, rules evaluated: ${evaluated:-0}/$rule_count"
  tail -5 "$work/prometheus.log"
  exit 1
}
if grep -q '"health":"err"' <<<"$rules_state"; then
  echo "a rule failed:"; grep -o '"name":"[^"]*"[^}]*"health":"err"[^}]*' <<<"$rules_state"; exit 1
fi
# The recording rules' names answer queries (an empty vector is fine, an error is not).
for record in $(sed -nE 's/^ *- record: *([^ ]+).*/\1/p' "$rules"); do
  curl -s "$api/query" --data-urlencode "query=$record" | grep -q '"status":"success"' ||
    { echo "query $record failed"; exit 1; }
done
echo "prometheus: both targets up, $rule_count rules evaluated without an error"
# docs/operations.md says what every metric the services expose and every alert means.
operations="$here/../../docs/operations.md"
for metric in $(curl -s "http://$events/metrics" "http://$ballot/metrics" |
  sed -n 's/^# HELP \([^ ]*\) .*/\1/p' | sort -u); do
  grep -q "\`$metric" "$operations" || { echo "docs/operations.md does not describe $metric"; exit 1; }
done
for alert in $(sed -nE 's/^ *- alert: *([^ ]+).*/\1/p' "$rules"); do
  grep -q "\`$alert\`" "$operations" || { echo "docs/operations.md does not describe $alert"; exit 1; }
done
python3 "$here/check-dashboard.py" "$dashboard" "$api" award:ballot_votes_accepted:rate1m
