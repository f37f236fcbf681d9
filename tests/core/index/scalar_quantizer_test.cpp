// Scalar int8 quantization: the bounds it trains (with and without outliers), the centres it
// codes residuals against, the error of every distance against float within the bound the
// rounding allows, and codes in files of every format.
#include "core/index/scalar_quantizer.hpp"
#include "support/test_plugins.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

namespace vdb {
namespace {

constexpr std::size_t kCodeDim = 96;

std::vector<std::vector<float>> random_vectors(std::size_t n, unsigned seed, float lo = -1.0F,
                                               float hi = 1.0F) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<std::vector<float>> out(n, std::vector<float>(kCodeDim));
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

/// `centres` tight clusters (spread 0.05 around centres drawn from [-1, 1]), `n` points.
std::vector<std::vector<float>> clustered_vectors(std::size_t n, std::size_t centres,
                                                  unsigned seed) {
  const auto middles = random_vectors(centres, seed);
  std::mt19937 gen(seed + 1);
  std::normal_distribution<float> spread(0.0F, 0.05F);
  std::vector<std::vector<float>> out(n, std::vector<float>(kCodeDim));
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t d = 0; d < kCodeDim; ++d) {
      out[i][d] = middles[i % centres][d] + spread(gen);
    }
  }
  return out;
}

/// Codes trained with `quantile` and `centres` centres.
std::unique_ptr<QuantizedVectors> coded(const std::vector<const float*>& vectors, Metric metric,
                                        double quantile, std::size_t centres = 0) {
  return QuantizedVectors::encode(
      vectors, kCodeDim, metric,
      QuantizedVectors::train(vectors, kCodeDim, quantile, backend(), centres), backend());
}

std::unique_ptr<QuantizedVectors> coded(const std::vector<std::vector<float>>& vectors,
                                        Metric metric, double quantile, std::size_t centres = 0) {
  return coded(pointers(vectors), metric, quantile, centres);
}

TEST(ScalarQuantizer, BoundsAreTheMinAndMaxOrAQuantileThatIgnoresOutliers) {
  auto vectors = random_vectors(2000, 1, -0.5F, 0.75F);
  const auto all = QuantizedVectors::train(pointers(vectors), kCodeDim, 1.0, backend(), 0);
  EXPECT_TRUE(all.centres.empty());
  ASSERT_EQ(all.low.size(), kCodeDim);
  for (std::size_t d = 0; d < kCodeDim; ++d) {
    EXPECT_NEAR(all.low[d], -0.5F, 0.01F);
    EXPECT_NEAR(all.high[d], 0.75F, 0.01F);
  }
  // One extreme value stretches its dimension's min/max, not the 0.99 interval, and no other
  // dimension.
  vectors[17][3] = 1000.0F;
  const auto stretched = QuantizedVectors::train(pointers(vectors), kCodeDim, 1.0, backend(), 0);
  EXPECT_EQ(stretched.high[3], 1000.0F);
  EXPECT_NEAR(stretched.high[4], 0.75F, 0.01F);
  const auto clipped = QuantizedVectors::train(pointers(vectors), kCodeDim, 0.99, backend(), 0);
  for (std::size_t d = 0; d < kCodeDim; ++d) {
    EXPECT_NEAR(clipped.low[d], -0.5F + 1.25F * 0.005F, 0.02F);
    EXPECT_NEAR(clipped.high[d], 0.75F - 1.25F * 0.005F, 0.02F);
  }
  // Nothing is clamped: the outlier is its vector's highest value, code 255, and decodes to
  // itself within half its vector's (coarse) step; every other vector keeps the resolution of
  // the bounds, stretched by at most its values just outside them.
  const auto q =
      QuantizedVectors::encode(pointers(vectors), kCodeDim, Metric::dot, clipped, backend());
  ASSERT_NE(q, nullptr);
  ASSERT_EQ(q->codes(17)[3], 255);
  const auto t = q->terms(17);
  const float a3 = q->step(17, 3) / t.scale;
  const float decoded = clipped.low[3] + a3 * (t.low + t.scale * 255.0F);
  EXPECT_NEAR(decoded, 1000.0F, q->step(17, 3) / 2.0F + 1e-3F);
  for (std::uint32_t id = 0; id < q->size(); ++id) {
    if (id == 17) {
      continue;
    }
    for (std::size_t i = 0; i < kCodeDim; ++i) {
      ASSERT_LE(q->step(id, i), (clipped.high[i] - clipped.low[i]) / 255.0F * 1.03F)
          << "vector " << id << ", dimension " << i;
    }
  }
  // A dimension whose values are all equal has no step and decodes exactly.
  for (auto& v : vectors) {
    v[5] = 0.25F;
  }
  const auto flat = coded(vectors, Metric::dot, 1.0);
  EXPECT_EQ(flat->model().low[5], 0.25F);
  EXPECT_EQ(flat->step(9, 5), 0.0F);
  // Manhattan has no quantized form.
  EXPECT_EQ(QuantizedVectors::encode(pointers(vectors), kCodeDim, Metric::l1, clipped, backend()),
            nullptr);
}

