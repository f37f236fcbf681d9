#include "core/engine/collection.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <queue>

namespace vdb {
namespace {

Error invalid(const std::string& field, const std::string& what) {
  return Error{Errc::invalid_argument, field + ": " + what};
}

std::string describe(const std::string& name) {
  return name.empty() ? std::string("the vector") : "vector '" + name + "'";
}

void normalize(std::vector<float>& v) {
  double norm = 0;
  for (const float x : v) {
    norm += static_cast<double>(x) * x;
  }
  norm = std::sqrt(norm);
  if (norm > 1e-30) {
    for (float& x : v) {
      x = static_cast<float>(x / norm);
    }
  }
}

bool larger_is_better(Distance d) { return d == Distance::cosine || d == Distance::dot; }

// A hit while searching: `key` is larger-is-better for every distance.
struct Candidate {
  float key;
  PointOffset offset;
  const PointId* id;
};

// Orders better candidates first: a larger key, then a smaller id.
struct Better {
  bool operator()(const Candidate& a, const Candidate& b) const {
    if (a.key != b.key) {
      return a.key > b.key;
    }
    return *a.id < *b.id;
  }
};

constexpr std::size_t kScoreBlock = 256;

} // namespace

Expected<std::unique_ptr<Collection>> Collection::create(std::string name, CollectionConfig config,
                                                         const EngineContext& context) {
  if (config.vectors.empty()) {
    return invalid("collection.vectors", "a collection needs at least one vector");
  }
  std::unique_ptr<Collection> c(new Collection(std::move(name), std::move(config), context));
  for (const auto& [vector_name, params] : c->config_.vectors) {
    if (params.size == 0 || params.size > context.limits.max_vector_dim) {
      return invalid("collection.vectors" + (vector_name.empty() ? "" : "." + vector_name) +
                         ".size",
                     "must be in 1.." + std::to_string(context.limits.max_vector_dim));
    }
    RecordStoreOptions options;
    options.record_size = static_cast<std::uint64_t>(params.size) * sizeof(float);
    auto store = RecordStore::open(context.vector_storage, options);
    VDB_TRY(store);
    c->columns_[vector_name] = VectorColumn{params, std::move(*store), {}};
  }
  return c;
}

std::optional<PointOffset> Collection::offset_of(const PointId& id) const {
  const auto it = offsets_.find(id);
  if (it == offsets_.end()) {
    return std::nullopt;
  }
  return it->second;
}

Status Collection::validate_vectors(const NamedVectors& vectors, const std::string& field,
                                    bool need_all) const {
  for (const auto& [name, v] : vectors) {
    const auto it = columns_.find(name);
    if (it == columns_.end()) {
      if (name.empty()) {
        return invalid(field, "this collection has only named vectors; give them by name");
      }
      return invalid(field + "." + name, "the collection has no vector named '" + name + "'");
    }
    const std::string at = name.empty() ? field : field + "." + name;
    if (v.size() != it->second.params.size) {
      return invalid(at, describe(name) + " has " + std::to_string(v.size()) +
                             " dimensions; the collection expects " +
                             std::to_string(it->second.params.size));
    }
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (!std::isfinite(v[i])) {
        return invalid(at + "[" + std::to_string(i) + "]",
                       "vector components must be finite (no NaN or infinity)");
      }
    }
  }
  if (need_all && unnamed_vector() && vectors.empty()) {
    return invalid(field, "the point has no vector");
  }
  return {};
}

Status Collection::write_vector(VectorColumn& column, PointOffset offset,
                                const std::vector<float>& v) {
  std::vector<float> stored = v;
  if (column.params.distance == Distance::cosine) {
    normalize(stored);
  }
  // Records past the live ones may exist after a failed write; overwrite them.
  if (offset < column.store->count()) {
    VDB_TRY(column.store->overwrite(offset, stored.data()));
  } else {
    VDB_TRY(column.store->append(stored.data()));
  }
  column.present.add(offset);
  return {};
}

