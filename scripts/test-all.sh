#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test through CTest twice: a Release build
# (warnings as errors, plus the lint tests) and an ASan+UBSan build. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh

jobs="$(nproc)"
echo "== Release build (-Werror) (at ${SECONDS} s)"
scripts/build.sh build/release -DCMAKE_BUILD_TYPE=Release -DCIVIC_WERROR=ON
echo "== Release tests (at ${SECONDS} s)"
ctest --test-dir build/release --output-on-failure --parallel "$jobs" --timeout 600

echo "== ASan+UBSan build (at ${SECONDS} s)"
# -O1 -g1: the sanitizers' usual optimisation and line tables for their reports, at a fraction
# of -O2 -g's compile time (docs/ci.md).
scripts/build.sh build/sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DCIVIC_SANITIZE=ON \
  -DCIVIC_WERROR=ON -DCIVIC_BUILD_BENCH=OFF
echo "== ASan+UBSan tests (at ${SECONDS} s)"
ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}" \
UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
  ctest --test-dir build/sanitize --output-on-failure --parallel "$jobs" --timeout 900 -LE lint
echo "== all tests passed in ${SECONDS} s"
