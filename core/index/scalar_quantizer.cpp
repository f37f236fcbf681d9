#include "core/index/scalar_quantizer.hpp"

#include "core/storage/codec.hpp"

#include <algorithm>
#include <cmath>

namespace vdb {
namespace {

/// round((x - low) / step) in [lowest, highest]; `lowest` when the step is 0.
float code_of(float x, float low, float step, float lowest, float highest) noexcept {
  if (!(step > 0.0F)) {
    return lowest;
  }
  return std::clamp(std::round((x - low) / step), lowest, highest);
}

} // namespace

QuantizedVectors::Bounds QuantizedVectors::train(const std::vector<const float*>& vectors,
                                                 std::size_t dim, double quantile,
                                                 std::size_t sample) {
  Bounds out{std::vector<float>(dim, 0.0F), std::vector<float>(dim, 0.0F)};
  std::vector<const float*> present;
  for (const float* v : vectors) {
    if (v != nullptr) {
      present.push_back(v);
    }
  }
  if (present.empty()) {
    return out;
  }
  // An even spread of vectors over the segment (offsets follow insertion order, so a prefix
  // could be one batch of one kind).
  const std::size_t take = std::min(sample, present.size());
  std::vector<float> values(take);
  const double tail = quantile >= 1.0 ? 0.0 : (1.0 - quantile) / 2.0;
  const auto at = [&](double share) {
    const auto i = static_cast<std::size_t>(std::llround(share * static_cast<double>(take - 1)));
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(i), values.end());
    return values[i];
  };
  for (std::size_t d = 0; d < dim; ++d) {
    for (std::size_t i = 0; i < take; ++i) {
      values[i] = present[i * present.size() / take][d];
    }
    if (tail == 0.0) {
      const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
      out.low[d] = *lo;
      out.high[d] = *hi;
    } else {
      out.low[d] = at(tail);
      out.high[d] = at(1.0 - tail);
    }
  }
  return out;
}

QuantizedVectors::QuantizedVectors(std::size_t dim, Metric metric, Bounds bounds,
                                   std::uint32_t levels)
    : dim_(dim), stride_((kHead + dim + 3) / 4 * 4), metric_(metric), levels_(levels),
      bounds_(std::move(bounds)), step_(dim, 0.0F) {
  for (std::size_t d = 0; d < dim; ++d) {
    const float range = bounds_.high[d] - bounds_.low[d];
    step_[d] = range > 0.0F && std::isfinite(range) ? range / static_cast<float>(levels) : 0.0F;
  }
}

std::unique_ptr<QuantizedVectors> QuantizedVectors::encode(const std::vector<const float*>& vectors,
                                                           std::size_t dim, Metric metric,
                                                           const Bounds& bounds) {
  if (metric == Metric::l1 || dim == 0 || bounds.low.size() != dim || bounds.high.size() != dim) {
    return nullptr;
  }
  std::unique_ptr<QuantizedVectors> out(new QuantizedVectors(dim, metric, bounds));
  out->size_ = vectors.size();
  out->data_.assign(vectors.size() * out->stride_, 0);
  for (std::size_t id = 0; id < vectors.size(); ++id) {
    const float* x = vectors[id];
    if (x == nullptr) {
      continue;
    }
    std::uint8_t* r = out->data_.data() + id * out->stride_;
    std::int64_t sum = 0;
    double norm = 0;
    for (std::size_t d = 0; d < dim; ++d) {
      const auto c = static_cast<std::uint8_t>(
          code_of(x[d], out->bounds_.low[d], out->step_[d], 0.0F, static_cast<float>(kLevels)));
      r[kHead + d] = c;
      sum += c;
      norm += static_cast<double>(x[d]) * x[d];
    }
    const float head[2] = {static_cast<float>(sum), static_cast<float>(norm)};
    std::memcpy(r, head, sizeof head);
  }
  out->records_ = out->data_.data();
  return out;
}

