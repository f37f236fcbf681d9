#include "core/engine/segment.hpp"

#include "core/common/log.hpp"
#include "core/engine/engine_context.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <functional>
#include <random>

namespace vdb {
namespace {

// How a payload is kept: an empty one as null, which costs no allocation (payload_at shows it as
// the empty object it was).
Json stored_payload(Json payload) {
  if (payload.is_object() && payload.empty()) {
    return Json();
  }
  return payload;
}

constexpr std::size_t kScoreBlock = 256;
// A filtered graph search that accepted less than this share of p (the filter's share of all
// points) among the points it checked found the matches away from the query.
constexpr double kAnticorrelated = 0.7;
// Points the planner samples when the estimate straddles full_scan_threshold.
constexpr std::uint64_t kSamples = 1000;
// What scoring a vector in a graph search costs against scoring one in a scan (a read of its
// links and heap updates on top of the same gather).
constexpr double kVisitCost = 4.0;
// A filtered graph search on a linked key searches among the matches only, following the
// payload-aware links, when the filter leaves a node fewer than this many matching links of its
// own (p x 2m) on average. A broader filter stays connected through the main graph, where the
// extra links would only add vectors to score (measured on the 200k x 128 set: a 50% filter
// ran at 0.4x the speed with them).
constexpr double kBlockLinksBelow = 8.0;
// Where a search of a graph with payload-aware links only (m = 0) starts: the closest
// kBlockStarts of kStartSamples matches. vdb-bench's tenant suite on Fashion-MNIST (10 tenants
// of 6,000 points, docs/benchmarks.md): 2,900 QPS, against 2,580 from the first 8 matches in
// offset order (with per-point keyword checks too, changed at the same time); all 64 samples
// as starts, or the closest 8 of 256, were slower. (Since then the samples are found faster:
// about 5,000 QPS.)
constexpr std::size_t kBlockStarts = 8;
constexpr std::size_t kStartSamples = 64;

// Whether `filter` has a top-level `must` condition on a key whose values were linked
// (HnswGraph::block_keys) that matches one value, or with `ranges` also a range: every match
// then shares a linked value with the graph's other matches. One value's matches are one
// block; a range may span several, which a graph of payload-aware links only does not join
// (measured: recall 0.9365 on a cluster-tied 10% range of the 200k x 128 set).
bool must_on_linked_key(const Filter& filter, const std::vector<std::string>& keys, bool ranges) {
  for (const Condition& c : filter.must) {
    const auto* field = std::get_if<FieldCondition>(&c.value);
    if (field == nullptr ||
        std::find(keys.begin(), keys.end(), field->key.to_string()) == keys.end()) {
      continue;
    }
    if (std::holds_alternative<MatchValue>(field->test) ||
        (ranges && (std::holds_alternative<NumericRange>(field->test) ||
                    std::holds_alternative<DatetimeRange>(field->test)))) {
      return true;
    }
  }
  return false;
}

// The fewest points a block needs to get payload-aware links (as Qdrant: a quarter of
// full_scan_threshold's points).
std::uint64_t linked_block_points(std::uint64_t full_scan_points, std::uint32_t payload_m) {
  return std::max<std::uint64_t>(full_scan_points / 4, 2ULL * payload_m);
}

Metric metric_of(Distance d) {
  switch (d) {
  case Distance::cosine:
  case Distance::dot:
    return Metric::dot;
  case Distance::euclid:
    return Metric::l2sq;
  case Distance::manhattan:
    return Metric::l1;
  }
  return Metric::dot;
}

// Keeps the best k hits in a heap whose front is the worst kept; ties go to the smaller id.
class TopK {
public:
  TopK(std::size_t k, const Segment& segment) : k_(k), better_{&segment} {
    heap_.reserve(std::min<std::size_t>(k, 1024));
  }
  void push(SegmentHit hit) {
    if (heap_.size() < k_) {
      heap_.push_back(hit);
      std::push_heap(heap_.begin(), heap_.end(), better_);
    } else if (k_ != 0 && better_(hit, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), better_);
      heap_.back() = hit;
      std::push_heap(heap_.begin(), heap_.end(), better_);
    }
  }
  std::vector<SegmentHit> take() {
    std::sort(heap_.begin(), heap_.end(), better_);
    return std::move(heap_);
  }

private:
  struct Better {
    const Segment* segment;
    bool operator()(const SegmentHit& a, const SegmentHit& b) const {
      if (a.key != b.key) {
        return a.key > b.key;
      }
      return segment->id_at(a.offset) < segment->id_at(b.offset);
    }
  };
  std::size_t k_;
  Better better_;
  std::vector<SegmentHit> heap_;
};

} // namespace

