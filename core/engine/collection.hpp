// A collection: points (id, named vectors, JSON payload), their payload indexes, and every
// operation on them: upserts and deletes, payload edits, reads (retrieve, scroll, count) and
// exact search through the distance plugin.
//
// Thread-safety: any number of reads run together; a write runs alone (a shared mutex). Every
// write is validated whole before anything changes, so a rejected request changes nothing.
#pragma once

#include "core/common/error.hpp"
#include "core/engine/collection_config.hpp"
#include "core/engine/filter_plan.hpp"
#include "core/engine/payload_index.hpp"
#include "core/engine/point.hpp"
#include "core/plugin_host/distance_backend.hpp"
#include "core/plugin_host/record_store.hpp"

#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

namespace vdb {

/// Bounds on what one request may ask for (config section `limits`).
struct EngineLimits {
  std::size_t max_batch_size = 10'000;   ///< points per upsert, ids per selector
  std::size_t max_search_limit = 10'000; ///< limit + offset of a search or scroll
  std::size_t max_payload_bytes = 1 << 20;
  std::uint32_t max_vector_dim = 65'536;
  std::size_t max_collection_name_length = 255;
  std::size_t max_collections = 0; ///< 0: no limit
  FilterLimits filter;
};

/// What every collection shares: the distance backend chosen at start-up, the storage plugin
/// that holds vectors, and the limits.
struct EngineContext {
  DistanceBackend distance;
  std::shared_ptr<const Plugin> vector_storage;
  EngineLimits limits;
};

struct UpdateResult {
  std::uint64_t operation_id = 0; ///< the version the changed points now carry
};

struct SearchRequest {
  std::string vector_name; ///< "" for the unnamed vector
  std::vector<float> vector;
  std::size_t limit = 10;
  std::size_t offset = 0;
  const Filter* filter = nullptr; ///< borrowed for the call
  std::optional<float> score_threshold;
  PayloadSelector with_payload = PayloadSelector::none();
  VectorSelector with_vector = VectorSelector::none();
};

struct ScrollRequest {
  const Filter* filter = nullptr; ///< borrowed for the call
  std::size_t limit = 10;
  std::optional<PointId> offset; ///< the first id to return (from next_page_offset)
  PayloadSelector with_payload = PayloadSelector::all();
  VectorSelector with_vector = VectorSelector::none();
};

struct ScrollResult {
  std::vector<Record> points;
  std::optional<PointId> next_page_offset; ///< absent on the last page
};

struct CollectionInfo {
  std::uint64_t points_count = 0;
  std::map<std::string, std::uint64_t> vectors_count; ///< points holding each named vector
  std::map<std::string, PayloadIndex::FieldInfo> payload_schema;
  std::uint64_t last_operation = 0;
  CollectionConfig config;
};

class Collection final : private PointSource {
public:
  /// A new, empty collection. `config` must have passed parse_collection_config (or be built
  /// with the same constraints); this checks only what storage needs.
  static Expected<std::unique_ptr<Collection>> create(std::string name, CollectionConfig config,
                                                      const EngineContext& context);

  const std::string& name() const noexcept { return name_; }
  const CollectionConfig& config() const noexcept { return config_; }
  /// Whether requests name the vector "" (one unnamed vector).
  bool unnamed_vector() const { return config_.unnamed_vector(); }

  // Writes. Each applies entirely or, when any part is invalid, not at all; errors name the
  // failing point as `points[i]` (with its id).

  /// Inserts points or replaces them whole (vectors and payload).
  Expected<UpdateResult> upsert(std::vector<PointStruct> points);
  /// Deletes the selected points; ids that do not exist are ignored.
  Expected<UpdateResult> delete_points(const PointsSelector& selector);
  /// Merges `payload` into each selected point's payload (at `key`, a path of object keys,
  /// when given). Ids must exist.
  Expected<UpdateResult> set_payload(const Json& payload, const PointsSelector& selector,
                                     const std::optional<JsonPath>& key = std::nullopt);
  /// Replaces each selected point's payload.
  Expected<UpdateResult> overwrite_payload(const Json& payload, const PointsSelector& selector);
  /// Removes `keys` from each selected point's payload.
  Expected<UpdateResult> delete_payload(const std::vector<JsonPath>& keys,
                                        const PointsSelector& selector);
  /// Empties each selected point's payload.
  Expected<UpdateResult> clear_payload(const PointsSelector& selector);
  /// Replaces the given vectors of existing points; other vectors and the payload stay.
  Expected<UpdateResult> update_vectors(std::vector<PointVectors> points);

