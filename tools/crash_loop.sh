#!/usr/bin/env bash
# The long crash test: SIGKILL an ingesting vdbd ROUNDS times (default 1,000) over one data
# folder, checking after every restart that each acknowledged write is there exactly, each
# acknowledged delete stayed deleted and nothing unsent appeared. The suite runs the same test
# with 50 rounds. Usage: tools/crash_loop.sh [ROUNDS] [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-1000}"
build="${2:-build}"
cmake --build "$build" --target vdb_tests vdbd vdb_plugins >/dev/null
VDB_CRASH_ROUNDS="$rounds" "$build/bin/vdb_tests" \
  --gtest_filter='Crash.KillNineDuringIngestLosesNoAcknowledgedWrite' 2>&1 | grep -v ' INFO '
