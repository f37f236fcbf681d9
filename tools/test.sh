#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing, builds, runs every test, runs
# clang-tidy, runs the tests again under AddressSanitizer + UndefinedBehaviorSanitizer, and checks
# formatting.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
jobs=$(nproc)

echo "== release build and tests"
tools/build.sh build -DCMAKE_BUILD_TYPE=Release
ctest --test-dir build -j "$jobs" --output-on-failure --timeout 300

echo "== clang-tidy"
tools/lint.sh

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build and tests"
tools/build.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DVDB_SANITIZERS=address,undefined \
  -DVDB_BUILD_BENCHMARKS=OFF
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan -j "$jobs" --output-on-failure --timeout 600 -LE slow

echo "== formatting"
tools/format.sh --check