  /// Indexes `key` with `type` (replacing an index of another type on the same key).
  Expected<UpdateResult> create_payload_index(const JsonPath& key, PayloadFieldType type);
  /// Drops the index on `key`; not_found when there is none.
  Expected<UpdateResult> delete_payload_index(const JsonPath& key);

  // Reads.

  /// The points with these ids, in the order asked; ids that do not exist are left out.
  Expected<std::vector<Record>> retrieve(const std::vector<PointId>& ids,
                                         const PayloadSelector& with_payload,
                                         const VectorSelector& with_vector) const;
  /// Points in id order from `offset`, matching the filter, at most `limit`.
  Expected<ScrollResult> scroll(const ScrollRequest& request) const;
  /// The number of points matching `filter` (all when null). With exact = false, the
  /// estimate's expected value from payload indexes, without reading payloads.
  Expected<std::uint64_t> count(const Filter* filter, bool exact = true) const;
  /// The cardinality estimate of `filter` from payload indexes.
  CardinalityEstimate estimate(const Filter& filter) const;
  /// The `limit` best points after skipping `offset`, best first; ties in score go to the
  /// smaller id. Cosine and Dot score by dot product (larger is better); Euclid returns the
  /// L2 distance and Manhattan the L1 distance (smaller is better). `score_threshold` keeps
  /// scores at least as good as itself.
  Expected<std::vector<ScoredPoint>> search(const SearchRequest& request) const;
  /// Several searches; fails whole, naming `searches[i]`, if any request is invalid.
  Expected<std::vector<std::vector<ScoredPoint>>>
  search_batch(const std::vector<SearchRequest>& requests) const;

  CollectionInfo info() const;

private:
  struct VectorColumn {
    VectorParams params;
    std::unique_ptr<RecordStore> store; // record i: the vector of offset i (zeros when absent)
    Bitmap present;                     // offsets that hold this vector
  };

  Collection(std::string name, CollectionConfig config, const EngineContext& context)
      : name_(std::move(name)), config_(std::move(config)), context_(context) {}

  // PointSource, for payload indexes and filter plans (callers hold the lock).
  const Bitmap& live() const override { return live_; }
  std::optional<PointOffset> offset_of(const PointId& id) const override;
  const PointId& id_at(PointOffset offset) const override { return ids_[offset]; }
  const Json& payload_at(PointOffset offset) const override { return payloads_[offset]; }

  Status validate_vectors(const NamedVectors& vectors, const std::string& field,
                          bool need_all) const;
  /// Offsets of the selected live points; with `must_exist`, an id that does not exist fails.
  Expected<std::vector<PointOffset>> select(const PointsSelector& selector, bool must_exist) const;
  Status write_vector(VectorColumn& column, PointOffset offset, const std::vector<float>& v);
  void erase(PointOffset offset);
  /// Applies `edit` to each selected point's payload and reindexes it.
  template <class Edit>
  Expected<UpdateResult> edit_payloads(const PointsSelector& selector, Edit&& edit);
  Expected<std::vector<ScoredPoint>> search_locked(const SearchRequest& request,
                                                   const std::string& field) const;
  Record record(PointOffset offset, const PayloadSelector& with_payload,
                const VectorSelector& with_vector) const;
  NamedVectors vectors_of(PointOffset offset, const VectorSelector& selector) const;
  Status check_vector_selector(const VectorSelector& selector, const std::string& field) const;

  const std::string name_;
  const CollectionConfig config_;
  const EngineContext context_;

  mutable std::shared_mutex mutex_;
  std::map<std::string, VectorColumn> columns_;
  std::vector<PointId> ids_;               // by offset
  std::vector<Json> payloads_;             // by offset
  std::vector<std::uint64_t> versions_;    // by offset
  std::map<PointId, PointOffset> offsets_; // live points, in id order
  Bitmap live_;
  PayloadIndex payload_index_;
  std::uint64_t operation_ = 0;
};

} // namespace vdb
