#include "core/engine/payload_index.hpp"

namespace vdb {

void PayloadIndex::create(const JsonPath& key, PayloadFieldType type, const PointSource& source) {
  const std::string& name = key.to_string();
  const auto it = fields_.find(name);
  if (it != fields_.end() && it->second.second->type() == type) {
    return;
  }
  auto index = make_field_index(type);
  std::vector<const Json*> values;
  for (const PointOffset offset : source.live()) {
    values.clear();
    const PayloadRef payload = source.payload_at(offset);
    collect_values(*payload, key, values);
    if (!values.empty()) {
      index->set(offset, values);
    }
  }
  fields_[name] = {key, std::move(index)};
  invalidate();
}

bool PayloadIndex::drop(const JsonPath& key) {
  invalidate();
  return fields_.erase(key.to_string()) > 0;
}

bool PayloadIndex::retain(const std::set<std::string>& keys) {
  bool dropped = false;
  for (auto it = fields_.begin(); it != fields_.end();) {
    if (keys.count(it->first) == 0) {
      it = fields_.erase(it);
      dropped = true;
    } else {
      ++it;
    }
  }
  if (dropped) {
    invalidate();
  }
  return dropped;
}

void PayloadIndex::set(PointOffset offset, const Json& payload) {
  invalidate();
  std::vector<const Json*> values;
  for (auto& [name, field] : fields_) {
    values.clear();
    collect_values(payload, field.first, values);
    if (values.empty()) {
      field.second->remove(offset);
    } else {
      field.second->set(offset, values);
    }
  }
}

void PayloadIndex::remove(PointOffset offset) {
  invalidate();
  for (auto& [name, field] : fields_) {
    field.second->remove(offset);
  }
}

const FieldIndex* PayloadIndex::find(const JsonPath& key) const {
  if (fields_.empty()) {
    return nullptr;
  }
  const auto it = fields_.find(key.to_string());
  return it == fields_.end() ? nullptr : it->second.second.get();
}

std::shared_ptr<const Bitmap> PayloadIndex::filter(const FieldCondition& condition,
                                                   const FieldIndex& index,
                                                   const Bitmap& live) const {
  thread_local std::string key;
  condition_key(condition, key);
  {
    std::lock_guard lock(cache_mutex_);
    const auto it = cache_.find(key);
    if (it != cache_.end()) {
      return it->second;
    }
  }
  auto bits = index.filter(condition);
  if (!bits) {
    return nullptr;
  }
  *bits &= live;
  bits->shrinkToFit();
  auto shared = std::make_shared<const Bitmap>(std::move(*bits));
  std::lock_guard lock(cache_mutex_);
  if (cache_.size() >= kCacheEntries) {
    cache_.clear();
  }
  cache_.emplace(key, shared);
  return shared;
}

std::vector<std::pair<std::string, Bitmap>> PayloadIndex::blocks(std::uint64_t min_points) const {
  std::vector<std::pair<std::string, Bitmap>> out;
  for (const auto& [name, field] : fields_) {
    for (Bitmap& block : field.second->blocks(min_points)) {
      if (block.cardinality() >= min_points) {
        out.emplace_back(name, std::move(block));
      }
    }
  }
  return out;
}

std::map<std::string, PayloadIndex::FieldInfo> PayloadIndex::describe() const {
  std::map<std::string, FieldInfo> out;
  for (const auto& [name, field] : fields_) {
    out[name] = FieldInfo{field.second->type(), field.second->indexed_points()};
  }
  return out;
}

void PayloadIndex::save(ByteWriter& w) const {
  w.put<std::uint32_t>(static_cast<std::uint32_t>(fields_.size()));
  for (const auto& [name, field] : fields_) {
    w.put_bytes(name);
    w.put(static_cast<std::uint8_t>(field.second->type()));
    std::string body;
    ByteWriter inner(body);
    field.second->save(inner);
    w.put_bytes(body);
  }
}

Status PayloadIndex::load(ByteReader& r, PointOffset slots) {
  auto n = r.get<std::uint32_t>();
  VDB_TRY(n);
  for (std::uint32_t i = 0; i < *n; ++i) {
    auto name = r.get_bytes();
    VDB_TRY(name);
    auto key = JsonPath::parse(*name);
    if (!key) {
      return r.corrupt("a payload index on an unreadable key");
    }
    auto type = r.get<std::uint8_t>();
    VDB_TRY(type);
    if (*type > static_cast<std::uint8_t>(PayloadFieldType::geo)) {
      return r.corrupt("a payload index of unknown type " + std::to_string(*type));
    }
    auto body = r.get_bytes();
    VDB_TRY(body);
    auto index = make_field_index(static_cast<PayloadFieldType>(*type));
    ByteReader inner(*body, r.what() + ": payload index '" + std::string(*name) + "'");
    VDB_TRY(index->load(inner, slots));
    if (!inner.done()) {
      return inner.corrupt("trailing bytes");
    }
    std::string name_of = key->to_string();
    fields_[std::move(name_of)] = {std::move(*key), std::move(index)};
  }
  invalidate();
  return {};
}

CardinalityEstimate PayloadIndex::estimate(const Condition& condition,
                                           const PointSource& source) const {
  const std::uint64_t total = source.live().cardinality();
  if (const auto* sub = std::get_if<std::shared_ptr<const Filter>>(&condition.value)) {
    return estimate(**sub, source);
  }
  if (const auto* field = std::get_if<FieldCondition>(&condition.value)) {
    if (const FieldIndex* index = find(field->key)) {
      if (auto e = index->estimate(*field)) {
        return *e;
      }
    }
  } else if (const auto* has_id = std::get_if<HasId>(&condition.value)) {
    std::uint64_t n = 0;
    for (const PointId& id : has_id->ids) {
      n += source.offset_of(id).has_value() ? 1 : 0;
    }
    return CardinalityEstimate::exact(n);
  }
  return CardinalityEstimate::unknown(total);
}

CardinalityEstimate PayloadIndex::estimate(const Filter& filter, const PointSource& source) const {
  const std::uint64_t total = source.live().cardinality();
  const auto each = [&](const std::vector<Condition>& conditions) {
    std::vector<CardinalityEstimate> out;
    out.reserve(conditions.size());
    for (const Condition& c : conditions) {
      out.push_back(estimate(c, source));
    }
    return out;
  };
  std::vector<CardinalityEstimate> parts = each(filter.must);
  if (!filter.must_not.empty()) {
    parts.push_back(estimate_not(estimate_any(each(filter.must_not), total), total));
  }
  if (!filter.should.empty()) {
    parts.push_back(estimate_any(each(filter.should), total));
  }
  if (filter.min_should) {
    parts.push_back(estimate_at_least(each(filter.min_should->conditions),
                                      filter.min_should->min_count, total));
  }
  return estimate_all(parts, total);
}

} // namespace vdb
