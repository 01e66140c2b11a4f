#!/usr/bin/env bash
# scripts/build.sh DIR [cmake options...]: configures (once) and builds into DIR.
# With ccache on the machine (scripts/setup-debian.sh installs it) compiles go through it, and
# with mold links do (docs/ci.md): a second build of the same sources, in this checkout or in
# another clone on the same machine, takes a fraction of the first.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="$1"
shift
extra=()
if command -v ccache >/dev/null 2>&1; then
  extra+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  # Paths under the checkout are hashed relative to it, and the working directory is left out,
  # so clones in other folders (CI's) share the cache. Precompiled headers need the sloppiness.
  export CCACHE_BASEDIR="$PWD"
  export CCACHE_NOHASHDIR=true
  export CCACHE_SLOPPINESS="pch_defines,time_macros,include_file_mtime,include_file_ctime"
fi
if command -v mold >/dev/null 2>&1; then
  extra+=(-DCIVIC_LINKER=mold)
fi
cmake -S . -B "$dir" "${extra[@]}" "$@" >/dev/null
cmake --build "$dir" --parallel "$(nproc)"
