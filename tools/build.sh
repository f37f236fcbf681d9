#!/usr/bin/env bash
# Configures (once) and builds one build tree. Usage: tools/build.sh DIR [cmake -D options...]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$1
shift
if [[ ! -f $dir/build.ninja ]]; then
  cmake -S . -B "$dir" -G Ninja -DVDB_WERROR=ON "$@"
fi
cmake --build "$dir" -j "$(nproc)"