QuantizedVectors::Query QuantizedVectors::encode_query(const float* query) const {
  Query q;
  q.codes.assign(dim_, 0);
  // y_i = q_i a_i over its own range [m - 127 b, m + 127 b]: nothing is clipped.
  float lo = 0.0F;
  float hi = 0.0F;
  double base = 0;
  double norm = 0;
  for (std::size_t d = 0; d < dim_; ++d) {
    const float y = query[d] * step_[d];
    lo = d == 0 ? y : std::min(lo, y);
    hi = d == 0 ? y : std::max(hi, y);
    base += static_cast<double>(query[d]) * bounds_.low[d];
    norm += static_cast<double>(query[d]) * query[d];
  }
  const float range = hi - lo;
  q.step = range > 0.0F && std::isfinite(range) ? range / 254.0F : 0.0F;
  q.offset = lo + range / 2.0F;
  q.base = static_cast<float>(base);
  q.norm = static_cast<float>(norm);
  if (!(q.step > 0.0F)) {
    q.offset = lo; // every y_i is lo (or the range is not finite): codes 0 and m = lo
  }
  // The rounding e_i = y_i - (b c'_i + m) multiplies c_i. Its part at the middle code,
  // sum e_i * levels / 2, is the same for every vector and is added here exactly; what is left,
  // sum e_i (c_i - levels / 2), is about half as large.
  double rounding = 0;
  for (std::size_t d = 0; d < dim_; ++d) {
    const float y = query[d] * step_[d];
    const float c = q.step > 0.0F ? code_of(y, q.offset, q.step, -127.0F, 127.0F) : 0.0F;
    q.codes[d] = static_cast<std::int8_t>(c);
    rounding += static_cast<double>(y) - (static_cast<double>(q.step) * c + q.offset);
  }
  q.base = static_cast<float>(base + rounding * levels_ / 2.0);
  return q;
}

void QuantizedVectors::save(std::string& out) const {
  ByteWriter w(out);
  w.put<std::uint64_t>(size_);
  w.put<std::uint64_t>(dim_);
  w.put_raw(bounds_.low.data(), dim_ * sizeof(float));
  w.put_raw(bounds_.high.data(), dim_ * sizeof(float));
  w.put_raw(records_, size_ * stride_);
}

Expected<std::unique_ptr<QuantizedVectors>>
QuantizedVectors::load(std::string_view bytes, std::size_t count, std::size_t dim, Metric metric,
                       std::uint32_t levels, const std::string& what,
                       std::shared_ptr<const void> owner) {
  ByteReader r(bytes, what);
  auto n = r.get<std::uint64_t>();
  auto d = r.get<std::uint64_t>();
  VDB_TRY(d);
  if (*n != count || *d != dim || metric == Metric::l1) {
    return r.corrupt("codes for " + std::to_string(*n) + " vectors of " + std::to_string(*d) +
                     " values, the segment has " + std::to_string(count) + " of " +
                     std::to_string(dim));
  }
  Bounds bounds{std::vector<float>(dim), std::vector<float>(dim)};
  auto low = r.get_raw(dim * sizeof(float));
  auto high = r.get_raw(dim * sizeof(float));
  VDB_TRY(high);
  std::memcpy(bounds.low.data(), low->data(), low->size());
  std::memcpy(bounds.high.data(), high->data(), high->size());
  for (std::size_t i = 0; i < dim; ++i) {
    if (!std::isfinite(bounds.low[i]) || !std::isfinite(bounds.high[i]) ||
        bounds.high[i] < bounds.low[i]) {
      return r.corrupt("the bounds of dimension " + std::to_string(i) + " are not an interval");
    }
  }
  std::unique_ptr<QuantizedVectors> out(
      new QuantizedVectors(dim, metric, std::move(bounds), levels));
  if (r.left() != count * out->stride_) {
    return r.corrupt("the codes are not the size their count says");
  }
  out->size_ = count;
  auto data = r.get_raw(count * out->stride_);
  VDB_TRY(data);
  if (owner) {
    out->mapped_ = std::move(owner);
    out->records_ = reinterpret_cast<const std::uint8_t*>(data->data());
  } else {
    out->data_.assign(data->begin(), data->end());
    out->records_ = out->data_.data();
  }
  for (std::size_t id = 0; id < count; ++id) {
    const std::uint8_t* c = out->codes(static_cast<std::uint32_t>(id));
    float head[2];
    std::memcpy(head, out->record(static_cast<std::uint32_t>(id)), sizeof head);
    if (std::any_of(c, c + dim, [levels](std::uint8_t x) { return x > levels; }) ||
        !std::isfinite(head[0]) || !std::isfinite(head[1])) {
      return r.corrupt("vector " + std::to_string(id) + " has a code above " +
                       std::to_string(levels) + " or a bad term");
    }
  }
  return out;
}

} // namespace vdb