TEST(ScalarQuantizer, CentresAreFoundOnClusteredDataAndNotOnSmallSegments) {
  const auto vectors = clustered_vectors(800, 8, 11);
  const auto model = QuantizedVectors::train(pointers(vectors), kCodeDim, 1.0, backend(), 8);
  ASSERT_EQ(model.centre_count(kCodeDim), 8U);
  // Residuals of clusters with spread 0.05 span about +-4 spreads, not the centres' [-1, 1].
  for (std::size_t d = 0; d < kCodeDim; ++d) {
    EXPECT_LT(model.high[d] - model.low[d], 0.5F) << "dimension " << d;
  }
  EXPECT_EQ(QuantizedVectors::centres_for(4095, 128), 0U);
  EXPECT_EQ(QuantizedVectors::centres_for(4096, 128), 32U);
  EXPECT_EQ(QuantizedVectors::centres_for(1'000'000, 128), 512U);
  // At most 262,144 centre values: 334 centres of 784 dimensions, none of 65,536.
  EXPECT_EQ(QuantizedVectors::centres_for(1'000'000, 784), 334U);
  EXPECT_EQ(QuantizedVectors::centres_for(1'000'000, 65536), 0U);
  // Too few vectors for the centres asked: none, rather than centres of one point each.
  EXPECT_TRUE(
      QuantizedVectors::train(pointers(vectors), kCodeDim, 1.0, backend(), 500).centres.empty());
}

