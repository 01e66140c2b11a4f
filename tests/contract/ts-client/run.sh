#!/usr/bin/env bash
# A TypeScript frontend against the contract, with the tools such teams use:
# 1. each service's own document (tests/contract/service-specs.mjs from openapi.yaml);
# 2. types from it by the pinned openapi-typescript, and by swagger-typescript-api as a second
#    generator;
# 3. `tsc --strict` over client.mts (openapi-fetch calls) and type-checks.mts (what both
#    generators must make of the schemas); no `any` in either;
# 4. client.mts run against both real services started on loopback (port 0, temporary data).
# Usage: run.sh EVENTS_API_BIN BALLOT_BIN. Bounded: every step has a timeout.
set -euo pipefail
events_bin="$1"
ballot_bin="$2"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
bin="$root/tools/node_modules/.bin"
for tool in openapi-typescript swagger-typescript-api tsc; do
  [ -x "$bin/$tool" ] || { echo "$tool is missing: run scripts/setup-debian.sh"; exit 1; }
done
work="$(mktemp -d /tmp/civic-ts-client.XXXXXX)"
pids=()
trap 'kill -TERM "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

if grep -nE '\bany\b' "$here"/*.mts | grep -v '^\S*:[0-9]*:\s*//'; then
  echo "client code must not use any"; exit 1
fi
cp "$here"/client.mts "$here"/type-checks.mts "$here"/tsconfig.json "$work/"
ln -s "$root/tools/node_modules" "$work/node_modules"
node "$root/tests/contract/service-specs.mjs" --out "$work/spec"
for service in events-api ballot; do
  timeout 120 "$bin/openapi-typescript" "$work/spec/$service.json" \
    -o "$work/generated/$service.d.ts" >/dev/null
  timeout 120 "$bin/swagger-typescript-api" generate -p "$work/spec/$service.json" \
    -o "$work/generated-sta" -n "$service.ts" --no-client --silent >/dev/null
done
# The generated types must not have collapsed to `never`.
if grep -n 'Record<string, never>' "$work"/generated/*.d.ts | grep -v 'webhooks\|\$defs'; then
  echo "openapi-typescript made an object schema into Record<string, never>"; exit 1
fi
(cd "$work" && timeout 300 "$bin/tsc" -p tsconfig.json) ||
  { echo "tsc --strict failed on the generated types"; exit 1; }

key() { printf 'civ_%s' "$(head -c 24 /dev/urandom | base64 -w0 | tr '+/' '-_')"; }
start() {  # name, then the command: waits for its "listening on" line
  local name="$1"; shift
  "$@" >"$work/$name.out" 2>"$work/$name.err" &
  pids+=($!)
  for _ in $(seq 1 400); do
    grep -q "listening on" "$work/$name.out" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "$name did not start"; cat "$work/$name.err"; exit 1
}
address() { grep -o '127.0.0.1:[0-9]*' "$work/$1.out" | head -1; }
export CIVIC_EVENTS_ADMIN_KEY="$(key)" CIVIC_BALLOT_CLIENT_KEY="$(key)" \
  CIVIC_BALLOT_ADMIN_KEY="$(key)" CIVIC_BALLOT_VOTER_KEY="$(key)"
# The key both services share: the ballot reads the sync protocol with it (docs/security.md).
export CIVIC_EVENTS_BALLOT_ADMIN_KEY="$CIVIC_BALLOT_ADMIN_KEY"
start events "$events_bin" --host 127.0.0.1 --port 0 --data-dir "$work/events"
export CIVIC_EVENTS_URL="http://$(address events)"
start ballot "$ballot_bin" --host 127.0.0.1 --port 0 --data-dir "$work/ballot" \
  --events-url "$CIVIC_EVENTS_URL"
export CIVIC_BALLOT_URL="http://$(address ballot)"
timeout 120 node "$work/out/client.mjs"
