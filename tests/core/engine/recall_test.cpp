// Search recall through the whole engine (segments, HNSW, planner) against exact search, with
// and without filters, at several selectivities, independent of the vectors and tied to their
// clusters. Labelled slow: it builds real indexes.
#include "support/engine.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <iostream>
#include <random>
#include <set>

namespace vdb {
namespace {

constexpr std::size_t kDim = 32;
constexpr std::size_t kPoints = 20'000;
constexpr std::size_t kClusters = 100;

class Recall : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    catalog_ = new Catalog(test::engine_context(), CollectionConfig{});
    // ~2.5 MB of vectors: sealed every 1,000 KB, merged into 2 indexed segments; graphs are
    // used above 100 KB of candidates (800 vectors).
    ASSERT_TRUE(catalog_
                    ->create_collection("r", Json::parse(R"({
        "vectors": {"size": 32, "distance": "Cosine"},
        "hnsw_config": {"full_scan_threshold": 100},
        "optimizers_config": {"indexing_threshold": 1000, "default_segment_number": 2}})"))
                    .ok());
    collection_ = *catalog_->get("r");
    // Indexes first, as users are told to: a segment the optimizer indexes in the background
    // while the points arrive then gets its payload-aware links, whatever the timing.
    ASSERT_TRUE(
        collection_->create_payload_index(*JsonPath::parse("rnd"), PayloadFieldType::integer).ok());
    ASSERT_TRUE(
        collection_->create_payload_index(*JsonPath::parse("cluster"), PayloadFieldType::integer)
            .ok());
    std::mt19937 gen(5);
    std::normal_distribution<float> normal;
    centres_.resize(kClusters * kDim);
    for (float& x : centres_) {
      x = normal(gen);
    }
    std::vector<PointStruct> batch;
    for (std::size_t i = 0; i < kPoints; ++i) {
      const std::size_t c = gen() % kClusters;
      std::vector<float> v(kDim);
      for (std::size_t j = 0; j < kDim; ++j) {
        v[j] = centres_[c * kDim + j] + 0.6F * normal(gen);
      }
      // rnd: independent of the vector; cluster: tied to it.
      batch.push_back(PointStruct{
          PointId::from_number(i),
          {{"", v}},
          Json{{"rnd", static_cast<int>(gen() % 1000)}, {"cluster", static_cast<int>(c)}}});
      if (batch.size() == 1000) {
        ASSERT_TRUE(collection_->upsert(std::move(batch)).ok());
        batch.clear();
      }
    }
    ASSERT_TRUE(collection_->optimize_now().ok());
  }
  static void TearDownTestSuite() {
    collection_.reset();
    delete catalog_;
  }

  static std::vector<float> query(std::mt19937& gen, std::size_t* cluster) {
    std::normal_distribution<float> normal;
    *cluster = gen() % kClusters;
    std::vector<float> v(kDim);
    for (std::size_t j = 0; j < kDim; ++j) {
      v[j] = centres_[*cluster * kDim + j] + 0.6F * normal(gen);
    }
    return v;
  }

  // Mean recall@10 of the planned search against exact search over 100 queries.
  static double recall(const std::function<std::string(std::size_t cluster)>& filter_json) {
    std::mt19937 gen(17);
    double total = 0;
    for (int q = 0; q < 100; ++q) {
      std::size_t cluster = 0;
      SearchRequest s;
      s.vector = query(gen, &cluster);
      s.limit = 10;
      Filter filter;
      if (filter_json) {
        filter = test::filter_of(filter_json(cluster));
        s.filter = &filter;
      }
      total += test::recall_of(*collection_, s);
    }
    return total / 100;
  }

  static Catalog* catalog_;
  static std::shared_ptr<Collection> collection_;
  static std::vector<float> centres_;
};

Catalog* Recall::catalog_ = nullptr;
std::shared_ptr<Collection> Recall::collection_;
std::vector<float> Recall::centres_;

TEST_F(Recall, SegmentsAreIndexed) {
  const CollectionInfo info = collection_->info();
  std::size_t indexed = 0;
  std::uint64_t payload_links = 0;
  for (const SegmentInfo& s : info.segments) {
    indexed += s.indexed ? 1 : 0;
    payload_links += s.payload_links;
  }
  EXPECT_GE(indexed, 1U);
  // `rnd` is scattered over the graph: its value buckets get payload-aware links (payload_m
  // defaults to m), which the filtered searches below follow.
  EXPECT_GT(payload_links, 0U);
  EXPECT_EQ(info.points_count, kPoints);
}

TEST_F(Recall, UnfilteredAt10) {
  const double r = recall(nullptr);
  EXPECT_GE(r, 0.95);
  std::cout << "recall@10 unfiltered: " << r << "\n";
}

TEST_F(Recall, IndependentFilters) {
  for (const int per_mille : {500, 100, 10, 1}) {
    const double r = recall([per_mille](std::size_t) {
      return R"({"must": {"key": "rnd", "range": {"lt": )" + std::to_string(per_mille) + "}}}";
    });
    EXPECT_GE(r, 0.95) << "selectivity " << per_mille << "/1000";
    std::cout << "recall@10 at " << per_mille << "/1000: " << r << "\n";
  }
}

