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
//   struct Int8Dot, the same over int8 codes (bytes 0..127) with an int32 result:
//     template <std::size_t N>
//     static void run(const std::uint8_t* q, const std::uint8_t* const* v, std::size_t dim,
//                     std::int32_t* out);
//   struct CodeDot, the same with a signed query and unsigned 8-bit codes (ABI 1.2):
//     template <std::size_t N>
//     static void run(const std::int8_t* q, const std::uint8_t* const* v, std::size_t dim,
//                     std::int32_t* out);
// Scoring kGroup vectors per call loads each chunk of the query once for all of them, which is
// what makes batch and gather faster than repeated pair calls when loads are the bottleneck.
#pragma once

#include <vdb/plugin_api.h>
#include <vdb/plugin_sdk.hpp>

#include <cstddef>
#include <cstdint>

namespace vdb::distance {

// How many bytes ahead of the current vector a batch loop asks the cache for.
inline constexpr std::size_t kPrefetchLines = 16;

template <class T> inline void prefetch_vector(const T* v, std::size_t dim) noexcept {
  const auto* p = reinterpret_cast<const char*>(v);
  const std::size_t bytes = dim * sizeof(T);
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

/// Integer kernels from an ISA's one-vector loop: One::dot(q, code, dim) -> the exact int32 sum;
/// Q is the query's byte type (uint8_t for ABI 1.1's int8 kernels, int8_t for 1.2's code
/// kernels). Integer sums are exact, so run<N> agrees with run<1> whatever the order of the
/// additions.
template <class One, class Q> struct IntMetric {
  template <std::size_t N>
  static void run(const Q* q, const std::uint8_t* const* v, std::size_t dim,
                  std::int32_t* out) noexcept {
    for (std::size_t n = 0; n < N; ++n) {
      out[n] = One::dot(q, v[n], dim);
    }
  }
};
template <class One> using Int8Metric = IntMetric<One, std::uint8_t>;
template <class One> using CodeMetric = IntMetric<One, std::int8_t>;

/// The portable integer dot product: the reference every ISA's is tested against, and the tail
/// of their loops. Q is the query's byte type, the codes are unsigned.
template <class Q>
inline std::int32_t int_dot_scalar(const Q* q, const std::uint8_t* code, std::size_t dim) noexcept {
  std::int32_t sum = 0;
  for (std::size_t i = 0; i < dim; ++i) {
    sum += static_cast<std::int32_t>(q[i]) * static_cast<std::int32_t>(code[i]);
  }
  return sum;
}
/// ABI 1.1's int8 kernels (7-bit codes on both sides) and 1.2's code kernels (signed query).
inline std::int32_t int8_dot_scalar(const std::uint8_t* a, const std::uint8_t* b,
                                    std::size_t dim) noexcept {
  return int_dot_scalar(a, b, dim);
}
inline std::int32_t code_dot_scalar(const std::int8_t* q, const std::uint8_t* code,
                                    std::size_t dim) noexcept {
  return int_dot_scalar(q, code, dim);
}

template <class Kernels> struct Table {
  static constexpr std::size_t kGroup = Kernels::kGroup;

  template <class Metric, class T = float, class Out = float, class Q = T>
  static vdb_status pair(const Q* a, const T* b, std::size_t dim, Out* out) noexcept {
    if (a == nullptr || b == nullptr || out == nullptr || dim == 0) {
      return sdk::fail(VDB_ERR_INVALID_ARGUMENT, "distance kernel: null pointer or dim == 0");
    }
    Metric::template run<1>(a, &b, dim, out);
    return VDB_OK;
  }

  template <class Metric, class T = float, class Out = float, class Q = T>
  static vdb_status batch(const Q* query, const T* base, std::size_t stride, std::size_t n,
                          std::size_t dim, Out* out) noexcept {
    if (query == nullptr || out == nullptr || dim == 0 || stride < dim ||
        (base == nullptr && n != 0)) {
      return sdk::fail(VDB_ERR_INVALID_ARGUMENT,
                       "distance batch: null pointer, dim == 0 or stride < dim");
    }
    const T* group[kGroup];
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

  template <class Metric, class T = float, class Out = float, class Q = T>
  static vdb_status gather(const Q* query, const T* const* vectors, std::size_t n, std::size_t dim,
                           Out* out) noexcept {
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
      &pair<typename Kernels::Int8Dot, std::uint8_t, std::int32_t>,
      &batch<typename Kernels::Int8Dot, std::uint8_t, std::int32_t>,
      &gather<typename Kernels::Int8Dot, std::uint8_t, std::int32_t>,
      &pair<typename Kernels::CodeDot, std::uint8_t, std::int32_t, std::int8_t>,
      &batch<typename Kernels::CodeDot, std::uint8_t, std::int32_t, std::int8_t>,
      &gather<typename Kernels::CodeDot, std::uint8_t, std::int32_t, std::int8_t>,
  };
  // clang-format on

  static constexpr vdb_plugin_info info(const char* name, const char* description) noexcept {
    return vdb_plugin_info{sizeof(vdb_plugin_info),
                           VDB_PLUGIN_ABI_MAJOR,
                           VDB_PLUGIN_ABI_MINOR,
                           VDB_PLUGIN_DISTANCE,
                           name,
                           "1.2.0",
                           description,
                           &kApi,
                           nullptr};
  }
};

} // namespace vdb::distance