float ScoreRule::score(float raw) const noexcept {
  return distance == Distance::euclid ? std::sqrt(std::max(raw, 0.0F)) : raw;
}

void normalize(std::vector<float>& v) {
  // Eight partial sums, so the compiler can keep them in vector registers (a single sum is one
  // long chain of dependent additions).
  constexpr std::size_t kLanes = 8;
  double lanes[kLanes] = {};
  const std::size_t whole = v.size() / kLanes * kLanes;
  for (std::size_t i = 0; i < whole; i += kLanes) {
    for (std::size_t l = 0; l < kLanes; ++l) {
      lanes[l] += static_cast<double>(v[i + l]) * v[i + l];
    }
  }
  double norm = 0;
  for (std::size_t i = whole; i < v.size(); ++i) {
    norm += static_cast<double>(v[i]) * v[i];
  }
  for (const double lane : lanes) {
    norm += lane;
  }
  norm = std::sqrt(norm);
  // A vector already of unit length (one normalized before: copied by a merge or moved by a
  // vector update) is left bit for bit as it is; dividing again would drift its last bits.
  if (norm > 1e-30 && std::fabs(norm - 1.0) > 1e-5) {
    for (float& x : v) {
      x = static_cast<float>(x / norm);
    }
  }
}

Expected<std::unique_ptr<Segment>> Segment::create(std::uint64_t id, const CollectionConfig& config,
                                                   const EngineContext& context) {
  std::unique_ptr<Segment> s(new Segment(id, context));
  for (const auto& [name, params] : config.vectors) {
    RecordStoreOptions options;
    options.record_size = static_cast<std::uint64_t>(params.size) * sizeof(float);
    auto store = RecordStore::open(context.vector_storage, options);
    VDB_TRY(store);
    s->columns_[name] = VectorColumn{params,
                                     params.hnsw_config.value_or(config.hnsw_config),
                                     std::move(*store),
                                     {},
                                     {},
                                     false,
                                     params.quantization_config ? params.quantization_config
                                                                : config.quantization_config,
                                     nullptr};
  }
  return s;
}

std::optional<PointOffset> Segment::offset_of(const PointId& id) const {
  if (appendable_) {
    const auto it = offsets_.find(id);
    if (it == offsets_.end()) {
      return std::nullopt;
    }
    return it->second;
  }
  const std::size_t at = sorted_lower_bound(id);
  if (at == sorted_offsets_.size() || !(ids_[sorted_offsets_[at]] == id) ||
      !live_.contains(sorted_offsets_[at])) {
    return std::nullopt;
  }
  return sorted_offsets_[at];
}

std::size_t Segment::sorted_lower_bound(const PointId& id) const noexcept {
  const auto it = std::lower_bound(
      sorted_offsets_.begin(), sorted_offsets_.end(), id,
      [this](PointOffset offset, const PointId& key) { return ids_[offset] < key; });
  return static_cast<std::size_t>(it - sorted_offsets_.begin());
}

void Segment::seal() {
  appendable_ = false;
  ++changes_;
  sorted_offsets_.clear();
  sorted_offsets_.reserve(offsets_.size());
  for (const auto& [id, offset] : offsets_) {
    sorted_offsets_.push_back(offset);
  }
  offsets_.clear();
  ids_.shrink_to_fit();
  payloads_.shrink_to_fit();
  versions_.shrink_to_fit();
  for (auto& [name, column] : columns_) {
    column.pointers.shrink_to_fit();
  }
}

Segment::IdCursor Segment::ids_from(const PointId* from) const {
  IdCursor cursor(*this);
  if (appendable_) {
    cursor.in_map_ = from != nullptr ? offsets_.lower_bound(*from) : offsets_.begin();
  } else {
    cursor.in_sorted_ = from != nullptr ? sorted_lower_bound(*from) : 0;
  }
  cursor.settle();
  return cursor;
}

void Segment::IdCursor::settle() noexcept {
  const Segment& s = *segment_;
  if (s.appendable_) {
    valid_ = in_map_ != s.offsets_.end();
    offset_ = valid_ ? in_map_->second : 0;
    return;
  }
  while (in_sorted_ < s.sorted_offsets_.size() &&
         !s.live_.contains(s.sorted_offsets_[in_sorted_])) {
    ++in_sorted_;
  }
  valid_ = in_sorted_ < s.sorted_offsets_.size();
  offset_ = valid_ ? s.sorted_offsets_[in_sorted_] : 0;
}

