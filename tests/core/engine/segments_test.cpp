// Segments and the optimizer as a user sees them: points keep their latest version across
// sealing, indexing, vacuum and merge; deleted points never come back; info reports segments.
#include "support/engine.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <numeric>
#include <random>
#include <thread>

namespace vdb {
namespace {

using test::filter_of;

PointId id(std::uint64_t n) { return PointId::from_number(n); }

std::shared_ptr<Collection> small_segments(Catalog& catalog) {
  // 1 KB of 8-d vectors is 32 points per segment; vacuum from 10 deleted points.
  EXPECT_TRUE(catalog
                  .create_collection("c", Json::parse(R"({
      "vectors": {"size": 8, "distance": "Euclid"},
      "hnsw_config": {"m": 8, "ef_construct": 32},
      "optimizers_config": {"indexing_threshold": 1, "default_segment_number": 2,
                            "vacuum_min_vector_number": 100, "deleted_threshold": 0.3}})"))
                  .ok());
  return *catalog.get("c");
}

std::vector<float> vec(std::uint64_t i) {
  std::vector<float> v(8);
  for (std::size_t j = 0; j < 8; ++j) {
    v[j] = static_cast<float>((i * 7 + j * 13) % 29);
  }
  return v;
}

TEST(Segments, PointsSurviveSealingIndexingAndMerging) {
  Catalog catalog(test::engine_context(), CollectionConfig{});
  auto c = small_segments(catalog);
  for (std::uint64_t i = 0; i < 400; ++i) {
    ASSERT_TRUE(c->upsert({PointStruct{id(i), {{"", vec(i)}}, Json{{"i", i}}}}).ok());
  }
  ASSERT_TRUE(c->optimize_now().ok());
  CollectionInfo info = c->info();
  EXPECT_EQ(info.points_count, 400U);
  ASSERT_GE(info.segments.size(), 2U);
  EXPECT_LE(info.segments.size(), 3U); // merged down to 2 sealed + the appendable one
  EXPECT_TRUE(info.segments.back().appendable);
  for (std::size_t s = 0; s + 1 < info.segments.size(); ++s) {
    EXPECT_TRUE(info.segments[s].indexed);
    EXPECT_FALSE(info.segments[s].appendable);
  }
  // Every point reads back with its own payload and vector.
  for (std::uint64_t i = 0; i < 400; i += 37) {
    auto r = c->retrieve({id(i)}, PayloadSelector::all(), VectorSelector::every());
    ASSERT_EQ(r->size(), 1U);
    EXPECT_EQ((*r)[0].payload->at("i"), i);
    EXPECT_EQ((*r)[0].vectors.at(""), vec(i));
  }
  // A point in a sealed segment is replaced: the old version is never returned.
  ASSERT_TRUE(c->upsert({PointStruct{id(5), {{"", vec(999)}}, Json{{"i", "new"}}}}).ok());
  SearchRequest s;
  s.vector = vec(5);
  s.limit = 400;
  s.with_payload = PayloadSelector::all();
  auto hits = c->search(s);
  ASSERT_TRUE(hits.ok());
  std::size_t fives = 0;
  for (const ScoredPoint& h : *hits) {
    if (h.id == id(5)) {
      ++fives;
      EXPECT_EQ(h.payload->at("i"), "new");
    }
  }
  EXPECT_EQ(fives, 1U);
  EXPECT_EQ(*c->count(nullptr), 400U);
}

TEST(Segments, DeletedPointsNeverComeBackAndVacuumReclaimsThem) {
  Catalog catalog(test::engine_context(), CollectionConfig{});
  auto c = small_segments(catalog);
  std::vector<PointStruct> points;
  for (std::uint64_t i = 0; i < 600; ++i) {
    points.push_back(PointStruct{id(i), {{"", vec(i)}}, Json{{"even", i % 2 == 0}}});
  }
  ASSERT_TRUE(c->upsert(points).ok()); // one batch: one large segment
  ASSERT_TRUE(c->optimize_now().ok());
  ASSERT_TRUE(
      c->delete_points(filter_of(R"({"must": {"key": "even", "match": {"value": true}}})")).ok());
  ASSERT_TRUE(c->optimize_now().ok());
  const CollectionInfo info = c->info();
  EXPECT_EQ(info.points_count, 300U);
  for (const SegmentInfo& s : info.segments) {
    EXPECT_EQ(s.deleted, 0U) << "segment " << s.id << " was not vacuumed";
  }
  SearchRequest s;
  s.vector = vec(0);
  s.limit = 600;
  auto hits = c->search(s);
  ASSERT_EQ(hits->size(), 300U);
  for (const ScoredPoint& h : *hits) {
    EXPECT_EQ(h.id.number() % 2, 1U);
  }
}

TEST(Segments, ScrollWalksEverySegmentInIdOrder) {
  // Sealed segments find their points through offsets sorted by id, the appendable one through
  // a map; scroll merges them. Points are written out of order, some deleted, some moved.
  Catalog catalog(test::engine_context(), CollectionConfig{});
  auto c = small_segments(catalog);
  std::mt19937_64 rng(7);
  std::vector<std::uint64_t> numbers(1000);
  std::iota(numbers.begin(), numbers.end(), 0);
  std::shuffle(numbers.begin(), numbers.end(), rng);
  std::map<PointId, std::string> expected; // id → the "v" its payload must hold
  std::vector<PointStruct> batch;
  const auto write = [&](const PointId& pid, const std::string& v) {
    batch.push_back(PointStruct{pid, {{"", vec(expected.size())}}, Json{{"v", v}}});
    expected[pid] = v;
    if (batch.size() == 40) {
      ASSERT_TRUE(c->upsert(batch).ok());
      batch.clear();
    }
  };
  for (std::size_t i = 0; i < 300; ++i) {
    write(id(numbers[i]), "first");
  }
  for (std::uint8_t u = 0; u < 5; ++u) {
    PointId::Uuid bytes{};
    bytes[0] = static_cast<std::uint8_t>(200 - u);
    bytes[15] = u;
    write(PointId::from_uuid(bytes), "first");
  }
  ASSERT_TRUE(c->upsert(batch).ok());
  batch.clear();
  ASSERT_TRUE(c->optimize_now().ok());
  ASSERT_GE(c->info().segments.size(), 2U);
  std::vector<PointId> gone;
  for (std::size_t i = 0; i < 40; ++i) {
    gone.push_back(id(numbers[i * 7]));
    expected.erase(gone.back());
  }
  ASSERT_TRUE(c->delete_points(gone).ok());
  for (std::size_t i = 0; i < 30; ++i) {
    write(id(numbers[i * 7 + 3]), "moved"); // sealed → appendable
  }
  for (std::size_t i = 300; i < 310; ++i) {
    write(id(numbers[i]), "new");
  }
  ASSERT_TRUE(c->upsert(batch).ok());

  ScrollRequest request;
  request.limit = 7;
  request.with_payload = PayloadSelector::all();
  std::vector<std::pair<PointId, std::string>> seen;
  do {
    auto page = c->scroll(request);
    ASSERT_TRUE(page.ok()) << page.error().message;
    for (const Record& r : page->points) {
      seen.emplace_back(r.id, r.payload->at("v").get<std::string>());
    }
    request.offset = page->next_page_offset;
  } while (request.offset);
  const std::vector<std::pair<PointId, std::string>> want(expected.begin(), expected.end());
  EXPECT_EQ(seen, want);
  EXPECT_EQ(*c->count(nullptr), expected.size());
  EXPECT_EQ(c->info().points_count, expected.size());
  auto records = c->retrieve(gone, PayloadSelector::none(), VectorSelector::none());
  ASSERT_TRUE(records.ok());
  EXPECT_TRUE(records->empty()) << "deleted points are not found";
}

TEST(Segments, PayloadEditsDuringAnIndexBuildAreKept) {
  Catalog catalog(test::engine_context(), CollectionConfig{});
  auto c = small_segments(catalog);
  for (std::uint64_t i = 0; i < 300; ++i) {
    ASSERT_TRUE(c->upsert({PointStruct{id(i), {{"", vec(i)}}, Json{{"v", 0}}}}).ok());
  }
  // Writes race the background optimizer; whatever it is doing, the last write wins.
  for (int round = 1; round <= 20; ++round) {
    ASSERT_TRUE(c->set_payload(Json{{"v", round}}, std::vector<PointId>{id(round * 2)}).ok());
    ASSERT_TRUE(c->delete_points(std::vector<PointId>{id(100 + round * 3)}).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_TRUE(c->optimize_now().ok());
  for (int round = 1; round <= 20; ++round) {
    auto r = c->retrieve({id(round * 2)}, PayloadSelector::all(), VectorSelector::none());
    ASSERT_EQ(r->size(), 1U);
    EXPECT_EQ((*r)[0].payload->at("v"), round);
    EXPECT_TRUE(c->retrieve({id(100 + round * 3)}, PayloadSelector::none(), VectorSelector::none())
                    ->empty());
  }
  EXPECT_EQ(*c->count(nullptr), 280U);
}

TEST(Segments, NormalizingAStoredCosineVectorAgainChangesNoBit) {
  // Merges and vector updates copy stored (normalized) vectors into new segments.
  for (const std::size_t dim : {8U, 128U, 784U, 4096U}) {
    for (std::uint64_t seed = 0; seed < 50; ++seed) {
      std::vector<float> v = vec(seed * 7 + dim);
      v.resize(dim, 0.25F);
      v[0] = 3.0F;
      normalize(v);
      const std::vector<float> once = v;
      normalize(v);
      ASSERT_EQ(v, once) << "dim " << dim << " seed " << seed;
    }
  }
}

TEST(Segments, PayloadIndexesCreatedOrDroppedDuringABuildReachTheNewSegment) {
  Catalog catalog(test::engine_context(), CollectionConfig{});
  auto c = small_segments(catalog);
  ASSERT_TRUE(c->create_payload_index(*JsonPath::parse("old"), PayloadFieldType::integer).ok());
  for (int round = 0; round < 20; ++round) {
    for (std::uint64_t i = 0; i < 60; ++i) {
      const std::uint64_t n = static_cast<std::uint64_t>(round) * 60 + i;
      ASSERT_TRUE(
          c->upsert({PointStruct{id(n), {{"", vec(n)}}, Json{{"old", 1}, {"new", n % 7}}}}).ok());
    }
    // Index changes race the background optimizer's merges and vacuums.
    if (round % 2 == 0) {
      ASSERT_TRUE(c->delete_payload_index(*JsonPath::parse("old")).ok());
      ASSERT_TRUE(c->create_payload_index(*JsonPath::parse("new"), PayloadFieldType::integer).ok());
    } else {
      ASSERT_TRUE(c->create_payload_index(*JsonPath::parse("old"), PayloadFieldType::integer).ok());
      ASSERT_TRUE(c->delete_payload_index(*JsonPath::parse("new")).ok());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_TRUE(c->optimize_now().ok());
  // The last round (19) left "old" indexed and "new" not, on every point.
  const CollectionInfo info = c->info();
  ASSERT_EQ(info.payload_schema.size(), 1U);
  EXPECT_EQ(info.payload_schema.at("old").points, 1200U);
}

// m = 0 without payload_m builds no graph: the optimizer seals and merges the segments and is
// done (it used to pick the same graphless segment for indexing at every step, for ever), and
// searches scan exactly.
TEST(Segments, WithMZeroTheOptimizerFinishesAndSearchesScan) {
  Catalog catalog(test::engine_context(), CollectionConfig{});
  ASSERT_TRUE(catalog
                  .create_collection("c", Json::parse(R"({
      "vectors": {"size": 8, "distance": "Euclid"},
      "hnsw_config": {"m": 0},
      "optimizers_config": {"indexing_threshold": 1, "default_segment_number": 2}})"))
                  .ok());
  auto c = *catalog.get("c");
  std::vector<PointStruct> batch;
  for (std::uint64_t i = 0; i < 300; ++i) {
    batch.push_back(PointStruct{id(i), {{"", vec(i)}}, Json::object()});
  }
  ASSERT_TRUE(c->upsert(std::move(batch)).ok());
  ASSERT_TRUE(c->optimize_now().ok());
  const CollectionInfo info = c->info();
  EXPECT_FALSE(info.optimizer.running);
  EXPECT_EQ(info.memory.graph_ram, 0U);
  std::size_t sealed = 0;
  for (const SegmentInfo& s : info.segments) {
    sealed += s.appendable ? 0 : 1;
    EXPECT_TRUE(s.appendable || s.indexed); // nothing left to index
  }
  EXPECT_GE(sealed, 1U);
  SearchRequest r;
  r.vector = vec(7);
  r.limit = 3;
  auto hits = c->search(r);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 3U);
  EXPECT_EQ((*hits)[0].id, id(7));
  r.exact = true;
  auto exact = c->search(r);
  ASSERT_TRUE(exact.ok());
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*hits)[i].id, (*exact)[i].id);
  }
}

// m = 0 with payload_m: a search filtered to one tenant walks that tenant's graph from its
// matches and returns only its points, the nearest ones; a range on the same key scans.
TEST(Segments, WithMZeroATenantFilterWalksTheTenantsGraph) {
  Catalog catalog(test::engine_context(), CollectionConfig{});
  // full_scan_threshold 1 KB (32 vectors of 8 floats): the tenants' 1,000 points use the graph.
  ASSERT_TRUE(catalog
                  .create_collection("c", Json::parse(R"({
      "vectors": {"size": 8, "distance": "Euclid"},
      "hnsw_config": {"m": 0, "payload_m": 8, "ef_construct": 32, "full_scan_threshold": 1},
      "optimizers_config": {"indexing_threshold": 10, "default_segment_number": 1}})"))
                  .ok());
  auto c = *catalog.get("c");
  ASSERT_TRUE(c->create_payload_index(*JsonPath::parse("tenant"), PayloadFieldType::integer).ok());
  std::mt19937 gen(11);
  const auto vector = [&] { return test::gaussian_vector(gen, 8); };
  std::vector<PointStruct> batch;
  for (std::uint64_t i = 0; i < 2'000; ++i) {
    batch.push_back(PointStruct{id(i), {{"", vector()}}, Json{{"tenant", i % 2}}});
  }
  ASSERT_TRUE(c->upsert(std::move(batch)).ok());
  ASSERT_TRUE(c->optimize_now().ok());
  std::uint64_t links = 0;
  for (const SegmentInfo& s : c->info().segments) {
    links += s.payload_links;
  }
  EXPECT_GT(links, 2'000U * 8);
  // Recall@10 over 20 random queries, each filtered to one tenant: only its points come back.
  double total = 0;
  for (int q = 0; q < 20; ++q) {
    const Filter tenant = filter_of(R"({"must": {"key": "tenant", "match": {"value": )" +
                                    std::to_string(q % 2) + "}}}");
    SearchRequest r;
    r.vector = vector();
    r.limit = 10;
    r.filter = &tenant;
    std::size_t returned = 0;
    total += test::recall_of(*c, r, [&](const ScoredPoint& p) {
      ++returned;
      EXPECT_EQ(p.id.number() % 2, static_cast<std::uint64_t>(q % 2));
    });
    EXPECT_EQ(returned, 10U);
  }
  EXPECT_GE(total / 20, 0.95);
  // A range scans: exactly the exact search's results, at any ef.
  const Filter range = filter_of(R"({"must": {"key": "tenant", "range": {"gte": 1}}})");
  for (int q = 0; q < 5; ++q) {
    SearchRequest r;
    r.vector = vector();
    r.limit = 10;
    r.hnsw_ef = 10;
    r.filter = &range;
    EXPECT_EQ(test::recall_of(*c, r), 1.0);
  }
}

// A tenant of fewer points than full_scan_threshold's, but of more than half of them: on an m 0
// graph its walk answers (cheaper than a scan of the tenant), on an m 16 graph the scan does.
TEST(Segments, WithMZeroATenantOverHalfTheScanThresholdWalks) {
  // 32 floats: full_scan_threshold 250 KB is 2,000 points, and a tenant holds 1,500.
  const auto recall_at_ef_10 = [](int m) {
    Catalog catalog(test::engine_context(), CollectionConfig{});
    EXPECT_TRUE(catalog
                    .create_collection(
                        "c", Json{{"vectors", {{"size", 32}, {"distance", "Euclid"}}},
                                  {"hnsw_config",
                                   {{"m", m},
                                    {"payload_m", 8},
                                    {"ef_construct", 32},
                                    {"full_scan_threshold", 250}}},
                                  {"optimizers_config",
                                   {{"indexing_threshold", 10}, {"default_segment_number", 1}}}})
                    .ok());
    auto c = *catalog.get("c");
    EXPECT_TRUE(
        c->create_payload_index(*JsonPath::parse("tenant"), PayloadFieldType::keyword).ok());
    std::mt19937 gen(5);
    std::vector<PointStruct> batch;
    for (std::uint64_t i = 0; i < 3'000; ++i) {
      batch.push_back(PointStruct{
          id(i), {{"", test::gaussian_vector(gen, 32)}}, Json{{"tenant", i % 2 ? "b" : "a"}}});
    }
    EXPECT_TRUE(c->upsert(std::move(batch)).ok());
    EXPECT_TRUE(c->optimize_now().ok());
    // Recall@10 at ef 10 summed over 20 queries filtered to tenant "a": 20 when every query
    // finds what the exact search finds.
    const Filter tenant = filter_of(R"({"must": {"key": "tenant", "match": {"value": "a"}}})");
    double total = 0;
    for (int q = 0; q < 20; ++q) {
      SearchRequest r;
      r.vector = test::gaussian_vector(gen, 32);
      r.limit = 10;
      r.hnsw_ef = 10;
      r.filter = &tenant;
      total += test::recall_of(*c, r, [](const ScoredPoint& p) {
        EXPECT_EQ(p.id.number() % 2, 0U); // tenant "a" only
      });
    }
    return total;
  };
  EXPECT_LT(recall_at_ef_10(0), 19.9); // the tenant's graph answered: a narrow beam misses some
  EXPECT_EQ(recall_at_ef_10(16), 20);  // scanned: exact every time
}

} // namespace
} // namespace vdb
