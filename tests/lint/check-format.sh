#!/usr/bin/env bash
# Fails if any C++ source differs from what clang-format (with the repo's .clang-format) makes.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v clang-format >/dev/null || { echo "clang-format is not installed"; exit 1; }
mapfile -t files < <(git ls-files -co --exclude-standard -- '*.cpp' '*.hpp' '*.h' 2>/dev/null ||
                     find libs services tests bench -name '*.cpp' -o -name '*.hpp')
bad=0
for f in "${files[@]}"; do
  [ -f "$f" ] || continue
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
    echo "not formatted: $f (run: clang-format -i $f)"
    bad=1
  fi
done
[ "$bad" -eq 0 ] && echo "${#files[@]} files formatted"
exit "$bad"
