// Exact search against a brute-force reference computed here, for every distance, with
// filters, ties, offset, score_threshold and deleted points. Vector components are chosen so
// every score is exact in float (small integers; Cosine vectors that normalize to 0, ±0.5, ±1),
// so ties are real ties and the order must match exactly, ties going to the smaller id.
#include "core/engine/filter_checker.hpp"
#include "support/engine.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace vdb {
namespace {

using test::filter_of;
using ::testing::HasSubstr;

constexpr std::size_t kDim = 4;

std::vector<float> random_vector(std::mt19937& gen, Distance distance) {
  std::uniform_int_distribution<int> small(-3, 3);
  std::vector<float> v(kDim);
  if (distance == Distance::cosine) {
    // An axis, or a vector of ±1s: both normalize exactly.
    const int scale = 1 + std::uniform_int_distribution<int>(0, 2)(gen);
    if (std::uniform_int_distribution<int>(0, 1)(gen) == 0) {
      v[static_cast<std::size_t>(std::uniform_int_distribution<int>(0, kDim - 1)(gen))] =
          static_cast<float>(scale * (small(gen) >= 0 ? 1 : -1));
    } else {
      for (float& x : v) {
        x = static_cast<float>(scale * (small(gen) >= 0 ? 1 : -1));
      }
    }
    return v;
  }
  for (float& x : v) {
    x = static_cast<float>(small(gen));
  }
  return v;
}

// The score Qdrant would return, computed plainly in double.
double reference_score(Distance distance, std::vector<float> a, std::vector<float> b) {
  const auto norm = [](std::vector<float>& v) {
    double n = 0;
    for (float x : v)
      n += double(x) * x;
    n = std::sqrt(n);
    if (n > 0)
      for (float& x : v)
        x = static_cast<float>(x / n);
  };
  if (distance == Distance::cosine) {
    norm(a);
    norm(b);
  }
  double dot = 0, l2 = 0, l1 = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    dot += double(a[i]) * b[i];
    l2 += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    l1 += std::abs(double(a[i]) - b[i]);
  }
  switch (distance) {
  case Distance::cosine:
  case Distance::dot:
    return dot;
  case Distance::euclid:
    return std::sqrt(l2);
  case Distance::manhattan:
    return l1;
  }
  return 0;
}

struct Stored {
  PointId id;
  std::vector<float> vector;
  Json payload;
  bool live = true;
};

// (distance, segmented): segmented collections seal a segment every 1 KB of vectors, index and
// merge them, and are searched with `exact`, so hits from several segments merge.
class SearchAgainstBruteForce : public ::testing::TestWithParam<std::tuple<Distance, bool>> {};

TEST_P(SearchAgainstBruteForce, SameHitsSameOrderSameScores) {
  const auto [distance, segmented] = GetParam();
  std::mt19937 gen(7 + static_cast<unsigned>(distance));
  Catalog catalog(test::engine_context(), CollectionConfig{});
  Json body{{"vectors", {{"size", kDim}, {"distance", to_string(distance)}}}};
  if (segmented) {
    body["optimizers_config"] = {{"indexing_threshold", 1}, {"default_segment_number", 3}};
  }
  ASSERT_TRUE(catalog.create_collection("c", body).ok());
  auto c = *catalog.get("c");
  ASSERT_TRUE(c->create_payload_index(*JsonPath::parse("group"), PayloadFieldType::integer).ok());

  std::vector<Stored> stored;
  std::vector<std::uint64_t> ids(600);
  std::iota(ids.begin(), ids.end(), 0);
  std::shuffle(ids.begin(), ids.end(), gen);
  std::vector<PointStruct> batch;
  for (std::uint64_t n : ids) {
    Stored s{PointId::from_number(n * 3 + 1), random_vector(gen, distance),
             Json{{"group", static_cast<int>(gen() % 5)}, {"tag", gen() % 2 == 0 ? "x" : "y"}}};
    batch.push_back(PointStruct{s.id, {{"", s.vector}}, s.payload});
    stored.push_back(std::move(s));
  }
  ASSERT_TRUE(c->upsert(batch).ok());
  std::vector<PointId> deleted;
  for (std::size_t i = 0; i < stored.size(); i += 7) {
    stored[i].live = false;
    deleted.push_back(stored[i].id);
  }
  ASSERT_TRUE(c->delete_points(deleted).ok());
  if (segmented) {
    ASSERT_TRUE(c->optimize_now().ok());
    EXPECT_GE(c->info().segments.size(), 2U);
  }

  const std::vector<const char*> filters{
      "{}", R"({"must": {"key": "group", "match": {"any": [1, 2]}}})",
      R"({"must": {"key": "tag", "match": {"value": "x"}}, "must_not": {"key": "group", "range": {"gte": 4}}})"};
  const bool larger_better = distance == Distance::cosine || distance == Distance::dot;
  int checked = 0;
  for (int q = 0; q < 40; ++q) {
    const std::vector<float> query = random_vector(gen, distance);
    const Filter filter = filter_of(filters[static_cast<std::size_t>(q) % filters.size()]);
    SearchRequest request;
    request.vector = query;
    request.limit = 1 + gen() % 30;
    request.offset = gen() % 4 == 0 ? gen() % 10 : 0;
    request.filter = &filter;
    request.with_payload = PayloadSelector::all();
    request.exact = segmented;
    if (q % 3 == 0) {
      request.score_threshold = static_cast<float>(
          reference_score(distance, query, stored[static_cast<std::size_t>(q)].vector));
    }
    // Brute force.
    std::vector<std::pair<double, PointId>> expected;
    for (const Stored& s : stored) {
      if (!s.live || !check_filter(filter, s.id, s.payload))
        continue;
      const double score = reference_score(distance, query, s.vector);
      // Scores are floats: the threshold compares the float a user receives.
      const auto as_float = static_cast<float>(score);
      if (request.score_threshold && (larger_better ? as_float < *request.score_threshold
                                                    : as_float > *request.score_threshold)) {
        continue;
      }
      expected.emplace_back(score, s.id);
    }
    std::sort(expected.begin(), expected.end(), [&](const auto& a, const auto& b) {
      if (a.first != b.first)
        return larger_better ? a.first > b.first : a.first < b.first;
      return a.second < b.second;
    });
    auto hits = c->search(request);
    ASSERT_TRUE(hits.ok()) << hits.error().message;
    const std::size_t from = std::min(request.offset, expected.size());
    const std::size_t to = std::min(expected.size(), request.offset + request.limit);
    ASSERT_EQ(hits->size(), to - from) << "query " << q;
    for (std::size_t i = 0; i < hits->size(); ++i) {
      EXPECT_EQ((*hits)[i].id, expected[from + i].second) << "query " << q << " rank " << i;
      EXPECT_FLOAT_EQ((*hits)[i].score, static_cast<float>(expected[from + i].first));
      EXPECT_TRUE((*hits)[i].payload.has_value());
      ++checked;
    }
  }
  EXPECT_GT(checked, 200);
}

