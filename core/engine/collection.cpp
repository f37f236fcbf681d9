#include "core/engine/collection.hpp"

#include "core/common/log.hpp"
#include "core/engine/encoding.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <set>

namespace vdb {
namespace {

std::string describe(const std::string& name) {
  return name.empty() ? std::string("the vector") : "vector '" + name + "'";
}

Error too_many(const char* field, std::size_t n, std::size_t limit, const char* what) {
  return invalid(field, std::to_string(n) + " " + what + " in one request; the limit is " +
                            std::to_string(limit));
}

} // namespace

// ---- life cycle ----------------------------------------------------------------------------

Expected<std::unique_ptr<Collection>> Collection::create(std::string name, CollectionConfig config,
                                                         const EngineContext& context) {
  if (config.vectors.empty()) {
    return invalid("collection.vectors", "a collection needs at least one vector");
  }
  for (const auto& [vector_name, params] : config.vectors) {
    if (params.size == 0 || params.size > context.limits.max_vector_dim) {
      return invalid("collection.vectors" + (vector_name.empty() ? "" : "." + vector_name) +
                         ".size",
                     "must be in 1.." + std::to_string(context.limits.max_vector_dim));
    }
  }
  std::unique_ptr<Collection> c(new Collection(std::move(name), std::move(config), context));
  VDB_TRY(c->add_segment());
  if (context.background_optimizer) {
    c->optimizer_ = std::thread([raw = c.get()] { raw->optimizer_loop(); });
  }
  return c;
}

void Collection::stop_optimizer() {
  stop_ = true;
  wake_optimizer();
}

Collection::~Collection() {
  stop_ = true;
  wake_optimizer();
  if (optimizer_.joinable()) {
    optimizer_.join();
  }
  {
    std::lock_guard lock(flush_mutex_);
    flush_stop_ = true;
  }
  flush_wake_.notify_all();
  if (flusher_.joinable()) {
    flusher_.join();
  }
  if (const Status s = flush(); !s.ok()) {
    log::warn("collection " + name_ +
              ": the last checkpoint failed (the log keeps every write): " + s.message());
  }
}

Expected<Segment*> Collection::add_segment() {
  auto segment = Segment::create(next_segment_id_++, config_, context_);
  VDB_TRY(segment);
  for (const auto& [key, type] : indexed_fields_) {
    (*segment)->create_index(key, type);
  }
  segments_.push_back(std::move(*segment));
  return segments_.back().get();
}

std::optional<Collection::Location> Collection::find(const PointId& id) const {
  // Newest first: recent points are the likeliest to be written again.
  for (auto it = segments_.rbegin(); it != segments_.rend(); ++it) {
    if (const auto offset = (*it)->offset_of(id)) {
      return Location{it->get(), *offset};
    }
  }
  return std::nullopt;
}

std::uint64_t Collection::live_points() const noexcept {
  std::uint64_t n = 0;
  for (const auto& segment : segments_) {
    n += segment->points();
  }
  return n;
}

Status
Collection::in_id_order(const PointId* from,
                        const std::function<bool(const PointId&, const Location&)>& visit) const {
  std::vector<std::pair<Segment::IdCursor, Segment*>> cursors;
  for (const auto& segment : segments_) {
    cursors.emplace_back(segment->ids_from(from), segment.get());
  }
  // A linear pick of the smallest id: there are a handful of segments.
  for (;;) {
    std::size_t best = cursors.size();
    for (std::size_t i = 0; i < cursors.size(); ++i) {
      if (!cursors[i].first.valid()) {
        continue;
      }
      if (best == cursors.size() || cursors[i].first.id() < cursors[best].first.id()) {
        best = i;
      } else if (cursors[i].first.id() == cursors[best].first.id()) {
        return Error{Errc::corrupt,
                     "point " + cursors[i].first.id().to_string() + " is live in two segments"};
      }
    }
    if (best == cursors.size()) {
      return {};
    }
    Segment::IdCursor& cursor = cursors[best].first;
    if (!visit(cursor.id(), Location{cursors[best].second, cursor.offset()})) {
      return {};
    }
    cursor.next();
  }
}

// ---- validation ----------------------------------------------------------------------------

Status Collection::validate_vectors(const NamedVectors& vectors, const std::string& field,
                                    bool need_all) const {
  for (const auto& [name, v] : vectors) {
    VDB_TRY(validate_vector(name, v, field));
  }
  if (need_all && unnamed_vector() && vectors.empty()) {
    return invalid(field, "the point has no vector");
  }
  return {};
}

Status Collection::validate_vector(const std::string& name, const std::vector<float>& v,
                                   const std::string& field) const {
  const auto it = config_.vectors.find(name);
  if (it == config_.vectors.end()) {
    if (name.empty()) {
      return invalid(field, "this collection has only named vectors; give them by name");
    }
    return invalid(field + "." + name, "the collection has no vector named '" + name + "'");
  }
  if (v.size() != it->second.size) {
    return invalid(name.empty() ? field : field + "." + name,
                   describe(name) + " has " + std::to_string(v.size()) +
                       " dimensions; the collection expects " + std::to_string(it->second.size));
  }
  bool finite = true; // one pass without branches, then the position only when one is not
  for (const float x : v) {
    finite &= std::isfinite(x);
  }
  for (std::size_t i = 0; !finite && i < v.size(); ++i) {
    if (!std::isfinite(v[i])) {
      return invalid((name.empty() ? field : field + "." + name) + "[" + std::to_string(i) + "]",
                     "vector components must be finite (no NaN or infinity)");
    }
  }
  return {};
}

Status Collection::check_vector_selector(const VectorSelector& selector,
                                         const std::string& field) const {
  for (const std::string& name : selector.names) {
    if (config_.vectors.count(name) == 0) {
      return invalid(field, "the collection has no vector named '" + name + "'");
    }
  }
  return {};
}

// ---- writes --------------------------------------------------------------------------------
// Each write validates, then under the write lock logs its record (ids resolved, so replaying
// it does not depend on filters) and applies it. A write the log refuses changes nothing.

Expected<UpdateResult> Collection::upsert(std::vector<PointStruct> points) {
  const EngineLimits& limits = context_.limits;
  if (points.size() > limits.max_batch_size) {
    return too_many("points", points.size(), limits.max_batch_size, "points");
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
  const auto body = encode_ahead([&](ByteWriter& w) {
    w.put(LogOp::upsert);
    w.put<std::uint64_t>(points.size());
    for (const PointStruct& p : points) {
      put_id(w, p.id);
      put_vectors(w, p.vectors);
      put_json(w, p.payload);
    }
  });
  std::uint64_t op = 0;
  {
    std::unique_lock lock(mutex_);
    if (segments_.back()->slots() + points.size() > std::numeric_limits<PointOffset>::max()) {
      return Error{Errc::out_of_range, "points: the appendable segment of '" + name_ +
                                           "' would hold more than 2^32-1 point slots"};
    }
    op = operation_ + 1;
    VDB_TRY(log_encoded(op, body));
    operation_ = op;
    VDB_TRY(apply_upsert(points, op));
  }
  wake_optimizer();
  return UpdateResult{op};
}

Status Collection::apply_upsert(const std::vector<PointStruct>& points, std::uint64_t op) {
  Segment* target = segments_.back().get();
  for (const PointStruct& p : points) {
    const auto at = find(p.id);
    if (at && at->segment->version_at(at->offset) >= op) {
      continue; // replaying a record the checkpoint already holds
    }
    if (at && at->segment == target) {
      VDB_TRY(target->replace(at->offset, p, op));
      continue;
    }
    if (at) {
      at->segment->remove(at->offset); // the new version lives in the appendable segment
    }
    auto offset = target->append(p, op);
    VDB_TRY(offset);
  }
  return {};
}

Expected<std::vector<Collection::Location>> Collection::select(const PointsSelector& selector,
                                                               bool must_exist) const {
  std::vector<Location> out;
  if (const auto* ids = std::get_if<std::vector<PointId>>(&selector)) {
    if (ids->size() > context_.limits.max_batch_size) {
      return too_many("points", ids->size(), context_.limits.max_batch_size, "ids");
    }
    std::set<PointId> seen;
    for (std::size_t i = 0; i < ids->size(); ++i) {
      if (const auto at = find((*ids)[i])) {
        if (seen.insert((*ids)[i]).second) {
          out.push_back(*at);
        }
      } else if (must_exist) {
        return Error{Errc::not_found, "points[" + std::to_string(i) + "]: no point with id " +
                                          (*ids)[i].to_string() + " in collection '" + name_ + "'"};
      }
    }
    return out;
  }
  const Filter& filter = std::get<Filter>(selector);
  for (const auto& segment : segments_) {
    const FilterPlan plan = FilterPlan::compile(&filter, segment->payload_index(), *segment);
    for (const PointOffset offset : plan.candidates()) {
      if (segment->live().contains(offset) && plan.matches(offset)) {
        out.push_back(Location{segment.get(), offset});
      }
    }
  }
  return out;
}

namespace {
template <class Locations> void put_ids(ByteWriter& w, const Locations& selected) {
  w.put<std::uint64_t>(selected.size());
  for (const auto& at : selected) {
    put_id(w, at.segment->id_at(at.offset));
  }
}
} // namespace

Expected<UpdateResult> Collection::delete_points(const PointsSelector& selector) {
  std::unique_lock lock(mutex_);
  auto selected = select(selector, false);
  VDB_TRY(selected);
  const std::uint64_t op = operation_ + 1;
  VDB_TRY(log(op, [&](ByteWriter& w) {
    w.put(LogOp::delete_points);
    put_ids(w, *selected);
  }));
  operation_ = op;
  apply_delete(*selected);
  lock.unlock();
  wake_optimizer();
  return UpdateResult{op};
}

void Collection::apply_delete(const std::vector<Location>& selected) {
  for (const Location& at : selected) {
    at.segment->remove(at.offset);
  }
}

void Collection::PayloadEdit::apply(Json& target) const {
  switch (op) {
  case LogOp::set_payload: {
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
    return;
  }
  case LogOp::overwrite_payload:
    target = payload;
    return;
  case LogOp::delete_payload:
    for (const JsonPath& k : keys) {
      erase_path(target, k);
    }
    return;
  default: // clear_payload
    target = Json::object();
    return;
  }
}

Expected<UpdateResult> Collection::edit_payloads(const PointsSelector& selector,
                                                 const PayloadEdit& edit) {
  std::unique_lock lock(mutex_);
  auto selected = select(selector, true);
  VDB_TRY(selected);
  // Edit copies first, so a payload that would grow past the limit fails before any change.
  std::vector<Json> edited;
  edited.reserve(selected->size());
  for (const Location& at : *selected) {
    Json payload = *at.segment->payload_at(at.offset);
    edit.apply(payload);
    if (context_.limits.max_payload_bytes != 0 &&
        payload.dump().size() > context_.limits.max_payload_bytes) {
      return invalid("payload", "point " + at.segment->id_at(at.offset).to_string() +
                                    " would have a payload larger than the limit of " +
                                    std::to_string(context_.limits.max_payload_bytes) + " bytes");
    }
    edited.push_back(std::move(payload));
  }
  const std::uint64_t op = operation_ + 1;
  VDB_TRY(log(op, [&](ByteWriter& w) {
    w.put(edit.op);
    put_json(w, edit.payload);
    w.put<std::uint8_t>(edit.key ? 1 : 0);
    w.put_bytes(edit.key ? edit.key->to_string() : std::string());
    w.put<std::uint32_t>(static_cast<std::uint32_t>(edit.keys.size()));
    for (const JsonPath& k : edit.keys) {
      w.put_bytes(k.to_string());
    }
    put_ids(w, *selected);
  }));
  operation_ = op;
  for (std::size_t i = 0; i < selected->size(); ++i) {
    const Location& at = (*selected)[i];
    at.segment->set_payload(at.offset, std::move(edited[i]), op);
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
  return edit_payloads(selector, PayloadEdit{LogOp::set_payload, payload, key, {}});
}

Expected<UpdateResult> Collection::overwrite_payload(const Json& payload,
                                                     const PointsSelector& selector) {
  VDB_TRY(validate_payload(payload, context_.limits.max_payload_bytes));
  return edit_payloads(selector, PayloadEdit{LogOp::overwrite_payload, payload, {}, {}});
}

Expected<UpdateResult> Collection::delete_payload(const std::vector<JsonPath>& keys,
                                                  const PointsSelector& selector) {
  return edit_payloads(selector, PayloadEdit{LogOp::delete_payload, Json(), {}, keys});
}

Expected<UpdateResult> Collection::clear_payload(const PointsSelector& selector) {
  return edit_payloads(selector, PayloadEdit{LogOp::clear_payload, Json(), {}, {}});
}

Expected<UpdateResult> Collection::update_vectors(std::vector<PointVectors> points) {
  if (points.size() > context_.limits.max_batch_size) {
    return too_many("points", points.size(), context_.limits.max_batch_size, "points");
  }
  for (std::size_t i = 0; i < points.size(); ++i) {
    const std::string field =
        "points[" + std::to_string(i) + "] (id " + points[i].id.to_string() + ")";
    VDB_TRY(validate_vectors(points[i].vectors, field + ".vector", false));
    if (points[i].vectors.empty()) {
      return invalid(field + ".vector", "give at least one vector to update");
    }
  }
  const auto body = encode_ahead([&](ByteWriter& w) {
    w.put(LogOp::update_vectors);
    w.put<std::uint64_t>(points.size());
    for (const PointVectors& p : points) {
      put_id(w, p.id);
      put_vectors(w, p.vectors);
    }
  });
  std::unique_lock lock(mutex_);
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (!find(points[i].id)) {
      return Error{Errc::not_found, "points[" + std::to_string(i) + "]: no point with id " +
                                        points[i].id.to_string() + " in collection '" + name_ +
                                        "'"};
    }
  }
  const std::uint64_t op = operation_ + 1;
  VDB_TRY(log_encoded(op, body));
  operation_ = op;
  VDB_TRY(apply_update_vectors(points, op));
  return UpdateResult{op};
}

Status Collection::apply_update_vectors(const std::vector<PointVectors>& points, std::uint64_t op) {
  Segment* target = segments_.back().get();
  for (const PointVectors& p : points) {
    const auto at = find(p.id);
    if (!at || at->segment->version_at(at->offset) >= op) {
      continue; // replaying: deleted since, or the checkpoint holds it
    }
    if (at->segment == target) {
      VDB_TRY(target->write_vectors(at->offset, p.vectors, op));
      continue;
    }
    // A sealed segment never changes its vectors: the point moves to the appendable one.
    PointStruct moved{p.id, at->segment->vectors_of(at->offset, VectorSelector::every()),
                      *at->segment->payload_at(at->offset)};
    for (const auto& [name, v] : p.vectors) {
      moved.vectors[name] = v;
    }
    at->segment->remove(at->offset);
    auto offset = target->append(moved, op);
    VDB_TRY(offset);
  }
  return {};
}

Expected<UpdateResult> Collection::create_payload_index(const JsonPath& key,
                                                        PayloadFieldType type) {
  std::unique_lock lock(mutex_);
  const std::uint64_t op = operation_ + 1;
  VDB_TRY(log(op, [&](ByteWriter& w) {
    w.put(LogOp::create_index);
    w.put_bytes(key.to_string());
    w.put(static_cast<std::uint8_t>(type));
  }));
  operation_ = op;
  apply_create_index(key, type);
  return UpdateResult{op};
}

void Collection::apply_create_index(const JsonPath& key, PayloadFieldType type) {
  const auto it = std::find_if(indexed_fields_.begin(), indexed_fields_.end(),
                               [&](const auto& f) { return f.first == key; });
  if (it != indexed_fields_.end()) {
    it->second = type;
  } else {
    indexed_fields_.emplace_back(key, type);
  }
  for (const auto& segment : segments_) {
    segment->create_index(key, type);
  }
}

Expected<UpdateResult> Collection::delete_payload_index(const JsonPath& key) {
  std::unique_lock lock(mutex_);
  const auto it = std::find_if(indexed_fields_.begin(), indexed_fields_.end(),
                               [&](const auto& f) { return f.first == key; });
  if (it == indexed_fields_.end()) {
    return Error{Errc::not_found, "field_name: collection '" + name_ +
                                      "' has no payload index on '" + key.to_string() + "'"};
  }
  const std::uint64_t op = operation_ + 1;
  VDB_TRY(log(op, [&](ByteWriter& w) {
    w.put(LogOp::delete_index);
    w.put_bytes(key.to_string());
  }));
  operation_ = op;
  apply_delete_index(key);
  return UpdateResult{op};
}

bool Collection::apply_delete_index(const JsonPath& key) {
  const auto it = std::find_if(indexed_fields_.begin(), indexed_fields_.end(),
                               [&](const auto& f) { return f.first == key; });
  if (it == indexed_fields_.end()) {
    return false;
  }
  indexed_fields_.erase(it);
  for (const auto& segment : segments_) {
    segment->drop_index(key);
  }
  return true;
}

// ---- reads ---------------------------------------------------------------------------------

Record Collection::record(const Location& at, const PayloadSelector& with_payload,
                          const VectorSelector& with_vector) const {
  Record r{at.segment->id_at(at.offset), at.segment->version_at(at.offset), std::nullopt,
           at.segment->vectors_of(at.offset, with_vector)};
  if (with_payload.mode != PayloadSelector::Mode::none) {
    r.payload = select_payload(*at.segment->payload_at(at.offset), with_payload);
  }
  return r;
}

Expected<std::vector<Record>> Collection::retrieve(const std::vector<PointId>& ids,
                                                   const PayloadSelector& with_payload,
                                                   const VectorSelector& with_vector) const {
  if (ids.size() > context_.limits.max_batch_size) {
    return too_many("ids", ids.size(), context_.limits.max_batch_size, "ids");
  }
  VDB_TRY(check_vector_selector(with_vector, "with_vector"));
  std::shared_lock lock(mutex_);
  std::vector<Record> out;
  for (const PointId& id : ids) {
    if (const auto at = find(id)) {
      out.push_back(record(*at, with_payload, with_vector));
    }
  }
  return out;
}

Expected<ScrollResult> Collection::scroll(const ScrollRequest& request) const {
  if (request.limit == 0 || request.limit > context_.limits.max_search_limit) {
    return invalid("limit", "must be in 1.." + std::to_string(context_.limits.max_search_limit));
  }
  VDB_TRY(check_vector_selector(request.with_vector, "with_vector"));
  std::shared_lock lock(mutex_);
  std::vector<FilterPlan> plans;
  std::map<const Segment*, const FilterPlan*> plan_of;
  plans.reserve(segments_.size());
  bool selective = request.filter != nullptr && !request.filter->empty();
  std::uint64_t matches = 0;
  for (const auto& segment : segments_) {
    plans.push_back(FilterPlan::compile(request.filter, segment->payload_index(), *segment));
    plan_of[segment.get()] = &plans.back();
    const Bitmap* exact = plans.back().exact();
    selective = selective && exact != nullptr;
    matches += exact != nullptr ? exact->cardinality() : 0;
  }
  ScrollResult out;
  // A selective filter answered by indexes: sort its matches by id instead of walking every id.
  if (selective && matches * 8 < live_points()) {
    std::vector<std::pair<PointId, Location>> hits;
    for (std::size_t s = 0; s < segments_.size(); ++s) {
      for (const PointOffset offset : *plans[s].exact()) {
        const PointId& id = segments_[s]->id_at(offset);
        if (!request.offset || !(id < *request.offset)) {
          hits.emplace_back(id, Location{segments_[s].get(), offset});
        }
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
  VDB_TRY(in_id_order(request.offset ? &*request.offset : nullptr,
                      [&](const PointId& id, const Location& at) {
                        if (!plan_of.at(at.segment)->matches(at.offset)) {
                          return true;
                        }
                        if (out.points.size() == request.limit) {
                          out.next_page_offset = id;
                          return false;
                        }
                        out.points.push_back(record(at, request.with_payload, request.with_vector));
                        return true;
                      }));
  return out;
}

Expected<std::uint64_t> Collection::count(const Filter* filter, bool exact) const {
  std::shared_lock lock(mutex_);
  if (filter == nullptr || filter->empty()) {
    return live_points();
  }
  std::uint64_t n = 0;
  for (const auto& segment : segments_) {
    if (!exact) {
      n += segment->payload_index().estimate(*filter, *segment).expected;
      continue;
    }
    const FilterPlan plan = FilterPlan::compile(filter, segment->payload_index(), *segment);
    if (const Bitmap* all = plan.exact()) {
      n += all->cardinality();
      continue;
    }
    for (const PointOffset offset : plan.candidates()) {
      n += plan.matches(offset) ? 1 : 0;
    }
  }
  return n;
}

CardinalityEstimate Collection::estimate(const Filter& filter) const {
  std::shared_lock lock(mutex_);
  CardinalityEstimate total;
  for (const auto& segment : segments_) {
    const CardinalityEstimate e = segment->payload_index().estimate(filter, *segment);
    total.min += e.min;
    total.expected += e.expected;
    total.max += e.max;
  }
  return total;
}

Expected<std::vector<ScoredPoint>> Collection::search(const SearchRequest& request) const {
  std::shared_lock lock(mutex_);
  return search_locked(request, "");
}

Expected<std::vector<std::vector<ScoredPoint>>>
Collection::search_batch(const std::vector<SearchRequest>& requests) const {
  if (requests.size() > context_.limits.max_batch_size) {
    return too_many("searches", requests.size(), context_.limits.max_batch_size, "searches");
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
  const auto params_it = config_.vectors.find(request.vector_name);
  if (params_it == config_.vectors.end()) {
    return invalid(field + "vector.name",
                   request.vector_name.empty()
                       ? "this collection has only named vectors; say which one to search"
                       : "the collection has no vector named '" + request.vector_name + "'");
  }
  const VectorParams& params = params_it->second;
  const std::size_t limit_max = context_.limits.max_search_limit;
  if (request.limit == 0 || request.limit > limit_max) {
    return invalid(field + "limit", "must be in 1.." + std::to_string(limit_max));
  }
  if (request.offset > limit_max - request.limit) {
    return invalid(field + "offset", "limit + offset must be at most " + std::to_string(limit_max));
  }
  VDB_TRY(validate_vector(request.vector_name, request.vector, field + "vector"));
  VDB_TRY(check_vector_selector(request.with_vector, field + "with_vector"));
  if (request.score_threshold && !std::isfinite(*request.score_threshold)) {
    return invalid(field + "score_threshold", "must be a finite number");
  }
  if (!(request.quantization.oversampling >= 1.0 && request.quantization.oversampling <= 100.0)) {
    return invalid(field + "params.quantization.oversampling", "must be in 1..100");
  }

  // Cosine scores the normalized query; the copy lives in a buffer per thread, so a search
  // allocates nothing for it.
  const float* query = request.vector.data();
  if (params.distance == Distance::cosine) {
    thread_local std::vector<float> normalized;
    normalized.assign(request.vector.begin(), request.vector.end());
    normalize(normalized);
    query = normalized.data();
  }
  const HnswConfig& hnsw = params.hnsw_config.value_or(config_.hnsw_config);
  SegmentSearch s;
  s.vector_name = &request.vector_name;
  s.query = query;
  s.k = request.limit + request.offset;
  s.filter = request.filter;
  s.ef = request.hnsw_ef;
  s.exact = request.exact;
  s.quantization = request.quantization;
  s.full_scan_points = hnsw.full_scan_points(params.size);

  const ScoreRule rule{params.distance};
  struct Hit {
    float key;
    const Segment* segment;
    PointOffset offset;
  };
  std::vector<Hit> hits;
  hits.reserve(std::min<std::size_t>(s.k, 1024) * segments_.size());
  for (const auto& segment : segments_) {
    if (segment->points() == 0) {
      continue; // typically the fresh appendable segment
    }
    if (request.indexed_only && !request.exact && !segment->indexed() &&
        segment->points() > s.full_scan_points) {
      continue;
    }
    auto found = segment->search(s);
    VDB_TRY(found);
    for (const SegmentHit& h : *found) {
      hits.push_back(Hit{h.key, segment.get(), h.offset});
    }
  }
  const auto better = [](const Hit& a, const Hit& b) {
    if (a.key != b.key) {
      return a.key > b.key;
    }
    return a.segment->id_at(a.offset) < b.segment->id_at(b.offset);
  };
  const std::size_t keep = std::min(hits.size(), s.k);
  if (!std::is_sorted(hits.begin(), hits.end(), better)) { // one segment's hits come sorted
    std::partial_sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(keep), hits.end(),
                      better);
  }
  for (std::size_t i = request.offset; i < keep; ++i) {
    hits[i].segment->prefetch_point(hits[i].offset);
  }
  std::vector<ScoredPoint> out;
  out.reserve(keep - std::min(keep, request.offset));
  for (std::size_t i = request.offset; i < keep; ++i) {
    const Hit& h = hits[i];
    const float score = rule.score(rule.raw(h.key));
    if (request.score_threshold && !rule.passes(score, *request.score_threshold)) {
      break; // hits are sorted: the rest score worse
    }
    ScoredPoint point{h.segment->id_at(h.offset), h.segment->version_at(h.offset), score,
                      std::nullopt, h.segment->vectors_of(h.offset, request.with_vector)};
    if (request.with_payload.mode != PayloadSelector::Mode::none) {
      point.payload = select_payload(*h.segment->payload_at(h.offset), request.with_payload);
    }
    out.push_back(std::move(point));
  }
  return out;
}

CollectionInfo Collection::info() const {
  std::shared_lock lock(mutex_);
  CollectionInfo out;
  out.points_count = live_points();
  for (const auto& segment : segments_) {
    out.segments.push_back(SegmentInfo{segment->id(), segment->points(), segment->deleted(),
                                       segment->appendable(), segment->indexed(),
                                       segment->payload_links()});
    for (const auto& [name, params] : config_.vectors) {
      out.vectors_count[name] += segment->vector_count(name);
    }
    // Every segment has the same indexes: sum their point counts.
    for (const auto& [key, field] : segment->payload_index().describe()) {
      auto& total = out.payload_schema[key];
      total.type = field.type;
      total.points += field.points;
    }
  }
  out.optimizer = OptimizerStatus{running_.load(), task_, progress_.load(), progress_total_.load(),
                                  last_error_};
  out.last_operation = operation_;
  if (wal_) {
    out.storage.on_disk = true;
    out.storage.checkpoint_operation = checkpoint_op_;
    out.storage.wal_bytes = wal_->bytes();
    out.storage.wal_syncs = wal_->syncs();
    out.storage.payload_indexes_built_at_start = indexes_built_at_start_;
  }
  for (const auto& segment : segments_) {
    out.storage.mmap_vector_bytes += segment->file_vector_bytes();
    out.storage.mmap_payload_bytes += segment->file_payload_bytes();
    out.memory.vectors_mmap += segment->file_vector_bytes();
    out.memory.vectors_ram += segment->ram_vector_bytes();
    out.memory.codes_ram += segment->code_bytes();
    out.memory.codes_mmap += segment->mapped_code_bytes();
    out.memory.graph_ram += segment->graph_bytes();
    out.memory.graph_mmap += segment->mapped_graph_bytes();
    out.memory.payload_ram += segment->ram_payload_bytes();
    out.memory.payload_mmap += segment->file_payload_bytes();
  }
  out.config = config_;
  return out;
}

// ---- the optimizer -------------------------------------------------------------------------

void Collection::wake_optimizer() {
  {
    std::lock_guard lock(wake_mutex_);
    wake_pending_ = true;
  }
  wake_.notify_one();
}

void Collection::optimizer_loop() {
  while (!stop_) {
    {
      std::unique_lock lock(wake_mutex_);
      wake_.wait_for(lock, std::chrono::seconds(1), [this] { return wake_pending_ || stop_; });
      wake_pending_ = false;
    }
    while (!stop_) {
      std::lock_guard steps(optimizer_mutex_);
      checkpoint_if_due();
      auto did = optimize_step();
      if (!did) {
        std::unique_lock lock(mutex_);
        last_error_ = did.error().message;
        lock.unlock();
        if (!stop_) {
          log::warn("collection " + name_ + ": optimizer: " + did.error().message);
        }
        break;
      }
      if (!*did) {
        break;
      }
    }
  }
}

Status Collection::optimize_now() {
  while (!stop_) {
    // Steps take the lock one at a time, and a checkpoint that is due runs between them: a
    // steady stream of writes keeps the optimizer busy, and must not starve checkpoints.
    std::lock_guard steps(optimizer_mutex_);
    checkpoint_if_due();
    auto did = optimize_step();
    if (!did) {
      std::unique_lock lock(mutex_);
      last_error_ = did.error().message;
      return did.status();
    }
    if (!*did) {
      return {};
    }
  }
  return Error{Errc::unavailable, "collection " + name_ + ": the optimizer is stopped"};
}

Expected<bool> Collection::optimize_step() {
  const OptimizersConfig& o = config_.optimizers_config;
  Segment* to_index = nullptr;
  std::vector<Segment*> to_rebuild;
  const char* task = nullptr;
  {
    std::unique_lock lock(mutex_);
    // 1. Seal the appendable segment once its vectors pass indexing_threshold (KB).
    Segment* appendable = segments_.back().get();
    if (o.indexing_threshold != 0 && appendable->vector_bytes() > o.indexing_threshold * 1024) {
      appendable->seal();
      VDB_TRY(add_segment());
      VDB_TRY(appendable->move_to_files(segment_dir(appendable->id()),
                                        file_vectors(appendable->vector_bytes())));
      VDB_TRY(place_payloads(*appendable));
    }
    // 2. Index a sealed segment that has no graph yet.
    for (const auto& segment : segments_) {
      if (!segment->appendable() && !segment->indexed() && segment->points() > 0) {
        to_index = segment.get();
        break;
      }
    }
    // 3. Vacuum a sealed segment with too many deleted points.
    if (to_index == nullptr) {
      for (const auto& segment : segments_) {
        if (!segment->appendable() && segment->deleted() >= o.vacuum_min_vector_number &&
            static_cast<double>(segment->deleted()) >
                o.deleted_threshold * static_cast<double>(segment->slots())) {
          to_rebuild = {segment.get()};
          task = "vacuum";
          break;
        }
      }
    }
    // 4. Merge the two smallest sealed segments while there are more than the target number.
    const std::size_t target = o.default_segment_number != 0
                                   ? o.default_segment_number
                                   : std::max<std::size_t>(2, std::thread::hardware_concurrency());
    std::vector<Segment*> sealed;
    for (const auto& segment : segments_) {
      if (!segment->appendable()) {
        sealed.push_back(segment.get());
      }
    }
    if (to_index == nullptr && to_rebuild.empty() && sealed.size() > target) {
      std::sort(sealed.begin(), sealed.end(),
                [](const Segment* a, const Segment* b) { return a->points() < b->points(); });
      to_rebuild = {sealed[0], sealed[1]};
      task = "merge";
    }
    if (to_index == nullptr && to_rebuild.empty()) {
      return false;
    }
    if (to_index != nullptr) {
      task_ = "indexing";
    }
  }
  if (!to_rebuild.empty()) {
    VDB_TRY(rebuild(std::move(to_rebuild), task));
    return true;
  }
  // Build without the lock: a sealed segment's vectors never change; deletes only flip bits.
  std::vector<Segment::GraphInput> inputs;
  std::uint64_t points = 0;
  {
    std::shared_lock lock(mutex_);
    inputs = to_index->graph_inputs();
    points = to_index->points();
  }
  auto graphs = build_graphs(std::move(inputs), points);
  if (graphs) {
    VDB_TRY(to_index->place_mapped(*graphs, mapped_dir(to_index->id())));
  }
  std::unique_lock lock(mutex_);
  task_.clear();
  VDB_TRY(graphs);
  to_index->install_graphs(std::move(*graphs));
  return true;
}

Expected<Segment::Built> Collection::build_graphs(std::vector<Segment::GraphInput> inputs,
                                                  std::uint64_t points) {
  progress_total_ = points * inputs.size();
  progress_ = 0;
  running_ = true;
  auto graphs = Segment::build_graphs(std::move(inputs), stop_, progress_);
  running_ = false;
  return graphs;
}

Status Collection::rebuild(std::vector<Segment*> sources, const char* task) {
  // Copy the live points of the sources (under the shared lock), build a new sealed, indexed
  // segment from them without the lock, then swap it in, checking what changed meanwhile.
  struct Copied {
    PointStruct point;
    std::uint64_t version;
  };
  std::vector<Copied> copied;
  std::unique_ptr<Segment> fresh;
  {
    std::unique_lock lock(mutex_);
    task_ = task;
    for (Segment* source : sources) {
      for (const PointOffset offset : source->live()) {
        copied.push_back(Copied{PointStruct{source->id_at(offset),
                                            source->vectors_of(offset, VectorSelector::every()),
                                            *source->payload_at(offset)},
                                source->version_at(offset)});
      }
    }
    auto segment = Segment::create(next_segment_id_++, config_, context_);
    VDB_TRY(segment);
    fresh = std::move(*segment);
    for (const auto& [key, type] : indexed_fields_) {
      fresh->create_index(key, type);
    }
  }
  for (const Copied& c : copied) {
    VDB_TRY(fresh->append(c.point, c.version));
  }
  fresh->seal();
  VDB_TRY(fresh->move_to_files(segment_dir(fresh->id()), file_vectors(fresh->vector_bytes())));
  VDB_TRY(place_payloads(*fresh));
  auto graphs = build_graphs(fresh->graph_inputs(), copied.size());
  if (graphs) {
    VDB_TRY(fresh->place_mapped(*graphs, mapped_dir(fresh->id())));
  }
  std::unique_lock lock(mutex_);
  task_.clear();
  VDB_TRY(graphs);
  fresh->install_graphs(std::move(*graphs));
  // Payload indexes created or dropped while the segment was built (it was not in segments_
  // then, so those writes did not reach it).
  std::set<std::string> wanted;
  for (const auto& [key, type] : indexed_fields_) {
    wanted.insert(key.to_string());
  }
  fresh->retain_indexes(wanted);
  for (const auto& [key, type] : indexed_fields_) {
    fresh->create_index(key, type);
  }
  // Reconcile: a point still where it was copied from moves to the new segment (with the
  // payload it has now, which an edit may have changed); any other point was deleted or moved
  // meanwhile and is dropped from the new segment.
  for (const PointOffset offset : Bitmap(fresh->live())) {
    const PointId id = fresh->id_at(offset);
    const auto at = find(id);
    const bool still_there =
        at && std::find(sources.begin(), sources.end(), at->segment) != sources.end();
    if (!still_there) {
      fresh->remove(offset);
      continue;
    }
    if (at->segment->version_at(at->offset) != fresh->version_at(offset)) {
      fresh->set_payload(offset, *at->segment->payload_at(at->offset),
                         at->segment->version_at(at->offset));
    }
  }
  segments_.erase(std::remove_if(segments_.begin(), segments_.end(),
                                 [&](const std::unique_ptr<Segment>& s) {
                                   return std::find(sources.begin(), sources.end(), s.get()) !=
                                          sources.end();
                                 }),
                  segments_.end());
  // Keep the appendable segment last.
  segments_.insert(segments_.end() - 1, std::move(fresh));
  return {};
}

} // namespace vdb
