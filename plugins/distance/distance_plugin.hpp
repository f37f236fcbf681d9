// Builds the C function table of a distance plugin from its kernels. Included by each ISA's
// translation unit, so the loops below are compiled with that file's ISA flags.
//
// Kernels is a type with
//   static constexpr std::size_t kGroup;  // vectors one kernel call scores at once (>= 1)
//   struct Dot, L2sq, L1, each with
//     template <std::size_t N>
//     static void run(const float* q, const float* const* v, std::size_t dim, float* out);
//   which sets out[n] to the distance between q and v[n] for n < N. run<N> must give, for every
//   n, exactly the result of run<1> on v[n]: batch and pair calls then agree bit for bit.
// Scoring kGroup vectors per call loads each chunk of the query once for all of them, which is
// what makes batch and gather faster than repeated pair calls when loads are the bottleneck.
#pragma once

#include <vdb/plugin_api.h>
#include <vdb/plugin_sdk.hpp>

#include <cstddef>

namespace vdb::distance {

// How many bytes ahead of the current vector a batch loop asks the cache for.
inline constexpr std::size_t kPrefetchLines = 16;

inline void prefetch_vector(const float* v, std::size_t dim) noexcept {
  const auto* p = reinterpret_cast<const char*>(v);
  const std::size_t bytes = dim * sizeof(float);
  for (std::size_t off = 0; off < bytes && off < kPrefetchLines * 64; off += 64) {
    __builtin_prefetch(p + off, 0, 3);
  }
}

/// One metric's kernels from an ISA's reducer and a step functor: Reduce::run<N>(q, v, dim,
/// step, out) runs the ISA's loop, Step says what one lane-wide step adds to an accumulator.
template <class Reduce, class Step> struct Metric {
  template <std::size_t N>
  static void run(const float* q, const float* const* v, std::size_t dim, float* out) noexcept {
    Reduce::template run<N>(q, v, dim, Step{}, out);
  }
};

template <class Kernels> struct Table {
  static constexpr std::size_t kGroup = Kernels::kGroup;

  template <class Metric>
  static vdb_status pair(const float* a, const float* b, std::size_t dim, float* out) noexcept {
    if (a == nullptr || b == nullptr || out == nullptr || dim == 0) {
      return sdk::fail(VDB_ERR_INVALID_ARGUMENT, "distance kernel: null pointer or dim == 0");
    }
    Metric::template run<1>(a, &b, dim, out);
    return VDB_OK;
  }

  template <class Metric>
  static vdb_status batch(const float* query, const float* base, std::size_t stride, std::size_t n,
                          std::size_t dim, float* out) noexcept {
    if (query == nullptr || out == nullptr || dim == 0 || stride < dim ||
        (base == nullptr && n != 0)) {
      return sdk::fail(VDB_ERR_INVALID_ARGUMENT,
                       "distance batch: null pointer, dim == 0 or stride < dim");
    }
    const float* group[kGroup];
    std::size_t i = 0;
    for (; i + kGroup <= n; i += kGroup) {
      for (std::size_t g = 0; g < kGroup; ++g) {
        group[g] = base + (i + g) * stride;
      }
      if (i + kGroup < n) {
        prefetch_vector(base + (i + kGroup) * stride, dim);
      }
      Metric::template run<kGroup>(query, group, dim, out + i);
    }
    for (; i < n; ++i) {
      group[0] = base + i * stride;
      Metric::template run<1>(query, group, dim, out + i);
    }
    return VDB_OK;
  }

  template <class Metric>
  static vdb_status gather(const float* query, const float* const* vectors, std::size_t n,
                           std::size_t dim, float* out) noexcept {
    if (query == nullptr || out == nullptr || dim == 0 || (vectors == nullptr && n != 0)) {
      return sdk::fail(VDB_ERR_INVALID_ARGUMENT, "distance gather: null pointer or dim == 0");
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (vectors[i] == nullptr) {
        return sdk::fail(VDB_ERR_INVALID_ARGUMENT, "distance gather: null vector pointer");
      }
    }
    std::size_t i = 0;
    for (; i + kGroup <= n; i += kGroup) {
      if (i + kGroup < n) {
        prefetch_vector(vectors[i + kGroup], dim);
      }
      Metric::template run<kGroup>(query, vectors + i, dim, out + i);
    }
    for (; i < n; ++i) {
      Metric::template run<1>(query, vectors + i, dim, out + i);
    }
    return VDB_OK;
  }

  // clang-format off
  static constexpr vdb_distance_api kApi = {
      sizeof(vdb_distance_api), 0,
      &pair<typename Kernels::Dot>,   &pair<typename Kernels::L2sq>,   &pair<typename Kernels::L1>,
      &batch<typename Kernels::Dot>,  &batch<typename Kernels::L2sq>,  &batch<typename Kernels::L1>,
      &gather<typename Kernels::Dot>, &gather<typename Kernels::L2sq>, &gather<typename Kernels::L1>,
  };
  // clang-format on

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
