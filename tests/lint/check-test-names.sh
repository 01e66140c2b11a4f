#!/usr/bin/env bash
# Catch2 reads a test name given on its command line as an option when it begins with '-':
# "--help prints ..." ran Catch's own --help and passed without running the test. CTest runs
# each test by its name, so no name may begin with '-'.
set -euo pipefail
cd "$(dirname "$0")/../.."
# -z: a name on the line after TEST_CASE( counts too.
if grep -rlz --include='*.cpp' -P '(TEST_CASE|SCENARIO|TEST_CASE_METHOD\([^,]*,)\(?\s*"-' tests; then
  echo "check-test-names: the files above hold a test name beginning with '-', which Catch2 would read as an option" >&2
  exit 1
fi
# CTest's test list is a CMake list: a ';' in a name splits it into two names that match no test
# and "pass" without running anything. No name may hold a ';'.
if grep -rlz --include='*.cpp' -P '(TEST_CASE|SCENARIO|TEST_CASE_METHOD\([^,]*,)\(?\s*"[^"]*;' tests; then
  echo "check-test-names: the files above hold a test name with ';', which splits it in CTest's list" >&2
  exit 1
fi