void Segment::IdCursor::next() noexcept {
  if (segment_->appendable_) {
    ++in_map_;
  } else {
    ++in_sorted_;
  }
  settle();
}

Status Segment::write_vector(VectorColumn& column, PointOffset offset,
                             const std::vector<float>& v) {
  std::vector<float> stored = v;
  if (column.params.distance == Distance::cosine) {
    normalize(stored);
  }
  // Records past the used ones may exist after a failed write; overwrite them.
  if (offset < column.store->count()) {
    VDB_TRY(column.store->overwrite(offset, stored.data()));
  } else {
    VDB_TRY(column.store->append(stored.data()));
  }
  if (column.pointers.size() <= offset) {
    auto record = column.store->get(offset);
    VDB_TRY(record);
    column.pointers.resize(static_cast<std::size_t>(offset) + 1, nullptr);
    column.pointers[offset] = static_cast<const float*>(*record);
  }
  column.present.add(offset);
  return {};
}

Expected<PointOffset> Segment::append(const PointStruct& point, std::uint64_t version) {
  if (ids_.size() >= std::numeric_limits<PointOffset>::max()) {
    return Error{Errc::out_of_range, "points: a segment holds at most 2^32-1 point slots"};
  }
  const auto offset = static_cast<PointOffset>(ids_.size());
  ++changes_;
  ids_.push_back(point.id);
  payloads_.emplace_back();
  versions_.push_back(version);
  VDB_TRY(replace(offset, point, version));
  return offset;
}

Status Segment::replace(PointOffset offset, const PointStruct& point, std::uint64_t version) {
  ++changes_;
  for (auto& [name, column] : columns_) {
    const auto v = point.vectors.find(name);
    if (v != point.vectors.end()) {
      VDB_TRY(write_vector(column, offset, v->second));
    } else {
      if (offset >= column.store->count()) {
        VDB_TRY(write_vector(column, offset, std::vector<float>(column.params.size, 0.0F)));
      }
      column.present.remove(offset);
    }
  }
  payloads_[offset] = stored_payload(point.payload);
  versions_[offset] = version;
  if (appendable_) {
    offsets_[point.id] = offset;
  }
  live_.add(offset);
  payload_index_.set(offset, payloads_[offset]);
  return {};
}

Status Segment::write_vectors(PointOffset offset, const NamedVectors& vectors,
                              std::uint64_t version) {
  ++changes_;
  for (const auto& [name, v] : vectors) {
    VDB_TRY(write_vector(columns_.at(name), offset, v));
  }
  versions_[offset] = version;
  return {};
}

void Segment::set_payload(PointOffset offset, Json payload, std::uint64_t version) {
  ++changes_;
  Json& slot = payload_file_ ? payload_edits_[offset] : payloads_[offset];
  slot = stored_payload(std::move(payload));
  versions_[offset] = version;
  payload_index_.set(offset, slot);
}

void Segment::remove(PointOffset offset) {
  ++changes_;
  if (appendable_) {
    offsets_.erase(ids_[offset]);
  }
  live_.remove(offset);
  payload_index_.remove(offset);
  (payload_file_ ? payload_edits_[offset] : payloads_[offset]) = Json();
  for (auto& [name, column] : columns_) {
    column.present.remove(offset);
  }
}

NamedVectors Segment::vectors_of(PointOffset offset, const VectorSelector& selector) const {
  NamedVectors out;
  const auto add = [&](const std::string& name, const VectorColumn& column) {
    if (!column.present.contains(offset)) {
      return;
    }
    if (auto record = column.store->get(offset)) {
      const auto* v = static_cast<const float*>(*record);
      out[name] = std::vector<float>(v, v + column.params.size);
    }
  };
  if (selector.all) {
    for (const auto& [name, column] : columns_) {
      add(name, column);
    }
  } else {
    for (const std::string& name : selector.names) {
      add(name, columns_.at(name));
    }
  }
  return out;
}

std::uint64_t Segment::vector_bytes() const noexcept {
  std::uint64_t bytes = 0;
  for (const auto& [name, column] : columns_) {
    bytes += column.present.cardinality() * column.params.size * sizeof(float);
  }
  return bytes;
}

