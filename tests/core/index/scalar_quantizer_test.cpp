// Scalar int8 quantization: the bounds it trains (with and without outliers), the error of
// every distance against float within the bound the rounding allows, and codes in files.
#include "core/index/scalar_quantizer.hpp"
#include "support/test_plugins.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
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
  // The outlier's code is clamped to 255 and the others keep their resolution.
  const auto q = QuantizedVectors::encode(pointers(vectors), kDim, Metric::dot, clipped);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->codes(17)[3], 255);
  std::size_t zeros = 0;
  std::size_t tops = 0;
  for (std::uint32_t id = 0; id < q->size(); ++id) {
    for (std::size_t i = 0; i < kDim; ++i) {
      zeros += q->codes(id)[i] == 0 ? 1 : 0;
      tops += q->codes(id)[i] == 255 ? 1 : 0;
    }
  }
  // 0.5% of the values fall below the interval and 0.5% above (clamped to the ends); the end
  // codes also hold the half step of rounding inside it (0.99 / 510 of the values).
  const double values = 2000.0 * kDim;
  const double end_share = 0.005 + 0.99 / 510.0;
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
// y_i = q_i a_i by at most b / 2, and the query's rounding is corrected exactly at the middle
// code L / 2 (L the largest code), so
//   dot: |q.x - estimate| <= sum |q_i| a_i / 2 + b / 2 sum |c_i - L / 2|
//   l2:  twice that (|q|^2 and |x|^2 are exact).
// `levels` is the largest code: 255, or 127 for codes from before 8-bit codes.
void expect_within_rounding_bound(const QuantizedVectors& q,
                                  const std::vector<std::vector<float>>& vectors,
                                  const std::vector<std::vector<float>>& queries, Metric metric,
                                  double levels) {
  const VectorScorer exact(backend(), metric, kDim);
  double worst = 0;
  double mean = 0;
  for (const auto& query : queries) {
    const auto encoded = q.encode_query(query.data());
    const QuantizedDistances distances{&q, &encoded, &backend()};
    for (std::uint32_t id = 0; id < vectors.size(); ++id) {
      const float want = exact(query.data(), vectors[id].data());
      const float got = distances.to(id);
      double bound = 0;
      for (std::size_t i = 0; i < kDim; ++i) {
        const double a = (q.bounds().high[i] - q.bounds().low[i]) / levels;
        bound += std::fabs(query[i]) * a / 2.0 +
                 encoded.step / 2.0 * std::fabs(q.codes(id)[i] - levels / 2.0);
      }
      bound *= metric == Metric::dot ? 1.0 : 2.0;
      ASSERT_LE(std::fabs(got - want), bound * 1.001 + 1e-4) << "vector " << id;
      worst = std::max(worst, std::fabs(got - want) / bound);
      mean += std::fabs(got - want) / bound;
    }
  }
  // Errors of single values cancel: the sums land far inside the worst case.
  EXPECT_LT(mean / static_cast<double>(queries.size() * vectors.size()), 0.15);
  EXPECT_LT(worst, 0.6);
}

TEST(ScalarQuantizer, EveryDistanceIsWithinTheRoundingBoundOfFloat) {
  const auto vectors = random_vectors(500, 2, -0.8F, 1.2F);
  const auto queries = random_vectors(20, 3, -1.5F, 1.5F); // beyond the vectors' range too
  for (const Metric metric : {Metric::dot, Metric::l2sq}) {
    SCOPED_TRACE(metric == Metric::dot ? "dot" : "l2sq");
    const auto bounds = QuantizedVectors::train(pointers(vectors), kDim, 1.0);
    const auto q = QuantizedVectors::encode(pointers(vectors), kDim, metric, bounds);
    ASSERT_NE(q, nullptr);
    expect_within_rounding_bound(*q, vectors, queries, metric, QuantizedVectors::kLevels);
  }
}

