// HNSW against brute force on a fixed-seed clustered set: recall@10, with and without filters,
// and the graph's structural promises (link caps, no self links).
#include "core/index/hnsw_graph.hpp"
#include "support/engine.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

namespace vdb {
namespace {

constexpr std::size_t kDim = 32;

struct Data {
  std::vector<float> base;
  std::vector<float> queries;
  std::size_t n = 0;
};

// n points around 20 cluster centres, and queries drawn the same way.
Data clustered(std::size_t n, std::size_t queries, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal;
  std::vector<float> centres(20 * kDim);
  for (float& x : centres) {
    x = normal(gen) * 3;
  }
  Data d;
  d.n = n;
  const auto draw = [&](std::vector<float>& out, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t c = gen() % 20;
      for (std::size_t j = 0; j < kDim; ++j) {
        out.push_back(centres[c * kDim + j] + normal(gen));
      }
    }
  };
  draw(d.base, n);
  draw(d.queries, queries);
  return d;
}

template <class Accept>
std::vector<std::uint32_t> brute_force(const Data& d, const VectorScorer& scorer, const float* q,
                                       std::size_t k, Accept accept) {
  std::vector<Neighbor> all;
  for (std::uint32_t i = 0; i < d.n; ++i) {
    if (accept(i)) {
      all.push_back({scorer(q, &d.base[i * kDim]), i});
    }
  }
  std::sort(all.begin(), all.end());
  std::vector<std::uint32_t> out;
  for (std::size_t i = 0; i < std::min(k, all.size()); ++i) {
    out.push_back(all[i].id);
  }
  return out;
}

double recall(const std::vector<Neighbor>& got, const std::vector<std::uint32_t>& truth) {
  std::set<std::uint32_t> want(truth.begin(), truth.end());
  std::size_t hit = 0;
  for (const Neighbor& n : got) {
    hit += want.count(n.id);
  }
  return truth.empty() ? 1.0 : static_cast<double>(hit) / static_cast<double>(truth.size());
}

class HnswRecall : public ::testing::TestWithParam<Metric> {};

TEST_P(HnswRecall, ReachesRecallAt10AgainstBruteForce) {
  Data d = clustered(5000, 100, 11);
  if (GetParam() == Metric::dot) {
    // Dot is tested as Cosine uses it: on unit vectors (inner-product search on unnormalised
    // vectors is not a metric space, and no graph index promises recall there).
    for (auto* data : {&d.base, &d.queries}) {
      for (std::size_t i = 0; i < data->size(); i += kDim) {
        float norm = 0;
        for (std::size_t j = 0; j < kDim; ++j) {
          norm += (*data)[i + j] * (*data)[i + j];
        }
        for (std::size_t j = 0; j < kDim; ++j) {
          (*data)[i + j] /= std::sqrt(norm);
        }
      }
    }
  }
  const EngineContext context = test::engine_context();
  const VectorScorer scorer(context.distance, GetParam(), kDim);
  std::vector<const float*> vectors;
  for (std::size_t i = 0; i < d.n; ++i) {
    vectors.push_back(&d.base[i * kDim]);
  }
  HnswParams params;
  params.threads = 2;
  auto graph = HnswGraph::build(vectors, scorer, params);
  ASSERT_EQ(graph->nodes(), d.n);
  for (std::uint32_t i = 0; i < d.n; i += 97) {
    const auto links = graph->links(i, 0);
    EXPECT_LE(links.size(), 2U * params.m);
    EXPECT_GE(links.size(), 1U);
    EXPECT_EQ(std::count(links.begin(), links.end(), i), 0);
  }
  double total = 0;
  double filtered = 0;
  std::vector<Neighbor> out;
  for (std::size_t q = 0; q < 100; ++q) {
    const float* query = &d.queries[q * kDim];
    graph->search(
        query, 10, 64, [](std::uint32_t) { return true; }, out);
    total += recall(out, brute_force(d, scorer, query, 10, [](std::uint32_t) { return true; }));
    // A filter keeping one point in five; refused points still route the search.
    const auto fifth = [](std::uint32_t i) { return i % 5 == 0; };
    graph->search(query, 10, 64, fifth, out);
    for (const Neighbor& n : out) {
      ASSERT_EQ(n.id % 5, 0U);
    }
    filtered += recall(out, brute_force(d, scorer, query, 10, fifth));
  }
  EXPECT_GE(total / 100, 0.95);
  EXPECT_GE(filtered / 100, 0.95);
}

INSTANTIATE_TEST_SUITE_P(Metrics, HnswRecall,
                         ::testing::Values(Metric::dot, Metric::l2sq, Metric::l1),
                         [](const auto& info) {
                           return info.param == Metric::dot    ? std::string("dot")
                                  : info.param == Metric::l2sq ? std::string("l2sq")
                                                               : std::string("l1");
                         });

TEST(HnswGraph, LeavesOutNullVectorsAndHandlesTinyGraphs) {
  const EngineContext context = test::engine_context();
  const VectorScorer scorer(context.distance, Metric::l2sq, 2);
  const std::vector<float> v{0, 0, 1, 0, 0, 1};
  auto empty = HnswGraph::build({nullptr, nullptr}, scorer, {});
  std::vector<Neighbor> out;
  empty->search(
      v.data(), 3, 10, [](std::uint32_t) { return true; }, out);
  EXPECT_TRUE(out.empty());
  auto two = HnswGraph::build({&v[0], nullptr, &v[4]}, scorer, {});
  EXPECT_EQ(two->nodes(), 2U);
  two->search(
      &v[4], 3, 10, [](std::uint32_t) { return true; }, out);
  ASSERT_EQ(out.size(), 2U);
  EXPECT_EQ(out[0].id, 2U);
  EXPECT_EQ(out[1].id, 0U);
}

} // namespace
} // namespace vdb
