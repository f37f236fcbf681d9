// Scalar int8 quantization: the bounds it trains (with and without outliers), the error of
// every distance against float within the bound the rounding allows, and codes in files.
#include "core/index/scalar_quantizer.hpp"
#include "support/test_plugins.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace vdb {
namespace {

constexpr std::size_t kDim = 96;

std::vector<std::vector<float>> random_vectors(std::size_t n, unsigned seed, float lo = -1.0F,
                                               float hi = 1.0F) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<std::vector<float>> out(n, std::vector<float>(kDim));
  for (auto& v : out) {
    for (float& x : v) {
      x = u(gen);
    }
  }
  return out;
}

std::vector<const float*> pointers(const std::vector<std::vector<float>>& vectors) {
  std::vector<const float*> out;
  for (const auto& v : vectors) {
    out.push_back(v.data());
  }
  return out;
}

const DistanceBackend& backend() {
  static const DistanceBackend b(
      test::built_plugins().find(VDB_PLUGIN_DISTANCE, std::string_view("scalar")));
  return b;
}

TEST(ScalarQuantizer, BoundsAreTheMinAndMaxOrAQuantileThatIgnoresOutliers) {
  auto vectors = random_vectors(2000, 1, -0.5F, 0.75F);
  const auto all = QuantizedVectors::train(pointers(vectors), kDim, 1.0);
  ASSERT_EQ(all.low.size(), kDim);
  for (std::size_t d = 0; d < kDim; ++d) {
    EXPECT_NEAR(all.low[d], -0.5F, 0.01F);
    EXPECT_NEAR(all.high[d], 0.75F, 0.01F);
  }
  // One extreme value stretches its dimension's min/max, not the 0.99 interval, and no other
  // dimension.
  vectors[17][3] = 1000.0F;
  const auto stretched = QuantizedVectors::train(pointers(vectors), kDim, 1.0);
  EXPECT_EQ(stretched.high[3], 1000.0F);
  EXPECT_NEAR(stretched.high[4], 0.75F, 0.01F);
  const auto clipped = QuantizedVectors::train(pointers(vectors), kDim, 0.99);
  for (std::size_t d = 0; d < kDim; ++d) {
    EXPECT_NEAR(clipped.low[d], -0.5F + 1.25F * 0.005F, 0.02F);
    EXPECT_NEAR(clipped.high[d], 0.75F - 1.25F * 0.005F, 0.02F);
  }
  // The outlier's code is clamped to 127 and the others keep their resolution.
  const auto q = QuantizedVectors::encode(pointers(vectors), kDim, Metric::dot, clipped);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->codes(17)[3], 127);
  std::size_t zeros = 0;
  std::size_t tops = 0;
  for (std::uint32_t id = 0; id < q->size(); ++id) {
    for (std::size_t i = 0; i < kDim; ++i) {
      zeros += q->codes(id)[i] == 0 ? 1 : 0;
      tops += q->codes(id)[i] == 127 ? 1 : 0;
    }
  }
  // 0.5% of the values fall below the interval and 0.5% above (clamped to the ends); the end
  // codes also hold the half step of rounding inside it (0.99 / 254 of the values).
  const double values = 2000.0 * kDim;
  const double end_share = 0.005 + 0.99 / 254.0;
  EXPECT_NEAR(static_cast<double>(zeros) / values, end_share, 0.002);
  EXPECT_NEAR(static_cast<double>(tops) / values, end_share, 0.002);
  // A dimension whose values are all equal gets code 0 and decodes exactly.
  for (auto& v : vectors) {
    v[5] = 0.25F;
  }
  const auto flat = QuantizedVectors::encode(pointers(vectors), kDim, Metric::dot,
                                             QuantizedVectors::train(pointers(vectors), kDim, 1.0));
  EXPECT_EQ(flat->codes(9)[5], 0);
  // Manhattan has no quantized form.
  EXPECT_EQ(QuantizedVectors::encode(pointers(vectors), kDim, Metric::l1, clipped), nullptr);
}

