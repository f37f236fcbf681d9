// A collection: points (id, named vectors, JSON payload), their payload indexes, and every
// operation on them: upserts and deletes, payload edits, reads (retrieve, scroll, count) and
// exact search through the distance plugin.
//
// Thread-safety: any number of reads run together; a write runs alone (a shared mutex). Every
// write is validated whole before anything changes, so a rejected request changes nothing.
#pragma once

#include "core/common/error.hpp"
#include "core/engine/collection_config.hpp"
#include "core/engine/engine_context.hpp"
#include "core/engine/segment.hpp"
#include "core/storage/codec.hpp"
#include "core/storage/wal.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

namespace vdb {

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
  std::size_t hnsw_ef = 0;   ///< 0: the vector's ef_construct
  bool exact = false;        ///< brute force on every segment
  bool indexed_only = false; ///< skip segments too large to scan that have no index yet
  QuantizationSearch quantization;
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

struct SegmentInfo {
  std::uint64_t id = 0;
  std::uint64_t points = 0;
  std::uint64_t deleted = 0;
  bool appendable = false;
  bool indexed = false;
  std::uint64_t payload_links = 0; ///< payload-aware links in its graphs (payload_m)
};

struct OptimizerStatus {
  bool running = false;
  std::string task;        ///< "indexing", "vacuum", "merge" or empty
  std::uint64_t done = 0;  ///< points processed by the running task
  std::uint64_t total = 0; ///< points the running task processes
  std::string last_error;  ///< the last failure, empty when none
};

/// Where a collection keeps its data (all zero for one in memory).
struct StorageInfo {
  bool on_disk = false;
  std::uint64_t checkpoint_operation = 0; ///< the last operation the segment files hold
  std::uint64_t wal_bytes = 0;            ///< bytes in the write-ahead log
  std::uint64_t wal_syncs = 0;            ///< fdatasync calls on the log since start
  std::uint64_t mmap_vector_bytes = 0;    ///< vector bytes in mmap files rather than RAM
  std::uint64_t mmap_payload_bytes = 0;   ///< bytes of payload files (on_disk_payload)
  /// Segment payload indexes the last start-up built from payloads rather than read from the
  /// segment files (0 unless a file predates an index or comes from format version 1).
  std::uint64_t payload_indexes_built_at_start = 0;
};

/// Where the collection's bytes live: RAM or mmap files (whose pages the kernel loads and
/// evicts as they are read).
struct MemoryInfo {
  std::uint64_t vectors_ram = 0;  ///< original vectors held in RAM
  std::uint64_t vectors_mmap = 0; ///< original vectors in mmap files
  std::uint64_t codes_ram = 0;    ///< quantized codes with their corrections held in RAM
  std::uint64_t codes_mmap = 0;   ///< codes read from mapped files (always_ram not true)
  std::uint64_t graph_ram = 0;    ///< HNSW links and node tables held in RAM
  std::uint64_t graph_mmap = 0;   ///< HNSW links read from mapped files (hnsw_config.on_disk)
  std::uint64_t payload_ram = 0;  ///< payloads held in RAM (their CBOR size)
  std::uint64_t payload_mmap = 0; ///< payload files (on_disk_payload)
};

struct CollectionInfo {
  std::uint64_t points_count = 0;
  std::vector<SegmentInfo> segments;
  OptimizerStatus optimizer;
  std::map<std::string, std::uint64_t> vectors_count; ///< points holding each named vector
  std::map<std::string, PayloadIndex::FieldInfo> payload_schema;
  std::uint64_t last_operation = 0;
  StorageInfo storage;
  MemoryInfo memory;
  CollectionConfig config;
};

class Collection final {
public:
  /// A new, empty collection. `config` must have passed parse_collection_config (or be built
  /// with the same constraints). Its optimizer thread starts at once.
  static Expected<std::unique_ptr<Collection>> create(std::string name, CollectionConfig config,
                                                      const EngineContext& context);
  /// A new, empty collection kept in `dir` (which must not exist yet): its configuration, its
  /// write-ahead log and, at each checkpoint, its segments. See docs/storage.md.
  static Expected<std::unique_ptr<Collection>> create(std::string name, CollectionConfig config,
                                                      const EngineContext& context,
                                                      const fs::path& dir);
  /// The collection kept in `dir`: its last checkpoint, then the log replayed on top.
  static Expected<std::unique_ptr<Collection>> open(std::string name, const fs::path& dir,
                                                    const EngineContext& context);
  /// Stops the optimizer (a running index build is cancelled), writes a last checkpoint when
  /// the collection is kept on disk, and frees everything.
  ~Collection();
  Collection(const Collection&) = delete;
  Collection& operator=(const Collection&) = delete;

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

