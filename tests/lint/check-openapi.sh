#!/usr/bin/env bash
# Lints openapi.yaml with Redocly CLI and Spectral (pinned in tools/package.json, installed by
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
# Spectral's OpenAPI ruleset (tools/spectral.yaml), the second linter client teams use.
spectral=tools/node_modules/.bin/spectral
if [ ! -x "$spectral" ]; then
  echo "Spectral is not installed: run scripts/setup-debian.sh"
  exit 1
fi
"$spectral" lint --ruleset tools/spectral.yaml --fail-severity=warn openapi.yaml
