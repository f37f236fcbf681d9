// Scalar int8 quantization of one segment's vectors, coded as residuals of their nearest
// centre. Training clusters a sample of the vectors (k-means, up to 512 centres) and each vector
// x is written as its centre c plus a residual r = x - c. The residuals are what is quantized,
// in two steps:
//
// - Per dimension, bounds [low_i, high_i] (the `quantile` interval of that dimension's residuals
//   in a sample, so one outlier does not stretch the range) map r_i to u_i = (r_i - low_i) / a_i
//   with a_i = (high_i - low_i) / 255: the bounds put the dimensions on one scale.
// - Per vector, its own u values span [l, l + 255 s]: the codes are c_i = round((u_i - l) / s),
//   0..255. A vector whose values lie close together gets finer steps than the dimensions'
//   bounds alone would give it (s < 1), and nothing is clipped: a value outside the bounds
//   coarsens the steps of its own vector only (s > 1), where clamping it to the bounds would
//   err by its whole distance to them. In a few hundred dimensions most vectors hold some value
//   outside a 0.99 interval, and on Fashion-MNIST clamping those cost 0.04 of recall.
//
// So x_i ~ cen_i + low_i + a_i (l + s c_i). Residuals of tight clusters span a fraction of the
// data's range, and the per-vector stretch takes a fraction of what is left: on the synthetic
// benchmark set the step is about a fifth of plain per-dimension codes' (docs/benchmarks.md).
// Codes written before format 3 have no centres (c = 0) and no stretch (l = 0, s = 1); those of
// format 1 use 7 bits, 0..127, with a_i = (high_i - low_i) / 127. They are read as they are.
//
// The query is not clipped: it is quantized on its own, per search (asymmetrically), into signed
// bytes c'_i in -127..127. With y_i = q_i a_i, y_i ~ b c'_i + m (m the middle of the query's own
// range, b a 254th of it), and a second byte per value holds what the first left, on steps of
// b / 254: y_i ~ b (c'_i + c''_i / 254) + m. So the query's rounding errs about 250 times less
// than the codes', for a second kernel call on codes already in cache. A search that rescores
// its candidates on the originals skips the second byte (c''_i = 0). The distance plugins' code
// kernels multiply signed query bytes by the unsigned codes exactly (ABI 1.2, see plugin_api.h):
//
//   q.x ~ q.cen + sum q_i low_i + l sum y_i + s sum y_i c_i
//   sum y_i c_i ~ b D + m S_x + E,  where D = sum c'_i c_i + sum c''_i c_i / 254 (the code
//                                   kernel, twice), S_x = sum c_i (stored per vector), E the
//                                   query's rounding at the middle code
//   |q - x|^2 = |q|^2 + |x|^2 - 2 q.x, with |x|^2 the exact norm stored per vector.
//
// q.cen is a float dot product, computed once per query for each centre the search meets.
// Qdrant quantizes with one interval for all dimensions and the query with the vectors' bounds;
// centres, per-dimension bounds and an unclipped query lose less. Distances are "smaller is
// closer", like VectorScorer's: dot products are negated. Manhattan has no such form and is
// refused.
#pragma once

#include "core/common/error.hpp"
#include "core/common/huge_buffer.hpp"
#include "core/index/vector_scorer.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace vdb {

class QuantizedVectors {
public:
  /// What training found: the centres (row after row) and, per dimension, the bounds of a
  /// quantile interval of the residuals.
  struct Model {
    std::vector<float> centres; ///< count x dim; empty: vectors are coded as they are
    std::vector<float> low;
    std::vector<float> high;
    std::size_t centre_count(std::size_t dim) const noexcept {
      return dim == 0 ? 0 : centres.size() / dim;
    }
  };
  /// Clusters up to `sample` vectors into `centres` centres (0 or 1: none), then bounds the
  /// residuals of those vectors per dimension: `quantile` of each dimension's values lie inside
  /// [low, high], the rest equally below and above (1.0: the minimum and maximum).
  static Model train(const std::vector<const float*>& vectors, std::size_t dim, double quantile,
                     const DistanceBackend& backend, std::size_t centres,
                     std::size_t sample = 32768);
  /// The number of centres training uses for a segment of `n` vectors of `dim` values: one per
  /// 128 vectors, at most 512 and at most kCentreValues values in all (so that a query's dot
  /// products with them stay cheap and the centres stay in cache from one query to the next);
  /// none below 4096 vectors or when fewer than 8 would fit.
  static std::size_t centres_for(std::size_t n, std::size_t dim) noexcept;
  static constexpr std::size_t kCentreValues = 262144; // 1 MiB of centres