Expected<UpdateResult> Collection::upsert(std::vector<PointStruct> points) {
  const EngineLimits& limits = context_.limits;
  if (points.size() > limits.max_batch_size) {
    return invalid("points", std::to_string(points.size()) +
                                 " points in one request; the limit "
                                 "is " +
                                 std::to_string(limits.max_batch_size));
  }
  for (std::size_t i = 0; i < points.size(); ++i) {
    const std::string field =
        "points[" + std::to_string(i) + "] (id " + points[i].id.to_string() + ")";
    VDB_TRY(validate_vectors(points[i].vectors, field + ".vector", true));
    if (points[i].payload.is_null()) {
      points[i].payload = Json::object();
    }
    VDB_TRY(validate_payload(points[i].payload, limits.max_payload_bytes, field + ".payload"));
  }
  std::unique_lock lock(mutex_);
  const std::size_t fresh = static_cast<std::size_t>(
      std::count_if(points.begin(), points.end(),
                    [&](const PointStruct& p) { return !offset_of(p.id).has_value(); }));
  if (ids_.size() + fresh > std::numeric_limits<PointOffset>::max()) {
    return Error{Errc::out_of_range,
                 "points: collection '" + name_ + "' would hold more than 2^32-1 point slots"};
  }
  const std::uint64_t op = ++operation_;
  for (PointStruct& p : points) {
    PointOffset offset = 0;
    if (const auto existing = offset_of(p.id)) {
      offset = *existing;
    } else {
      offset = static_cast<PointOffset>(ids_.size());
      ids_.push_back(p.id);
      payloads_.emplace_back();
      versions_.push_back(op);
    }
    for (auto& [name, column] : columns_) {
      const auto v = p.vectors.find(name);
      if (v != p.vectors.end()) {
        VDB_TRY(write_vector(column, offset, v->second));
      } else {
        column.present.remove(offset);
        if (offset >= column.store->count()) {
          VDB_TRY(write_vector(column, offset, std::vector<float>(column.params.size, 0.0F)));
          column.present.remove(offset);
        }
      }
    }
    payloads_[offset] = std::move(p.payload);
    versions_[offset] = op;
    offsets_[p.id] = offset;
    live_.add(offset);
    payload_index_.set(offset, payloads_[offset]);
  }
  return UpdateResult{op};
}

Expected<std::vector<PointOffset>> Collection::select(const PointsSelector& selector,
                                                      bool must_exist) const {
  std::vector<PointOffset> out;
  if (const auto* ids = std::get_if<std::vector<PointId>>(&selector)) {
    if (ids->size() > context_.limits.max_batch_size) {
      return invalid("points", std::to_string(ids->size()) + " ids in one request; the limit is " +
                                   std::to_string(context_.limits.max_batch_size));
    }
    for (std::size_t i = 0; i < ids->size(); ++i) {
      if (const auto offset = offset_of((*ids)[i])) {
        out.push_back(*offset);
      } else if (must_exist) {
        return Error{Errc::not_found, "points[" + std::to_string(i) + "]: no point with id " +
                                          (*ids)[i].to_string() + " in collection '" + name_ + "'"};
      }
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }
  const FilterPlan plan = FilterPlan::compile(&std::get<Filter>(selector), payload_index_, *this);
  for (const PointOffset offset : plan.candidates()) {
    if (live_.contains(offset) && plan.matches(offset)) {
      out.push_back(offset);
    }
  }
  return out;
}

void Collection::erase(PointOffset offset) {
  offsets_.erase(ids_[offset]);
  live_.remove(offset);
  payload_index_.remove(offset);
  payloads_[offset] = Json();
  for (auto& [name, column] : columns_) {
    column.present.remove(offset);
  }
}

Expected<UpdateResult> Collection::delete_points(const PointsSelector& selector) {
  std::unique_lock lock(mutex_);
  auto offsets = select(selector, false);
  VDB_TRY(offsets);
  for (const PointOffset offset : *offsets) {
    erase(offset);
  }
  return UpdateResult{++operation_};
}

template <class Edit>
Expected<UpdateResult> Collection::edit_payloads(const PointsSelector& selector, Edit&& edit) {
  std::unique_lock lock(mutex_);
  auto offsets = select(selector, true);
  VDB_TRY(offsets);
  // Edit copies first, so a payload that would grow past the limit fails before any change.
  std::vector<Json> edited;
  edited.reserve(offsets->size());
  for (const PointOffset offset : *offsets) {
    Json payload = payloads_[offset];
    edit(payload);
    if (context_.limits.max_payload_bytes != 0 &&
        payload.dump().size() > context_.limits.max_payload_bytes) {
      return invalid("payload", "point " + ids_[offset].to_string() +
                                    " would have a payload larger than the limit of " +
                                    std::to_string(context_.limits.max_payload_bytes) + " bytes");
    }
    edited.push_back(std::move(payload));
  }
  const std::uint64_t op = ++operation_;
  for (std::size_t i = 0; i < offsets->size(); ++i) {
    const PointOffset offset = (*offsets)[i];
    payloads_[offset] = std::move(edited[i]);
    versions_[offset] = op;
    payload_index_.set(offset, payloads_[offset]);
  }
  return UpdateResult{op};
}

Expected<UpdateResult> Collection::set_payload(const Json& payload, const PointsSelector& selector,
                                               const std::optional<JsonPath>& key) {
  VDB_TRY(validate_payload(payload, context_.limits.max_payload_bytes));
  if (key) {
    for (const auto& s : key->segments()) {
      if (s.kind != JsonPath::Segment::Kind::key) {
        return invalid("key", "set_payload writes under object keys only (no [] or [N])");
      }
    }
  }
  return edit_payloads(selector, [&](Json& target) {
    Json* at = &target;
    if (key) {
      for (const auto& s : key->segments()) {
        Json& next = (*at)[s.key];
        if (!next.is_object()) {
          next = Json::object();
        }
        at = &next;
      }
    }
    for (const auto& [k, v] : payload.items()) {
      (*at)[k] = v;
    }
  });
}

Expected<UpdateResult> Collection::overwrite_payload(const Json& payload,
                                                     const PointsSelector& selector) {
  VDB_TRY(validate_payload(payload, context_.limits.max_payload_bytes));
  return edit_payloads(selector, [&](Json& target) { target = payload; });
}

Expected<UpdateResult> Collection::delete_payload(const std::vector<JsonPath>& keys,
                                                  const PointsSelector& selector) {
  return edit_payloads(selector, [&](Json& target) {
    for (const JsonPath& key : keys) {
      erase_path(target, key);
    }
  });
}

Expected<UpdateResult> Collection::clear_payload(const PointsSelector& selector) {
  return edit_payloads(selector, [](Json& target) { target = Json::object(); });
}

Expected<UpdateResult> Collection::update_vectors(std::vector<PointVectors> points) {
  if (points.size() > context_.limits.max_batch_size) {
    return invalid("points", std::to_string(points.size()) +
                                 " points in one request; the limit "
                                 "is " +
                                 std::to_string(context_.limits.max_batch_size));
  }
  for (std::size_t i = 0; i < points.size(); ++i) {
    const std::string field =
        "points[" + std::to_string(i) + "] (id " + points[i].id.to_string() + ")";
    VDB_TRY(validate_vectors(points[i].vectors, field + ".vector", false));
    if (points[i].vectors.empty()) {
      return invalid(field + ".vector", "give at least one vector to update");
    }
  }
  std::unique_lock lock(mutex_);
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (!offset_of(points[i].id)) {
      return Error{Errc::not_found, "points[" + std::to_string(i) + "]: no point with id " +
                                        points[i].id.to_string() + " in collection '" + name_ +
                                        "'"};
    }
  }
  const std::uint64_t op = ++operation_;
  for (const PointVectors& p : points) {
    const PointOffset offset = *offset_of(p.id);
    for (const auto& [name, v] : p.vectors) {
      VDB_TRY(write_vector(columns_.at(name), offset, v));
    }
    versions_[offset] = op;
  }
  return UpdateResult{op};
}