  /// Indexes `key` with `type` in every segment (replacing an index of another type).
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
  /// The cardinality estimate of `filter` from payload indexes, summed over segments.
  CardinalityEstimate estimate(const Filter& filter) const;
  /// The `limit` best points after skipping `offset`, best first; ties in score go to the
  /// smaller id. Cosine and Dot score by dot product (larger is better); Euclid returns the
  /// L2 distance and Manhattan the L1 distance (smaller is better). `score_threshold` keeps
  /// scores at least as good as itself. Indexed segments are searched through their graph
  /// unless the filter leaves few enough candidates to scan (see the planner in segment.cpp).
  Expected<std::vector<ScoredPoint>> search(const SearchRequest& request) const;
  /// Several searches; fails whole, naming `searches[i]`, if any request is invalid.
  Expected<std::vector<std::vector<ScoredPoint>>>
  search_batch(const std::vector<SearchRequest>& requests) const;

  CollectionInfo info() const;

  /// Runs the optimizer's pending work now, on this thread, until nothing is left (tests and
  /// bulk loads call it to reach the indexed state deterministically; without a background
  /// optimizer, the caller's indexing actor calls it after writes).
  Status optimize_now();
  /// Cancels a running index build and stops further optimization for good (shutdown).
  void stop_optimizer();

  // Durability (collections kept on disk; for one in memory every write is durable at once).

  /// Calls `done` once the write that returned `operation_id` is durable: its log record is
  /// synced to disk (group commit: one fdatasync serves every write waiting for it).
  void when_durable(std::uint64_t operation_id, std::function<void(Status)> done) const;
  Status wait_durable(std::uint64_t operation_id) const;
  /// Writes a checkpoint: the segments' changed files, then the state naming them, then drops
  /// the log files it covers. Runs every flush_interval_sec and at shutdown.
  Status flush();
  /// Writes a checkpoint and archives it at `archive` (see core/storage/archive.hpp); writes
  /// go on meanwhile. Returns the archive's size; unsupported for a collection in memory.
  Expected<std::uint64_t> snapshot(const fs::path& archive);
  /// The folder the collection is kept in; empty for one in memory.
  const fs::path& dir() const noexcept { return dir_; }
  /// Forgets the folder: the collection was dropped and its files are being deleted. Writes
  /// still work, in memory only, until the last request holding it finishes.
  void detach();

private:
  struct Location {
    Segment* segment;
    PointOffset offset;
  };

  Collection(std::string name, CollectionConfig config, const EngineContext& context)
      : name_(std::move(name)), config_(std::move(config)), context_(context) {}

  /// What a log record does (its first byte). Values are stored: append only.
  enum class LogOp : std::uint8_t {
    upsert = 1,
    delete_points = 2,
    set_payload = 3,
    overwrite_payload = 4,
    delete_payload = 5,
    clear_payload = 6,
    update_vectors = 7,
    create_index = 8,
    delete_index = 9,
  };
  /// A payload change: what set_payload, overwrite_payload, delete_payload and clear_payload
  /// do to each selected point, in a form the log can hold.
  struct PayloadEdit {
    LogOp op;
    Json payload;                ///< set_payload, overwrite_payload
    std::optional<JsonPath> key; ///< set_payload: where to merge
    std::vector<JsonPath> keys;  ///< delete_payload
    void apply(Json& target) const;
  };

  // Applying a write (the write lock held; validation and logging are done).
  Status apply_upsert(const std::vector<PointStruct>& points, std::uint64_t op);
  void apply_delete(const std::vector<Location>& selected);
  Status apply_update_vectors(const std::vector<PointVectors>& points, std::uint64_t op);
  void apply_create_index(const JsonPath& key, PayloadFieldType type);
  bool apply_delete_index(const JsonPath& key);

