// Builds the C function table of a distance plugin from three inline kernels. Included by each
// ISA's translation unit, so the loops below are compiled with that file's ISA flags.
//
// Kernels is a type with static members
//   float dot(const float* a, const float* b, size_t dim);
//   float l2sq(const float* a, const float* b, size_t dim);
//   float l1(const float* a, const float* b, size_t dim);
#pragma once

#include <vdb/plugin_api.h>
#include <vdb/plugin_sdk.hpp>

#include <cstddef>

namespace vdb::distance {

// How many bytes ahead of the current vector a batch loop asks the cache for.
inline constexpr std::size_t kPrefetchLines = 4;

inline void prefetch_vector(const float* v, std::size_t dim) noexcept {
  const auto* p = reinterpret_cast<const char*>(v);
  const std::size_t bytes = dim * sizeof(float);
  for (std::size_t off = 0; off < bytes && off < kPrefetchLines * 64; off += 64) {
    __builtin_prefetch(p + off, 0, 3);
  }
}

template <class Kernels> struct Table {
  using Fn = float (*)(const float*, const float*, std::size_t);

  template <Fn Kernel>
  static vdb_status pair(const float* a, const float* b, std::size_t dim, float* out) noexcept {
    if (a == nullptr || b == nullptr || out == nullptr || dim == 0) {
      return sdk::fail(VDB_ERR_INVALID_ARGUMENT, "distance kernel: null pointer or dim == 0");
    }
    *out = Kernel(a, b, dim);
    return VDB_OK;
  }

  template <Fn Kernel>
  static vdb_status batch(const float* query, const float* base, std::size_t stride, std::size_t n,
                          std::size_t dim, float* out) noexcept {
    if (query == nullptr || out == nullptr || dim == 0 || stride < dim ||
        (base == nullptr && n != 0)) {
      return sdk::fail(VDB_ERR_INVALID_ARGUMENT,
                       "distance batch: null pointer, dim == 0 or stride < dim");
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (i + 1 < n) {
        prefetch_vector(base + (i + 1) * stride, dim);
      }
      out[i] = Kernel(query, base + i * stride, dim);
    }
    return VDB_OK;
  }

  template <Fn Kernel>
  static vdb_status gather(const float* query, const float* const* vectors, std::size_t n,
                           std::size_t dim, float* out) noexcept {
    if (query == nullptr || out == nullptr || dim == 0 || (vectors == nullptr && n != 0)) {
      return sdk::fail(VDB_ERR_INVALID_ARGUMENT, "distance gather: null pointer or dim == 0");
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (vectors[i] == nullptr) {
        return sdk::fail(VDB_ERR_INVALID_ARGUMENT, "distance gather: null vector pointer");
      }
      if (i + 1 < n && vectors[i + 1] != nullptr) {
        prefetch_vector(vectors[i + 1], dim);
      }
      out[i] = Kernel(query, vectors[i], dim);
    }
    return VDB_OK;
  }

  static constexpr vdb_distance_api kApi = {
      sizeof(vdb_distance_api), 0,
      &pair<&Kernels::dot>,     &pair<&Kernels::l2sq>,
      &pair<&Kernels::l1>,      &batch<&Kernels::dot>,
      &batch<&Kernels::l2sq>,   &batch<&Kernels::l1>,
      &gather<&Kernels::dot>,   &gather<&Kernels::l2sq>,
      &gather<&Kernels::l1>,
  };

  static constexpr vdb_plugin_info info(const char* name, const char* description) noexcept {
    return vdb_plugin_info{sizeof(vdb_plugin_info),
                           VDB_PLUGIN_ABI_MAJOR,
                           VDB_PLUGIN_ABI_MINOR,
                           VDB_PLUGIN_DISTANCE,
                           name,
                           "1.0.0",
                           description,
                           &kApi,
                           nullptr};
  }
};

} // namespace vdb::distance
