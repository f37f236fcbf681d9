// The payload indexes of a collection, one FieldIndex per indexed key path, and the whole-filter
// cardinality estimate built from them.
#pragma once

#include "core/engine/field_index.hpp"

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

namespace vdb {

/// A point's payload as a segment gives it: borrowed from memory, or decoded from the segment's
/// payload file (on_disk_payload) and owned here. Valid while the segment is unchanged.
class PayloadRef {
public:
  explicit PayloadRef(const Json* borrowed) : borrowed_(borrowed) {}
  explicit PayloadRef(Json owned) : owned_(std::move(owned)) {}
  const Json& operator*() const noexcept { return borrowed_ != nullptr ? *borrowed_ : owned_; }
  const Json* operator->() const noexcept { return &**this; }

private:
  const Json* borrowed_ = nullptr;
  Json owned_;
};

/// What an estimate or a filter plan needs to know about the collection's points.
class PointSource {
public:
  virtual ~PointSource() = default;
  /// Offsets of the points that exist (deleted ones excluded).
  virtual const Bitmap& live() const = 0;
  /// The offset of a live point, if it exists.
  virtual std::optional<PointOffset> offset_of(const PointId& id) const = 0;
  virtual const PointId& id_at(PointOffset offset) const = 0;
  virtual PayloadRef payload_at(PointOffset offset) const = 0;
};

class PayloadIndex {
public:
  struct FieldInfo {
    PayloadFieldType type = PayloadFieldType::keyword;
    std::uint64_t points = 0; ///< points with an indexed value
  };

  /// Adds an index on `key` and fills it from `source`. Creating an index that exists with the
  /// same type does nothing; with another type it replaces it.
  void create(const JsonPath& key, PayloadFieldType type, const PointSource& source);
  /// Drops the index on `key`; false when there is none.
  bool drop(const JsonPath& key);
  /// Drops the indexes on keys (JsonPath::to_string) not in `keys`; true when it dropped one.
  bool retain(const std::set<std::string>& keys);

  /// Reindexes one point's payload in every index.
  void set(PointOffset offset, const Json& payload);
  void remove(PointOffset offset);

  /// The index on exactly this key, or null.
  const FieldIndex* find(const JsonPath& key) const;
  /// The live points matching `condition` from `index`, or null when it cannot serve it.
  /// Results are cached (like a search engine's filter cache) until the next change to this
  /// segment's payloads or indexes, so a filter repeated across queries is built once; the
  /// bitmap is shared with the cache, not copied.
  /// `index` is find(condition.key), which the caller has already looked up.
  std::shared_ptr<const Bitmap> filter(const FieldCondition& condition, const FieldIndex& index,
                                       const Bitmap& live) const;
  std::map<std::string, FieldInfo> describe() const;
  /// The blocks of every index (FieldIndex::blocks, numbers bucketed by `min_points`) that hold
  /// at least `min_points` points, each with its index's key (JsonPath::to_string): what the
  /// graph's payload-aware links are built over.
  std::vector<std::pair<std::string, Bitmap>> blocks(std::uint64_t min_points) const;

  /// Every field's key, type and index data, for the segment's points file.
  void save(ByteWriter& w) const;
  /// Adds the indexes save() wrote (replacing any on the same key); offsets below `slots`.
  Status load(ByteReader& r, PointOffset slots);

  /// Estimates how many live points `filter` matches: each condition from its index (or
  /// `{0, n/2, n}` without one), has_id exactly, combined by estimate_all / estimate_any /
  /// estimate_at_least / estimate_not.
  CardinalityEstimate estimate(const Filter& filter, const PointSource& source) const;

private:
  CardinalityEstimate estimate(const Condition& condition, const PointSource& source) const;

  void invalidate() {
    std::lock_guard lock(cache_mutex_);
    cache_.clear();
  }

  std::map<std::string, std::pair<JsonPath, std::unique_ptr<FieldIndex>>> fields_;
  static constexpr std::size_t kCacheEntries = 256;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::shared_ptr<const Bitmap>> cache_;
};

} // namespace vdb
