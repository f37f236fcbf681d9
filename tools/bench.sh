#!/usr/bin/env bash
# Installs the peers and datasets vdb-bench compares against, builds, and runs the comparisons
# whose results docs/benchmarks.md reports. Usage:
#   bash tools/bench.sh                 # Fashion-MNIST, then synthetic 200k x 128 with filters
#   bash tools/bench.sh fashion-mnist   # only one of them
#   bash tools/bench.sh synthetic
# Reports go to bench-results/ (JSON and PNG plots).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh --bench
# A fresh configure finds hnswlib and FAISS when they were installed after the first one.
tools/build.sh build >/dev/null
cmake build >/dev/null
cmake --build build --target vdb-bench
mkdir -p bench-results
what=${1:-all}
if [[ $what == all || $what == fashion-mnist ]]; then
  build/bin/vdb-bench --dataset fashion-mnist --json bench-results/fashion-mnist.json \
    --plot bench-results/fashion-mnist.png --cache bench-results/cache
fi
if [[ $what == all || $what == synthetic ]]; then
  build/bin/vdb-bench --dataset synthetic --n 200000 --dim 128 --filtered \
    --json bench-results/synthetic-200k.json --plot bench-results/synthetic-200k.png \
    --cache bench-results/cache
fi
