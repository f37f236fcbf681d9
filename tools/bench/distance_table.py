#!/usr/bin/env python3
"""Turns vdb-distance-bench JSON (with --benchmark_repetitions and aggregates) into the markdown
tables of docs/benchmarks.md: median time per call and the speed-up over scalar and AVX2.

  build/bin/vdb-distance-bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
      --benchmark_min_time=0.2 --benchmark_format=json > bench.json
  python3 tools/bench/distance_table.py bench.json
"""
import json
import sys


def main(path):
    with open(path) as f:
        data = json.load(f)
    median = {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name") == "median":
            median[b["run_name"]] = b["real_time"]  # ns
    for shape in ("pair", "batch"):
        runs = sorted({name.split("/", 3)[3] for name in median if name.startswith(shape + "/")},
                      key=lambda s: [int(p.split(":")[-1]) for p in s.split("/")])
        plugins = [p for p in ("scalar", "avx2", "avx512", "neon")
                   if any(n.startswith(f"{shape}/{p}/") for n in median)]
        unit = "ns per call" if shape == "pair" else "ns per batch"
        print(f"\n### {shape} kernels ({unit}, median of 5)\n")
        header = ["kernel", "size"] + plugins + ["avx2 / scalar", "avx512 / avx2"]
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for metric in ("dot", "l2sq", "l1", "int8dot", "codedot"):
            for run in runs:
                t = {p: median.get(f"{shape}/{p}/{metric}/{run}") for p in plugins}
                cells = [metric, run] + [f"{t[p]:.1f}" if t[p] else "-" for p in plugins]
                ratio = lambda a, b: f"{t[a] / t[b]:.2f}x" if t.get(a) and t.get(b) else "-"
                cells += [ratio("scalar", "avx2"), ratio("avx2", "avx512")]
                print("| " + " | ".join(cells) + " |")
        print(f"\n{shape}: AVX2 float32 dot time / integer dot time at the same dimension "
              "(int8dot: 7-bit codes, ABI 1.1; codedot: 8-bit codes, ABI 1.2)\n")
        print("| size | avx2 int8dot | avx512 (VNNI) int8dot | avx2 codedot | avx512 (VNNI) codedot |")
        print("|---|---|---|---|---|")
        for run in runs:
            f32 = median.get(f"{shape}/avx2/dot/{run}")
            cells = [run]
            for metric in ("int8dot", "codedot"):
                for p in ("avx2", "avx512"):
                    i8 = median.get(f"{shape}/{p}/{metric}/{run}")
                    cells.append(f"{f32 / i8:.2f}x" if f32 and i8 else "-")
            print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1])
