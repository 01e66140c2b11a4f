#!/usr/bin/env bash
# Runs a Node script of tests/contract (validate-responses.mjs, selftest.mjs) with the npm
# packages pinned in tools/package.json; fails with a hint when Node or they are missing.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
hint="run scripts/setup-debian.sh (it installs Node.js and the pinned npm tools into tools/)"
if ! command -v node >/dev/null 2>&1; then
  echo "Node.js is not installed: $hint"
  exit 1
fi
if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "Node.js >= 20 is needed, this is $(node --version): $hint"
  exit 1
fi
for package in ajv ajv-formats yaml; do
  if [ ! -f "$root/tools/node_modules/$package/package.json" ]; then
    echo "The npm package '$package' is not installed in tools/: $hint"
    exit 1
  fi
done
exec node "$@"
