// AVX2 + FMA distance backend. This file is compiled with -mavx2 -mfma; the host loads it only
// after checking that the CPU supports both.
#include "distance_plugin.hpp"

#include <immintrin.h>

#include <cmath>

namespace {

inline float horizontal_sum(__m256 v) noexcept {
  const __m128 lo = _mm256_castps256_ps128(v);
  const __m128 hi = _mm256_extractf128_ps(v, 1);
  __m128 s = _mm_add_ps(lo, hi);
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Per vector, four independent accumulators hide the FMA latency; the remainder (< 32 floats)
// goes 8 at a time and then element by element.
// run<N> can score N vectors per pass, sharing each load of the query. Measured on Zen 4
// (docs/benchmarks.md), N = 2 and N = 4 were slower than N = 1, so kGroup is 1.
struct Reduce {
  template <std::size_t N, class Step>
  static void run(const float* q, const float* const* v, std::size_t dim, Step step,
                  float* out) noexcept {
    __m256 acc[N][4];
    for (std::size_t n = 0; n < N; ++n) {
      for (auto& a : acc[n]) {
        a = _mm256_setzero_ps();
      }
    }
    std::size_t i = 0;
    for (; i + 32 <= dim; i += 32) {
      const __m256 q0 = _mm256_loadu_ps(q + i);
      const __m256 q1 = _mm256_loadu_ps(q + i + 8);
      const __m256 q2 = _mm256_loadu_ps(q + i + 16);
      const __m256 q3 = _mm256_loadu_ps(q + i + 24);
      for (std::size_t n = 0; n < N; ++n) {
        acc[n][0] = step(acc[n][0], q0, _mm256_loadu_ps(v[n] + i));
        acc[n][1] = step(acc[n][1], q1, _mm256_loadu_ps(v[n] + i + 8));
        acc[n][2] = step(acc[n][2], q2, _mm256_loadu_ps(v[n] + i + 16));
        acc[n][3] = step(acc[n][3], q3, _mm256_loadu_ps(v[n] + i + 24));
      }
    }
    for (; i + 8 <= dim; i += 8) {
      const __m256 q0 = _mm256_loadu_ps(q + i);
      for (std::size_t n = 0; n < N; ++n) {
        acc[n][0] = step(acc[n][0], q0, _mm256_loadu_ps(v[n] + i));
      }
    }
    for (std::size_t n = 0; n < N; ++n) {
      float sum = horizontal_sum(
          _mm256_add_ps(_mm256_add_ps(acc[n][0], acc[n][1]), _mm256_add_ps(acc[n][2], acc[n][3])));
      for (std::size_t k = i; k < dim; ++k) {
        sum += step.scalar(q[k], v[n][k]);
      }
      out[n] = sum;
    }
  }
};

struct DotStep {
  __m256 operator()(__m256 acc, __m256 x, __m256 y) const noexcept {
    return _mm256_fmadd_ps(x, y, acc);
  }
  float scalar(float x, float y) const noexcept { return x * y; }
};
struct L2sqStep {
  __m256 operator()(__m256 acc, __m256 x, __m256 y) const noexcept {
    const __m256 d = _mm256_sub_ps(x, y);
    return _mm256_fmadd_ps(d, d, acc);
  }
  float scalar(float x, float y) const noexcept { return (x - y) * (x - y); }
};
struct L1Step {
  __m256 operator()(__m256 acc, __m256 x, __m256 y) const noexcept {
    const __m256 sign = _mm256_set1_ps(-0.0F);
    return _mm256_add_ps(acc, _mm256_andnot_ps(sign, _mm256_sub_ps(x, y)));
  }
  float scalar(float x, float y) const noexcept { return std::fabs(x - y); }
};

// Int8 codes: vpmaddubsw multiplies 32 unsigned by 32 signed bytes into 16 sums of two
// products (at most 2 * 127 * 127, no saturation for codes <= 127), vpmaddwd widens them to
// 8 int32 sums. Two accumulators; the tail is the scalar loop.
struct Int8 {
  static std::int32_t dot(const std::uint8_t* a, const std::uint8_t* b, std::size_t dim) noexcept {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i acc0 = _mm256_setzero_si256();
    __m256i acc1 = _mm256_setzero_si256();
    std::size_t i = 0;
    for (; i + 64 <= dim; i += 64) {
      const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i));
      const __m256i y0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + i));
      const __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i + 32));
      const __m256i y1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + i + 32));
      acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(_mm256_maddubs_epi16(x0, y0), ones));
      acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(_mm256_maddubs_epi16(x1, y1), ones));
    }
    for (; i + 32 <= dim; i += 32) {
      const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i));
      const __m256i y0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + i));
      acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(_mm256_maddubs_epi16(x0, y0), ones));
    }
    const __m256i acc = _mm256_add_epi32(acc0, acc1);
    __m128i sum = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
    sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, 0x4E));
    sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, 0xB1));
    return _mm_cvtsi128_si32(sum) + vdb::distance::int8_dot_scalar(a + i, b + i, dim - i);
  }
};

// 8-bit codes: vpmaddubsw would saturate (255 * 127 * 2 > 32767), so both sides are widened to
// 16 bits (query signed, codes unsigned) and vpmaddwd adds pairs of products into 8 int32 sums
// (at most 2 * 128 * 255). 16 bytes a step; two accumulators; the tail is the scalar loop.
struct Code {
  static std::int32_t dot(const std::int8_t* q, const std::uint8_t* c, std::size_t dim) noexcept {
    const auto load = [](const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); };
    __m256i acc0 = _mm256_setzero_si256();
    __m256i acc1 = _mm256_setzero_si256();
    std::size_t i = 0;
    for (; i + 32 <= dim; i += 32) {
      const __m256i x0 = _mm256_cvtepi8_epi16(load(q + i));
      const __m256i y0 = _mm256_cvtepu8_epi16(load(c + i));
      const __m256i x1 = _mm256_cvtepi8_epi16(load(q + i + 16));
      const __m256i y1 = _mm256_cvtepu8_epi16(load(c + i + 16));
      acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(x0, y0));
      acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(x1, y1));
    }
    for (; i + 16 <= dim; i += 16) {
      acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(_mm256_cvtepi8_epi16(load(q + i)),
                                                      _mm256_cvtepu8_epi16(load(c + i))));
    }
    const __m256i acc = _mm256_add_epi32(acc0, acc1);
    __m128i sum = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
    sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, 0x4E));
    sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, 0xB1));
    return _mm_cvtsi128_si32(sum) + vdb::distance::code_dot_scalar(q + i, c + i, dim - i);
  }
};

struct Avx2Kernels {
  static constexpr std::size_t kGroup = 1;
  using Int8Dot = vdb::distance::Int8Metric<Int8>;
  using CodeDot = vdb::distance::CodeMetric<Code>;
  using Dot = vdb::distance::Metric<Reduce, DotStep>;
  using L2sq = vdb::distance::Metric<Reduce, L2sqStep>;
  using L1 = vdb::distance::Metric<Reduce, L1Step>;
};

using Table = vdb::distance::Table<Avx2Kernels>;
constexpr vdb_plugin_info kInfo = Table::info("avx2", "AVX2 + FMA kernels, 8 floats per lane");

} // namespace

extern "C" VDB_PLUGIN_EXPORT vdb_status vdb_plugin_init(const vdb_host_api* host,
                                                        const vdb_plugin_info** info) {
  return vdb::sdk::init(host, &kInfo, info);
}
