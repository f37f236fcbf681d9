// NEON (AArch64 Advanced SIMD) distance backend. Built only on aarch64, where NEON is part of
// the base ISA, so no extra compiler flag is needed.
#include "distance_plugin.hpp"

#include <arm_neon.h>

#include <cmath>

namespace {

template <class Step, class Tail>
inline float reduce(const float* a, const float* b, std::size_t dim, Step step,
                    Tail tail) noexcept {
  float32x4_t acc0 = vdupq_n_f32(0.0F);
  float32x4_t acc1 = vdupq_n_f32(0.0F);
  float32x4_t acc2 = vdupq_n_f32(0.0F);
  float32x4_t acc3 = vdupq_n_f32(0.0F);
  std::size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    acc0 = step(acc0, vld1q_f32(a + i), vld1q_f32(b + i));
    acc1 = step(acc1, vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
    acc2 = step(acc2, vld1q_f32(a + i + 8), vld1q_f32(b + i + 8));
    acc3 = step(acc3, vld1q_f32(a + i + 12), vld1q_f32(b + i + 12));
  }
  for (; i + 4 <= dim; i += 4) {
    acc0 = step(acc0, vld1q_f32(a + i), vld1q_f32(b + i));
  }
  float sum = vaddvq_f32(vaddq_f32(vaddq_f32(acc0, acc1), vaddq_f32(acc2, acc3)));
  for (; i < dim; ++i) {
    sum += tail(a[i], b[i]);
  }
  return sum;
}

struct NeonKernels {
  static float dot(const float* a, const float* b, std::size_t dim) noexcept {
    return reduce(
        a, b, dim,
        [](float32x4_t acc, float32x4_t x, float32x4_t y) { return vfmaq_f32(acc, x, y); },
        [](float x, float y) { return x * y; });
  }
  static float l2sq(const float* a, const float* b, std::size_t dim) noexcept {
    return reduce(
        a, b, dim,
        [](float32x4_t acc, float32x4_t x, float32x4_t y) {
          const float32x4_t d = vsubq_f32(x, y);
          return vfmaq_f32(acc, d, d);
        },
        [](float x, float y) { return (x - y) * (x - y); });
  }
  static float l1(const float* a, const float* b, std::size_t dim) noexcept {
    return reduce(
        a, b, dim,
        [](float32x4_t acc, float32x4_t x, float32x4_t y) {
          return vaddq_f32(acc, vabdq_f32(x, y));
        },
        [](float x, float y) { return std::fabs(x - y); });
  }
};

using Table = vdb::distance::Table<NeonKernels>;
constexpr vdb_plugin_info kInfo = Table::info("neon", "AArch64 NEON kernels, 4 floats per lane");

} // namespace

extern "C" VDB_PLUGIN_EXPORT vdb_status vdb_plugin_init(const vdb_host_api* host,
                                                        const vdb_plugin_info** info) {
  return vdb::sdk::init(host, &kInfo, info);
}
