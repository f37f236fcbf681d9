// Scalar int8 quantization of one segment's vectors. Each dimension i has its own bounds
// [low_i, high_i] (the `quantile` interval of that dimension's values in a sample, so one
// outlier does not stretch the range) and its value x_i becomes the unsigned 8-bit code
// c_i = clamp(round((x_i - low_i) / a_i), 0, 255) with a_i = (high_i - low_i) / 255. (Codes
// written before format 2 use 7 bits, 0..127 with a_i = (high_i - low_i) / 127; they are read
// as they are.)
//
// The query is not clipped to those bounds: it is quantized on its own, per search
// (asymmetrically), into signed bytes c'_i in -127..127. With y_i = q_i a_i,
// y_i ~ b c'_i + m (m the middle of the query's own range, b a 254th of it). The distance
// plugins' code kernels multiply those signed query bytes by the unsigned codes exactly (ABI 1.2,
// see plugin_api.h):
//
//   q.x ~ sum q_i (a_i c_i + low_i) = sum y_i c_i + sum q_i low_i
//       ~ b D + m S_x + Q0,  where D = sum c'_i c_i (the int8 kernel), S_x = sum c_i (stored
//                             per vector), Q0 = sum q_i low_i (per query)
//   |q - x|^2 = |q|^2 + |x|^2 - 2 q.x, with |x|^2 the exact norm stored per vector.
//
// Qdrant quantizes with one interval for all dimensions and the query with the vectors' bounds;
// per-dimension bounds and an unclipped query lose less (docs/benchmarks.md measures it).
// Distances are "smaller is closer", like VectorScorer's: dot products are negated. Manhattan has
// no such form and is refused.
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
  /// Per dimension, the bounds of a quantile interval: `quantile` of the dimension's values in
  /// up to `sample` vectors lie inside [low, high], the rest equally below and above (1.0: the
  /// minimum and maximum).
  struct Bounds {
    std::vector<float> low;
    std::vector<float> high;
  };
  static Bounds train(const std::vector<const float*>& vectors, std::size_t dim, double quantile,
                      std::size_t sample = 5000);

  /// Codes for every non-null vector (a null one, a node left out, gets zeros). Manhattan
  /// (Metric::l1) is not supported: nullptr.
  static std::unique_ptr<QuantizedVectors> encode(const std::vector<const float*>& vectors,
                                                  std::size_t dim, Metric metric,
                                                  const Bounds& bounds);

  /// The largest code: 255 (8 bits), or 127 for codes written before 8-bit codes.
  static constexpr std::uint32_t kLevels = 255;
  static constexpr std::uint32_t kLevelsBefore8Bit = 127;

  /// A query quantized for this segment's codes.
  struct Query {
    std::vector<std::int8_t> codes;
    float step = 0;   ///< b
    float offset = 0; ///< m
    float base = 0;   ///< Q0
    float norm = 0;   ///< |q|^2
  };
  Query encode_query(const float* query) const;

  /// The distance (smaller is closer) for the int8 dot product `dot` of the query's codes with
  /// those of vector `id`.
  float distance(std::int32_t dot, const Query& query, std::uint32_t id) const noexcept {
    float head[2];
    std::memcpy(head, record(id), sizeof head);
    const float qx = query.step * static_cast<float>(dot) + query.offset * head[0] + query.base;
    return metric_ == Metric::dot ? -qx : query.norm + head[1] - 2.0F * qx;
  }

  /// Vector `id`'s record: S_x and |x|^2 (two floats), then its codes. One record is one read.
  const std::uint8_t* record(std::uint32_t id) const noexcept {
    return records_ + static_cast<std::size_t>(id) * stride_;
  }
  const std::uint8_t* codes(std::uint32_t id) const noexcept { return record(id) + kHead; }
  std::size_t size() const noexcept { return size_; }
  std::size_t dim() const noexcept { return dim_; }
  Metric metric() const noexcept { return metric_; }
  const Bounds& bounds() const noexcept { return bounds_; }
  /// Bytes held in RAM: codes and their per-vector terms (unless mapped from a file), and the
  /// per-dimension bounds.
  std::size_t memory_bytes() const noexcept { return data_.size() + dim_ * 3 * sizeof(float); }
  /// Bytes of codes read from a mapped file (load() with an owner), 0 when they are in RAM.
  std::size_t mapped_bytes() const noexcept { return mapped_ ? size_ * stride_ : 0; }
  /// Whether the codes are read from a mapped file.
  bool mapped() const noexcept { return mapped_ != nullptr; }

  /// Appends the bounds and records to `out`.
  void save(std::string& out) const;
  /// Codes saved by save(), for `count` vectors of `dim` values, whose largest code is `levels`
  /// (kLevels, or kLevelsBefore8Bit for older files); checked against all three. With an
  /// `owner` (a mapped file holding `bytes`), the codes are read where they lie, and the owner
  /// is kept alive with them; without one they are copied into RAM.
  static Expected<std::unique_ptr<QuantizedVectors>>
  load(std::string_view bytes, std::size_t count, std::size_t dim, Metric metric,
       std::uint32_t levels, const std::string& what, std::shared_ptr<const void> owner = {});

private:
  static constexpr std::size_t kHead = 2 * sizeof(float);
  QuantizedVectors(std::size_t dim, Metric metric, Bounds bounds, std::uint32_t levels = kLevels);

  std::size_t dim_;
  std::size_t stride_; // kHead + dim, rounded up to 4
  std::size_t size_ = 0;
  Metric metric_;
  std::uint32_t levels_; // the largest code
  Bounds bounds_;
  std::vector<float> step_;            // a_i (0 for a dimension whose values are all equal)
  std::vector<std::uint8_t> data_;     // the records, when they are in RAM
  std::shared_ptr<const void> mapped_; // the file holding them otherwise
  const std::uint8_t* records_ = nullptr;
};

/// Distances for HnswGraph::search_with from a query's codes: the distance plugin's code
/// kernel and the per-vector terms.
struct QuantizedDistances {
  const QuantizedVectors* vectors;
  const QuantizedVectors::Query* query;
  const DistanceBackend* backend;

  float to(std::uint32_t node) const noexcept {
    return vectors->distance(
        backend->code_dot(query->codes.data(), vectors->codes(node), vectors->dim()), *query, node);
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
    (void)backend->code_dot_gather(query->codes.data(), codes.data(), n, vectors->dim(),
                                   dots.data());
    for (std::size_t i = 0; i < n; ++i) {
      out[i] = vectors->distance(dots[i], *query, nodes[i]);
    }
  }
};

} // namespace vdb
