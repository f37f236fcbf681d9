// AVX-512 distance backend (F, BW, VL, DQ and VNNI; VNNI is for the int8 kernels of a later ABI
// minor version). This file is compiled with those -m flags; the host loads it only after
// checking that the CPU supports all of them.
#include "distance_plugin.hpp"

// GCC 12's own AVX-512 headers trip -Wmaybe-uninitialized in _mm512_reduce_add_ps through
// _mm256_undefined_pd (GCC bug 105593, fixed in GCC 13), reported as -Wmaybe-uninitialized or
// -Wuninitialized depending on inlining; the warning is about the header, not us.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>

namespace {

// Per vector, four independent accumulators of 16 floats; the remainder goes 16 at a time and
// the last partial vector through a masked load, so there is no scalar tail.
// run<N> can score N vectors per pass, sharing each load of the query. Measured on Zen 4
// (docs/benchmarks.md), N = 2 and N = 4 were slower than N = 1, so kGroup is 1.
struct Reduce {
  template <std::size_t N, class Step>
  static void run(const float* q, const float* const* v, std::size_t dim, Step step,
                  float* out) noexcept {
    __m512 acc[N][4];
    for (std::size_t n = 0; n < N; ++n) {
      for (auto& a : acc[n]) {
        a = _mm512_setzero_ps();
      }
    }
    std::size_t i = 0;
    for (; i + 64 <= dim; i += 64) {
      const __m512 q0 = _mm512_loadu_ps(q + i);
      const __m512 q1 = _mm512_loadu_ps(q + i + 16);
      const __m512 q2 = _mm512_loadu_ps(q + i + 32);
      const __m512 q3 = _mm512_loadu_ps(q + i + 48);
      for (std::size_t n = 0; n < N; ++n) {
        acc[n][0] = step(acc[n][0], q0, _mm512_loadu_ps(v[n] + i));
        acc[n][1] = step(acc[n][1], q1, _mm512_loadu_ps(v[n] + i + 16));
        acc[n][2] = step(acc[n][2], q2, _mm512_loadu_ps(v[n] + i + 32));
        acc[n][3] = step(acc[n][3], q3, _mm512_loadu_ps(v[n] + i + 48));
      }
    }
    for (; i + 16 <= dim; i += 16) {
      const __m512 q0 = _mm512_loadu_ps(q + i);
      for (std::size_t n = 0; n < N; ++n) {
        acc[n][0] = step(acc[n][0], q0, _mm512_loadu_ps(v[n] + i));
      }
    }
    if (i < dim) {
      const auto mask = static_cast<__mmask16>((1U << (dim - i)) - 1U);
      const __m512 q0 = _mm512_maskz_loadu_ps(mask, q + i);
      for (std::size_t n = 0; n < N; ++n) {
        acc[n][1] = step(acc[n][1], q0, _mm512_maskz_loadu_ps(mask, v[n] + i));
      }
    }
    for (std::size_t n = 0; n < N; ++n) {
      out[n] = _mm512_reduce_add_ps(
          _mm512_add_ps(_mm512_add_ps(acc[n][0], acc[n][1]), _mm512_add_ps(acc[n][2], acc[n][3])));
    }
  }
};

struct DotStep {
  __m512 operator()(__m512 acc, __m512 x, __m512 y) const noexcept {
    return _mm512_fmadd_ps(x, y, acc);
  }
};
struct L2sqStep {
  __m512 operator()(__m512 acc, __m512 x, __m512 y) const noexcept {
    const __m512 d = _mm512_sub_ps(x, y);
    return _mm512_fmadd_ps(d, d, acc);
  }
};
struct L1Step {
  __m512 operator()(__m512 acc, __m512 x, __m512 y) const noexcept {
    return _mm512_add_ps(acc, _mm512_abs_ps(_mm512_sub_ps(x, y)));
  }
};

// The exact sum of unsigned bytes u[i] times signed bytes s[i]: VNNI's vpdpbusd multiplies 64
// of each and adds each group of four products into one of 16 int32 lanes, in one instruction.
// Two accumulators; the last partial block through a masked load, so there is no scalar tail.
std::int32_t vnni_dot(const std::uint8_t* u, const void* s_bytes, std::size_t dim) noexcept {
  const auto* s = static_cast<const std::int8_t*>(s_bytes);
  __m512i acc0 = _mm512_setzero_si512();
  __m512i acc1 = _mm512_setzero_si512();
  std::size_t i = 0;
  for (; i + 128 <= dim; i += 128) {
    acc0 = _mm512_dpbusd_epi32(acc0, _mm512_loadu_si512(u + i), _mm512_loadu_si512(s + i));
    acc1 =
        _mm512_dpbusd_epi32(acc1, _mm512_loadu_si512(u + i + 64), _mm512_loadu_si512(s + i + 64));
  }
  for (; i + 64 <= dim; i += 64) {
    acc0 = _mm512_dpbusd_epi32(acc0, _mm512_loadu_si512(u + i), _mm512_loadu_si512(s + i));
  }
  if (i < dim) {
    const __mmask64 mask = (1ULL << (dim - i)) - 1ULL; // dim - i < 64
    acc1 = _mm512_dpbusd_epi32(acc1, _mm512_maskz_loadu_epi8(mask, u + i),
                               _mm512_maskz_loadu_epi8(mask, s + i));
  }
  return _mm512_reduce_add_epi32(_mm512_add_epi32(acc0, acc1));
}

// 7-bit int8 codes (ABI 1.1) read the same signed and unsigned.
struct Int8 {
  static std::int32_t dot(const std::uint8_t* a, const std::uint8_t* b, std::size_t dim) noexcept {
    return vnni_dot(a, b, dim);
  }
};

// 8-bit codes (ABI 1.2): the codes are the unsigned operand, the query the signed one (four
// products of at most 255 * 128 a lane: no overflow, no saturation).
struct Code {
  static std::int32_t dot(const std::int8_t* q, const std::uint8_t* c, std::size_t dim) noexcept {
    return vnni_dot(c, q, dim);
  }
};

struct Avx512Kernels {
  static constexpr std::size_t kGroup = 1;
  using Int8Dot = vdb::distance::Int8Metric<Int8>;
  using CodeDot = vdb::distance::CodeMetric<Code>;
  using Dot = vdb::distance::Metric<Reduce, DotStep>;
  using L2sq = vdb::distance::Metric<Reduce, L2sqStep>;
  using L1 = vdb::distance::Metric<Reduce, L1Step>;
};

using Table = vdb::distance::Table<Avx512Kernels>;
constexpr vdb_plugin_info kInfo =
    Table::info("avx512", "AVX-512 kernels, 16 floats or 64 int8 codes (VNNI) per lane");

} // namespace

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

extern "C" VDB_PLUGIN_EXPORT vdb_status vdb_plugin_init(const vdb_host_api* host,
                                                        const vdb_plugin_info** info) {
  return vdb::sdk::init(host, &kInfo, info);
}
