// Every distance plugin against the scalar reference, through the real loader: each dimension
// 1..70, 127..129, 768 and 1536, on pointers that are not vector-aligned. Integer-valued inputs
// must give exactly the scalar result; random inputs must agree within a bound on the rounding
// error of a reordered float sum. The int8 kernels (ABI 1.1) must give exactly the integer sum,
// on every code 0..127 including the extremes, in every call shape.
#include "core/plugin_host/host_api.hpp"
#include "support/test_plugins.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace vdb {
namespace {

std::vector<std::size_t> conformance_dims() {
  std::vector<std::size_t> dims;
  for (std::size_t d = 1; d <= 70; ++d) {
    dims.push_back(d);
  }
  for (std::size_t d : {127, 128, 129, 768, 1536}) {
    dims.push_back(d);
  }
  return dims;
}

enum class Metric { dot, l2sq, l1 };
const Metric kMetrics[] = {Metric::dot, Metric::l2sq, Metric::l1};
const char* name(Metric m) { return m == Metric::dot ? "dot" : m == Metric::l2sq ? "l2sq" : "l1"; }

float pair(const DistanceBackend& b, Metric m, const float* x, const float* y, std::size_t dim) {
  switch (m) {
  case Metric::dot:
    return b.dot(x, y, dim);
  case Metric::l2sq:
    return b.l2sq(x, y, dim);
  case Metric::l1:
    return b.l1(x, y, dim);
  }
  return 0;
}

/// Sum of |term| in double: the scale of the rounding error any summation order can make.
double magnitude(Metric m, const float* x, const float* y, std::size_t dim) {
  double sum = 0;
  for (std::size_t i = 0; i < dim; ++i) {
    const double d = static_cast<double>(x[i]) - y[i];
    sum += m == Metric::dot    ? std::fabs(static_cast<double>(x[i]) * y[i])
           : m == Metric::l2sq ? d * d
                               : std::fabs(d);
  }
  return sum;
}

/// Buffers whose data start one float past a 64-byte boundary, so no kernel sees aligned input.
struct Unaligned {
  explicit Unaligned(std::size_t n) : storage(n + 32) {}
  float* data() {
    auto addr = reinterpret_cast<std::uintptr_t>(storage.data());
    addr = (addr + 63) & ~std::uintptr_t{63};
    return reinterpret_cast<float*>(addr) + 1;
  }
  std::vector<float> storage;
};

class DistanceConformance : public ::testing::TestWithParam<const char*> {
protected:
  void SetUp() override {
    const PluginRegistry& registry = test::built_plugins();
    auto plugin = registry.find(VDB_PLUGIN_DISTANCE, GetParam());
    if (!plugin) {
      GTEST_SKIP() << "distance plugin " << GetParam() << " is not built or not supported here";
    }
    backend_.emplace(plugin);
    reference_.emplace(registry.find(VDB_PLUGIN_DISTANCE, "scalar"));
  }
  std::optional<DistanceBackend> backend_;
  std::optional<DistanceBackend> reference_;
};

TEST_P(DistanceConformance, IntegerInputsMatchScalarExactly) {
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> value(-8, 8);
  for (std::size_t dim : conformance_dims()) {
    Unaligned a(dim);
    Unaligned b(dim);
    for (std::size_t i = 0; i < dim; ++i) {
      a.data()[i] = static_cast<float>(value(rng));
      b.data()[i] = static_cast<float>(value(rng));
    }
    for (Metric m : kMetrics) {
      EXPECT_EQ(pair(*backend_, m, a.data(), b.data(), dim),
                pair(*reference_, m, a.data(), b.data(), dim))
          << name(m) << " dim " << dim;
    }
  }
}

TEST_P(DistanceConformance, RandomInputsMatchScalarWithinRoundingBound) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> value(-1.0F, 1.0F);
  for (std::size_t dim : conformance_dims()) {
    Unaligned a(dim);
    Unaligned b(dim);
    for (std::size_t i = 0; i < dim; ++i) {
      a.data()[i] = value(rng);
      b.data()[i] = value(rng);
    }
    for (Metric m : kMetrics) {
      const double got = pair(*backend_, m, a.data(), b.data(), dim);
      const double want = pair(*reference_, m, a.data(), b.data(), dim);
      // Two float sums of the same terms differ by at most ~2 * dim * eps * sum|terms|.
      const double bound =
          2.0 * static_cast<double>(dim) * 1.2e-7 * magnitude(m, a.data(), b.data(), dim);
      EXPECT_NEAR(got, want, bound + 1e-30) << name(m) << " dim " << dim;
    }
  }
}

