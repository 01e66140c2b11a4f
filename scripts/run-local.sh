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

# The ballot's admin key, shared by both services (the events API uses it to fetch final
# results): a random secret made once, readable by this user only, never in the repository.
admin_key_file="var/secrets/ballot-admin-key"
if [[ ! -s "$admin_key_file" ]]; then
  mkdir -p var/secrets
  chmod 700 var/secrets
  (umask 077 && head -c 32 /dev/urandom | base64 | tr -d '\n/+=' > "$admin_key_file")
fi
chmod 600 "$admin_key_file"
ballot_bin=build/release/services/ballot/civic-ballot
ballot_args=(--data-dir "${CIVIC_BALLOT_DATA_DIR:-var/ballot}")
# (passed once the ballot has the flag; the ballot also reads CIVIC_BALLOT_ADMIN_KEY)
if [[ "$("$ballot_bin" --help 2>&1 || true)" == *--admin-key-file* ]]; then
  ballot_args+=(--admin-key-file "$admin_key_file")
fi

pids=()
stop() {
  trap - INT TERM
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  exit 0
}
trap stop INT TERM

build/release/services/events-api/civic-events-api \
  --data-dir "${CIVIC_EVENTS_DATA_DIR:-var/events-api}" --port "$events_port" \
  --ballot-admin-key-file "$admin_key_file" &
pids+=($!)
"$ballot_bin" "${ballot_args[@]}" &
pids+=($!)
wait -n "${pids[@]}" || true
stop
