#!/usr/bin/env bash
# The systemd units as shipped (deploy/systemd/*.service.in, configured with the build's binaries):
#   1. `systemd-analyze verify` passes on each;
#   2. `systemd-analyze security` rates each at most 2.5 ("OK");
#   3. each binary, started with its unit's Environment= lines (%S: a state dir, %d: a
#      credentials dir holding the LoadCredential= files), listens and answers /readyz: the
#      settings and secrets the unit hands it are all it needs.
# Usage: check-systemd.sh UNIT_DIR (the build's deploy/test).
set -euo pipefail
units="$1"
work="$(mktemp -d /tmp/civic-systemd.XXXXXX)"
pids=()
trap 'kill -TERM "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

for unit in civic-events-api civic-ballot; do
  file="$units/$unit.service"
  systemd-analyze verify "$file"
  systemd-analyze security --offline=true --threshold=25 "$file" >/dev/null ||
    { systemd-analyze security --offline=true "$file" | tail -3; exit 1; }
done

mkdir -p "$work/state" "$work/credentials"
# What an operator puts in /etc/civic/credentials (deploy/README.md): the keys, 32+ bytes.
for key in events-admin ballot-admin ballot-voter ballot-client; do
  printf 'civ_%s' "$(head -c 24 /dev/urandom | base64 -w0 | tr '+/' '-_')" > "$work/credentials/$key.key"
done
port_events=$((20000 + RANDOM % 20000))
for unit in civic-events-api civic-ballot; do
  file="$units/$unit.service"
  exec_start=$(sed -n 's/^ExecStart=//p' "$file")
  env_args=()
  while IFS= read -r line; do
    value="${line#Environment=}"
    value="${value//%S/$work/state}"
    value="${value//%d/$work/credentials}"
    env_args+=("$value")
  done < <(grep '^Environment=' "$file")
  # Every LoadCredential= names a file the credentials dir holds.
  while IFS= read -r line; do
    name="${line#LoadCredential=}"; name="${name%%:*}"
    [ -s "$work/credentials/$name" ] || { echo "$unit: no credential $name" >&2; exit 1; }
  done < <(grep '^LoadCredential=' "$file")
  prefix=CIVIC_EVENTS; [ "$unit" = civic-ballot ] && prefix=CIVIC_BALLOT
  port=0; [ "$unit" = civic-events-api ] && port=$port_events
  env -i PATH=/usr/bin:/bin "${env_args[@]}" "${prefix}_HOST=127.0.0.1" "${prefix}_PORT=$port" \
    CIVIC_BALLOT_EVENTS_URL="http://127.0.0.1:$port_events" \
    "$exec_start" >"$work/$unit.out" 2>"$work/$unit.err" &
  pids+=($!)
  for _ in $(seq 1 200); do
    grep -q "listening on" "$work/$unit.out" 2>/dev/null && break
    kill -0 "${pids[-1]}" 2>/dev/null || { echo "$unit exited:"; cat "$work/$unit.err"; exit 1; }
    sleep 0.05
  done
  url=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/$unit.out" | head -1)
  [ -n "$url" ] || { echo "$unit did not listen"; cat "$work/$unit.err"; exit 1; }
  status=$(curl -s -o /dev/null -w '%{http_code}' "$url/readyz")
  [ "$status" = 200 ] || { echo "$unit: /readyz answered $status"; exit 1; }
  [ -d "$work/state/civic/${unit#civic-}" ] || { echo "$unit: no data dir under %S"; exit 1; }
  echo "$unit: started with its unit's environment, ready at $url"
done
