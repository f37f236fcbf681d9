// NEON (AArch64 Advanced SIMD) distance backend. Built only on aarch64, where NEON is part of
// the base ISA, so no extra compiler flag is needed.
#include "distance_plugin.hpp"

#include <arm_neon.h>

#include <cmath>

namespace {

// Per vector, four accumulators of 4 floats. run<N> can score N vectors per pass, sharing each
// load of the query; not measured on NEON hardware yet, so kGroup is 1 as on x86.
struct Reduce {
  template <std::size_t N, class Step>
  static void run(const float* q, const float* const* v, std::size_t dim, Step step,
                  float* out) noexcept {
    float32x4_t acc[N][4];
    for (std::size_t n = 0; n < N; ++n) {
      for (auto& a : acc[n]) {
        a = vdupq_n_f32(0.0F);
      }
    }
    std::size_t i = 0;
    for (; i + 16 <= dim; i += 16) {
      const float32x4_t q0 = vld1q_f32(q + i);
      const float32x4_t q1 = vld1q_f32(q + i + 4);
      const float32x4_t q2 = vld1q_f32(q + i + 8);
      const float32x4_t q3 = vld1q_f32(q + i + 12);
      for (std::size_t n = 0; n < N; ++n) {
        acc[n][0] = step(acc[n][0], q0, vld1q_f32(v[n] + i));
        acc[n][1] = step(acc[n][1], q1, vld1q_f32(v[n] + i + 4));
        acc[n][2] = step(acc[n][2], q2, vld1q_f32(v[n] + i + 8));
        acc[n][3] = step(acc[n][3], q3, vld1q_f32(v[n] + i + 12));
      }
    }
    for (; i + 4 <= dim; i += 4) {
      const float32x4_t q0 = vld1q_f32(q + i);
      for (std::size_t n = 0; n < N; ++n) {
        acc[n][0] = step(acc[n][0], q0, vld1q_f32(v[n] + i));
      }
    }
    for (std::size_t n = 0; n < N; ++n) {
      float sum =
          vaddvq_f32(vaddq_f32(vaddq_f32(acc[n][0], acc[n][1]), vaddq_f32(acc[n][2], acc[n][3])));
      for (std::size_t k = i; k < dim; ++k) {
        sum += step.scalar(q[k], v[n][k]);
      }
      out[n] = sum;
    }
  }
};

struct DotStep {
  float32x4_t operator()(float32x4_t acc, float32x4_t x, float32x4_t y) const noexcept {
    return vfmaq_f32(acc, x, y);
  }
  float scalar(float x, float y) const noexcept { return x * y; }
};
struct L2sqStep {
  float32x4_t operator()(float32x4_t acc, float32x4_t x, float32x4_t y) const noexcept {
    const float32x4_t d = vsubq_f32(x, y);
    return vfmaq_f32(acc, d, d);
  }
  float scalar(float x, float y) const noexcept { return (x - y) * (x - y); }
};
struct L1Step {
  float32x4_t operator()(float32x4_t acc, float32x4_t x, float32x4_t y) const noexcept {
    return vaddq_f32(acc, vabdq_f32(x, y));
  }
  float scalar(float x, float y) const noexcept { return std::fabs(x - y); }
};

// Int8 codes: umull multiplies 8 pairs of bytes into 16-bit products (at most 127 * 127),
// uadalp adds neighbouring pairs of them into 32-bit lanes. Base NEON only (the dot-product
// extension's udot would do 16 at once but is optional on AArch64). The tail is the scalar loop.
struct Int8 {
  static std::int32_t dot(const std::uint8_t* a, const std::uint8_t* b, std::size_t dim) noexcept {
    uint32x4_t acc0 = vdupq_n_u32(0);
    uint32x4_t acc1 = vdupq_n_u32(0);
    std::size_t i = 0;
    for (; i + 16 <= dim; i += 16) {
      const uint8x16_t x = vld1q_u8(a + i);
      const uint8x16_t y = vld1q_u8(b + i);
      acc0 = vpadalq_u16(acc0, vmull_u8(vget_low_u8(x), vget_low_u8(y)));
      acc1 = vpadalq_u16(acc1, vmull_high_u8(x, y));
    }
    const auto sum = static_cast<std::int32_t>(vaddvq_u32(vaddq_u32(acc0, acc1)));
    return sum + vdb::distance::int8_dot_scalar(a + i, b + i, dim - i);
  }
};

// 8-bit codes: both sides widened to 16 bits (query signed, codes unsigned, at most 255: still
// positive as int16), then smlal accumulates the products (at most 128 * 255) into int32 lanes.
struct Code {
  static std::int32_t dot(const std::int8_t* q, const std::uint8_t* c, std::size_t dim) noexcept {
    int32x4_t acc0 = vdupq_n_s32(0);
    int32x4_t acc1 = vdupq_n_s32(0);
    std::size_t i = 0;
    for (; i + 16 <= dim; i += 16) {
      const int8x16_t x = vld1q_s8(q + i);
      const uint8x16_t y = vld1q_u8(c + i);
      const int16x8_t xl = vmovl_s8(vget_low_s8(x));
      const int16x8_t xh = vmovl_high_s8(x);
      const int16x8_t yl = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(y)));
      const int16x8_t yh = vreinterpretq_s16_u16(vmovl_high_u8(y));
      acc0 = vmlal_s16(acc0, vget_low_s16(xl), vget_low_s16(yl));
      acc1 = vmlal_high_s16(acc1, xl, yl);
      acc0 = vmlal_s16(acc0, vget_low_s16(xh), vget_low_s16(yh));
      acc1 = vmlal_high_s16(acc1, xh, yh);
    }
    return vaddvq_s32(vaddq_s32(acc0, acc1)) +
           vdb::distance::code_dot_scalar(q + i, c + i, dim - i);
  }
};

struct NeonKernels {
  static constexpr std::size_t kGroup = 1;
  using Int8Dot = vdb::distance::Int8Metric<Int8>;
  using CodeDot = vdb::distance::CodeMetric<Code>;
  using Dot = vdb::distance::Metric<Reduce, DotStep>;
  using L2sq = vdb::distance::Metric<Reduce, L2sqStep>;
  using L1 = vdb::distance::Metric<Reduce, L1Step>;
};

using Table = vdb::distance::Table<NeonKernels>;
constexpr vdb_plugin_info kInfo = Table::info("neon", "AArch64 NEON kernels, 4 floats per lane");

} // namespace

extern "C" VDB_PLUGIN_EXPORT vdb_status vdb_plugin_init(const vdb_host_api* host,
                                                        const vdb_plugin_info** info) {
  return vdb::sdk::init(host, &kInfo, info);
}
