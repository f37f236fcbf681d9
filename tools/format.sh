#!/usr/bin/env bash
# Formats every C and C++ source with the repository's .clang-format.
#   tools/format.sh          rewrite the files
#   tools/format.sh --check  change nothing; fail and list what is not formatted
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files -- '*.c' '*.h' '*.cpp' '*.hpp' '*.cpp.in' 2>/dev/null ||
  find core config plugins protocol tests tools -name "*.[ch]" -o -name "*.[ch]pp")
if [[ ${1:-} == --check ]]; then
  clang-format --dry-run -Werror "${files[@]}"
  echo "format: ${#files[@]} files formatted"
else
  clang-format -i "${files[@]}"
fi
