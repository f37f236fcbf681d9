// Scalar int8 quantization of one segment's vectors: each value x becomes a code
// c = clamp(round((x - offset) / alpha), 0, 127), with offset and alpha from the bounds of the
// values (the `quantile` interval of a sample, so one outlier does not stretch the range). Codes
// use 7 bits: they read the same as signed and unsigned bytes, which is what the distance
// plugins' int8 kernels multiply (see plugin_api.h).
//
// Distances come out of one integer dot product D = sum c_q[i] * c_x[i] and two corrections,
// one stored per vector and one computed per query. With x ~ alpha * c + offset in d dimensions:
//
//   dot:   q.x   ~ alpha^2 D + alpha offset (sum c_q) + [alpha offset (sum c_x) + d offset^2]
//   l2sq: |q-x|^2 ~ alpha^2 (sum c_q^2) + [alpha^2 (sum c_x^2)] - 2 alpha^2 D   (offset cancels)
//
// the bracketed terms being the vector's stored correction. Distances are "smaller is closer",
// like VectorScorer's: the dot product is negated. Manhattan has no such form and is refused.
#pragma once

#include "core/common/error.hpp"
#include "core/index/vector_scorer.hpp"

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace vdb {

class QuantizedVectors {
public:
  /// The bounds of a quantile interval: `quantile` of the values of up to `sample` vectors lie
  /// inside [low, high], the rest equally below and above (1.0: the minimum and maximum).
  struct Bounds {
    float low = 0;
    float high = 0;
  };
  static Bounds train(const std::vector<const float*>& vectors, std::size_t dim, double quantile,
                      std::size_t sample = 5000);

  /// Codes for every non-null vector (a null one, a node left out, gets zeros). Manhattan
  /// (Metric::l1) is not supported: nullptr.
  static std::unique_ptr<QuantizedVectors> encode(const std::vector<const float*>& vectors,
                                                  std::size_t dim, Metric metric, Bounds bounds);

  /// A query's codes and its correction.
  struct Query {
    std::vector<std::uint8_t> codes;
    float correction = 0;
  };
  Query encode_query(const float* query) const;

  /// The distance (smaller is closer) for an integer dot product `dot` of the query's codes
  /// with those of vector `id`.
  float distance(std::int32_t dot, const Query& query, std::uint32_t id) const noexcept {
    const float stored = correction_of(id);
    return metric_ == Metric::dot
               ? -(scale_ * static_cast<float>(dot) + query.correction + stored)
               : query.correction + stored - 2.0F * scale_ * static_cast<float>(dot);
  }

  /// Vector `id`'s record: its correction (a float), then its codes. One record is one read.
  const std::uint8_t* record(std::uint32_t id) const noexcept {
    return data_.data() + static_cast<std::size_t>(id) * stride_;
  }
  const std::uint8_t* codes(std::uint32_t id) const noexcept { return record(id) + 4; }
  float correction_of(std::uint32_t id) const noexcept {
    float c = 0;
    std::memcpy(&c, record(id), sizeof c);
    return c;
  }
  std::size_t size() const noexcept { return size_; }
  std::size_t dim() const noexcept { return dim_; }
  Metric metric() const noexcept { return metric_; }
  Bounds bounds() const noexcept { return {offset_, offset_ + 127.0F * alpha_}; }
  /// Bytes held in RAM: codes and corrections.
  std::size_t memory_bytes() const noexcept { return data_.size(); }

  /// Appends the codes, corrections and parameters to `out`.
  void save(std::string& out) const;
  /// Codes saved by save(), for `count` vectors of `dim` values; checked against both.
  static Expected<std::unique_ptr<QuantizedVectors>> load(std::string_view bytes, std::size_t count,
                                                          std::size_t dim, Metric metric,
                                                          const std::string& what);

private:
  QuantizedVectors(std::size_t dim, Metric metric, Bounds bounds);
  std::uint8_t code(float x) const noexcept;
  /// The stored correction of codes `c`.
  float correction(const std::uint8_t* c) const noexcept;

  std::size_t dim_;
  std::size_t stride_; // 4 + dim, rounded up to 4
  std::size_t size_ = 0;
  Metric metric_;
  float offset_;
  float alpha_;
  float scale_; // alpha^2
  std::vector<std::uint8_t> data_;
};

/// Distances for HnswGraph::search_with from a query's codes: the distance plugin's int8
/// kernel and the corrections.
struct QuantizedDistances {
  const QuantizedVectors* vectors;
  const QuantizedVectors::Query* query;
  const DistanceBackend* backend;

  float to(std::uint32_t node) const noexcept {
    return vectors->distance(
        backend->int8_dot(query->codes.data(), vectors->codes(node), vectors->dim()), *query, node);
  }
  void prefetch(std::uint32_t node) const noexcept {
    const auto* r = reinterpret_cast<const char*>(vectors->record(node));
    __builtin_prefetch(r);
    __builtin_prefetch(r + 64);
  }
  void gather(const std::uint32_t* nodes, std::size_t n, float* out) const noexcept {
    thread_local std::vector<const std::uint8_t*> codes;
    thread_local std::vector<std::int32_t> dots;
    codes.resize(n);
    dots.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      codes[i] = vectors->codes(nodes[i]);
    }
    (void)backend->int8_dot_gather(query->codes.data(), codes.data(), n, vectors->dim(),
                                   dots.data());
    for (std::size_t i = 0; i < n; ++i) {
      out[i] = vectors->distance(dots[i], *query, nodes[i]);
    }
  }
};

} // namespace vdb