INSTANTIATE_TEST_SUITE_P(AllDistances, SearchAgainstBruteForce,
                         ::testing::Combine(::testing::Values(Distance::cosine, Distance::dot,
                                                              Distance::euclid,
                                                              Distance::manhattan),
                                            ::testing::Bool()),
                         [](const auto& info) {
                           return std::string(to_string(std::get<0>(info.param))) +
                                  (std::get<1>(info.param) ? "Segmented" : "");
                         });

TEST(Search, CosineNormalizesAtInsertAndScoresByDot) {
  Catalog catalog(test::engine_context(), CollectionConfig{});
  ASSERT_TRUE(
      catalog
          .create_collection("c", Json::parse(R"({"vectors": {"size": 2, "distance": "Cosine"}})"))
          .ok());
  auto c = *catalog.get("c");
  ASSERT_TRUE(
      c->upsert({PointStruct{PointId::from_number(1), {{"", {3, 4}}}, Json::object()}}).ok());
  SearchRequest s;
  s.vector = {6, 8};
  s.with_vector = VectorSelector::every();
  auto hits = c->search(s);
  ASSERT_EQ(hits->size(), 1U);
  EXPECT_FLOAT_EQ(hits->front().score, 1.0F);
  EXPECT_FLOAT_EQ(hits->front().vectors.at("")[0], 0.6F);
  EXPECT_FLOAT_EQ(hits->front().vectors.at("")[1], 0.8F);
}

TEST(Search, BatchSearchAnswersEachAndNamesTheBadOne) {
  Catalog catalog(test::engine_context(), CollectionConfig{});
  ASSERT_TRUE(
      catalog
          .create_collection("c", Json::parse(R"({"vectors": {"size": 2, "distance": "Euclid"}})"))
          .ok());
  auto c = *catalog.get("c");
  ASSERT_TRUE(c->upsert({PointStruct{PointId::from_number(1), {{"", {0, 0}}}, Json::object()},
                         PointStruct{PointId::from_number(2), {{"", {3, 4}}}, Json::object()}})
                  .ok());
  SearchRequest a;
  a.vector = {0, 0};
  SearchRequest b;
  b.vector = {3, 4};
  b.limit = 1;
  auto both = c->search_batch({a, b});
  ASSERT_TRUE(both.ok());
  EXPECT_EQ((*both)[0][1].score, 5.0F);
  EXPECT_EQ((*both)[1][0].id, PointId::from_number(2));
  SearchRequest bad;
  bad.vector = {1, 2, 3};
  auto failed = c->search_batch({a, bad});
  EXPECT_THAT(failed.error().message, HasSubstr("searches[1].vector"));
}

} // namespace
} // namespace vdb
