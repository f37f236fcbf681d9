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

// Four independent accumulators hide the FMA latency; the remainder (< 32 floats) goes 8 at a
// time and then element by element.
template <class Step, class Tail>
inline float reduce(const float* a, const float* b, std::size_t dim, Step step,
                    Tail tail) noexcept {
  __m256 acc0 = _mm256_setzero_ps();
  __m256 acc1 = _mm256_setzero_ps();
  __m256 acc2 = _mm256_setzero_ps();
  __m256 acc3 = _mm256_setzero_ps();
  std::size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    acc0 = step(acc0, _mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    acc1 = step(acc1, _mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
    acc2 = step(acc2, _mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16));
    acc3 = step(acc3, _mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24));
  }
  for (; i + 8 <= dim; i += 8) {
    acc0 = step(acc0, _mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
  }
  float sum = horizontal_sum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
  for (; i < dim; ++i) {
    sum += tail(a[i], b[i]);
  }
  return sum;
}

struct Avx2Kernels {
  static float dot(const float* a, const float* b, std::size_t dim) noexcept {
    return reduce(
        a, b, dim, [](__m256 acc, __m256 x, __m256 y) { return _mm256_fmadd_ps(x, y, acc); },
        [](float x, float y) { return x * y; });
  }
  static float l2sq(const float* a, const float* b, std::size_t dim) noexcept {
    return reduce(
        a, b, dim,
        [](__m256 acc, __m256 x, __m256 y) {
          const __m256 d = _mm256_sub_ps(x, y);
          return _mm256_fmadd_ps(d, d, acc);
        },
        [](float x, float y) { return (x - y) * (x - y); });
  }
  static float l1(const float* a, const float* b, std::size_t dim) noexcept {
    return reduce(
        a, b, dim,
        [](__m256 acc, __m256 x, __m256 y) {
          const __m256 sign = _mm256_set1_ps(-0.0F);
          return _mm256_add_ps(acc, _mm256_andnot_ps(sign, _mm256_sub_ps(x, y)));
        },
        [](float x, float y) { return std::fabs(x - y); });
  }
};

using Table = vdb::distance::Table<Avx2Kernels>;
constexpr vdb_plugin_info kInfo = Table::info("avx2", "AVX2 + FMA kernels, 8 floats per lane");

} // namespace

extern "C" VDB_PLUGIN_EXPORT vdb_status vdb_plugin_init(const vdb_host_api* host,
                                                        const vdb_plugin_info** info) {
  return vdb::sdk::init(host, &kInfo, info);
}