std::vector<SegmentHit> Segment::exact(const VectorColumn& column, const SegmentSearch& request,
                                       const FilterPlan& plan) const {
  const VectorScorer scorer(context_.distance, metric_of(column.params.distance),
                            column.params.size);
  const QuantizedVectors* codes = codes_for(column, request);
  std::optional<QuantizedVectors::Query> coded;
  std::optional<QuantizedDistances> quantized;
  if (codes != nullptr) {
    coded = codes->encode_query(request.query, !rescores(request));
    quantized = QuantizedDistances{codes, &*coded, &context_.distance};
  }
  TopK top(codes != nullptr ? oversampled(request.k, request) : request.k, *this);
  const float* block[kScoreBlock];
  PointOffset offsets[kScoreBlock];
  float distances[kScoreBlock];
  std::size_t n = 0;
  const auto flush = [&] {
    if (quantized) {
      quantized->gather(offsets, n, distances);
    } else {
      scorer.gather(request.query, block, n, distances);
    }
    for (std::size_t i = 0; i < n; ++i) {
      top.push({-distances[i], offsets[i]});
    }
    n = 0;
  };
  const auto add = [&](PointOffset offset) {
    block[n] = column.pointers[offset];
    offsets[n] = offset;
    if (++n == kScoreBlock) {
      flush();
    }
  };
  if (const Bitmap* matches = plan.exact()) {
    // Every candidate matches: one intersection instead of checks per point. The offsets are
    // read a block at a time, so the loads of their vector addresses overlap.
    const auto add_all = [&](const Bitmap& offsets_to_score) {
      roaring_uint32_iterator_t it;
      roaring_init_iterator(&offsets_to_score.roaring, &it);
      for (;;) {
        n = roaring_read_uint32_iterator(&it, offsets, kScoreBlock);
        for (std::size_t i = 0; i < n; ++i) {
          block[i] = column.pointers[offsets[i]];
        }
        if (n != kScoreBlock) {
          return; // the rest, if any, is flushed below
        }
        flush();
      }
    };
    if (column.present.cardinality() == slots()) {
      add_all(*matches); // every slot holds this vector
    } else {
      add_all(*matches & column.present);
    }
  } else {
    for (const PointOffset offset : plan.candidates()) {
      if (column.present.contains(offset) && live_.contains(offset) && plan.matches(offset)) {
        add(offset);
      }
    }
  }
  if (n != 0) {
    flush();
  }
  return codes != nullptr ? finish_quantized(column, request, top.take()) : top.take();
}

std::size_t Segment::oversampled(std::size_t k, const SegmentSearch& request) noexcept {
  const double wanted = std::ceil(static_cast<double>(k) * request.quantization.oversampling);
  return std::max(k, static_cast<std::size_t>(std::min(wanted, 1e9)));
}

std::vector<SegmentHit> Segment::finish_quantized(const VectorColumn& column,
                                                  const SegmentSearch& request,
                                                  std::vector<SegmentHit> hits) const {
  if (rescores(request)) {
    const VectorScorer scorer(context_.distance, metric_of(column.params.distance),
                              column.params.size);
    // One gather call: the kernel fetches the next original while it scores this one.
    thread_local std::vector<const float*> originals;
    thread_local std::vector<float> distances;
    originals.resize(hits.size());
    distances.resize(hits.size());
    if (!(context_.async_scorer && column.in_file && read_originals(column, hits, originals))) {
      for (std::size_t i = 0; i < hits.size(); ++i) {
        originals[i] = column.pointers[hits[i].offset];
      }
    }
    scorer.gather(request.query, originals.data(), hits.size(), distances.data());
    for (std::size_t i = 0; i < hits.size(); ++i) {
      hits[i].key = -distances[i];
    }
    std::sort(hits.begin(), hits.end(), [this](const SegmentHit& a, const SegmentHit& b) {
      return a.key > b.key || (a.key == b.key && ids_[a.offset] < ids_[b.offset]);
    });
  }
  if (hits.size() > request.k) {
    hits.resize(request.k);
  }
  return hits;
}

bool Segment::read_originals(const VectorColumn& column, const std::vector<SegmentHit>& hits,
                             std::vector<const float*>& originals) const {
  // The originals are read from the file in one batch, not touched through the mapping: they do
  // not become part of this process's resident memory, and a cold batch waits for the disk
  // once rather than once per vector.
  thread_local std::vector<std::uint64_t> indices;
  thread_local std::vector<float> copies;
  const std::size_t dim = column.params.size;
  indices.resize(hits.size());
  copies.resize(hits.size() * dim);
  for (std::size_t i = 0; i < hits.size(); ++i) {
    indices[i] = hits[i].offset;
  }
  const Status read = column.store->read_many(indices.data(), indices.size(), copies.data());
  if (!read.ok()) {
    // The mapping still holds them (where a read error would fault): the caller scores from it.
    static std::atomic<bool> warned{false};
    if (!warned.exchange(true)) {
      log::warn("async_scorer: " + read.error().message +
                "; rescoring reads through the mapping instead");
    }
    return false;
  }
  for (std::size_t i = 0; i < hits.size(); ++i) {
    originals[i] = copies.data() + i * dim;
  }
  return true;
}

