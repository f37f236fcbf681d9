#include "core/index/scalar_quantizer.hpp"

#include "core/storage/codec.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

namespace vdb {
namespace {

/// round((x - low) / step) in [lowest, highest]; 0 (or `lowest`, if above 0) when the step is 0.
float code_of(float x, float low, float step, float lowest, float highest) noexcept {
  if (!(step > 0.0F)) {
    return std::clamp(0.0F, lowest, highest);
  }
  return std::clamp(std::round((x - low) / step), lowest, highest);
}

/// The index of the centre nearest to x (the smallest |c|^2 - 2 x.c), given |c|^2 in `norms`;
/// `dots` is scratch space for one dot product per centre.
std::uint32_t nearest(const float* x, const std::vector<float>& centres,
                      const std::vector<float>& norms, std::size_t dim,
                      const DistanceBackend& backend, std::vector<float>& dots) {
  const std::size_t k = norms.size();
  dots.resize(k);
  (void)backend.dot_batch(x, centres.data(), dim, k, dim, dots.data());
  std::uint32_t best = 0;
  float best_distance = norms[0] - 2.0F * dots[0];
  for (std::size_t j = 1; j < k; ++j) {
    const float d = norms[j] - 2.0F * dots[j];
    if (d < best_distance) {
      best_distance = d;
      best = static_cast<std::uint32_t>(j);
    }
  }
  return best;
}

std::vector<float> squared_norms(const std::vector<float>& centres, std::size_t dim,
                                 const DistanceBackend& backend) {
  std::vector<float> out(centres.size() / dim);
  for (std::size_t j = 0; j < out.size(); ++j) {
    out[j] = backend.dot(&centres[j * dim], &centres[j * dim], dim);
  }
  return out;
}

/// k of `points` chosen by k-means++ (each next one with a chance proportional to its squared
/// distance from the nearest one chosen so far), with a fixed seed: the same points give the
/// same centres.
std::vector<float> seed_centres(const std::vector<const float*>& points, std::size_t dim,
                                std::size_t k, const DistanceBackend& backend) {
  std::mt19937_64 gen(0x5eed);
  std::vector<float> centres(k * dim);
  std::vector<double> nearest_distance(points.size(), std::numeric_limits<double>::infinity());
  const float* chosen = points[gen() % points.size()];
  for (std::size_t j = 0; j < k; ++j) {
    std::memcpy(&centres[j * dim], chosen, dim * sizeof(float));
    double total = 0;
    for (std::size_t i = 0; i < points.size(); ++i) {
      const double d = backend.l2sq(points[i], &centres[j * dim], dim);
      nearest_distance[i] = std::min(nearest_distance[i], d);
      total += nearest_distance[i];
    }
    double pick = std::uniform_real_distribution<double>(0.0, total)(gen);
    std::size_t i = 0;
    while (i + 1 < points.size() && pick >= nearest_distance[i]) {
      pick -= nearest_distance[i];
      ++i;
    }
    chosen = points[i];
  }
  return centres;
}

/// Lloyd's k-means over `points`, seeded by k-means++; a centre that loses all its points keeps
/// its place.
std::vector<float> cluster(const std::vector<const float*>& points, std::size_t dim, std::size_t k,
                           const DistanceBackend& backend) {
  constexpr int kRounds = 8;
  std::vector<float> centres = seed_centres(points, dim, k, backend);
  std::vector<double> sums(k * dim);
  std::vector<std::size_t> counts(k);
  std::vector<float> dots;
  for (int round = 0; round < kRounds; ++round) {
    const std::vector<float> norms = squared_norms(centres, dim, backend);
    std::fill(sums.begin(), sums.end(), 0.0);
    std::fill(counts.begin(), counts.end(), 0);
    for (const float* x : points) {
      const std::uint32_t j = nearest(x, centres, norms, dim, backend, dots);
      ++counts[j];
      for (std::size_t d = 0; d < dim; ++d) {
        sums[j * dim + d] += x[d];
      }
    }
    for (std::size_t j = 0; j < k; ++j) {
      for (std::size_t d = 0; counts[j] > 0 && d < dim; ++d) {
        centres[j * dim + d] =
            static_cast<float>(sums[j * dim + d] / static_cast<double>(counts[j]));
      }
    }
  }
  return centres;
}

} // namespace

std::size_t QuantizedVectors::centres_for(std::size_t n, std::size_t dim) noexcept {
  if (n < 4096 || dim == 0) {
    return 0;
  }
  const std::size_t wanted = std::min<std::size_t>({512, n / 128, kCentreValues / dim});
  return wanted < 8 ? 0 : wanted;
}

QuantizedVectors::Model QuantizedVectors::train(const std::vector<const float*>& vectors,
                                                std::size_t dim, double quantile,
                                                const DistanceBackend& backend, std::size_t centres,
                                                std::size_t sample) {
  Model out{{}, std::vector<float>(dim, 0.0F), std::vector<float>(dim, 0.0F)};
  std::vector<const float*> present;
  for (const float* v : vectors) {
    if (v != nullptr) {
      present.push_back(v);
    }
  }
  if (present.empty() || dim == 0) {
    return out;
  }
  // An even spread of vectors over the segment (offsets follow insertion order, so a prefix
  // could be one batch of one kind).
  const std::size_t take = std::min(sample, present.size());
  std::vector<const float*> picked(take);
  for (std::size_t i = 0; i < take; ++i) {
    picked[i] = present[i * present.size() / take];
  }
  if (centres >= 2 && take >= 2 * centres) {
    out.centres = cluster(picked, dim, centres, backend);
  }
  // The sample's residuals, dimension after dimension.
  std::vector<float> residuals(take * dim);
  const std::vector<float> norms =
      out.centres.empty() ? std::vector<float>{} : squared_norms(out.centres, dim, backend);
  std::vector<float> dots;
  for (std::size_t i = 0; i < take; ++i) {
    const float* c = nullptr;
    if (!out.centres.empty()) {
      c = &out.centres[nearest(picked[i], out.centres, norms, dim, backend, dots) * dim];
    }
    for (std::size_t d = 0; d < dim; ++d) {
      residuals[d * take + i] = picked[i][d] - (c != nullptr ? c[d] : 0.0F);
    }
  }
  const double tail = quantile >= 1.0 ? 0.0 : (1.0 - quantile) / 2.0;
  for (std::size_t d = 0; d < dim; ++d) {
    const auto first = residuals.begin() + static_cast<std::ptrdiff_t>(d * take);
    const auto last = first + static_cast<std::ptrdiff_t>(take);
    const auto at = [&](double share) {
      const auto i = std::llround(share * static_cast<double>(take - 1));
      std::nth_element(first, first + i, last);
      return first[i];
    };
    if (tail == 0.0) {
      const auto [lo, hi] = std::minmax_element(first, last);
      out.low[d] = *lo;
      out.high[d] = *hi;
    } else {
      out.low[d] = at(tail);
      out.high[d] = at(1.0 - tail);
    }
  }
  return out;
}

QuantizedVectors::QuantizedVectors(std::size_t dim, Metric metric, Model model,
                                   std::uint32_t levels)
    : dim_(dim), stride_((kHead + dim + 3) / 4 * 4), metric_(metric), levels_(levels),
      model_(std::move(model)), step_(dim, 0.0F) {
  for (std::size_t d = 0; d < dim; ++d) {
    const float range = model_.high[d] - model_.low[d];
    step_[d] = range > 0.0F && std::isfinite(range) ? range / static_cast<float>(levels) : 0.0F;
  }
}

std::unique_ptr<QuantizedVectors> QuantizedVectors::encode(const std::vector<const float*>& vectors,
                                                           std::size_t dim, Metric metric,
                                                           const Model& model,
                                                           const DistanceBackend& backend) {
  if (metric == Metric::l1 || dim == 0 || model.low.size() != dim || model.high.size() != dim ||
      model.centres.size() % dim != 0) {
    return nullptr;
  }
  std::unique_ptr<QuantizedVectors> out(new QuantizedVectors(dim, metric, model));
  out->size_ = vectors.size();
  out->data_ = HugeBuffer<std::uint8_t>(vectors.size() * out->stride_);
  const std::vector<float> norms =
      model.centres.empty() ? std::vector<float>{} : squared_norms(model.centres, dim, backend);
  const auto top = static_cast<float>(kLevels);
  std::vector<float> dots;
  std::vector<float> u(dim);
  for (std::size_t id = 0; id < vectors.size(); ++id) {
    const float* x = vectors[id];
    if (x == nullptr) {
      continue;
    }
    Terms t{0.0F, 0.0F, 0.0F, 0.0F, 0};
    const float* c = nullptr;
    if (!norms.empty()) {
      t.centre = nearest(x, model.centres, norms, dim, backend, dots);
      c = out->centre(t.centre);
    }
    // The residual in units of each dimension's step, then the span this vector's values use.
    double norm = 0;
    for (std::size_t d = 0; d < dim; ++d) {
      const float r = x[d] - (c != nullptr ? c[d] : 0.0F);
      // Not clamped to the bounds: the vector's own stretch below covers whatever it holds.
      u[d] = out->step_[d] > 0.0F ? (r - model.low[d]) / out->step_[d] : 0.0F;
      norm += static_cast<double>(x[d]) * x[d];
    }
    const auto [lo, hi] = std::minmax_element(u.begin(), u.end());
    t.low = *lo;
    t.scale = (*hi - *lo) / top;
    std::uint8_t* r = out->data_.data() + id * out->stride_;
    std::int64_t sum = 0;
    for (std::size_t d = 0; d < dim; ++d) {
      const auto code = static_cast<std::uint8_t>(code_of(u[d], t.low, t.scale, 0.0F, top));
      r[kHead + d] = code;
      sum += code;
    }
    t.sum = static_cast<float>(sum);
    t.norm = static_cast<float>(norm);
    std::memcpy(r, &t, sizeof t);
  }
  out->records_ = out->data_.data();
  return out;
}

QuantizedVectors::Query QuantizedVectors::encode_query(const float* query, bool fine) const {
  Query q;
  q.vector = query;
  q.codes.assign(dim_, 0);
  if (fine) {
    q.fine_codes.assign(dim_, 0);
  }
  q.centre_dots.assign(centre_count(), std::numeric_limits<float>::quiet_NaN());
  // y_i = q_i a_i over its own range [m - 127 b, m + 127 b]: nothing is clipped.
  float lo = 0.0F;
  float hi = 0.0F;
  double base = 0;
  double sum = 0;
  double norm = 0;
  for (std::size_t d = 0; d < dim_; ++d) {
    const float y = query[d] * step_[d];
    lo = d == 0 ? y : std::min(lo, y);
    hi = d == 0 ? y : std::max(hi, y);
    base += static_cast<double>(query[d]) * model_.low[d];
    sum += y;
    norm += static_cast<double>(query[d]) * query[d];
  }
  const float range = hi - lo;
  q.step = range > 0.0F && std::isfinite(range) ? range / 254.0F : 0.0F;
  // With no step every y_i is lo (or the range is not finite): codes 0 and m = lo.
  q.offset = q.step > 0.0F ? lo + range / 2.0F : lo;
  q.base = static_cast<float>(base);
  q.sum = static_cast<float>(sum);
  q.norm = static_cast<float>(norm);
  // The rounding e_i = y_i - (b c'_i + m) multiplies c_i. Its part at the middle code,
  // sum e_i * levels / 2, is the same for every vector and is added exactly; what is left,
  // sum e_i (c_i - levels / 2), is about half as large.
  double rounding = 0;
  for (std::size_t d = 0; d < dim_; ++d) {
    const float y = query[d] * step_[d];
    const float c = code_of(y, q.offset, q.step, -127.0F, 127.0F);
    q.codes[d] = static_cast<std::int8_t>(c);
    const double left = static_cast<double>(y) - (static_cast<double>(q.step) * c + q.offset);
    if (!fine) {
      rounding += left;
      continue;
    }
    // What the first byte left lies within half its step: a second byte on steps of b / 254.
    const float c2 = code_of(static_cast<float>(left), 0.0F, q.step / 254.0F, -127.0F, 127.0F);
    q.fine_codes[d] = static_cast<std::int8_t>(c2);
    rounding += left - static_cast<double>(q.step) / 254.0 * c2;
  }
  q.rounding = static_cast<float>(rounding * levels_ / 2.0);
  return q;
}

void QuantizedVectors::save(std::string& out) const {
  ByteWriter w(out);
  w.put<std::uint64_t>(size_);
  w.put<std::uint64_t>(dim_);
  w.put<std::uint64_t>(centre_count());
  w.put_raw(model_.low.data(), dim_ * sizeof(float));
  w.put_raw(model_.high.data(), dim_ * sizeof(float));
  w.put_raw(model_.centres.data(), model_.centres.size() * sizeof(float));
  w.put_raw(records_, size_ * stride_);
}

Expected<std::unique_ptr<QuantizedVectors>>
QuantizedVectors::load(std::string_view bytes, std::size_t count, std::size_t dim, Metric metric,
                       std::uint32_t format, const std::string& what,
                       std::shared_ptr<const void> owner) {
  ByteReader r(bytes, what);
  if (format < 1 || format > kFormat) {
    return r.corrupt("codes of format " + std::to_string(format) + ", not 1 to " +
                     std::to_string(kFormat));
  }
  auto n = r.get<std::uint64_t>();
  auto d = r.get<std::uint64_t>();
  VDB_TRY(d);
  if (*n != count || *d != dim || metric == Metric::l1 || dim == 0) {
    return r.corrupt("codes for " + std::to_string(*n) + " vectors of " + std::to_string(*d) +
                     " values, the segment has " + std::to_string(count) + " of " +
                     std::to_string(dim));
  }
  std::uint64_t centres = 0;
  if (format >= 3) {
    auto k = r.get<std::uint64_t>();
    VDB_TRY(k);
    if (*k > r.left() / (dim * sizeof(float))) {
      return r.corrupt(std::to_string(*k) + " centres do not fit in the file");
    }
    centres = *k;
  }
  Model model{std::vector<float>(centres * dim), std::vector<float>(dim), std::vector<float>(dim)};
  auto low = r.get_raw(dim * sizeof(float));
  VDB_TRY(low);
  auto high = r.get_raw(dim * sizeof(float));
  VDB_TRY(high);
  auto centre_values = r.get_raw(model.centres.size() * sizeof(float));
  VDB_TRY(centre_values);
  std::memcpy(model.low.data(), low->data(), low->size());
  std::memcpy(model.high.data(), high->data(), high->size());
  if (!model.centres.empty()) { // data() may be null for none
    std::memcpy(model.centres.data(), centre_values->data(), centre_values->size());
  }
  for (std::size_t i = 0; i < dim; ++i) {
    if (!std::isfinite(model.low[i]) || !std::isfinite(model.high[i]) ||
        model.high[i] < model.low[i]) {
      return r.corrupt("the bounds of dimension " + std::to_string(i) + " are not an interval");
    }
  }
  if (!std::all_of(model.centres.begin(), model.centres.end(),
                   [](float x) { return std::isfinite(x); })) {
    return r.corrupt("a centre has a value that is not a finite number");
  }
  const std::uint32_t levels = format >= 2 ? kLevels : kLevelsBefore8Bit;
  std::unique_ptr<QuantizedVectors> out(
      new QuantizedVectors(dim, metric, std::move(model), levels));
  // Before format 3 a record held S_x and |x|^2 (two floats), then the codes.
  const std::size_t stride = format >= 3 ? out->stride_ : (2 * sizeof(float) + dim + 3) / 4 * 4;
  if (r.left() != count * stride) {
    return r.corrupt("the codes are not the size their count says");
  }
  out->size_ = count;
  auto data = r.get_raw(count * stride);
  VDB_TRY(data);
  if (format >= 3 && owner) {
    out->mapped_ = std::move(owner);
    out->records_ = reinterpret_cast<const std::uint8_t*>(data->data());
  } else if (format >= 3) {
    out->data_ = HugeBuffer<std::uint8_t>(data->size());
    if (!data->empty()) { // data() is null for no codes
      std::memcpy(out->data_.data(), data->data(), data->size());
    }
    out->records_ = out->data_.data();
  } else {
    out->data_ = HugeBuffer<std::uint8_t>(count * out->stride_);
    for (std::size_t id = 0; id < count; ++id) {
      const char* old = data->data() + id * stride;
      std::uint8_t* record = out->data_.data() + id * out->stride_;
      Terms t{0.0F, 0.0F, 0.0F, 1.0F, 0};
      std::memcpy(&t, old, 2 * sizeof(float));
      std::memcpy(record, &t, sizeof t);
      std::memcpy(record + kHead, old + 2 * sizeof(float), dim);
    }
    out->records_ = out->data_.data();
  }
  for (std::size_t id = 0; id < count; ++id) {
    const auto at = static_cast<std::uint32_t>(id);
    const std::uint8_t* c = out->codes(at);
    const Terms t = out->terms(at);
    const bool centre_ok = centres == 0 ? t.centre == 0 : t.centre < centres;
    if (std::any_of(c, c + dim, [levels](std::uint8_t x) { return x > levels; }) ||
        !std::isfinite(t.sum) || !std::isfinite(t.norm) || !std::isfinite(t.low) ||
        !std::isfinite(t.scale) || t.scale < 0.0F || !centre_ok) {
      return r.corrupt("vector " + std::to_string(id) + " has a code above " +
                       std::to_string(levels) + " or a bad term");
    }
  }
  return out;
}

} // namespace vdb
