#!/usr/bin/env bash
# Installs what is missing, builds Release and runs both services on 127.0.0.1 with their
# SQLite files under ./var/: the events API on 8080, the ballot on 8081. Ctrl-C stops both.
# Ports and other settings: the CIVIC_EVENTS_* and CIVIC_BALLOT_* variables (see README).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh
scripts/build.sh build/release -DCMAKE_BUILD_TYPE=Release

mkdir -p var
events_port="${CIVIC_EVENTS_PORT:-8080}"
export CIVIC_BALLOT_EVENTS_URL="${CIVIC_BALLOT_EVENTS_URL:-http://127.0.0.1:${events_port}}"

# The ballot's secrets: random files made once, readable by this user only (never committed:
# var/ is ignored). The events API gets the path of the ballot's admin key to call it.
mkdir -p var/secrets
chmod 700 var/secrets
for name in ballot-voter ballot-client ballot-admin; do
  if [ ! -s "var/secrets/$name.key" ]; then
    (umask 077 && head -c 48 /dev/urandom | base64 -w0 > "var/secrets/$name.key")
  fi
  chmod 600 "var/secrets/$name.key"
done
# A key given in the environment itself (CIVIC_BALLOT_*_KEY) is left to win.
[ -n "${CIVIC_BALLOT_VOTER_KEY:-}" ] ||
  export CIVIC_BALLOT_VOTER_KEY_FILE="${CIVIC_BALLOT_VOTER_KEY_FILE:-var/secrets/ballot-voter.key}"
[ -n "${CIVIC_BALLOT_CLIENT_KEY:-}" ] ||
  export CIVIC_BALLOT_CLIENT_KEY_FILE="${CIVIC_BALLOT_CLIENT_KEY_FILE:-var/secrets/ballot-client.key}"
[ -n "${CIVIC_BALLOT_ADMIN_KEY:-}" ] ||
  export CIVIC_BALLOT_ADMIN_KEY_FILE="${CIVIC_BALLOT_ADMIN_KEY_FILE:-var/secrets/ballot-admin.key}"
export CIVIC_EVENTS_BALLOT_ADMIN_KEY_FILE="${CIVIC_EVENTS_BALLOT_ADMIN_KEY_FILE:-var/secrets/ballot-admin.key}"

# The events API's first admin key (docs/security.md): an API key in its own format, made once.
if [ ! -s var/secrets/events-admin.key ]; then
  (umask 077 && printf 'civ_%s\n' "$(head -c 24 /dev/urandom | base64 -w0 | tr '+/' '-_')" \
    > var/secrets/events-admin.key)
fi
chmod 600 var/secrets/events-admin.key
[ -n "${CIVIC_EVENTS_ADMIN_KEY:-}" ] ||
  export CIVIC_EVENTS_ADMIN_KEY_FILE="${CIVIC_EVENTS_ADMIN_KEY_FILE:-var/secrets/events-admin.key}"
echo "Admin routes of the events API take the key in var/secrets/events-admin.key, e.g.:"
echo "  curl -H \"Authorization: Bearer \$(cat var/secrets/events-admin.key)\" http://127.0.0.1:${events_port}/v1/api-keys"

pids=()
stop() {
  trap - INT TERM
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  exit 0
}
trap stop INT TERM

build/release/services/events-api/civic-events-api \
  --data-dir "${CIVIC_EVENTS_DATA_DIR:-var/events-api}" --port "$events_port" &
pids+=($!)
build/release/services/ballot/civic-ballot \
  --data-dir "${CIVIC_BALLOT_DATA_DIR:-var/ballot}" &
pids+=($!)
wait -n "${pids[@]}" || true
stop