std::size_t Segment::block_starts(const VectorColumn& column, const float* query,
                                  const FilterPlan& plan, std::uint32_t* starts) const {
  thread_local std::vector<std::pair<float, std::uint32_t>> ranked;
  thread_local std::vector<const float*> pointers;
  thread_local std::vector<float> distances;
  ranked.clear();
  pointers.clear();
  const auto usable = [&](PointOffset offset) {
    return live_.contains(offset) && column.present.contains(offset) && plan.matches(offset);
  };
  // Spread over the candidates' offsets: the first candidate at or after each of kStartSamples
  // evenly spaced offsets (a jump of the iterator each; Roaring's select by rank walks the
  // bitmap's words and took 200 us for 64 samples of a 6,000-point tenant).
  const Bitmap& candidates = plan.candidates();
  if (!candidates.isEmpty()) {
    const std::uint64_t low = candidates.minimum();
    const std::uint64_t span = std::uint64_t{candidates.maximum()} - low + 1;
    roaring_uint32_iterator_t it;
    roaring_init_iterator(&candidates.roaring, &it);
    for (std::uint64_t i = 0; i < kStartSamples; ++i) {
      const auto at = static_cast<std::uint32_t>(low + i * span / kStartSamples);
      if (!roaring_move_uint32_iterator_equalorlarger(&it, at)) {
        break;
      }
      const PointOffset offset = it.current_value;
      if ((ranked.empty() || ranked.back().second != offset) && usable(offset)) {
        ranked.emplace_back(0.0F, offset);
        pointers.push_back(column.pointers[offset]);
      }
    }
  }
  if (ranked.empty()) {
    // The candidates hold few matches (other conditions refuse most): the first ones found.
    for (const PointOffset offset : candidates) {
      if (usable(offset)) {
        ranked.emplace_back(0.0F, offset);
        pointers.push_back(column.pointers[offset]);
        if (ranked.size() == kBlockStarts) {
          break;
        }
      }
    }
  }
  distances.resize(ranked.size());
  scorer(column).gather(query, pointers.data(), pointers.size(), distances.data());
  for (std::size_t i = 0; i < ranked.size(); ++i) {
    ranked[i].first = distances[i];
  }
  const std::size_t take = std::min(kBlockStarts, ranked.size());
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(take),
                    ranked.end());
  for (std::size_t i = 0; i < take; ++i) {
    starts[i] = ranked[i].second;
  }
  return take;
}

