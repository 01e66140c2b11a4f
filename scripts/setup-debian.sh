#!/usr/bin/env bash
# Installs what the project needs on Debian 12 and is missing: Debian packages (non-interactive)
# and the pinned npm tools in tools/. Idempotent; does nothing when everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake pkg-config git
  libpistache-dev libcpp-httplib-dev nlohmann-json3-dev libsqlite3-dev sqlite3 libssl-dev
  libspdlog-dev libcli11-dev libhowardhinnant-date-dev tzdata catch2 libbenchmark-dev
  libjemalloc-dev libstemmer-dev libicu-dev liburing-dev libsimdjson-dev prometheus-cpp-dev
  libcurl4-openssl-dev python3-aiosmtpd python3-icalendar
  clang-format prometheus wrk curl systemd nginx openssl python3
  ccache mold
)
# Node.js for the OpenAPI linter and the response contract test: keep the machine's own when it
# has one (both need >= 20).
command -v node >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The npm tools are current when each devDependency of tools/package.json is installed at its
# pinned version (a checkout that pinned more or other versions installs again).
npm_tools_current() {
  node -e '
    const fs = require("fs");
    const pinned = JSON.parse(fs.readFileSync("tools/package.json", "utf8")).devDependencies;
    for (const [name, version] of Object.entries(pinned)) {
      const file = `tools/node_modules/${name}/package.json`;
      if (!fs.existsSync(file) || JSON.parse(fs.readFileSync(file, "utf8")).version !== version) {
        process.exit(1);
      }
    }' 2>/dev/null
}
if ! npm_tools_current; then
  echo "setup: installing the pinned npm tools (tools/package-lock.json)"
  (cd tools && npm ci --no-audit --no-fund --loglevel=error)
fi
