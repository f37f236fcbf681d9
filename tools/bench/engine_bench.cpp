// Engine benchmarks (Google Benchmark): the upsert rate of 100k points of 128 dimensions with a
// small payload, count / scroll with a keyword filter matching 1% of the points, with the
// keyword indexed and without an index, and the fixed cost of a search whose filter matches 20
// points of an indexed segment (the planner answers it with a scan of the matches), against the
// scan alone of 20 ids known beforehand; and reading 20 scattered 128-dimensional vectors of
// an mmap store (warm: in the page cache), through the mapping and with read_many (io_uring),
// what rescoring does without and with storage.performance.async_scorer.
//
//   build/bin/vdb-engine-bench [--plugins DIR] [google benchmark flags]
#include "core/engine/catalog.hpp"
#include "core/plugin_host/plugin_registry.hpp"
#include "core/plugin_host/record_store.hpp"
#include "tools/bench/bench_plugins.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <random>
#include <stdexcept>

#include <unistd.h>

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

// 20,000 points of 128 dimensions in one indexed segment, `n` = 0..19,999 in an integer index.
struct FewMatches {
  static constexpr std::size_t kN = 20'000;
  static constexpr std::int64_t kMatches = 20;
  Catalog catalog{context(), CollectionConfig{}};
  std::shared_ptr<Collection> c;
  std::vector<std::vector<float>> vectors;
  std::vector<std::vector<float>> queries;

  FewMatches() {
    if (!catalog
             .create_collection("few", Json::parse(R"({"vectors": {"size": 128, "distance": "Dot"},
                 "optimizers_config": {"indexing_threshold": 1, "default_segment_number": 1}})"))
             .ok()) {
      std::abort();
    }
    c = *catalog.get("few");
    (void)c->create_payload_index(*JsonPath::parse("n"), PayloadFieldType::integer);
    std::mt19937 gen(7);
    std::normal_distribution<float> normal;
    const auto random_vector = [&] {
      std::vector<float> v(kDim);
      for (float& x : v) {
        x = normal(gen);
      }
      return v;
    };
    std::vector<PointStruct> points;
    for (std::size_t i = 0; i < kN; ++i) {
      vectors.push_back(random_vector());
      points.push_back(
          PointStruct{PointId::from_number(i), {{"", vectors.back()}}, Json{{"n", i}}});
      if (points.size() == kBatch) {
        if (!c->upsert(std::move(points)).ok()) {
          std::abort();
        }
        points.clear();
      }
    }
    for (int q = 0; q < 64; ++q) {
      queries.push_back(random_vector());
    }
    const auto indexed = [this] {
      for (const SegmentInfo& s : c->info().segments) {
        if (s.points == kN && s.indexed) {
          return true;
        }
      }
      return false;
    };
    if (!c->optimize_now().ok() || !indexed()) {
      std::abort();
    }
  }
  // n in [first, first + 20)
  static Filter range(std::int64_t first) {
    return *parse_filter(
        Json{{"must", {{"key", "n"}, {"range", {{"gte", first}, {"lt", first + kMatches}}}}}});
  }
};

FewMatches& few() {
  static FewMatches f;
  return f;
}

// The same filter every time (its bitmap stays cached), or a different range each time.
void search_20_matches(benchmark::State& state) {
  FewMatches& f = few();
  std::vector<Filter> filters;
  for (std::int64_t i = 0; i < 64; ++i) {
    filters.push_back(FewMatches::range(state.range(0) != 0 ? i * 300 : 1000));
  }
  SearchRequest request;
  std::size_t i = 0;
  for (auto _ : state) {
    request.vector = f.queries[i % 64];
    request.filter = &filters[i % 64];
    auto hits = f.c->search(request);
    if (!hits || hits->size() != 10) {
      state.SkipWithError("wrong hits");
      return;
    }
    benchmark::DoNotOptimize(hits);
    ++i;
  }
}
BENCHMARK(search_20_matches)->ArgName("varied")->Arg(0)->Arg(1);

// The floor: the 20 matching ids are known, their vectors scored with the gather kernel and the
// best 10 sorted out (vdb-bench's "exact scan of the subset").
void scan_20_known_ids(benchmark::State& state) {
  FewMatches& f = few();
  const DistanceBackend& distance = *registry->choose_distance("auto");
  std::vector<const float*> pointers(FewMatches::kMatches);
  std::vector<float> scores(FewMatches::kMatches);
  std::vector<std::pair<float, std::uint32_t>> ranked;
  std::size_t i = 0;
  for (auto _ : state) {
    const auto first = static_cast<std::uint32_t>(state.range(0) != 0 ? (i % 64) * 300 : 1000);
    for (std::uint32_t j = 0; j < FewMatches::kMatches; ++j) {
      pointers[j] = f.vectors[first + j].data();
    }
    if (!distance
             .dot_gather(f.queries[i % 64].data(), pointers.data(), pointers.size(), kDim,
                         scores.data())
             .ok()) {
      state.SkipWithError("dot_gather failed");
      return;
    }
    ranked.clear();
    for (std::uint32_t j = 0; j < FewMatches::kMatches; ++j) {
      ranked.emplace_back(-scores[j], first + j);
    }
    std::partial_sort(ranked.begin(), ranked.begin() + 10, ranked.end());
    benchmark::DoNotOptimize(ranked.data());
    ++i;
  }
}
BENCHMARK(scan_20_known_ids)->ArgName("varied")->Arg(0)->Arg(1);

// 200,000 vectors of 128 floats in an mmap store, in a file removed at exit.
struct MappedVectors {
  static constexpr std::uint64_t kRecords = 200'000;
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("vdb-engine-bench-" + std::to_string(::getpid()) + ".vdb");
  std::unique_ptr<RecordStore> store;
  MappedVectors() {
    RecordStoreOptions options;
    options.path = path.string();
    options.record_size = kDim * sizeof(float);
    auto opened = RecordStore::open(registry->find(VDB_PLUGIN_STORAGE, "mmap"), options);
    if (!opened.ok()) {
      throw std::runtime_error(opened.error().message);
    }
    store = std::move(*opened);
    std::vector<float> chunk(1000 * kDim, 0.5F);
    for (std::uint64_t i = 0; i < kRecords; i += 1000) {
      if (!store->append(chunk.data(), 1000).ok()) {
        throw std::runtime_error("cannot fill " + path.string());
      }
    }
  }
  ~MappedVectors() {
    store.reset();
    std::filesystem::remove(path);
  }
  MappedVectors(const MappedVectors&) = delete;
  MappedVectors& operator=(const MappedVectors&) = delete;
};

// Arg 0: the 20 vectors copied out through the mapping (rescoring without async_scorer reads
// them in place, which costs the same loads); arg 1: one read_many call.
void read_20_originals(benchmark::State& state) {
  static MappedVectors mapped;
  std::mt19937 gen(5);
  std::vector<std::uint64_t> indices(20);
  std::vector<float> out(indices.size() * kDim);
  const std::uint64_t bytes = kDim * sizeof(float);
  for (auto _ : state) {
    for (std::uint64_t& i : indices) {
      i = gen() % MappedVectors::kRecords;
    }
    if (state.range(0) == 0) {
      for (std::size_t j = 0; j < indices.size(); ++j) {
        std::memcpy(out.data() + j * kDim, *mapped.store->get(indices[j]), bytes);
      }
    } else if (!mapped.store->read_many(indices.data(), indices.size(), out.data()).ok()) {
      state.SkipWithError("read_many failed");
      return;
    }
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(read_20_originals)->ArgName("read_many")->Arg(0)->Arg(1);

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
