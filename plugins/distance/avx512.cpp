// AVX-512 distance backend (F, BW, VL, DQ and VNNI; VNNI is for the int8 kernels of a later ABI
// minor version). This file is compiled with those -m flags; the host loads it only after
// checking that the CPU supports all of them.
#include "distance_plugin.hpp"

// GCC 12's own AVX-512 headers trip -Wmaybe-uninitialized in _mm512_reduce_add_ps through
// _mm256_undefined_pd (GCC bug 105593, fixed in GCC 13); the warning is about the header, not us.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

namespace {

// Four independent accumulators of 16 floats; the remainder goes 16 at a time and the last
// partial vector through a masked load, so there is no scalar tail.
template <class Step>
inline float reduce(const float* a, const float* b, std::size_t dim, Step step) noexcept {
  __m512 acc0 = _mm512_setzero_ps();
  __m512 acc1 = _mm512_setzero_ps();
  __m512 acc2 = _mm512_setzero_ps();
  __m512 acc3 = _mm512_setzero_ps();
  std::size_t i = 0;
  for (; i + 64 <= dim; i += 64) {
    acc0 = step(acc0, _mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    acc1 = step(acc1, _mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
    acc2 = step(acc2, _mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32));
    acc3 = step(acc3, _mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48));
  }
  for (; i + 16 <= dim; i += 16) {
    acc0 = step(acc0, _mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
  }
  if (i < dim) {
    const auto mask = static_cast<__mmask16>((1U << (dim - i)) - 1U);
    acc1 = step(acc1, _mm512_maskz_loadu_ps(mask, a + i), _mm512_maskz_loadu_ps(mask, b + i));
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

struct Avx512Kernels {
  static float dot(const float* a, const float* b, std::size_t dim) noexcept {
    return reduce(a, b, dim,
                  [](__m512 acc, __m512 x, __m512 y) { return _mm512_fmadd_ps(x, y, acc); });
  }
  static float l2sq(const float* a, const float* b, std::size_t dim) noexcept {
    return reduce(a, b, dim, [](__m512 acc, __m512 x, __m512 y) {
      const __m512 d = _mm512_sub_ps(x, y);
      return _mm512_fmadd_ps(d, d, acc);
    });
  }
  static float l1(const float* a, const float* b, std::size_t dim) noexcept {
    return reduce(a, b, dim, [](__m512 acc, __m512 x, __m512 y) {
      return _mm512_add_ps(acc, _mm512_abs_ps(_mm512_sub_ps(x, y)));
    });
  }
};

using Table = vdb::distance::Table<Avx512Kernels>;
constexpr vdb_plugin_info kInfo = Table::info("avx512", "AVX-512 kernels, 16 floats per lane");

} // namespace

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

extern "C" VDB_PLUGIN_EXPORT vdb_status vdb_plugin_init(const vdb_host_api* host,
                                                        const vdb_plugin_info** info) {
  return vdb::sdk::init(host, &kInfo, info);
}