TEST_P(DistanceConformance, BatchAndGatherMatchPairResults) {
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> value(-8, 8);
  constexpr std::size_t kVectors = 19;
  for (std::size_t dim : {1, 7, 16, 33, 128, 129, 768}) {
    const std::size_t stride = dim + 3;
    Unaligned q(dim);
    Unaligned base(kVectors * stride);
    for (std::size_t i = 0; i < dim; ++i) {
      q.data()[i] = static_cast<float>(value(rng));
    }
    for (std::size_t i = 0; i < kVectors * stride; ++i) {
      base.data()[i] = static_cast<float>(value(rng));
    }
    std::vector<const float*> pointers;
    for (std::size_t i = kVectors; i-- > 0;) { // gathered in reverse order
      pointers.push_back(base.data() + i * stride);
    }
    for (Metric m : kMetrics) {
      std::vector<float> batch(kVectors);
      std::vector<float> gathered(kVectors);
      const auto& b = *backend_;
      Status s1 = m == Metric::dot
                      ? b.dot_batch(q.data(), base.data(), stride, kVectors, dim, batch.data())
                  : m == Metric::l2sq
                      ? b.l2sq_batch(q.data(), base.data(), stride, kVectors, dim, batch.data())
                      : b.l1_batch(q.data(), base.data(), stride, kVectors, dim, batch.data());
      Status s2 = m == Metric::dot
                      ? b.dot_gather(q.data(), pointers.data(), kVectors, dim, gathered.data())
                  : m == Metric::l2sq
                      ? b.l2sq_gather(q.data(), pointers.data(), kVectors, dim, gathered.data())
                      : b.l1_gather(q.data(), pointers.data(), kVectors, dim, gathered.data());
      ASSERT_TRUE(s1.ok()) << s1.message();
      ASSERT_TRUE(s2.ok()) << s2.message();
      for (std::size_t i = 0; i < kVectors; ++i) {
        const float want = pair(*reference_, m, q.data(), base.data() + i * stride, dim);
        EXPECT_EQ(batch[i], want) << name(m) << " batch dim " << dim << " vector " << i;
        EXPECT_EQ(gathered[kVectors - 1 - i], want) << name(m) << " gather dim " << dim;
      }
    }
  }
}

TEST_P(DistanceConformance, RefusesInvalidArgumentsWithAMessage) {
  const vdb_distance_api& api = backend_->api();
  float out = 0;
  const float x[4] = {1, 2, 3, 4};
  clear_plugin_error();
  const vdb_status zero_dim = api.dot(x, x, 0, &out);
  ASSERT_EQ(zero_dim, VDB_ERR_INVALID_ARGUMENT);
  EXPECT_NE(plugin_error(zero_dim, "dot").message.find("dim"), std::string::npos);
  const vdb_status null_vector = api.l2sq_batch(x, nullptr, 4, 2, 4, &out);
  ASSERT_EQ(null_vector, VDB_ERR_INVALID_ARGUMENT);
  EXPECT_NE(plugin_error(null_vector, "l2sq_batch").message.find("null"), std::string::npos);
}

// The exact sum, computed here independently of any plugin.
std::int64_t exact_int8_dot(const std::uint8_t* a, const std::uint8_t* b, std::size_t dim) {
  std::int64_t sum = 0;
  for (std::size_t i = 0; i < dim; ++i) {
    sum += std::int64_t{a[i]} * b[i];
  }
  return sum;
}

TEST_P(DistanceConformance, Int8DotIsExactInEveryShape) {
  std::mt19937 gen(11);
  std::uniform_int_distribution<int> code(0, 127);
  constexpr std::size_t kCodes = 9;
  for (const std::size_t dim : conformance_dims()) {
    SCOPED_TRACE(dim);
    // Codes one byte past a 64-byte boundary, with a stride that is not a multiple of 64.
    const std::size_t stride = dim + 3;
    std::vector<std::uint8_t> storage(64 + (kCodes + 1) * stride);
    auto* base =
        reinterpret_cast<std::uint8_t*>((reinterpret_cast<std::uintptr_t>(storage.data()) + 63) &
                                        ~std::uintptr_t{63}) +
        1;
    std::uint8_t* query = base + kCodes * stride;
    for (std::size_t i = 0; i < dim; ++i) {
      query[i] = static_cast<std::uint8_t>(code(gen));
    }
    std::vector<const std::uint8_t*> pointers;
    for (std::size_t v = 0; v < kCodes; ++v) {
      std::uint8_t* c = base + v * stride;
      for (std::size_t i = 0; i < dim; ++i) {
        // Vector 0 is all 127 (the largest sum), vector 1 all 0, the rest random.
        c[i] = v == 0 ? 127 : v == 1 ? 0 : static_cast<std::uint8_t>(code(gen));
      }
      pointers.push_back(c);
    }
    std::vector<std::int32_t> batch(kCodes);
    std::vector<std::int32_t> gathered(kCodes);
    ASSERT_TRUE(backend_->int8_dot_batch(query, base, stride, kCodes, dim, batch.data()).ok());
    ASSERT_TRUE(
        backend_->int8_dot_gather(query, pointers.data(), kCodes, dim, gathered.data()).ok());
    for (std::size_t v = 0; v < kCodes; ++v) {
      const std::int64_t want = exact_int8_dot(query, pointers[v], dim);
      ASSERT_EQ(backend_->int8_dot(query, pointers[v], dim), want) << "vector " << v;
      ASSERT_EQ(batch[v], want) << "vector " << v;
      ASSERT_EQ(gathered[v], want) << "vector " << v;
      ASSERT_EQ(reference_->int8_dot(query, pointers[v], dim), want);
    }
    // 127 against 127 in every dimension: the largest value, no overflow or saturation.
    std::vector<std::uint8_t> top(dim, 127);
    ASSERT_EQ(backend_->int8_dot(top.data(), top.data(), dim),
              static_cast<std::int64_t>(127 * 127) * static_cast<std::int64_t>(dim));
  }
}

