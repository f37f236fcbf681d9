// The API of a VDB database, as the embedded vdb::Database and the remote vdb::RemoteClient both
// offer it: collections, point and payload operations, reads, searches and payload indexes.
// Filters travel as JSON in Qdrant's filter language (docs/data-model.md) and are checked where
// they arrive; payloads are JSON objects. Every method returns a value or an Error whose message
// names the field that was wrong.
#pragma once

#include "core/common/error.hpp"
#include "core/engine/collection.hpp"
#include "core/engine/point.hpp"
#include "core/engine/snapshots.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vdb {

/// Which points a write applies to: these ids, or the points matching a filter.
struct Selector {
  std::vector<PointId> ids;
  std::optional<Json> filter; ///< when set, `ids` is ignored

  static Selector of(std::vector<PointId> ids) { return {std::move(ids), std::nullopt}; }
  static Selector matching(Json filter) { return {{}, std::move(filter)}; }
};

/// A nearest-neighbour search (SearchRequest with the filter as JSON).
struct Query {
  std::string vector_name; ///< "" for the unnamed vector
  std::vector<float> vector;
  std::size_t limit = 10;
  std::size_t offset = 0;
  std::optional<Json> filter;
  std::optional<float> score_threshold;
  PayloadSelector with_payload = PayloadSelector::none();
  VectorSelector with_vector = VectorSelector::none();
  std::size_t hnsw_ef = 0; ///< 0: the index's ef_construct
  bool exact = false;
  bool indexed_only = false;
  QuantizationSearch quantization;
};

/// The engine's request for a query whose filter is parsed (`filter` is borrowed; null: none).
inline SearchRequest to_search_request(const Query& q, const Filter* filter) {
  SearchRequest r;
  r.vector_name = q.vector_name;
  r.vector = q.vector;
  r.limit = q.limit;
  r.offset = q.offset;
  r.filter = filter;
  r.score_threshold = q.score_threshold;
  r.with_payload = q.with_payload;
  r.with_vector = q.with_vector;
  r.hnsw_ef = q.hnsw_ef;
  r.exact = q.exact;
  r.indexed_only = q.indexed_only;
  r.quantization = q.quantization;
  return r;
}

/// A page of points in id order (ScrollRequest with the filter as JSON).
struct ScrollQuery {
  std::optional<Json> filter;
  std::size_t limit = 10;
  std::optional<PointId> offset;
  PayloadSelector with_payload = PayloadSelector::all();
  VectorSelector with_vector = VectorSelector::none();
};

/// What a write returns. `completed` is true for a write sent with wait = true: it is applied
/// and its log record is synced to disk (it survives power loss). With wait = false it is
/// false: the write is applied and in the log (it survives a crash of the process), but the
/// sync may not have happened yet.
struct WriteResult {
  std::uint64_t operation_id = 0;
  bool completed = true;
};

struct HealthInfo {
  std::string version;
  std::uint64_t collections = 0;
};

/// The database API. Implementations are thread-safe: any number of threads may call at once.
class Client {
public:
  virtual ~Client() = default;

  // Collections.
  /// `config` is a create-collection body in Qdrant's shape ({"vectors": {...}, ...}).
  virtual Status create_collection(const std::string& name, const Json& config) = 0;
  virtual Status delete_collection(const std::string& name) = 0;
  virtual Expected<std::vector<std::string>> list_collections() = 0;
  /// Points, segments, optimizer state, payload schema and the configuration, as JSON.
  virtual Expected<Json> collection_info(const std::string& name) = 0;

  // Writes. With wait = true the call returns once the write is applied and visible.
  virtual Expected<WriteResult> upsert(const std::string& collection,
                                       std::vector<PointStruct> points, bool wait = true) = 0;
  virtual Expected<WriteResult> delete_points(const std::string& collection,
                                              const Selector& selector, bool wait = true) = 0;
  /// Merges `payload` into the selected points' payloads (under `key` when given).
  virtual Expected<WriteResult> set_payload(const std::string& collection, const Json& payload,
                                            const Selector& selector,
                                            const std::optional<std::string>& key = std::nullopt,
                                            bool wait = true) = 0;
  virtual Expected<WriteResult> overwrite_payload(const std::string& collection,
                                                  const Json& payload, const Selector& selector,
                                                  bool wait = true) = 0;
  virtual Expected<WriteResult> delete_payload(const std::string& collection,
                                               const std::vector<std::string>& keys,
                                               const Selector& selector, bool wait = true) = 0;
  virtual Expected<WriteResult> clear_payload(const std::string& collection,
                                              const Selector& selector, bool wait = true) = 0;
  virtual Expected<WriteResult> update_vectors(const std::string& collection,
                                               std::vector<PointVectors> points,
                                               bool wait = true) = 0;
  /// `schema`: keyword, integer, float, bool, uuid, datetime, text or geo.
  virtual Expected<WriteResult> create_payload_index(const std::string& collection,
                                                     const std::string& field,
                                                     const std::string& schema,
                                                     bool wait = true) = 0;
  virtual Expected<WriteResult> delete_payload_index(const std::string& collection,
                                                     const std::string& field,
                                                     bool wait = true) = 0;

  // Reads.
  virtual Expected<std::vector<Record>> retrieve(const std::string& collection,
                                                 const std::vector<PointId>& ids,
                                                 const PayloadSelector& with_payload,
                                                 const VectorSelector& with_vector) = 0;
  virtual Expected<ScrollResult> scroll(const std::string& collection,
                                        const ScrollQuery& query) = 0;
  /// With exact = false, the estimate from payload indexes.
  virtual Expected<std::uint64_t> count(const std::string& collection,
                                        const std::optional<Json>& filter, bool exact = true) = 0;
  virtual Expected<std::vector<ScoredPoint>> search(const std::string& collection,
                                                    const Query& query) = 0;
  virtual Expected<std::vector<std::vector<ScoredPoint>>>
  search_batch(const std::string& collection, const std::vector<Query>& queries) = 0;

  virtual Expected<HealthInfo> health() = 0;

  // Snapshots (a database with a data folder; see docs/storage.md).
  virtual Expected<SnapshotInfo> create_snapshot(const std::string& collection) = 0;
  virtual Expected<std::vector<SnapshotInfo>> list_snapshots(const std::string& collection) = 0;
  virtual Status delete_snapshot(const std::string& collection, const std::string& name) = 0;
  /// Replaces (or creates) `collection` from snapshot `name` (a file name from
  /// list_snapshots, or "OTHER_COLLECTION/NAME").
  virtual Status recover_snapshot(const std::string& collection, const std::string& name) = 0;
};

} // namespace vdb
