// Distances between vectors for graph search, where smaller always means closer: the dot kernel
// negated for Cosine and Dot, L2² for Euclid, L1 for Manhattan. One indirect call per pair into
// the distance plugin's kernel, resolved once here.
#pragma once

#include "core/plugin_host/distance_backend.hpp"

#include <cstddef>

namespace vdb {

enum class Metric { dot, l2sq, l1 };

class VectorScorer {
public:
  VectorScorer(const DistanceBackend& backend, Metric metric, std::size_t dim)
      : backend_(&backend), metric_(metric), dim_(dim), negate_(metric == Metric::dot) {
    const vdb_distance_api& api = backend.api();
    pair_ = metric == Metric::dot ? api.dot : metric == Metric::l2sq ? api.l2sq : api.l1;
    gather_ = metric == Metric::dot    ? api.dot_gather
              : metric == Metric::l2sq ? api.l2sq_gather
                                       : api.l1_gather;
  }

  /// The distance (smaller is closer). Arguments were validated by the caller.
  float operator()(const float* a, const float* b) const noexcept {
    float out = 0.0F;
    pair_(a, b, dim_, &out);
    return negate_ ? -out : out;
  }
  /// Distances from `query` to n vectors, into out[0..n).
  void gather(const float* query, const float* const* vectors, std::size_t n,
              float* out) const noexcept {
    gather_(query, vectors, n, dim_, out);
    if (negate_) {
      for (std::size_t i = 0; i < n; ++i) {
        out[i] = -out[i];
      }
    }
  }

  Metric metric() const noexcept { return metric_; }
  std::size_t dim() const noexcept { return dim_; }
  const DistanceBackend& backend() const noexcept { return *backend_; }

private:
  const DistanceBackend* backend_;
  Metric metric_;
  std::size_t dim_;
  bool negate_;
  vdb_f32_pair_fn pair_ = nullptr;
  vdb_f32_gather_fn gather_ = nullptr;
};

} // namespace vdb