TEST_P(DistanceConformance, CodeDotIsExactInEveryShape) {
  // ABI 1.2: signed query bytes against unsigned 8-bit codes, the extremes included.
  std::mt19937 gen(12);
  std::uniform_int_distribution<int> code(0, 255);
  std::uniform_int_distribution<int> signed_byte(-128, 127);
  constexpr std::size_t kCodes = 9;
  for (const std::size_t dim : conformance_dims()) {
    SCOPED_TRACE(dim);
    // Codes one byte past a 64-byte boundary, with a stride that is not a multiple of 64.
    const std::size_t stride = dim + 3;
    std::vector<std::uint8_t> storage(64 + kCodes * stride);
    auto* base =
        reinterpret_cast<std::uint8_t*>((reinterpret_cast<std::uintptr_t>(storage.data()) + 63) &
                                        ~std::uintptr_t{63}) +
        1;
    std::vector<std::int8_t> query(dim);
    for (std::int8_t& q : query) {
      q = static_cast<std::int8_t>(signed_byte(gen));
    }
    std::vector<const std::uint8_t*> pointers;
    for (std::size_t v = 0; v < kCodes; ++v) {
      std::uint8_t* c = base + v * stride;
      for (std::size_t i = 0; i < dim; ++i) {
        // Vector 0 is all 255, vector 1 all 0, the rest random.
        c[i] = v == 0 ? 255 : v == 1 ? 0 : static_cast<std::uint8_t>(code(gen));
      }
      pointers.push_back(c);
    }
    std::vector<std::int32_t> batch(kCodes);
    std::vector<std::int32_t> gathered(kCodes);
    ASSERT_TRUE(
        backend_->code_dot_batch(query.data(), base, stride, kCodes, dim, batch.data()).ok());
    ASSERT_TRUE(
        backend_->code_dot_gather(query.data(), pointers.data(), kCodes, dim, gathered.data())
            .ok());
    for (std::size_t v = 0; v < kCodes; ++v) {
      std::int64_t want = 0;
      for (std::size_t i = 0; i < dim; ++i) {
        want += std::int64_t{query[i]} * pointers[v][i];
      }
      ASSERT_EQ(backend_->code_dot(query.data(), pointers[v], dim), want) << "vector " << v;
      ASSERT_EQ(batch[v], want) << "vector " << v;
      ASSERT_EQ(gathered[v], want) << "vector " << v;
      ASSERT_EQ(reference_->code_dot(query.data(), pointers[v], dim), want);
    }
    // -128 and 127 against 255 in every dimension: the extreme sums, no overflow or saturation.
    const std::vector<std::uint8_t> top(dim, 255);
    for (const int q : {-128, 127}) {
      const std::vector<std::int8_t> edge(dim, static_cast<std::int8_t>(q));
      ASSERT_EQ(backend_->code_dot(edge.data(), top.data(), dim),
                static_cast<std::int64_t>(q * 255) * static_cast<std::int64_t>(dim));
    }
  }
}

TEST_P(DistanceConformance, BuiltInBackendsHaveTheirOwnInt8Kernels) {
  // The example plugin (ABI 1.0's table in C) has none: the host's loop stands in for them.
  EXPECT_EQ(backend_->has_int8_kernels(), std::string(GetParam()) != "example");
  EXPECT_EQ(backend_->has_code_kernels(), std::string(GetParam()) != "example");
}

INSTANTIATE_TEST_SUITE_P(Plugins, DistanceConformance,
                         ::testing::Values("scalar", "avx2", "avx512", "neon", "example"),
                         [](const auto& info) { return std::string(info.param); });

} // namespace
} // namespace vdb
