#!/usr/bin/env bash
# Loads the seed stories (programs, events, teams, the "Новые Созидатели" award) into a running
# events API through its API. Usage: scripts/seed.sh [events API URL, default http://127.0.0.1:8080]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
exec build/release/tools/seed/civic-seed --url "${1:-http://127.0.0.1:8080}"