// With min/max bounds nothing is clipped. A stored value is off by at most half its step
// a_i s / 2, the query's y_i = q_i a_i by at most b / 2 (times the vector's stretch s), and the
// query's rounding is corrected exactly at the middle code L / 2 (L the largest code), so
//   dot: |q.x - estimate| <= sum |q_i| a_i s / 2 + s b / 2 sum |c_i - L / 2|
//   l2:  twice that (|q|^2 and |x|^2 are exact, q.centre is a float dot product).
// `levels` is the largest code: 255, or 127 for codes from before 8-bit codes.
void expect_within_rounding_bound(const QuantizedVectors& q,
                                  const std::vector<std::vector<float>>& vectors,
                                  const std::vector<std::vector<float>>& queries, Metric metric,
                                  double levels) {
  const VectorScorer exact(backend(), metric, kCodeDim);
  double worst = 0;
  double mean = 0;
  for (const auto& query : queries) {
    auto encoded = q.encode_query(query.data());
    const QuantizedDistances distances{&q, &encoded, &backend()};
    for (std::uint32_t id = 0; id < vectors.size(); ++id) {
      const float want = exact(query.data(), vectors[id].data());
      const float got = distances.to(id);
      const double scale = q.terms(id).scale;
      double bound = 0;
      for (std::size_t i = 0; i < kCodeDim; ++i) {
        bound += std::fabs(query[i]) * q.step(id, i) / 2.0 +
                 scale * encoded.step / 2.0 * std::fabs(q.codes(id)[i] - levels / 2.0);
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
  const auto clusters = clustered_vectors(500, 10, 12);
  for (const Metric metric : {Metric::dot, Metric::l2sq}) {
    SCOPED_TRACE(metric == Metric::dot ? "dot" : "l2sq");
    const auto q = coded(vectors, metric, 1.0);
    ASSERT_NE(q, nullptr);
    expect_within_rounding_bound(*q, vectors, queries, metric, QuantizedVectors::kLevels);
    SCOPED_TRACE("residuals of 10 centres");
    const auto residuals = coded(clusters, metric, 1.0, 10);
    ASSERT_EQ(residuals->centre_count(), 10U);
    expect_within_rounding_bound(*residuals, clusters, queries, metric, QuantizedVectors::kLevels);
  }
}

// The sum over `queries` and `vectors` of |code distance - float distance|, the queries coded
// with two bytes per value when `fine`.
double total_error(const QuantizedVectors& q, const std::vector<std::vector<float>>& vectors,
                   const std::vector<std::vector<float>>& queries, bool fine = true) {
  const VectorScorer exact(backend(), q.metric(), kCodeDim);
  double error = 0;
  for (const auto& query : queries) {
    auto encoded = q.encode_query(query.data(), fine);
    const QuantizedDistances distances{&q, &encoded, &backend()};
    for (std::uint32_t id = 0; id < vectors.size(); ++id) {
      error += std::fabs(distances.to(id) - exact(query.data(), vectors[id].data()));
    }
  }
  return error;
}

TEST(ScalarQuantizer, ResidualsOfClustersErrFarLessThanPlainCodes) {
  const auto vectors = clustered_vectors(1000, 10, 13);
  const auto queries = random_vectors(10, 14);
  const auto plain = coded(vectors, Metric::dot, 1.0);
  const auto residuals = coded(vectors, Metric::dot, 1.0, 10);
  // The residuals span about a fifth of the data's range.
  EXPECT_LT(total_error(*residuals, vectors, queries),
            0.35 * total_error(*plain, vectors, queries));
}

TEST(ScalarQuantizer, ASecondQueryByteErrsLessThanOne) {
  const auto vectors = clustered_vectors(1000, 10, 15);
  const auto queries = random_vectors(10, 16);
  const auto q = coded(vectors, Metric::l2sq, 1.0, 10);
  const auto coarse = q->encode_query(queries[0].data(), false);
  const auto fine = q->encode_query(queries[0].data());
  EXPECT_TRUE(coarse.fine_codes.empty());
  EXPECT_EQ(fine.fine_codes.size(), kCodeDim);
  EXPECT_EQ(coarse.codes, fine.codes); // the first byte is the same either way
  // What is left is the vectors' own rounding (measured: 0.81 of the one-byte error here).
  EXPECT_LT(total_error(*q, vectors, queries), 0.9 * total_error(*q, vectors, queries, false));
}

// What a codes file from before residual codes held for `vectors` coded with q's bounds (q has
// no centres): counts, bounds, then per vector S_x and |x|^2 and the codes, 0..`levels` on steps
// of a `levels`th of each dimension's bounds. Format 1 (levels 127) or 2 (255).
std::string old_format(const QuantizedVectors& q, const std::vector<std::vector<float>>& vectors,
                       float levels) {
  std::string bytes;
  const auto put = [&bytes](const void* p, std::size_t n) {
    bytes.append(static_cast<const char*>(p), n);
  };
  const std::uint64_t counts[2] = {vectors.size(), kCodeDim};
  put(counts, sizeof counts);
  put(q.model().low.data(), kCodeDim * sizeof(float));
  put(q.model().high.data(), kCodeDim * sizeof(float));
  const std::size_t stride = (8 + kCodeDim + 3) / 4 * 4;
  for (const auto& v : vectors) {
    std::string record(stride, '\0');
    float head[2] = {0, 0};
    for (std::size_t i = 0; i < kCodeDim; ++i) {
      const float step = (q.model().high[i] - q.model().low[i]) / levels;
      const float c = std::clamp(std::round((v[i] - q.model().low[i]) / step), 0.0F, levels);
      record[8 + i] = static_cast<char>(static_cast<std::uint8_t>(c)); // a code is a byte: 0..255
      head[0] += c;
      head[1] += v[i] * v[i];
    }
    std::memcpy(record.data(), head, sizeof head);
    bytes += record;
  }
  return bytes;
}

std::unique_ptr<QuantizedVectors> older_copy(const QuantizedVectors& q,
                                             const std::vector<std::vector<float>>& vectors,
                                             std::uint32_t format) {
  const float levels = format == 1 ? 127.0F : 255.0F;
  auto old = QuantizedVectors::load(old_format(q, vectors, levels), vectors.size(), kCodeDim,
                                    q.metric(), format, "codes-0.vdb");
  EXPECT_TRUE(old.ok()) << old.error().message;
  return old.ok() ? std::move(*old) : nullptr;
}

TEST(ScalarQuantizer, CodesFromOlderFilesStillScoreWithinTheirBound) {
  const auto vectors = random_vectors(300, 6, -0.8F, 1.2F);
  const auto queries = random_vectors(10, 7, -1.5F, 1.5F);
  const auto q = coded(vectors, Metric::l2sq, 1.0);
  const auto seven = older_copy(*q, vectors, 1);
  ASSERT_NE(seven, nullptr);
  expect_within_rounding_bound(*seven, vectors, queries, Metric::l2sq,
                               QuantizedVectors::kLevelsBefore8Bit);
  const auto eight = older_copy(*q, vectors, 2);
  ASSERT_NE(eight, nullptr);
  expect_within_rounding_bound(*eight, vectors, queries, Metric::l2sq, QuantizedVectors::kLevels);
}

TEST(ScalarQuantizer, EightBitCodesErrLessThanSevenBitOnes) {
  // What moving to 8 bits bought: the same vectors and queries, scored through both.
  const auto vectors = random_vectors(300, 8, -0.8F, 1.2F);
  const auto queries = random_vectors(10, 9, -1.0F, 1.0F);
  const auto q = coded(vectors, Metric::dot, 1.0);
  const auto old = older_copy(*q, vectors, 1);
  ASSERT_NE(old, nullptr);
  const VectorScorer exact(backend(), Metric::dot, kCodeDim);
  double error_8bit = 0;
  double error_7bit = 0;
  for (const auto& query : queries) {
    auto encoded = q->encode_query(query.data());
    const QuantizedDistances eight{q.get(), &encoded, &backend()};
    auto encoded_old = old->encode_query(query.data());
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
  const auto vectors = clustered_vectors(64, 4, 4);
  const auto q = coded(vectors, Metric::dot, 0.99, 4);
  auto encoded = q->encode_query(vectors[5].data());
  const QuantizedDistances distances{q.get(), &encoded, &backend()};
  std::vector<std::uint32_t> nodes{3, 5, 63, 0, 17};
  std::vector<float> out(nodes.size());
  distances.gather(nodes.data(), nodes.size(), out.data());
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    EXPECT_EQ(out[i], distances.to(nodes[i]));
  }
}

TEST(ScalarQuantizer, CodesRoundTripThroughBytesAndBadOnesAreRefused) {
  const auto vectors = clustered_vectors(40, 4, 5);
  auto all = pointers(vectors);
  all[7] = nullptr; // a node left out
  const auto q = coded(all, Metric::l2sq, 0.95, 4);
  ASSERT_EQ(q->centre_count(), 4U);
  std::string bytes;
  q->save(bytes);
  constexpr std::uint32_t now = QuantizedVectors::kFormat;
  auto back = QuantizedVectors::load(bytes, all.size(), kCodeDim, Metric::l2sq, now, "codes-0.vdb");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ((*back)->model().centres, q->model().centres);
  for (std::uint32_t id = 0; id < all.size(); ++id) {
    EXPECT_EQ(std::memcmp((*back)->record(id), q->record(id), kCodeDim + 20), 0);
  }
  const auto refused = [&](const std::string& b, std::uint32_t format, const char* says) {
    const auto loaded =
        QuantizedVectors::load(b, all.size(), kCodeDim, Metric::l2sq, format, "c-0");
    ASSERT_FALSE(loaded.ok()) << says;
    EXPECT_NE(loaded.error().message.find("c-0"), std::string::npos);
    EXPECT_NE(loaded.error().message.find(says), std::string::npos) << loaded.error().message;
  };
  // The wrong count, a truncation, a format from the future.
  EXPECT_FALSE(
      QuantizedVectors::load(bytes, all.size() + 1, kCodeDim, Metric::l2sq, now, "c").ok());
  refused(bytes.substr(0, bytes.size() - 1), now, "not the size");
  refused(bytes, now + 1, "format 4");
  // A vector's centre past the last one (the fifth term of its record).
  const std::size_t records = 24 + (2 + 4) * kCodeDim * sizeof(float);
  const std::size_t stride = (20 + kCodeDim + 3) / 4 * 4;
  std::string bad = bytes;
  const std::uint32_t centre = 4;
  std::memcpy(bad.data() + records + 3 * stride + 16, &centre, sizeof centre);
  refused(bad, now, "vector 3");
  // A code of 200 is a fine 8-bit code and out of range in a file of 7-bit codes.
  std::string seven = old_format(*coded(vectors, Metric::l2sq, 1.0), vectors, 127.0F);
  seven[seven.size() - 50] = static_cast<char>(200);
  EXPECT_TRUE(QuantizedVectors::load(seven, all.size(), kCodeDim, Metric::l2sq, 2, "c").ok());
  refused(seven, 1, "above 127");
}

} // namespace
} // namespace vdb
