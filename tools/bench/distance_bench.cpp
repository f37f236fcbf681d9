// Google Benchmark of every distance kernel of every distance plugin this CPU can run, loaded
// through the real plugin loader. Pair kernels use two vectors that stay in L1; the batch
// kernels score one query against n vectors (16 KiB in L1, or up to 784 KiB in L2). "int8dot"
// is the int8 kernel of ABI 1.1 on codes 0..127 of the same dimension (a quarter of the bytes).
//
//   build/bin/vdb-distance-bench [--plugins DIR] [google benchmark flags]
#include "core/plugin_host/plugin_registry.hpp"
#include "tools/bench/bench_plugins.hpp"

#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

namespace {

using vdb::DistanceBackend;

std::vector<float> random_vector(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0F, 1.0F);
  std::vector<float> v(n);
  for (float& x : v) {
    x = dist(rng);
  }
  return v;
}

/// Random bytes of type T in [lo, hi].
template <class T = std::uint8_t>
std::vector<T> random_codes(std::size_t n, unsigned seed, int lo = 0, int hi = 127) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(lo, hi);
  std::vector<T> v(n);
  for (auto& x : v) {
    x = static_cast<T>(dist(rng));
  }
  return v;
}

// int8dot: ABI 1.1's 7-bit codes; codedot: ABI 1.2's signed query by 8-bit codes.
enum class Metric { dot, l2sq, l1, int8dot, codedot };

void bench_pair(benchmark::State& state, const DistanceBackend& backend, Metric metric) {
  const auto dim = static_cast<std::size_t>(state.range(0));
  const auto a = random_vector(dim, 1);
  const auto b = random_vector(dim, 2);
  const auto ca = random_codes(dim, 1);
  const auto cb = random_codes(dim, 2);
  const auto sq = random_codes<std::int8_t>(dim, 1, -127, 127);
  const auto c8 = random_codes(dim, 2, 0, 255);
  for (auto _ : state) {
    float r = 0;
    switch (metric) {
    case Metric::int8dot:
      r = static_cast<float>(backend.int8_dot(ca.data(), cb.data(), dim));
      break;
    case Metric::codedot:
      r = static_cast<float>(backend.code_dot(sq.data(), c8.data(), dim));
      break;
    case Metric::dot:
      r = backend.dot(a.data(), b.data(), dim);
      break;
    case Metric::l2sq:
      r = backend.l2sq(a.data(), b.data(), dim);
      break;
    case Metric::l1:
      r = backend.l1(a.data(), b.data(), dim);
      break;
    }
    benchmark::DoNotOptimize(r);
    benchmark::ClobberMemory();
  }
  state.counters["floats/s"] = benchmark::Counter(static_cast<double>(dim) * 2,
                                                  benchmark::Counter::kIsIterationInvariantRate);
}

void bench_batch(benchmark::State& state, const DistanceBackend& backend, Metric metric) {
  const auto dim = static_cast<std::size_t>(state.range(0));
  const auto k_vectors = static_cast<std::size_t>(state.range(1));
  const auto q = random_vector(dim, 1);
  const auto base = random_vector(dim * k_vectors, 2);
  std::vector<float> out(k_vectors);
  const auto cq = random_codes(dim, 1);
  const auto codes = random_codes(dim * k_vectors, 2);
  const auto sq = random_codes<std::int8_t>(dim, 1, -127, 127);
  const auto codes8 = random_codes(dim * k_vectors, 2, 0, 255);
  std::vector<std::int32_t> int_out(k_vectors);
  const auto run = [&] {
    switch (metric) {
    case Metric::int8dot:
      return backend.int8_dot_batch(cq.data(), codes.data(), dim, k_vectors, dim, int_out.data());
    case Metric::codedot:
      return backend.code_dot_batch(sq.data(), codes8.data(), dim, k_vectors, dim, int_out.data());
    case Metric::dot:
      return backend.dot_batch(q.data(), base.data(), dim, k_vectors, dim, out.data());
    case Metric::l2sq:
      return backend.l2sq_batch(q.data(), base.data(), dim, k_vectors, dim, out.data());
    case Metric::l1:
      break;
    }
    return backend.l1_batch(q.data(), base.data(), dim, k_vectors, dim, out.data());
  };
  // A kernel that fails must not produce a timing: check once, outside the timed loop.
  if (const vdb::Status first = run(); !first.ok()) {
    state.SkipWithError(first.message().c_str());
    return;
  }
  for (auto _ : state) {
    const vdb::Status status = run();
    benchmark::DoNotOptimize(&status);
    benchmark::DoNotOptimize(out.data());
    benchmark::DoNotOptimize(int_out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * k_vectors));
}

} // namespace

int main(int argc, char** argv) {
  vdb::PluginRegistry registry;
  if (!vdb::bench::load_plugins(argc, argv, registry)) {
    return 1;
  }
  const std::pair<const char*, Metric> metrics[] = {{"dot", Metric::dot},
                                                    {"l2sq", Metric::l2sq},
                                                    {"l1", Metric::l1},
                                                    {"int8dot", Metric::int8dot},
                                                    {"codedot", Metric::codedot}};
  for (const auto& plugin : registry.plugins(VDB_PLUGIN_DISTANCE)) {
    for (const auto& [name, metric] : metrics) {
      benchmark::RegisterBenchmark(("pair/" + plugin->name() + "/" + name).c_str(), bench_pair,
                                   DistanceBackend(plugin), metric)
          ->Arg(128)
          ->Arg(784)
          ->Arg(1536);
      benchmark::RegisterBenchmark(("batch/" + plugin->name() + "/" + name).c_str(), bench_batch,
                                   DistanceBackend(plugin), metric)
          ->ArgNames({"dim", "n"})
          ->Args({128, 32})   // 16 KiB of vectors: L1
          ->Args({128, 256})  // 128 KiB: L2
          ->Args({784, 256}); // 784 KiB: L2
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