  /// Codes for every non-null vector (a null one, a node left out, gets zeros). Manhattan
  /// (Metric::l1) is not supported: nullptr.
  static std::unique_ptr<QuantizedVectors> encode(const std::vector<const float*>& vectors,
                                                  std::size_t dim, Metric metric,
                                                  const Model& model,
                                                  const DistanceBackend& backend);

  /// The largest code: 255 (8 bits), or 127 for codes written before 8-bit codes.
  static constexpr std::uint32_t kLevels = 255;
  static constexpr std::uint32_t kLevelsBefore8Bit = 127;
  /// The layout save() writes; load() reads it and the two before it (see the top).
  static constexpr std::uint32_t kFormat = 3;

  /// A query quantized for this segment's codes.
  struct Query {
    const float* vector = nullptr; ///< the query itself, for its dot products with the centres
    std::vector<std::int8_t> codes;
    std::vector<std::int8_t> fine_codes; ///< c''_i; empty for a one-byte query
    float step = 0;                      ///< b
    float offset = 0;                    ///< m
    float rounding = 0;                  ///< E
    float sum = 0;                       ///< sum y_i
    float base = 0;                      ///< sum q_i low_i
    float norm = 0;                      ///< |q|^2
    /// q.cen per centre, NaN until the search meets the centre.
    std::vector<float> centre_dots;
  };
  /// The query's codes: two bytes per value when `fine`, else one (for candidates that are
  /// rescored on the originals anyway, at half the kernel work).
  Query encode_query(const float* query, bool fine = true) const;

  /// Vector `id`'s terms, stored ahead of its codes.
  struct Terms {
    float sum;   ///< S_x
    float norm;  ///< |x|^2
    float low;   ///< l
    float scale; ///< s
    std::uint32_t centre;
  };
  Terms terms(std::uint32_t id) const noexcept {
    Terms t;
    std::memcpy(&t, record(id), sizeof t);
    return t;
  }

  /// The distance (smaller is closer) for D, the dot product of the query's codes with those
  /// of a vector whose terms are `t`, and `centre_dot`, q.cen of its centre.
  float distance(float dot, const Query& query, const Terms& t, float centre_dot) const noexcept {
    const float qx = t.scale * (query.step * dot + query.offset * t.sum + query.rounding) +
                     t.low * query.sum + query.base + centre_dot;
    return metric_ == Metric::dot ? -qx : query.norm + t.norm - 2.0F * qx;
  }

  /// Vector `id`'s record: its terms, then its codes. One record is one read.
  const std::uint8_t* record(std::uint32_t id) const noexcept {
    return records_ + static_cast<std::size_t>(id) * stride_;
  }
  const std::uint8_t* codes(std::uint32_t id) const noexcept { return record(id) + kHead; }
  /// Centre j's values.
  const float* centre(std::uint32_t j) const noexcept { return model_.centres.data() + j * dim_; }
  std::size_t centre_count() const noexcept { return model_.centre_count(dim_); }
  std::size_t size() const noexcept { return size_; }
  std::size_t dim() const noexcept { return dim_; }
  /// Bytes from one record to the next.
  std::size_t stride() const noexcept { return stride_; }
  Metric metric() const noexcept { return metric_; }
  const Model& model() const noexcept { return model_; }
  /// The step of dimension i's codes for vector `id`: a_i s.
  float step(std::uint32_t id, std::size_t i) const noexcept { return step_[i] * terms(id).scale; }
  /// Bytes held in RAM: codes and their per-vector terms (unless mapped from a file), the
  /// centres and the per-dimension bounds.
  std::size_t memory_bytes() const noexcept {
    return data_.size() + (model_.centres.size() + dim_ * 3) * sizeof(float);
  }
  /// Bytes of codes read from a mapped file (load() with an owner), 0 when they are in RAM.
  std::size_t mapped_bytes() const noexcept { return mapped_ ? size_ * stride_ : 0; }
  /// Whether the codes are read from a mapped file.
  bool mapped() const noexcept { return mapped_ != nullptr; }