Expected<std::vector<SegmentHit>> Segment::search(const SegmentSearch& request) const {
  const VectorColumn& column = columns_.at(*request.vector_name);
  const auto graph_it = graphs_.find(*request.vector_name);
  const HnswGraph* graph = graph_it == graphs_.end() ? nullptr : graph_it->second.get();
  const bool filtered = request.filter != nullptr && !request.filter->empty();
  const auto scan = [&]() {
    const FilterPlan plan = FilterPlan::compile(request.filter, payload_index_, *this);
    return exact(column, request, plan);
  };

  // The planner: brute force over the matching points when there are few of them (below
  // full_scan_threshold), the graph otherwise; in between, a sample decides.
  if (graph == nullptr || request.exact) {
    return scan();
  }
  // m = 0 with payload_m: the graph has only the blocks' links (one graph per tenant), so only a
  // filter on one linked value has a graph to walk; any other search scans, as in Qdrant.
  const bool blocks_only = column.hnsw.m == 0;
  if (blocks_only && !(filtered && must_on_linked_key(*request.filter, graph->block_keys(),
                                                      /*ranges=*/false))) {
    return scan();
  }
  // Below this many matches, brute force over them. On a graph of the blocks' links only, a
  // tenant's walk costs about the same at any tenant size while a scan grows with it, so it
  // walks from half full_scan_threshold's points on (every block that large has its links: one
  // of fewer than twice linked_block_points() may have been below it at the build). Measured
  // with vdb-bench's tenant suite, 200k x 128: 20,000-point tenants went from 890 to 4,404
  // QPS, 12,500-point ones from 979 to 3,799. The m 16 graph's walk, which routes through
  // refused points, lost to the scan at 12,500 points (981 against 1,087): it keeps the
  // threshold.
  const std::uint64_t scan_below =
      blocks_only ? std::min<std::uint64_t>(
                        request.full_scan_points,
                        2 * linked_block_points(request.full_scan_points, column.hnsw.block_m()))
                  : request.full_scan_points;
  if (!filtered) {
    if (column.present.cardinality() < request.full_scan_points) {
      return scan();
    }
  }
  const FilterPlan plan =
      FilterPlan::compile(request.filter, payload_index_, *this, FilterPlan::Mode::checks);
  double p = 1.0; // the share of live points the filter matches
  if (filtered) {
    std::uint64_t matching = 0;
    if (const Bitmap* all = plan.exact()) {
      matching = all->cardinality();
    } else {
      const CardinalityEstimate e = payload_index_.estimate(*request.filter, *this);
      if (e.max < scan_below) {
        matching = e.max;
      } else if (e.min > scan_below) {
        matching = e.min;
      } else {
        // Sample live points against the filter (fixed seed: the same query plans the same).
        // Offsets are drawn from all slots and deleted ones skipped: selecting the i-th live
        // point costs a walk of the live bitmap's containers per sample.
        std::mt19937 gen(static_cast<unsigned>(id_));
        const std::uint64_t total = live_.cardinality();
        std::uint64_t hits = 0;
        std::uint64_t samples = 0;
        for (std::uint64_t draw = 0; slots() != 0 && draw < 4 * kSamples && samples < kSamples;
             ++draw) {
          const auto offset = static_cast<PointOffset>(gen() % slots());
          if (live_.contains(offset)) {
            ++samples;
            hits += plan.matches(offset) ? 1 : 0;
          }
        }
        matching = samples == 0 ? 0 : hits * total / samples;
      }
    }
    if (matching < scan_below) {
      // A plan that folded into one bitmap serves the scan as it is.
      return plan.exact() != nullptr ? exact(column, request, plan) : scan();
    }
    p = static_cast<double>(matching) /
        static_cast<double>(std::max<std::uint64_t>(1, live_.cardinality()));
  }

  std::vector<Neighbor> found;
  const std::size_t ef = request.ef != 0 ? request.ef : column.hnsw.ef_construct;
  const Bitmap& present = column.present;
  // The filtered searches count the points they check and accept: the share accepted tells
  // whether the matches lie where the beam went.
  struct Counts {
    std::uint64_t checked = 0;
    std::uint64_t accepted = 0;
  } counts;
  const auto counted = [&](auto accept) {
    return [&counts, accept](std::uint32_t id) {
      ++counts.checked;
      const bool ok = accept(id);
      counts.accepted += ok ? 1 : 0;
      return ok;
    };
  };
  // A filtered search stops once it has scored more vectors than a scan of the matches would
  // (about kVisitCost times fewer), and the scan answers instead: the matches lie away from the
  // query, where the beam finds them slowly.
  const auto matching = static_cast<std::size_t>(p * static_cast<double>(live_.cardinality()));
  const std::size_t budget =
      filtered ? static_cast<std::size_t>(static_cast<double>(matching) / kVisitCost)
               : std::numeric_limits<std::size_t>::max();
  const auto check = plan.check_data(); // prefetched with each neighbour's vector
  // A selective filter whose matches are linked to each other (payload-aware links) is searched
  // among its matches only once half the beam holds matches; other filters route through
  // refused points all the way.
  bool matches_only = filtered && p * 2.0 * static_cast<double>(column.hnsw.m) < kBlockLinksBelow &&
                      must_on_linked_key(*request.filter, graph->block_keys(), /*ranges=*/true);
  // A graph of the blocks' links only has no entry into a block: the walk starts from the
  // closest of matches spread over the candidates (block_starts).
  std::array<std::uint32_t, kBlockStarts> starts{};
  std::size_t start_count = 0;
  if (blocks_only) {
    start_count = block_starts(column, request.query, plan, starts.data());
    if (start_count == 0) {
      return scan();
    }
  }
  // With quantization the graph is walked on codes, for oversampling x k candidates.
  const QuantizedVectors* codes = codes_for(column, request);
  std::optional<QuantizedVectors::Query> coded;
  if (codes != nullptr) {
    coded = codes->encode_query(request.query, !rescores(request));
  }
  const std::size_t k = codes != nullptr ? oversampled(request.k, request) : request.k;
  // When the matches lie away from the query (a filter tied to other clusters), the beam
  // accepts far fewer of the points it checks than the filter's share p: it must travel
  // further than ef allows. When a filtered search would end, the share it accepted decides:
  // below kAnticorrelated x p, it resumes with the beam widened by sqrt(1/p) x the shortfall,
  // at most 8x (measured: recall 0.93 -> 0.96 at p = 0.5 on cluster-tied filters). Filters
  // independent of the vectors accept about p of what they check and keep ef.
  // (Two captures: the function holds them in place, with no allocation per search.)
  const std::function<std::size_t(std::size_t)> widen = [&counts, p](std::size_t beam) {
    const auto checked = static_cast<double>(counts.checked);
    const auto accepted = static_cast<double>(counts.accepted);
    if (accepted >= kAnticorrelated * p * checked) {
      return beam;
    }
    const double shortfall = p * checked / std::max(1.0, accepted);
    const double factor = std::clamp(std::sqrt(1.0 / p) * shortfall, 1.0, 8.0);
    return static_cast<std::size_t>(static_cast<double>(beam) * factor);
  };
  const auto walk = [&](std::size_t beam, auto accept, std::size_t max_scored,
                        std::pair<const char*, std::size_t> data = {nullptr, 0}) {
    const HnswGraph::SearchOptions options{max_scored,    data.first,   data.second,
                                           matches_only,  matches_only, filtered ? &widen : nullptr,
                                           starts.data(), start_count};
    if (codes != nullptr) {
      return graph->search_with(QuantizedDistances{codes, &*coded, &context_.distance}, k, beam,
                                accept, found, options);
    }
    return graph->search(request.query, k, beam, accept, found, options);
  };
  constexpr std::size_t kUnbounded = std::numeric_limits<std::size_t>::max();
  const auto run = [&](std::size_t beam) {
    if (const Bitmap* all = plan.exact(); filtered && all != nullptr) {
      return walk(beam, counted([&](std::uint32_t id) {
                    return all->contains(id) && present.contains(id);
                  }),
                  budget);
    }
    if (filtered && present.cardinality() == slots()) {
      // Nothing deleted, every point holds this vector: only the filter to check.
      return walk(beam, counted([&](std::uint32_t id) { return plan.matches(id); }), budget, check);
    }
    if (filtered) {
      return walk(beam, counted([&](std::uint32_t id) {
                    return live_.contains(id) && present.contains(id) && plan.matches(id);
                  }),
                  budget);
    }
    if (present.cardinality() == slots()) {
      // Nothing deleted, every point holds this vector: no check per visited node.
      return walk(
          beam, [](std::uint32_t) { return true; }, kUnbounded);
    }
    return walk(
        beam, [&](std::uint32_t id) { return live_.contains(id) && present.contains(id); },
        kUnbounded);
  };
  if (!run(ef)) {
    return scan();
  }
  if (matches_only && found.size() < k && blocks_only) {
    return scan(); // the block's links reached fewer than k matches, and nothing else routes
  }
  if (matches_only && found.size() < k) {
    // The links did not reach enough matches (payloads changed since the build, or a block too
    // small to link): search again routing through refused points.
    matches_only = false;
    counts = Counts{};
    if (!run(ef)) {
      return scan();
    }
  }
  std::vector<SegmentHit> out;
  out.reserve(found.size());
  for (const Neighbor& n : found) {
    out.push_back({-n.distance, n.id});
  }
  // Equal distances: the graph orders by offset, users by id.
  std::stable_sort(out.begin(), out.end(), [this](const SegmentHit& a, const SegmentHit& b) {
    return a.key > b.key || (a.key == b.key && ids_[a.offset] < ids_[b.offset]);
  });
  return codes != nullptr ? finish_quantized(column, request, std::move(out)) : out;
}

