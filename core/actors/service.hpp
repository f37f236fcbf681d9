// The actor runtime behind the API: a CAF actor system with one catalog actor that owns the
// collections and, per collection, the actors that serve it:
//
//   catalog ──► ingest   (one per collection: validates and applies writes in arrival order,
//          │              answers per `wait`, then wakes the indexer)
//          ├──► filter   (one per collection: parses a read's filter with the limits and hands
//          │              the immutable result to a searcher)
//          ├──► search × N (a round-robin pool: searches, retrieve, scroll, count, info)
//          └──► index    (a detached actor on its own thread: seals, builds HNSW, vacuums and
//                         merges; the heavy work never runs on the threads that answer reads)
//
// Messages are per request: one carries a request's closure (its parsed arguments and where to
// answer) from actor to actor; the hot loops run inside one actor on the collection's data.
// Every request carries a deadline: a request still queued when it passes is answered with
// deadline_exceeded instead of being served. The answer callback runs on an actor thread and
// must be cheap and thread-safe (fulfil a promise, a Cap'n Proto cross-thread fulfiller).
//
// This header includes no CAF: the runtime is behind a pointer.
#pragma once

#include "core/actors/api.hpp"
#include "core/engine/catalog.hpp"

#include <chrono>
#include <functional>
#include <memory>

namespace vdb {

struct ServiceOptions {
  explicit ServiceOptions(EngineContext engine) : context(std::move(engine)) {}

  EngineContext context;     ///< distance backend, storage plugin, limits
  CollectionConfig defaults; ///< what create-collection requests leave out
  std::size_t threads = 0;   ///< actor scheduler threads; 0: one per core
  std::size_t searchers = 0; ///< search actors per collection; 0: one per scheduler thread
  std::chrono::milliseconds timeout{30'000}; ///< per request
  /// The data folder (storage.storage_path); empty: collections live in memory.
  fs::path storage;
  /// Where snapshots go (storage.snapshots_path); empty: "<storage>/snapshots".
  fs::path snapshots;
};

class Service {
public:
  template <class T> using Reply = std::function<void(Expected<T>)>;

  /// Starts the actors; with a storage folder, loads the collections kept there first (one
  /// that fails to load is logged and not served; see failed_collections()).
  explicit Service(ServiceOptions options);
  /// Stops every actor: running index builds are cancelled, queued requests are answered with
  /// unavailable, and the actor system is gone when this returns.
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  const ServiceOptions& options() const noexcept;
  /// Collections in the storage folder that failed to load at start.
  const std::vector<std::string>& failed_collections() const noexcept;

  void create_collection(std::string name, Json config, Reply<bool> done);
  void delete_collection(std::string name, Reply<bool> done);
  void list_collections(Reply<std::vector<std::string>> done);
  void collection_info(const std::string& name, Reply<Json> done);

  void upsert(const std::string& collection, std::vector<PointStruct> points, bool wait,
              Reply<WriteResult> done);
  void delete_points(const std::string& collection, const Selector& selector, bool wait,
                     Reply<WriteResult> done);
  void set_payload(const std::string& collection, Json payload, const Selector& selector,
                   std::optional<std::string> key, bool wait, Reply<WriteResult> done);
  void overwrite_payload(const std::string& collection, Json payload, const Selector& selector,
                         bool wait, Reply<WriteResult> done);
  void delete_payload(const std::string& collection, const std::vector<std::string>& keys,
                      const Selector& selector, bool wait, Reply<WriteResult> done);
  void clear_payload(const std::string& collection, const Selector& selector, bool wait,
                     Reply<WriteResult> done);
  void update_vectors(const std::string& collection, std::vector<PointVectors> points, bool wait,
                      Reply<WriteResult> done);
  void create_payload_index(const std::string& collection, const std::string& field,
                            const std::string& schema, bool wait, Reply<WriteResult> done);
  void delete_payload_index(const std::string& collection, const std::string& field, bool wait,
                            Reply<WriteResult> done);

  void retrieve(const std::string& collection, std::vector<PointId> ids,
                PayloadSelector with_payload, VectorSelector with_vector,
                Reply<std::vector<Record>> done);
  void scroll(const std::string& collection, ScrollQuery query, Reply<ScrollResult> done);
  void count(const std::string& collection, std::optional<Json> filter, bool exact,
             Reply<std::uint64_t> done);
  void search(const std::string& collection, Query query, Reply<std::vector<ScoredPoint>> done);
  void search_batch(const std::string& collection, std::vector<Query> queries,
                    Reply<std::vector<std::vector<ScoredPoint>>> done);
  void health(Reply<HealthInfo> done);

  void create_snapshot(const std::string& collection, Reply<SnapshotInfo> done);
  void list_snapshots(const std::string& collection, Reply<std::vector<SnapshotInfo>> done);
  void delete_snapshot(const std::string& collection, const std::string& name, Reply<bool> done);
  void recover_snapshot(const std::string& collection, const std::string& name, Reply<bool> done);

  class Runtime; // the CAF side (service.cpp)

private:
  std::unique_ptr<Runtime> runtime_;
};

} // namespace vdb