  /// Appends the model and records to `out`, in format kFormat.
  void save(std::string& out) const;
  /// Codes saved by save() in `format` (1 to kFormat), for `count` vectors of `dim` values;
  /// checked against all of it. With an `owner` (a mapped file holding `bytes`), codes of format
  /// kFormat are read where they lie, and the owner is kept alive with them; older formats and
  /// loads without an owner are copied into RAM.
  static Expected<std::unique_ptr<QuantizedVectors>>
  load(std::string_view bytes, std::size_t count, std::size_t dim, Metric metric,
       std::uint32_t format, const std::string& what, std::shared_ptr<const void> owner = {});

private:
  static constexpr std::size_t kHead = sizeof(Terms);
  static_assert(kHead == 20, "the terms are five 4-byte values");
  QuantizedVectors(std::size_t dim, Metric metric, Model model, std::uint32_t levels = kLevels);

  std::size_t dim_;
  std::size_t stride_; // kHead + dim, rounded up to 4
  std::size_t size_ = 0;
  Metric metric_;
  std::uint32_t levels_; // the largest code
  Model model_;
  std::vector<float> step_;            // a_i (0 for a dimension whose values are all equal)
  HugeBuffer<std::uint8_t> data_;      // the records, when they are in RAM
  std::shared_ptr<const void> mapped_; // the file holding them otherwise
  const std::uint8_t* records_ = nullptr;
};

/// Distances for HnswGraph::search_with from a query's codes: the distance plugin's code
/// kernel, the per-vector terms and the query's dot products with the centres (computed when a
/// centre is first met).
struct QuantizedDistances {
  const QuantizedVectors* vectors;
  QuantizedVectors::Query* query;
  const DistanceBackend* backend;

  float to(std::uint32_t node) const noexcept {
    const std::uint8_t* codes = vectors->codes(node);
    const std::size_t dim = vectors->dim();
    const std::int32_t coarse = backend->code_dot(query->codes.data(), codes, dim);
    const std::int32_t fine =
        query->fine_codes.empty() ? 0 : backend->code_dot(query->fine_codes.data(), codes, dim);
    return score(coarse, fine, node);
  }
  void prefetch(std::uint32_t node) const noexcept {
    const auto* r = reinterpret_cast<const char*>(vectors->record(node));
    const std::size_t last = vectors->stride() - 1;
    for (std::size_t at = 0; at < last; at += 64) {
      __builtin_prefetch(r + at);
    }
    __builtin_prefetch(r + last); // the record need not start a cache line
  }
  /// No look-ahead (HnswGraph::search_with): it made searches on codes no faster.
  bool look_ahead() const noexcept { return false; }
  void gather(const std::uint32_t* nodes, std::size_t n, float* out) const noexcept {
    thread_local std::vector<const std::uint8_t*> codes;
    thread_local std::vector<std::int32_t> dots;
    thread_local std::vector<std::int32_t> fine;
    codes.resize(n);
    dots.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      codes[i] = vectors->codes(nodes[i]);
    }
    const std::size_t dim = vectors->dim();
    (void)backend->code_dot_gather(query->codes.data(), codes.data(), n, dim, dots.data());
    const bool two_bytes = !query->fine_codes.empty(); // one byte: rescored queries
    if (two_bytes) {
      fine.resize(n);
      (void)backend->code_dot_gather(query->fine_codes.data(), codes.data(), n, dim, fine.data());
    }
    for (std::size_t i = 0; i < n; ++i) {
      out[i] = score(dots[i], two_bytes ? fine[i] : 0, nodes[i]);
    }
  }

private:
  /// The distance for the kernel's dot products of the query's first and second bytes.
  float score(std::int32_t coarse, std::int32_t fine, std::uint32_t node) const noexcept {
    const float dot = static_cast<float>(coarse) + static_cast<float>(fine) / 254.0F;
    const QuantizedVectors::Terms t = vectors->terms(node);
    float centre_dot = 0.0F;
    if (!query->centre_dots.empty()) {
      float& known = query->centre_dots[t.centre];
      if (std::isnan(known)) {
        known = backend->dot(query->vector, vectors->centre(t.centre), vectors->dim());
      }
      centre_dot = known;
    }
    return vectors->distance(dot, *query, t, centre_dot);
  }
};

} // namespace vdb