TEST_F(Recall, FiltersTiedToClusters) {
  // The query's own cluster (1%), and a different cluster: the hard case, where the matching
  // points lie far from the query.
  EXPECT_GE(recall([](std::size_t c) {
              return R"({"must": {"key": "cluster", "match": {"value": )" + std::to_string(c) +
                     "}}}";
            }),
            0.95);
  EXPECT_GE(recall([](std::size_t c) {
              return R"({"must": {"key": "cluster", "match": {"any": [)" +
                     std::to_string((c + 1) % kClusters) + ", " +
                     std::to_string((c + 2) % kClusters) + "]}}}";
            }),
            0.95);
  // 50% of clusters, none of them the query's.
  EXPECT_GE(recall([](std::size_t c) {
              return R"({"must_not": {"key": "cluster", "match": {"value": )" + std::to_string(c) +
                     "}}, \"must\": {\"key\": \"cluster\", \"range\": {\"gte\": " +
                     std::to_string(c < 50 ? 50 : 0) +
                     ", \"lt\": " + std::to_string(c < 50 ? 100 : 50) + "}}}";
            }),
            0.95);
}

// Qdrant's multitenancy layout: m = 0 (no graph over the segment) with payload_m, so each
// tenant's points get a graph of their own. A search filtered to one tenant walks it; any other
// search scans.
TEST(TenantGraphs, AFilterOnOneTenantWalksItsGraph) {
  Catalog catalog(test::engine_context(), CollectionConfig{});
  // full_scan_threshold 10 KB (80 vectors): a tenant's 5,000 points are searched on its graph.
  ASSERT_TRUE(catalog
                  .create_collection("t", Json::parse(R"({
      "vectors": {"size": 32, "distance": "Cosine"},
      "hnsw_config": {"m": 0, "payload_m": 16, "full_scan_threshold": 10},
      "optimizers_config": {"indexing_threshold": 100, "default_segment_number": 1}})"))
                  .ok());
  auto c = *catalog.get("t");
  ASSERT_TRUE(c->create_payload_index(*JsonPath::parse("tenant"), PayloadFieldType::keyword).ok());
  std::mt19937 gen(3);
  const auto vector = [&] { return test::gaussian_vector(gen, kDim); };
  std::vector<PointStruct> batch;
  for (std::size_t i = 0; i < 20'000; ++i) {
    batch.push_back(PointStruct{
        PointId::from_number(i), {{"", vector()}}, Json{{"tenant", "t" + std::to_string(i % 4)}}});
    if (batch.size() == 5'000) {
      ASSERT_TRUE(c->upsert(std::move(batch)).ok());
      batch.clear();
    }
  }
  ASSERT_TRUE(c->optimize_now().ok());
  const CollectionInfo info = c->info();
  const auto sealed = std::find_if(info.segments.begin(), info.segments.end(),
                                   [](const SegmentInfo& s) { return !s.appendable; });
  ASSERT_NE(sealed, info.segments.end());
  EXPECT_EQ(sealed->points, 20'000U);
  EXPECT_TRUE(sealed->indexed);
  EXPECT_GT(sealed->payload_links, 20'000U * 16);
  // No links of its own: layer 0 holds five values a node (a count and m = 2 empty slots x 2);
  // then the node tables (13 bytes), the payload-aware links and their offsets (4 bytes).
  EXPECT_LT(info.memory.graph_ram,
            20'000U * (5 * 4 + 13 + 4) + sealed->payload_links * 4 + 64 * 1024);

  // Recall@10 against exact search over 50 queries, each filtered to one tenant (or none).
  const auto recall = [&](bool filtered, std::uint64_t ef) {
    double total = 0;
    for (int q = 0; q < 50; ++q) {
      SearchRequest s;
      s.vector = vector();
      s.limit = 10;
      s.hnsw_ef = ef;
      const Filter filter = test::filter_of(R"({"must": {"key": "tenant", "match": {"value": "t)" +
                                            std::to_string(q % 4) + R"("}}})");
      s.filter = filtered ? &filter : nullptr;
      total += test::recall_of(*c, s, [&](const ScoredPoint& p) {
        EXPECT_TRUE(!filtered ||
                    p.id.number() % 4 == static_cast<std::uint64_t>(q % 4)); // its tenant only
      });
    }
    return total / 50;
  };
  const double at_default = recall(true, 0);
  std::cout << "tenant recall@10, default ef: " << at_default << "\n";
  EXPECT_GE(at_default, 0.95);
  // A narrow beam finds fewer: the tenant's graph answers, not a scan of its points.
  const double narrow = recall(true, 10);
  std::cout << "tenant recall@10, ef 10: " << narrow << "\n";
  EXPECT_LT(narrow, at_default);
  // Without a filter there is no graph to walk: the search scans, exactly.
  EXPECT_EQ(recall(false, 10), 1.0);
}

} // namespace
} // namespace vdb