  // ---- files (collection_files.cpp) ----
  /// Appends operation `op` to the log (nothing for a collection in memory); the record's body
  /// is what `encode` writes. Runs under the write lock.
  Status log(std::uint64_t op, const std::function<void(ByteWriter&)>& encode);
  /// A record's body encoded before the write lock is taken, for writes whose body does not
  /// depend on the collection's state (upserts, vector updates): the lock is then held only
  /// for the append. Nothing for a collection in memory.
  std::optional<std::string> encode_ahead(const std::function<void(ByteWriter&)>& encode) const;
  /// Appends a body from encode_ahead (under the write lock).
  Status log_encoded(std::uint64_t op, const std::optional<std::string>& body);
  /// Applies a log record during start-up.
  Status replay(std::uint64_t op, std::string_view body);
  Status write_config() const;
  /// flush() with optimizer_mutex_ held.
  Status checkpoint();
  /// A checkpoint when flush_interval_sec has passed since the last (optimizer_mutex_ held);
  /// a failure is logged (the log still holds every write).
  void checkpoint_if_due();
  Status start_files(); // the flusher thread
  void flusher_loop();
  /// The segment's folder.
  fs::path segment_dir(std::uint64_t id) const;
  /// Where a segment's mapped files go: its directory, or none for a collection in memory.
  fs::path mapped_dir(std::uint64_t id) const {
    return dir_.empty() ? fs::path() : segment_dir(id);
  }
  /// Whether a sealed segment's vectors go to files: past memmap_threshold, or on_disk.
  std::set<std::string> file_vectors(std::uint64_t vector_bytes) const;
  /// Moves a sealed segment's payloads to its payload file when on_disk_payload is set and the
  /// collection has a folder.
  Status place_payloads(Segment& segment) const;
  Status validate_vectors(const NamedVectors& vectors, const std::string& field,
                          bool need_all) const;
  /// One vector against its parameters; errors name `field` (and `.name` for a named vector).
  Status validate_vector(const std::string& name, const std::vector<float>& v,
                         const std::string& field) const;
  Status check_vector_selector(const VectorSelector& selector, const std::string& field) const;
  /// The selected live points; with `must_exist`, an id that does not exist fails.
  Expected<std::vector<Location>> select(const PointsSelector& selector, bool must_exist) const;
  Expected<UpdateResult> edit_payloads(const PointsSelector& selector, const PayloadEdit& edit);
  Expected<std::vector<ScoredPoint>> search_locked(const SearchRequest& request,
                                                   const std::string& field) const;
  Record record(const Location& at, const PayloadSelector& with_payload,
                const VectorSelector& with_vector) const;
  Expected<Segment*> add_segment();
  /// Where the live point `id` is: one segment at most holds it live.
  std::optional<Location> find(const PointId& id) const;
  /// Live points in all segments.
  std::uint64_t live_points() const noexcept;
  /// Calls `visit` on the live points of every segment in id order, from the first id ≥ `from`
  /// (every point when null), until it returns false. Fails when one id is live in two
  /// segments, which only a damaged folder can make.
  Status in_id_order(const PointId* from,
                     const std::function<bool(const PointId&, const Location&)>& visit) const;

  // The optimizer.
  void optimizer_loop();
  /// One unit of pending work; false when there is none.
  Expected<bool> optimize_step();
  Status rebuild(std::vector<Segment*> sources, const char* task);
  /// Builds graphs without any lock, reporting progress in info(); `points` is the total.
  Expected<Segment::Built> build_graphs(std::vector<Segment::GraphInput> inputs,
                                        std::uint64_t points);
  void wake_optimizer();

  const std::string name_;
  const CollectionConfig config_;
  const EngineContext context_;

  mutable std::shared_mutex mutex_;
  std::vector<std::unique_ptr<Segment>> segments_; // the appendable one is last
  std::vector<std::pair<JsonPath, PayloadFieldType>> indexed_fields_;
  std::uint64_t operation_ = 0;
  std::uint64_t next_segment_id_ = 0;

  std::mutex optimizer_mutex_; // serialises optimizer steps (thread and optimize_now)
  std::mutex wake_mutex_;
  std::condition_variable wake_;
  bool wake_pending_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<bool> running_{false};
  std::atomic<std::size_t> progress_{0};
  std::atomic<std::size_t> progress_total_{0};
  std::string task_;       // guarded by mutex_
  std::string last_error_; // guarded by mutex_
  std::thread optimizer_;

  // Files (a collection kept on disk).
  fs::path dir_;
  std::shared_ptr<Wal> wal_; // copied out under mutex_ by when_durable
  // Guarded by optimizer_mutex_ (checkpoints and optimizer steps exclude each other).
  std::atomic<std::uint64_t> checkpoint_op_{0};
  std::uint64_t indexes_built_at_start_ = 0; // set by open()
  std::uint64_t generation_ = 0;             // numbers the points files
  std::chrono::steady_clock::time_point last_checkpoint_ = std::chrono::steady_clock::now();
  struct Saved {
    std::uint64_t changes;
    std::uint64_t generation;
  };
  std::map<std::uint64_t, Saved> saved_; // by segment id: what its points file holds
  std::mutex flush_mutex_;
  std::condition_variable flush_wake_;
  bool flush_stop_ = false;
  std::thread flusher_;
};

} // namespace vdb
