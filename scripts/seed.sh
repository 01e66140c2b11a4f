#!/usr/bin/env bash
# Loads the seed stories (programs, events, teams, the "Новые Созидатели" award) into a running
# events API through its API. Usage: scripts/seed.sh [events API URL, default http://127.0.0.1:8080]
# The admin key: CIVIC_SEED_KEY, or the file CIVIC_SEED_KEY_FILE, else the one
# scripts/run-local.sh made (var/secrets/events-admin.key).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
if [ -z "${CIVIC_SEED_KEY:-}" ] && [ -z "${CIVIC_SEED_KEY_FILE:-}" ]; then
  export CIVIC_SEED_KEY_FILE=var/secrets/events-admin.key
fi
exec build/release/tools/seed/civic-seed --url "${1:-http://127.0.0.1:8080}"