VectorScorer Segment::scorer(const VectorColumn& column) const {
  return VectorScorer(context_.distance, metric_of(column.params.distance), column.params.size);
}

std::vector<Segment::GraphInput> Segment::graph_inputs() const {
  std::vector<GraphInput> out;
  for (const auto& [name, column] : columns_) {
    const std::uint32_t payload_m = column.hnsw.block_m();
    if (column.hnsw.m == 0 && payload_m == 0) {
      continue; // no graph, searches scan
    }
    std::vector<const float*> vectors(ids_.size(), nullptr);
    for (const PointOffset offset : column.present) {
      if (!live_.contains(offset)) {
        continue;
      }
      if (auto v = column.store->get(offset)) {
        vectors[offset] = static_cast<const float*>(*v);
      }
    }
    HnswParams params;
    params.m = column.hnsw.m;
    params.ef_construct = column.hnsw.ef_construct;
    params.threads = column.hnsw.max_indexing_threads;
    std::optional<double> quantile;
    if (column.quantization && column.params.distance != Distance::manhattan) {
      quantile = column.quantization->scalar.quantile.value_or(1.0);
    }
    // Payload-aware links for values held by at least a quarter of full_scan_threshold's
    // points (as Qdrant): a filter on fewer matches is answered by a scan of them.
    std::vector<std::vector<std::uint32_t>> blocks;
    std::set<std::string> keys;
    if (payload_m > 0) {
      const std::uint64_t min_points =
          linked_block_points(column.hnsw.full_scan_points(column.params.size), payload_m);
      for (const auto& [key, block] : payload_index_.blocks(min_points)) {
        std::vector<std::uint32_t> nodes;
        for (const PointOffset offset : block) {
          if (offset < vectors.size() && vectors[offset] != nullptr) {
            nodes.push_back(offset);
          }
        }
        if (nodes.size() >= min_points) {
          blocks.push_back(std::move(nodes));
          keys.insert(key);
        }
      }
    }
    const bool blocks_only = column.hnsw.m == 0;
    if (blocks_only && blocks.empty()) {
      continue; // m = 0 and no value to link (yet): searches scan
    }
    out.push_back(GraphInput{name,
                             std::move(vectors),
                             scorer(column),
                             params,
                             quantile,
                             std::move(blocks),
                             {keys.begin(), keys.end()},
                             payload_m,
                             blocks_only});
  }
  return out;
}