// With min/max bounds nothing is clipped. A stored value is off by at most a_i / 2, the query's
// y_i = q_i a_i by at most b / 2, so
//   dot: |q.x - estimate| <= sum |q_i| a_i / 2 + b / 2 sum c_i
//   l2:  twice that (|q|^2 and |x|^2 are exact).
TEST(ScalarQuantizer, EveryDistanceIsWithinTheRoundingBoundOfFloat) {
  const auto vectors = random_vectors(500, 2, -0.8F, 1.2F);
  const auto queries = random_vectors(20, 3, -1.5F, 1.5F); // beyond the vectors' range too
  for (const Metric metric : {Metric::dot, Metric::l2sq}) {
    SCOPED_TRACE(metric == Metric::dot ? "dot" : "l2sq");
    const auto bounds = QuantizedVectors::train(pointers(vectors), kDim, 1.0);
    const auto q = QuantizedVectors::encode(pointers(vectors), kDim, metric, bounds);
    ASSERT_NE(q, nullptr);
    const VectorScorer exact(backend(), metric, kDim);
    double worst = 0;
    double mean = 0;
    for (const auto& query : queries) {
      const auto encoded = q->encode_query(query.data());
      const QuantizedDistances distances{q.get(), &encoded, &backend()};
      for (std::uint32_t id = 0; id < vectors.size(); ++id) {
        const float want = exact(query.data(), vectors[id].data());
        const float got = distances.to(id);
        double bound = 0;
        for (std::size_t i = 0; i < kDim; ++i) {
          const double a = (bounds.high[i] - bounds.low[i]) / 127.0;
          bound += std::fabs(query[i]) * a / 2.0 + encoded.step / 2.0 * q->codes(id)[i];
        }
        bound *= metric == Metric::dot ? 1.0 : 2.0;
        ASSERT_LE(std::fabs(got - want), bound * 1.001 + 1e-4) << "vector " << id;
        worst = std::max(worst, std::fabs(got - want) / bound);
        mean += std::fabs(got - want) / bound;
      }
    }
    // Errors of single values cancel: the sums land far inside the worst case.
    EXPECT_LT(mean / (20.0 * 500.0), 0.15);
    EXPECT_LT(worst, 0.6);
  }
}

TEST(ScalarQuantizer, GatherGivesWhatOneAtATimeGives) {
  const auto vectors = random_vectors(64, 4);
  const auto q = QuantizedVectors::encode(pointers(vectors), kDim, Metric::dot,
                                          QuantizedVectors::train(pointers(vectors), kDim, 0.99));
  const auto encoded = q->encode_query(vectors[5].data());
  const QuantizedDistances distances{q.get(), &encoded, &backend()};
  std::vector<std::uint32_t> nodes{3, 5, 63, 0, 17};
  std::vector<float> out(nodes.size());
  distances.gather(nodes.data(), nodes.size(), out.data());
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    EXPECT_EQ(out[i], distances.to(nodes[i]));
  }
}

TEST(ScalarQuantizer, CodesRoundTripThroughBytesAndBadOnesAreRefused) {
  const auto vectors = random_vectors(40, 5);
  auto all = pointers(vectors);
  all[7] = nullptr; // a node left out
  const auto q =
      QuantizedVectors::encode(all, kDim, Metric::l2sq, QuantizedVectors::train(all, kDim, 0.95));
  std::string bytes;
  q->save(bytes);
  auto back = QuantizedVectors::load(bytes, all.size(), kDim, Metric::l2sq, "codes-0.vdb");
  ASSERT_TRUE(back.ok()) << back.error().message;
  for (std::uint32_t id = 0; id < all.size(); ++id) {
    EXPECT_EQ(std::memcmp((*back)->record(id), q->record(id), kDim + 8), 0);
  }
  // The wrong count, a truncation, a code above 127.
  EXPECT_FALSE(QuantizedVectors::load(bytes, all.size() + 1, kDim, Metric::l2sq, "c").ok());
  EXPECT_FALSE(
      QuantizedVectors::load(bytes.substr(0, bytes.size() - 1), all.size(), kDim, Metric::l2sq, "c")
          .ok());
  std::string bad = bytes;
  bad[bad.size() - 50] = static_cast<char>(200);
  const auto refused = QuantizedVectors::load(bad, all.size(), kDim, Metric::l2sq, "codes-0.vdb");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("codes-0.vdb"), std::string::npos);
}

} // namespace
} // namespace vdb