Expected<UpdateResult> Collection::create_payload_index(const JsonPath& key,
                                                        PayloadFieldType type) {
  std::unique_lock lock(mutex_);
  payload_index_.create(key, type, *this);
  return UpdateResult{++operation_};
}

Expected<UpdateResult> Collection::delete_payload_index(const JsonPath& key) {
  std::unique_lock lock(mutex_);
  if (!payload_index_.drop(key)) {
    return Error{Errc::not_found, "field_name: collection '" + name_ +
                                      "' has no payload index on '" + key.to_string() + "'"};
  }
  return UpdateResult{++operation_};
}

Status Collection::check_vector_selector(const VectorSelector& selector,
                                         const std::string& field) const {
  for (const std::string& name : selector.names) {
    if (columns_.count(name) == 0) {
      return invalid(field, "the collection has no vector named '" + name + "'");
    }
  }
  return {};
}

NamedVectors Collection::vectors_of(PointOffset offset, const VectorSelector& selector) const {
  NamedVectors out;
  const auto add = [&](const std::string& name, const VectorColumn& column) {
    if (!column.present.contains(offset)) {
      return;
    }
    auto record = column.store->get(offset);
    if (record) {
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

Record Collection::record(PointOffset offset, const PayloadSelector& with_payload,
                          const VectorSelector& with_vector) const {
  Record r{ids_[offset], versions_[offset], std::nullopt, vectors_of(offset, with_vector)};
  if (with_payload.mode != PayloadSelector::Mode::none) {
    r.payload = select_payload(payloads_[offset], with_payload);
  }
  return r;
}

Expected<std::vector<Record>> Collection::retrieve(const std::vector<PointId>& ids,
                                                   const PayloadSelector& with_payload,
                                                   const VectorSelector& with_vector) const {
  if (ids.size() > context_.limits.max_batch_size) {
    return invalid("ids", std::to_string(ids.size()) + " ids in one request; the limit is " +
                              std::to_string(context_.limits.max_batch_size));
  }
  std::shared_lock lock(mutex_);
  VDB_TRY(check_vector_selector(with_vector, "with_vector"));
  std::vector<Record> out;
  for (const PointId& id : ids) {
    if (const auto offset = offset_of(id)) {
      out.push_back(record(*offset, with_payload, with_vector));
    }
  }
  return out;
}

Expected<ScrollResult> Collection::scroll(const ScrollRequest& request) const {
  if (request.limit == 0 || request.limit > context_.limits.max_search_limit) {
    return invalid("limit", "must be in 1.." + std::to_string(context_.limits.max_search_limit));
  }
  std::shared_lock lock(mutex_);
  VDB_TRY(check_vector_selector(request.with_vector, "with_vector"));
  const FilterPlan plan = FilterPlan::compile(request.filter, payload_index_, *this);
  ScrollResult out;
  // A selective filter answered by indexes: sort its matches by id instead of walking every id.
  if (const Bitmap* exact = plan.exact();
      exact != nullptr && exact->cardinality() * 8 < live_.cardinality()) {
    std::vector<std::pair<PointId, PointOffset>> hits;
    for (const PointOffset offset : *exact) {
      if (!request.offset || !(ids_[offset] < *request.offset)) {
        hits.emplace_back(ids_[offset], offset);
      }
    }
    const std::size_t take = std::min(hits.size(), request.limit + 1);
    std::partial_sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(take), hits.end(),
                      [](const auto& a, const auto& b) { return a.first < b.first; });
    for (std::size_t i = 0; i < take; ++i) {
      if (i == request.limit) {
        out.next_page_offset = hits[i].first;
        break;
      }
      out.points.push_back(record(hits[i].second, request.with_payload, request.with_vector));
    }
    return out;
  }
  auto it = request.offset ? offsets_.lower_bound(*request.offset) : offsets_.begin();
  for (; it != offsets_.end(); ++it) {
    if (!plan.matches(it->second)) {
      continue;
    }
    if (out.points.size() == request.limit) {
      out.next_page_offset = it->first;
      break;
    }
    out.points.push_back(record(it->second, request.with_payload, request.with_vector));
  }
  return out;
}

Expected<std::uint64_t> Collection::count(const Filter* filter, bool exact) const {
  std::shared_lock lock(mutex_);
  if (filter == nullptr || filter->empty()) {
    return live_.cardinality();
  }
  if (!exact) {
    return payload_index_.estimate(*filter, *this).expected;
  }
  const FilterPlan plan = FilterPlan::compile(filter, payload_index_, *this);
  if (const Bitmap* all = plan.exact()) {
    return all->cardinality();
  }
  std::uint64_t n = 0;
  for (const PointOffset offset : plan.candidates()) {
    n += plan.matches(offset) ? 1 : 0;
  }
  return n;
}

CardinalityEstimate Collection::estimate(const Filter& filter) const {
  std::shared_lock lock(mutex_);
  return payload_index_.estimate(filter, *this);
}

Expected<std::vector<ScoredPoint>> Collection::search(const SearchRequest& request) const {
  std::shared_lock lock(mutex_);
  return search_locked(request, "");
}

Expected<std::vector<std::vector<ScoredPoint>>>
Collection::search_batch(const std::vector<SearchRequest>& requests) const {
  if (requests.size() > context_.limits.max_batch_size) {
    return invalid("searches", std::to_string(requests.size()) +
                                   " searches in one request; the limit is " +
                                   std::to_string(context_.limits.max_batch_size));
  }
  std::shared_lock lock(mutex_);
  std::vector<std::vector<ScoredPoint>> out;
  out.reserve(requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    auto hits = search_locked(requests[i], "searches[" + std::to_string(i) + "].");
    VDB_TRY(hits);
    out.push_back(std::move(*hits));
  }
  return out;
}

Expected<std::vector<ScoredPoint>> Collection::search_locked(const SearchRequest& request,
                                                             const std::string& field) const {
  const auto column_it = columns_.find(request.vector_name);
  if (column_it == columns_.end()) {
    return invalid(field + "vector.name",
                   request.vector_name.empty()
                       ? "this collection has only named vectors; say which one to search"
                       : "the collection has no vector named '" + request.vector_name + "'");
  }
  const VectorColumn& column = column_it->second;
  const std::size_t limit_max = context_.limits.max_search_limit;
  if (request.limit == 0 || request.limit > limit_max) {
    return invalid(field + "limit", "must be in 1.." + std::to_string(limit_max));
  }
  if (request.offset > limit_max - request.limit) {
    return invalid(field + "offset", "limit + offset must be at most " + std::to_string(limit_max));
  }
  VDB_TRY(validate_vectors({{request.vector_name, request.vector}}, field + "vector", false));
  VDB_TRY(check_vector_selector(request.with_vector, field + "with_vector"));
  if (request.score_threshold && !std::isfinite(*request.score_threshold)) {
    return invalid(field + "score_threshold", "must be a finite number");
  }

  const Distance distance = column.params.distance;
  std::vector<float> query = request.vector;
  if (distance == Distance::cosine) {
    normalize(query);
  }
  const std::size_t dim = column.params.size;
  const std::size_t keep = request.limit + request.offset;
  // The key a raw kernel result becomes (larger is better), and the score users see.
  const auto key_of = [distance](float raw) { return larger_is_better(distance) ? raw : -raw; };
  const auto score_of = [distance](float raw) {
    return distance == Distance::euclid ? std::sqrt(std::max(raw, 0.0F)) : raw;
  };
  const auto passes = [&](float raw) {
    if (!request.score_threshold) {
      return true;
    }
    const float score = score_of(raw);
    return larger_is_better(distance) ? score >= *request.score_threshold
                                      : score <= *request.score_threshold;
  };

  const FilterPlan plan = FilterPlan::compile(request.filter, payload_index_, *this);
  std::priority_queue<Candidate, std::vector<Candidate>, Better> best; // worst on top
  std::vector<const float*> block;
  std::vector<PointOffset> block_offsets;
  std::vector<float> raw(kScoreBlock);
  block.reserve(kScoreBlock);
  const auto flush = [&]() -> Status {
    if (block.empty()) {
      return {};
    }
    Status status;
    switch (distance) {
    case Distance::cosine:
    case Distance::dot:
      status =
          context_.distance.dot_gather(query.data(), block.data(), block.size(), dim, raw.data());
      break;
    case Distance::euclid:
      status =
          context_.distance.l2sq_gather(query.data(), block.data(), block.size(), dim, raw.data());
      break;
    case Distance::manhattan:
      status =
          context_.distance.l1_gather(query.data(), block.data(), block.size(), dim, raw.data());
      break;
    }
    VDB_TRY(status);
    for (std::size_t i = 0; i < block.size(); ++i) {
      if (!passes(raw[i])) {
        continue;
      }
      const Candidate c{key_of(raw[i]), block_offsets[i], &ids_[block_offsets[i]]};
      if (best.size() < keep) {
        best.push(c);
      } else if (Better()(c, best.top())) {
        best.pop();
        best.push(c);
      }
    }
    block.clear();
    block_offsets.clear();
    return {};
  };

  for (const PointOffset offset : plan.candidates()) {
    if (!column.present.contains(offset) || !live_.contains(offset) || !plan.matches(offset)) {
      continue;
    }
    auto vector = column.store->get(offset);
    VDB_TRY(vector);
    block.push_back(static_cast<const float*>(*vector));
    block_offsets.push_back(offset);
    if (block.size() == kScoreBlock) {
      VDB_TRY(flush());
    }
  }
  VDB_TRY(flush());

  std::vector<Candidate> ranked;
  ranked.reserve(best.size());
  while (!best.empty()) {
    ranked.push_back(best.top());
    best.pop();
  }
  std::reverse(ranked.begin(), ranked.end());
  std::vector<ScoredPoint> out;
  for (std::size_t i = request.offset; i < ranked.size(); ++i) {
    const Candidate& c = ranked[i];
    const float raw_value = larger_is_better(distance) ? c.key : -c.key;
    ScoredPoint hit{ids_[c.offset], versions_[c.offset], score_of(raw_value), std::nullopt,
                    vectors_of(c.offset, request.with_vector)};
    if (request.with_payload.mode != PayloadSelector::Mode::none) {
      hit.payload = select_payload(payloads_[c.offset], request.with_payload);
    }
    out.push_back(std::move(hit));
  }
  return out;
}

CollectionInfo Collection::info() const {
  std::shared_lock lock(mutex_);
  CollectionInfo out;
  out.points_count = live_.cardinality();
  for (const auto& [name, column] : columns_) {
    out.vectors_count[name] = column.present.cardinality();
  }
  out.payload_schema = payload_index_.describe();
  out.last_operation = operation_;
  out.config = config_;
  return out;
}

} // namespace vdb