Expected<Segment::Built> Segment::build_graphs(std::vector<GraphInput> inputs,
                                               const std::atomic<bool>& cancel,
                                               std::atomic<std::size_t>& progress) {
  Built out;
  for (GraphInput& input : inputs) {
    if (input.quantile) {
      const std::size_t dim = input.scorer.dim();
      const DistanceBackend& backend = input.scorer.backend();
      const QuantizedVectors::Model model =
          QuantizedVectors::train(input.vectors, dim, *input.quantile, backend,
                                  QuantizedVectors::centres_for(input.vectors.size(), dim));
      out.codes[input.name] =
          QuantizedVectors::encode(input.vectors, dim, input.scorer.metric(), model, backend);
    }
    std::unique_ptr<HnswGraph> graph;
    if (input.blocks_only) {
      progress += input.vectors.size();
      graph = HnswGraph::build_unlinked(std::move(input.vectors), input.scorer, input.params);
    } else {
      graph = HnswGraph::build(std::move(input.vectors), input.scorer, input.params, &progress,
                               &cancel);
    }
    if (!input.blocks.empty() && !cancel.load()) {
      graph->add_block_links(input.blocks, input.payload_m, &cancel);
      graph->set_block_keys(std::move(input.block_keys));
    }
    out.graphs[input.name] = std::move(graph);
    if (cancel.load()) {
      return Error{Errc::unavailable, "index build cancelled"};
    }
  }
  return out;
}

std::uint64_t Segment::code_bytes() const noexcept {
  std::uint64_t bytes = 0;
  for (const auto& [name, column] : columns_) {
    bytes += column.quantized ? column.quantized->memory_bytes() : 0;
  }
  return bytes;
}

std::uint64_t Segment::mapped_code_bytes() const noexcept {
  std::uint64_t bytes = 0;
  for (const auto& [name, column] : columns_) {
    bytes += column.quantized ? column.quantized->mapped_bytes() : 0;
  }
  return bytes;
}

std::uint64_t Segment::ram_vector_bytes() const noexcept {
  std::uint64_t bytes = 0;
  for (const auto& [name, column] : columns_) {
    if (!column.in_file) {
      bytes += static_cast<std::uint64_t>(ids_.size()) * column.params.size * sizeof(float);
    }
  }
  return bytes;
}

std::uint64_t Segment::ram_payload_bytes() const {
  std::lock_guard lock(payload_bytes_mutex_);
  if (payload_bytes_.first != changes_) {
    std::uint64_t bytes = 0;
    const auto add = [&bytes](const Json& payload) {
      bytes += payload.is_null() ? 0 : Json::to_cbor(payload).size();
    };
    for (const Json& payload : payloads_) {
      add(payload);
    }
    for (const auto& [offset, payload] : payload_edits_) {
      add(payload);
    }
    payload_bytes_ = {changes_, bytes};
  }
  return payload_bytes_.second;
}

std::uint64_t Segment::graph_bytes() const noexcept {
  std::uint64_t bytes = 0;
  for (const auto& [name, graph] : graphs_) {
    bytes += graph->memory_bytes();
  }
  return bytes;
}

std::uint64_t Segment::mapped_graph_bytes() const noexcept {
  std::uint64_t bytes = 0;
  for (const auto& [name, graph] : graphs_) {
    bytes += graph->mapped_bytes();
  }
  return bytes;
}

} // namespace vdb
