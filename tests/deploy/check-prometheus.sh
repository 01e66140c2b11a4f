#!/usr/bin/env bash
# Debian's Prometheus on loopback, with deploy/prometheus/rules.yml, scraping both services
# (built binaries, started on free ports): both targets are up, and every recording rule and
# alert evaluates without an error (GET /api/v1/rules: health "ok"). Bounded: 60 s at most.
# Usage: check-prometheus.sh EVENTS_API_BIN BALLOT_BIN
set -euo pipefail
events_bin="$1"
ballot_bin="$2"
rules="$(cd "$(dirname "$0")/../../deploy/prometheus" && pwd)/rules.yml"
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
CIVIC_EVENTS_ADMIN_KEY="$(key)" start events "$events_bin" --host 127.0.0.1 --port 0 \
  --data-dir "$work/events"
events=$(address events)
CIVIC_BALLOT_VOTER_KEY="$(key)" CIVIC_BALLOT_CLIENT_KEY="$(key)" CIVIC_BALLOT_ADMIN_KEY="$(key)" \
  start ballot "$ballot_bin" --host 127.0.0.1 --port 0 --data-dir "$work/ballot" \
  --events-url "http://$events"
ballot=$(address ballot)

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

ok=""
for _ in $(seq 1 120); do
  sleep 0.5
  targets=$(curl -s "$api/targets" || true)
  rules_state=$(curl -s "$api/rules" || true)
  up=$( (grep -o '"health":"up"' <<<"$targets" || true) | wc -l)
  evaluated=$( (grep -o '"health":"ok"' <<<"$rules_state" || true) | wc -l)
  if [ "$up" -ge 2 ] && [ "$evaluated" -ge 13 ] || grep -q '"health":"err"' <<<"$rules_state"; then
    ok=yes
    break
  fi
done
[ -n "$ok" ] || { echo "targets up: ${up:-0}/2, rules evaluated: ${evaluated:-0}/13"; tail -5 "$work/prometheus.log"; exit 1; }
if grep -q '"health":"err"' <<<"$rules_state"; then
  echo "a rule failed:"; grep -o '"name":"[^"]*"[^}]*"health":"err"[^}]*' <<<"$rules_state"; exit 1
fi
# The recording rules' names answer queries (an empty vector is fine, an error is not).
for record in job:http_requests:rate5m job:http_requests_5xx:ratio_rate5m \
  job_route:http_request_duration_seconds:p99_5m ballot:votes_accepted:rate1m \
  ballot:commit_duration_seconds:p99_5m; do
  curl -s "$api/query" --data-urlencode "query=$record" | grep -q '"status":"success"' ||
    { echo "query $record failed"; exit 1; }
done
echo "prometheus: both targets up, 13 rules evaluated without an error"
