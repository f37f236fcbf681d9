#include "core/index/scalar_quantizer.hpp"

#include "core/storage/codec.hpp"

#include <algorithm>
#include <cmath>

namespace vdb {

QuantizedVectors::Bounds QuantizedVectors::train(const std::vector<const float*>& vectors,
                                                 std::size_t dim, double quantile,
                                                 std::size_t sample) {
  std::vector<const float*> present;
  for (const float* v : vectors) {
    if (v != nullptr) {
      present.push_back(v);
    }
  }
  if (present.empty()) {
    return {0.0F, 0.0F};
  }
  // An even spread of vectors over the segment (offsets follow insertion order, so a prefix
  // could be one batch of one kind).
  const std::size_t take = std::min(sample, present.size());
  std::vector<float> values;
  values.reserve(take * dim);
  for (std::size_t i = 0; i < take; ++i) {
    const float* v = present[i * present.size() / take];
    values.insert(values.end(), v, v + dim);
  }
  if (quantile >= 1.0) {
    const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
    return {*lo, *hi};
  }
  const double tail = (1.0 - quantile) / 2.0;
  const auto at = [&](double share) {
    const auto i = static_cast<std::size_t>(share * static_cast<double>(values.size() - 1));
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(i), values.end());
    return values[i];
  };
  const float low = at(tail);
  const float high = at(1.0 - tail);
  return {low, high};
}

QuantizedVectors::QuantizedVectors(std::size_t dim, Metric metric, Bounds bounds)
    : dim_(dim), stride_((dim + 4 + 3) / 4 * 4), metric_(metric), offset_(bounds.low) {
  const float range = bounds.high - bounds.low;
  // Every value equal: any step maps them to code 0, which decodes to them exactly.
  alpha_ = range > 0.0F && std::isfinite(range) ? range / 127.0F : 1.0F;
  scale_ = alpha_ * alpha_;
}

std::uint8_t QuantizedVectors::code(float x) const noexcept {
  const float c = std::round((x - offset_) / alpha_);
  return static_cast<std::uint8_t>(std::clamp(c, 0.0F, 127.0F));
}

float QuantizedVectors::correction(const std::uint8_t* c) const noexcept {
  std::int64_t sum = 0;
  std::int64_t squares = 0;
  for (std::size_t i = 0; i < dim_; ++i) {
    sum += c[i];
    squares += std::int64_t{c[i]} * c[i];
  }
  if (metric_ == Metric::dot) {
    return alpha_ * offset_ * static_cast<float>(sum) +
           static_cast<float>(dim_) * offset_ * offset_;
  }
  return scale_ * static_cast<float>(squares);
}

std::unique_ptr<QuantizedVectors> QuantizedVectors::encode(const std::vector<const float*>& vectors,
                                                           std::size_t dim, Metric metric,
                                                           Bounds bounds) {
  if (metric == Metric::l1 || dim == 0) {
    return nullptr;
  }
  std::unique_ptr<QuantizedVectors> out(new QuantizedVectors(dim, metric, bounds));
  out->size_ = vectors.size();
  out->data_.assign(vectors.size() * out->stride_, 0);
  for (std::size_t id = 0; id < vectors.size(); ++id) {
    if (vectors[id] == nullptr) {
      continue;
    }
    std::uint8_t* r = out->data_.data() + id * out->stride_;
    for (std::size_t i = 0; i < dim; ++i) {
      r[4 + i] = out->code(vectors[id][i]);
    }
    const float c = out->correction(r + 4);
    std::memcpy(r, &c, sizeof c);
  }
  return out;
}

QuantizedVectors::Query QuantizedVectors::encode_query(const float* query) const {
  Query q;
  q.codes.resize(dim_);
  std::int64_t sum = 0;
  std::int64_t squares = 0;
  for (std::size_t i = 0; i < dim_; ++i) {
    q.codes[i] = code(query[i]);
    sum += q.codes[i];
    squares += std::int64_t{q.codes[i]} * q.codes[i];
  }
  q.correction = metric_ == Metric::dot ? alpha_ * offset_ * static_cast<float>(sum)
                                        : scale_ * static_cast<float>(squares);
  return q;
}

void QuantizedVectors::save(std::string& out) const {
  ByteWriter w(out);
  w.put(offset_);
  w.put(alpha_);
  w.put<std::uint64_t>(size_);
  w.put<std::uint64_t>(dim_);
  w.put_raw(data_.data(), data_.size());
}

Expected<std::unique_ptr<QuantizedVectors>> QuantizedVectors::load(std::string_view bytes,
                                                                   std::size_t count,
                                                                   std::size_t dim, Metric metric,
                                                                   const std::string& what) {
  ByteReader r(bytes, what);
  auto offset = r.get<float>();
  auto alpha = r.get<float>();
  auto n = r.get<std::uint64_t>();
  auto d = r.get<std::uint64_t>();
  VDB_TRY(d);
  if (*n != count || *d != dim || metric == Metric::l1) {
    return r.corrupt("codes for " + std::to_string(*n) + " vectors of " + std::to_string(*d) +
                     " values, the segment has " + std::to_string(count) + " of " +
                     std::to_string(dim));
  }
  if (!std::isfinite(*offset) || !std::isfinite(*alpha) || !(*alpha > 0.0F)) {
    return r.corrupt("quantization bounds are not finite numbers");
  }
  std::unique_ptr<QuantizedVectors> out(
      new QuantizedVectors(dim, metric, Bounds{*offset, *offset + 127.0F * *alpha}));
  if (r.left() != count * out->stride_) {
    return r.corrupt("the codes are not the size their count says");
  }
  out->alpha_ = *alpha;
  out->scale_ = *alpha * *alpha;
  out->size_ = count;
  auto data = r.get_raw(count * out->stride_);
  VDB_TRY(data);
  out->data_.assign(data->begin(), data->end());
  for (std::size_t id = 0; id < count; ++id) {
    const std::uint8_t* c = out->codes(static_cast<std::uint32_t>(id));
    if (std::any_of(c, c + dim, [](std::uint8_t x) { return x > 127; }) ||
        !std::isfinite(out->correction_of(static_cast<std::uint32_t>(id)))) {
      return r.corrupt("vector " + std::to_string(id) +
                       " has a code above 127 or a bad correction");
    }
  }
  return out;
}

} // namespace vdb
