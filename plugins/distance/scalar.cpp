// The reference distance backend: plain loops, one accumulator, in index order. Every other
// backend is tested against this one. Built without ISA flags, so it runs on any CPU.
#include "distance_plugin.hpp"

#include <cmath>

namespace {

struct ScalarKernels {
  static float dot(const float* a, const float* b, std::size_t dim) noexcept {
    float sum = 0.0F;
    for (std::size_t i = 0; i < dim; ++i) {
      sum += a[i] * b[i];
    }
    return sum;
  }
  static float l2sq(const float* a, const float* b, std::size_t dim) noexcept {
    float sum = 0.0F;
    for (std::size_t i = 0; i < dim; ++i) {
      const float d = a[i] - b[i];
      sum += d * d;
    }
    return sum;
  }
  static float l1(const float* a, const float* b, std::size_t dim) noexcept {
    float sum = 0.0F;
    for (std::size_t i = 0; i < dim; ++i) {
      sum += std::fabs(a[i] - b[i]);
    }
    return sum;
  }
};

using Table = vdb::distance::Table<ScalarKernels>;
constexpr vdb_plugin_info kInfo = Table::info("scalar", "portable reference kernels");

} // namespace

extern "C" VDB_PLUGIN_EXPORT vdb_status vdb_plugin_init(const vdb_host_api* host,
                                                        const vdb_plugin_info** info) {
  return vdb::sdk::init(host, &kInfo, info);
}