// What a codes file from before 8-bit codes held for `vectors`: the same layout, with codes
// 0..127 on steps of a 127th of each dimension's bounds. Made from the 8-bit codes' bytes.
std::unique_ptr<QuantizedVectors> seven_bit_copy(const QuantizedVectors& q,
                                                 const std::vector<std::vector<float>>& vectors) {
  std::string bytes;
  q.save(bytes);
  const std::size_t records = 16 + 2 * kDim * sizeof(float);
  const std::size_t stride = (8 + kDim + 3) / 4 * 4;
  for (std::size_t id = 0; id < vectors.size(); ++id) {
    char* r = bytes.data() + records + id * stride;
    float sum = 0;
    for (std::size_t i = 0; i < kDim; ++i) {
      const float step = (q.bounds().high[i] - q.bounds().low[i]) / 127.0F;
      const float c =
          std::clamp(std::round((vectors[id][i] - q.bounds().low[i]) / step), 0.0F, 127.0F);
      r[8 + i] = static_cast<char>(c);
      sum += c;
    }
    std::memcpy(r, &sum, sizeof sum);
  }
  auto old = QuantizedVectors::load(bytes, vectors.size(), kDim, q.metric(),
                                    QuantizedVectors::kLevelsBefore8Bit, "codes-0.vdb");
  EXPECT_TRUE(old.ok()) << old.error().message;
  return old.ok() ? std::move(*old) : nullptr;
}

TEST(ScalarQuantizer, SevenBitCodesFromOlderFilesStillScoreWithinTheirBound) {
  const auto vectors = random_vectors(300, 6, -0.8F, 1.2F);
  const auto queries = random_vectors(10, 7, -1.5F, 1.5F);
  const auto q = QuantizedVectors::encode(pointers(vectors), kDim, Metric::l2sq,
                                          QuantizedVectors::train(pointers(vectors), kDim, 1.0));
  const auto old = seven_bit_copy(*q, vectors);
  ASSERT_NE(old, nullptr);
  expect_within_rounding_bound(*old, vectors, queries, Metric::l2sq,
                               QuantizedVectors::kLevelsBefore8Bit);
}

TEST(ScalarQuantizer, EightBitCodesErrLessThanSevenBitOnes) {
  // What moving to 8 bits bought: the same vectors and queries, scored through both.
  const auto vectors = random_vectors(300, 8, -0.8F, 1.2F);
  const auto queries = random_vectors(10, 9, -1.0F, 1.0F);
  const auto q = QuantizedVectors::encode(pointers(vectors), kDim, Metric::dot,
                                          QuantizedVectors::train(pointers(vectors), kDim, 1.0));
  const auto old = seven_bit_copy(*q, vectors);
  ASSERT_NE(old, nullptr);
  const VectorScorer exact(backend(), Metric::dot, kDim);
  double error_8bit = 0;
  double error_7bit = 0;
  for (const auto& query : queries) {
    const auto encoded = q->encode_query(query.data());
    const QuantizedDistances eight{q.get(), &encoded, &backend()};
    const auto encoded_old = old->encode_query(query.data());
    const QuantizedDistances seven{old.get(), &encoded_old, &backend()};
    for (std::uint32_t id = 0; id < vectors.size(); ++id) {
      const float want = exact(query.data(), vectors[id].data());
      error_8bit += std::fabs(eight.to(id) - want);
      error_7bit += std::fabs(seven.to(id) - want);
    }
  }
  EXPECT_LT(error_8bit, 0.75 * error_7bit);
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
  constexpr std::uint32_t k8 = QuantizedVectors::kLevels;
  auto back = QuantizedVectors::load(bytes, all.size(), kDim, Metric::l2sq, k8, "codes-0.vdb");
  ASSERT_TRUE(back.ok()) << back.error().message;
  for (std::uint32_t id = 0; id < all.size(); ++id) {
    EXPECT_EQ(std::memcmp((*back)->record(id), q->record(id), kDim + 8), 0);
  }
  // The wrong count, a truncation, a code above 127 in a file of 7-bit codes.
  EXPECT_FALSE(QuantizedVectors::load(bytes, all.size() + 1, kDim, Metric::l2sq, k8, "c").ok());
  EXPECT_FALSE(QuantizedVectors::load(bytes.substr(0, bytes.size() - 1), all.size(), kDim,
                                      Metric::l2sq, k8, "c")
                   .ok());
  std::string bad = bytes;
  bad[bad.size() - 50] = static_cast<char>(200);
  EXPECT_TRUE(QuantizedVectors::load(bad, all.size(), kDim, Metric::l2sq, k8, "c").ok());
  const auto refused = QuantizedVectors::load(bad, all.size(), kDim, Metric::l2sq,
                                              QuantizedVectors::kLevelsBefore8Bit, "codes-0.vdb");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("codes-0.vdb"), std::string::npos);
  EXPECT_NE(refused.error().message.find("above 127"), std::string::npos);
}

} // namespace
} // namespace vdb
