// Engine benchmarks (Google Benchmark): the upsert rate of 100k points of 128 dimensions with a
// small payload, and count / scroll with a keyword filter matching 1% of the points, with the
// keyword indexed and without an index.
//
//   build/bin/vdb-engine-bench [--plugins DIR] [google benchmark flags]
#include "core/engine/catalog.hpp"
#include "core/plugin_host/plugin_registry.hpp"
#include "tools/bench/bench_plugins.hpp"

#include <benchmark/benchmark.h>

#include <random>

namespace {

using namespace vdb; // NOLINT(google-build-using-namespace): a benchmark file

constexpr std::size_t kPoints = 100'000;
constexpr std::size_t kDim = 128;
constexpr std::size_t kBatch = 1'000;
constexpr int kGroups = 100; // "group" takes 100 values: one of them matches 1%

PluginRegistry* registry = nullptr;

EngineContext context() {
  return EngineContext{*registry->choose_distance("auto"),
                       registry->find(VDB_PLUGIN_STORAGE, "ram"), EngineLimits{}};
}

std::vector<PointStruct> batch(std::size_t first, std::mt19937& gen) {
  std::normal_distribution<float> normal;
  std::vector<PointStruct> points;
  points.reserve(kBatch);
  for (std::size_t i = first; i < first + kBatch; ++i) {
    std::vector<float> v(kDim);
    for (float& x : v) {
      x = normal(gen);
    }
    points.push_back(PointStruct{
        PointId::from_number(i),
        {{"", std::move(v)}},
        Json{{"group", "g" + std::to_string(i % kGroups)}, {"n", i}, {"published", i % 2 == 0}}});
  }
  return points;
}

std::shared_ptr<Collection> filled(Catalog& catalog, const std::string& name) {
  if (!catalog
           .create_collection(name,
                              Json::parse(R"({"vectors": {"size": 128, "distance": "Cosine"}})"))
           .ok()) {
    std::abort();
  }
  auto c = *catalog.get(name);
  std::mt19937 gen(42);
  for (std::size_t first = 0; first < kPoints; first += kBatch) {
    if (!c->upsert(batch(first, gen)).ok()) {
      std::abort();
    }
  }
  return c;
}

void upsert_100k(benchmark::State& state) {
  // Points are generated outside the timed region.
  std::mt19937 gen(42);
  std::vector<std::vector<PointStruct>> batches;
  for (std::size_t first = 0; first < kPoints; first += kBatch) {
    batches.push_back(batch(first, gen));
  }
  for (auto _ : state) {
    state.PauseTiming();
    Catalog catalog(context(), CollectionConfig{});
    (void)catalog.create_collection(
        "c", Json::parse(R"({"vectors": {"size": 128, "distance": "Cosine"}})"));
    auto c = *catalog.get("c");
    auto copies = batches;
    state.ResumeTiming();
    for (auto& b : copies) {
      if (!c->upsert(std::move(b)).ok()) {
        state.SkipWithError("upsert failed");
        return;
      }
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kPoints));
}
BENCHMARK(upsert_100k)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

struct Fixture {
  Catalog catalog{context(), CollectionConfig{}};
  std::shared_ptr<Collection> plain = filled(catalog, "plain");
  std::shared_ptr<Collection> indexed = [this] {
    auto c = filled(catalog, "indexed");
    (void)c->create_payload_index(*JsonPath::parse("group"), PayloadFieldType::keyword);
    return c;
  }();
  Filter one_percent =
      *parse_filter(Json::parse(R"({"must": {"key": "group", "match": {"value": "g7"}}})"));
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

void count_1_percent(benchmark::State& state) {
  Fixture& f = fixture();
  const Collection& c = state.range(0) != 0 ? *f.indexed : *f.plain;
  for (auto _ : state) {
    auto n = c.count(&f.one_percent);
    if (!n || *n != kPoints / kGroups) {
      state.SkipWithError("wrong count");
      return;
    }
    benchmark::DoNotOptimize(n);
  }
}
BENCHMARK(count_1_percent)->ArgName("indexed")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void scroll_1_percent(benchmark::State& state) {
  Fixture& f = fixture();
  const Collection& c = state.range(0) != 0 ? *f.indexed : *f.plain;
  ScrollRequest request;
  request.filter = &f.one_percent;
  request.limit = 100;
  for (auto _ : state) {
    // Every page of the 1,000 matches, 100 at a time.
    request.offset.reset();
    std::size_t seen = 0;
    do {
      auto page = c.scroll(request);
      seen += page->points.size();
      request.offset = page->next_page_offset;
    } while (request.offset);
    if (seen != kPoints / kGroups) {
      state.SkipWithError("wrong scroll");
      return;
    }
  }
}
BENCHMARK(scroll_1_percent)->ArgName("indexed")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

} // namespace

int main(int argc, char** argv) {
  PluginRegistry plugins;
  if (!bench::load_plugins(argc, argv, plugins)) {
    return 1;
  }
  registry = &plugins;
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
