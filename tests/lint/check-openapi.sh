#!/usr/bin/env bash
# Lints openapi.yaml with Redocly CLI (pinned in tools/package.json, installed by
# scripts/setup-debian.sh). Errors and warnings both fail.
set -euo pipefail
cd "$(dirname "$0")/../.."
redocly=tools/node_modules/.bin/redocly
if [ ! -x "$redocly" ]; then
  echo "Redocly CLI is not installed: run scripts/setup-debian.sh"
  exit 1
fi
out="$("$redocly" lint --config tools/redocly.yaml --format=stylish openapi.yaml 2>&1)" || {
  echo "$out"
  exit 1
}
echo "$out" | grep -vE '║|╔|╚' || true
if echo "$out" | grep -qE '[0-9]+ +warning '; then
  echo "openapi.yaml: warnings count as failures"
  exit 1
fi
