// The reference distance backend: plain loops, one accumulator, in index order. Every other
// backend is tested against this one. Built without ISA flags, so it runs on any CPU.
#include "distance_plugin.hpp"

#include <cmath>

namespace {

struct Reduce {
  template <std::size_t N, class Step>
  static void run(const float* q, const float* const* v, std::size_t dim, Step step,
                  float* out) noexcept {
    for (std::size_t n = 0; n < N; ++n) {
      float sum = 0.0F;
      for (std::size_t i = 0; i < dim; ++i) {
        sum = step(sum, q[i], v[n][i]);
      }
      out[n] = sum;
    }
  }
};

struct DotStep {
  float operator()(float acc, float x, float y) const noexcept { return acc + x * y; }
};
struct L2sqStep {
  float operator()(float acc, float x, float y) const noexcept {
    const float d = x - y;
    return acc + d * d;
  }
};
struct L1Step {
  float operator()(float acc, float x, float y) const noexcept { return acc + std::fabs(x - y); }
};

struct Int8 {
  static std::int32_t dot(const std::uint8_t* a, const std::uint8_t* b, std::size_t dim) noexcept {
    return vdb::distance::int8_dot_scalar(a, b, dim);
  }
};

struct Code {
  static std::int32_t dot(const std::int8_t* q, const std::uint8_t* c, std::size_t dim) noexcept {
    return vdb::distance::code_dot_scalar(q, c, dim);
  }
};

struct ScalarKernels {
  static constexpr std::size_t kGroup = 1;
  using Int8Dot = vdb::distance::Int8Metric<Int8>;
  using CodeDot = vdb::distance::CodeMetric<Code>;
  using Dot = vdb::distance::Metric<Reduce, DotStep>;
  using L2sq = vdb::distance::Metric<Reduce, L2sqStep>;
  using L1 = vdb::distance::Metric<Reduce, L1Step>;
};

using Table = vdb::distance::Table<ScalarKernels>;
constexpr vdb_plugin_info kInfo = Table::info("scalar", "portable reference kernels");

} // namespace

extern "C" VDB_PLUGIN_EXPORT vdb_status vdb_plugin_init(const vdb_host_api* host,
                                                        const vdb_plugin_info** info) {
  return vdb::sdk::init(host, &kInfo, info);
}
