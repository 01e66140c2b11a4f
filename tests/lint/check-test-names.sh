#!/usr/bin/env bash
# Catch2 reads a test name given on its command line as an option when it begins with '-':
# "--help prints ..." ran Catch's own --help and passed without running the test. CTest runs
# each test by its name, so no name may begin with '-'.
set -euo pipefail
cd "$(dirname "$0")/../.."
if grep -rn --include='*.cpp' -E 'TEST_CASE\(\s*"-' tests; then
  echo "check-test-names: the test names above begin with '-'; Catch2 would read them as options" >&2
  exit 1
fi
