// A segment: a part of a collection's points with their vectors (in a storage plugin), payloads,
// payload indexes and, once built, an HNSW graph per vector. New points go to the collection's
// one appendable segment; a sealed segment never changes its vectors again (its points can be
// deleted and their payloads edited), so an index can be built over it without locks.
//
// Thread-safety: the owning Collection serialises writers and readers with its mutex; building
// a graph reads a sealed segment's vectors without that mutex.
#pragma once

#include "core/common/error.hpp"
#include "core/engine/collection_config.hpp"
#include "core/engine/filter_plan.hpp"
#include "core/engine/payload_index.hpp"
#include "core/engine/point.hpp"
#include "core/index/hnsw_graph.hpp"
#include "core/index/scalar_quantizer.hpp"
#include "core/plugin_host/record_store.hpp"
#include "core/storage/files.hpp"

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace vdb {

struct EngineContext;

/// How a hit's key becomes the score users see. A key is the negated VectorScorer distance, so
/// larger is better for every distance: the dot product itself for Cosine and Dot, −L2² for
/// Euclid, −L1 for Manhattan.
struct ScoreRule {
  Distance distance = Distance::dot;
  bool larger_is_better() const noexcept {
    return distance == Distance::cosine || distance == Distance::dot;
  }
  /// The kernel's value (dot, L2² or L1) of a key.
  float raw(float key) const noexcept { return larger_is_better() ? key : -key; }
  float score(float raw) const noexcept;
  /// Whether a score passes `score_threshold` (equality passes).
  bool passes(float score, float threshold) const noexcept {
    return larger_is_better() ? score >= threshold : score <= threshold;
  }
};

/// A search hit inside one segment.
struct SegmentHit {
  float key; ///< the negated distance: larger is better
  PointOffset offset;
};

/// What a segment search needs besides the query.
/// Search-time quantization settings (Qdrant's `params.quantization`).
struct QuantizationSearch {
  bool ignore = false;         ///< score on the original vectors
  std::optional<bool> rescore; ///< re-rank candidates on the originals (unset: false)
  double oversampling = 1.0;   ///< candidates fetched by code score: oversampling x limit
};

struct SegmentSearch {
  const std::string* vector_name = nullptr;
  const float* query = nullptr; ///< normalised for Cosine
  std::size_t k = 10;           ///< limit + offset
  const Filter* filter = nullptr;
  std::size_t ef = 0;               ///< 0: ef_construct
  bool exact = false;               ///< brute force even with a graph
  std::size_t full_scan_points = 0; ///< below this many candidates, brute force
  QuantizationSearch quantization;
};

class Segment final : public PointSource {
public:
  /// A new, empty, appendable segment whose vectors live in `context.vector_storage`.
  static Expected<std::unique_ptr<Segment>> create(std::uint64_t id, const CollectionConfig& config,
                                                   const EngineContext& context);

  std::uint64_t id() const noexcept { return id_; }
  bool appendable() const noexcept { return appendable_; }
  /// Makes the segment immutable in its vectors (the collection opens a new appendable one)
  /// and packs what it keeps per point.
  void seal();

  // ---- writes (the collection holds its write lock) ----
  /// Adds a point at a new offset.
  Expected<PointOffset> append(const PointStruct& point, std::uint64_t version);
  /// Replaces the point at `offset` whole (appendable segments only).
  Status replace(PointOffset offset, const PointStruct& point, std::uint64_t version);
  /// Replaces some vectors of the point at `offset` (appendable segments only).
  Status write_vectors(PointOffset offset, const NamedVectors& vectors, std::uint64_t version);
  void set_payload(PointOffset offset, Json payload, std::uint64_t version);
  void remove(PointOffset offset);
  /// Builds the index unless one of that type is there (true when it built one).
  bool create_index(const JsonPath& key, PayloadFieldType type) {
    const FieldIndex* existing = payload_index_.find(key);
    if (existing != nullptr && existing->type() == type) {
      return false;
    }
    payload_index_.create(key, type, *this);
    ++changes_; // the points file holds the indexes
    return true;
  }
  /// Drops every index whose key (JsonPath::to_string) is not in `keys`.
  void retain_indexes(const std::set<std::string>& keys) {
    changes_ += payload_index_.retain(keys) ? 1 : 0;
  }
  bool drop_index(const JsonPath& key) {
    const bool dropped = payload_index_.drop(key);
    changes_ += dropped ? 1 : 0;
    return dropped;
  }

  // ---- reads ----
  const Bitmap& live() const override { return live_; }
  std::optional<PointOffset> offset_of(const PointId& id) const override;
  const PointId& id_at(PointOffset offset) const override { return ids_[offset]; }
  /// The live points in id order, from the first id ≥ a given one. Valid while the segment is
  /// neither written to nor sealed.
  class IdCursor {
  public:
    bool valid() const noexcept { return valid_; }
    const PointId& id() const noexcept { return segment_->ids_[offset_]; }
    PointOffset offset() const noexcept { return offset_; }
    void next() noexcept;

  private:
    friend class Segment;
    explicit IdCursor(const Segment& segment) noexcept : segment_(&segment) {}
    void settle() noexcept; // moves to the first live entry at or after the current one

    const Segment* segment_;
    std::map<PointId, PointOffset>::const_iterator in_map_;
    std::size_t in_sorted_ = 0;
    PointOffset offset_ = 0;
    bool valid_ = false;
  };
  /// A cursor at the first live point whose id is ≥ `from` (at the first point when null).
  IdCursor ids_from(const PointId* from) const;
  PayloadRef payload_at(PointOffset offset) const override;
  std::uint64_t version_at(PointOffset offset) const { return versions_[offset]; }
  /// Starts loading a point's id and version: a search's hits are scattered, so their loads
  /// overlap when every hit is prefetched before the first is read.
  void prefetch_point(PointOffset offset) const noexcept {
    __builtin_prefetch(&ids_[offset]);
    __builtin_prefetch(&versions_[offset]);
  }
  const PayloadIndex& payload_index() const noexcept { return payload_index_; }
  /// The vectors of a point the selector asks for.
  NamedVectors vectors_of(PointOffset offset, const VectorSelector& selector) const;
  /// Live points holding the vector `name`.
  std::uint64_t vector_count(const std::string& name) const {
    return columns_.at(name).present.cardinality();
  }

  /// The best `request.k` points of this segment, best first.
  Expected<std::vector<SegmentHit>> search(const SegmentSearch& request) const;

  std::uint64_t points() const noexcept { return live_.cardinality(); }
  std::uint64_t slots() const noexcept { return ids_.size(); }
  std::uint64_t deleted() const noexcept { return slots() - points(); }
  /// Bytes of vector data of live points (all vectors).
  std::uint64_t vector_bytes() const noexcept;
  /// Whether the optimizer has indexed this sealed segment: it has graphs, or was given what
  /// graph_inputs() asked for, which may be none (m = 0 without payload-aware blocks: searches
  /// scan). Before, such a segment was picked for indexing again at every optimizer step.
  bool indexed() const noexcept { return indexed_ || !graphs_.empty(); }
  /// Payload-aware links in the segment's graphs.
  std::uint64_t payload_links() const noexcept {
    std::uint64_t links = 0;
    for (const auto& [name, graph] : graphs_) {
      links += graph->block_link_count();
    }
    return links;
  }

  // ---- indexing (the optimizer) ----
  /// What building this sealed segment's graphs needs, taken under the collection's lock.
  struct GraphInput {
    std::string name;
    std::vector<const float*> vectors; ///< by offset; null for absent or deleted points
    VectorScorer scorer;
    HnswParams params;
    std::optional<double> quantile; ///< set: quantize the vectors too (scalar int8)
    /// Payload-aware links: nodes sharing a payload value (sorted offsets), linked with
    /// `payload_m` links each after the main graph is built.
    std::vector<std::vector<std::uint32_t>> blocks;
    std::vector<std::string> block_keys; ///< the payload keys the blocks come from
    std::uint32_t payload_m = 0;
    /// m = 0 with payload_m: no graph over the segment, only the blocks' (per tenant).
    bool blocks_only = false;
  };
  std::vector<GraphInput> graph_inputs() const;
  /// What indexing builds: the graphs and, with quantization, the codes, by vector name.
  struct Built {
    std::map<std::string, std::unique_ptr<HnswGraph>> graphs;
    std::map<std::string, std::unique_ptr<QuantizedVectors>> codes;
  };
  /// Builds the graphs (and codes) from inputs, without any lock. Fails when cancelled.
  static Expected<Built> build_graphs(std::vector<GraphInput> inputs,
                                      const std::atomic<bool>& cancel,
                                      std::atomic<std::size_t>& progress);
  /// Installs what was built (the collection holds its write lock).
  void install_graphs(Built built) {
    graphs_ = std::move(built.graphs);
    for (auto& [name, codes] : built.codes) {
      columns_.at(name).quantized = std::move(codes);
    }
    graphs_saved_ = false;
    indexed_ = true;
  }
  /// Bytes of quantized codes (with their corrections) held in RAM.
  std::uint64_t code_bytes() const noexcept;
  /// Bytes of quantized codes read from mapped files (`always_ram` not true, originals in
  /// files: the codes follow them, as in Qdrant).
  std::uint64_t mapped_code_bytes() const noexcept;
  /// Moves what in `built` is read from mapped files into its files in `dir`, and reads it from
  /// there: the graphs of vectors whose `hnsw_config` says `on_disk` ("graph-<i>.vdb"; not when
  /// `dir` is empty: a collection in memory), and the codes of vectors that live in files and
  /// are not `always_ram` ("codes-<i>.vdb"). Runs without the collection's lock, before
  /// install_graphs.
  Status place_mapped(Built& built, const std::filesystem::path& dir) const;
  /// Bytes of graphs held in RAM (their links, unless mapped, and their node tables).
  std::uint64_t graph_bytes() const noexcept;
  /// Bytes of graph links read from mapped files (`hnsw_config.on_disk`).
  std::uint64_t mapped_graph_bytes() const noexcept;
  /// Bytes of vectors held in RAM (every slot, deleted ones too, until a vacuum).
  std::uint64_t ram_vector_bytes() const noexcept;
  /// The CBOR size of the payloads held in RAM, recomputed only after a change.
  std::uint64_t ram_payload_bytes() const;

  // ---- files (segment_files.cpp) ----
  // A segment's files live in one directory: "points-<generation>.vdb" holds what changes
  // (ids, versions, payloads, the live and present sets, the payload indexes, and an
  // appendable segment's vectors);
  // what a sealed segment never changes is written once: "vectors-<i>.vdb" (vectors kept in
  // RAM) or "vectors-<i>.mmap" (the mmap plugin's own file), and "graph-<i>.vdb"; <i> is the
  // vector's position in the collection's configuration.

  /// Counts changes: the collection saves the points file again only when it moved.
  std::uint64_t changes() const noexcept { return changes_; }
  /// The points file's body (under the collection's lock: it reads what writes change).
  std::string save_points() const;
  /// Writes what a sealed segment never changes and has not written yet (vector files, graphs)
  /// into `dir`, and flushes file-backed vectors. Runs without the collection's lock.
  Status save_immutable(const std::filesystem::path& dir);
  /// Whether save_immutable has nothing left to write.
  bool immutable_saved() const noexcept { return appendable_ || (vectors_saved_ && graphs_saved_); }
  /// A segment from its points file's body and the files next to it in `dir`.
  static Expected<std::unique_ptr<Segment>> load(const std::filesystem::path& dir,
                                                 std::string_view points, std::uint32_t version,
                                                 std::string what, const CollectionConfig& config,
                                                 const EngineContext& context);
  /// Moves the vectors named in `names` into files of the mmap plugin in `dir` (a sealed
  /// segment past memmap_threshold, or a vector with on_disk). Needs no graph yet.
  Status move_to_files(const std::filesystem::path& dir, const std::set<std::string>& names);
  /// Bytes of vectors held in files rather than RAM.
  std::uint64_t file_vector_bytes() const noexcept;
  /// Writes the payloads of this sealed segment to "payloads.vdb" in `dir` and reads them from
  /// there from now on (on_disk_payload), freeing the RAM they held. Later payload changes are
  /// kept in RAM and in the points file until the optimizer rewrites the segment.
  Status move_payloads_to_file(const std::filesystem::path& dir);
  /// Bytes of the payload file (0 when the payloads are in RAM).
  std::uint64_t file_payload_bytes() const noexcept;

private:
  struct VectorColumn {
    VectorParams params;
    HnswConfig hnsw;
    std::unique_ptr<RecordStore> store; // record i: the vector at offset i (zeros when absent)
    Bitmap present;
    std::vector<const float*> pointers; // record i's address (stable while the store lives)
    bool in_file = false;               // the store is the mmap plugin's file
    std::optional<QuantizationConfig> quantization; // the vector's, else the collection's
    std::unique_ptr<QuantizedVectors> quantized;    // codes of a sealed, indexed segment
  };

  Segment(std::uint64_t id, const EngineContext& context) : id_(id), context_(context) {}
  VectorScorer scorer(const VectorColumn& column) const;
  Status write_vector(VectorColumn& column, PointOffset offset, const std::vector<float>& v);
  std::vector<SegmentHit> exact(const VectorColumn& column, const SegmentSearch& request,
                                const FilterPlan& plan) const;
  /// Whether a column's codes are read from their mapped file rather than held in RAM.
  static bool codes_in_file(const VectorColumn& column) noexcept {
    return column.in_file &&
           !(column.quantization && column.quantization->scalar.always_ram.value_or(false));
  }
  /// The codes in `path` (written by save_immutable or place_mapped), mapped.
  static Expected<std::unique_ptr<QuantizedVectors>> map_codes(const std::filesystem::path& path,
                                                               std::size_t count,
                                                               const VectorColumn& column,
                                                               Metric metric);
  /// The graph in `path` (written by save_immutable or place_mapped) over `column`'s vectors,
  /// its links mapped (read into RAM when the file predates graph format 2).
  Expected<std::unique_ptr<HnswGraph>> map_graph(const std::filesystem::path& path,
                                                 const VectorColumn& column) const;
  /// The codes a search scores on (null: the originals).
  static const QuantizedVectors* codes_for(const VectorColumn& column,
                                           const SegmentSearch& request) noexcept {
    return request.exact || request.quantization.ignore ? nullptr : column.quantized.get();
  }
  /// Whether the candidates found on codes are re-ranked on the originals (unset: no).
  static bool rescores(const SegmentSearch& request) noexcept {
    return request.quantization.rescore.value_or(false);
  }
  /// How many candidates to fetch by code score for k results.
  static std::size_t oversampled(std::size_t k, const SegmentSearch& request) noexcept;
  /// Where a walk of a graph with block links only starts: up to 8 matches of `plan` (written
  /// to `starts`), the closest to `query` of a sample spread over the plan's candidates; the
  /// count written (0: no match found).
  std::size_t block_starts(const VectorColumn& column, const float* query, const FilterPlan& plan,
                           std::uint32_t* starts) const;
  /// Candidates found on codes, best first, turned into k hits: re-ranked on the originals
  /// when the request says rescore.
  std::vector<SegmentHit> finish_quantized(const VectorColumn& column, const SegmentSearch& request,
                                           std::vector<SegmentHit> hits) const;
  /// Points `originals` (the hits' vectors) at copies read with the store's read_many; false
  /// (logged once) when the read failed and `originals` is untouched.
  bool read_originals(const VectorColumn& column, const std::vector<SegmentHit>& hits,
                      std::vector<const float*>& originals) const;

  std::uint64_t id_;
  const EngineContext& context_;
  bool appendable_ = true;
  std::map<std::string, VectorColumn> columns_;
  std::vector<PointId> ids_;
  std::vector<Json> payloads_; // by offset, unless they are in payload_file_
  // on_disk_payload: the payloads when the segment was sealed, and the ones changed since.
  std::unique_ptr<MappedFile> payload_file_;
  std::unordered_map<PointOffset, Json> payload_edits_;
  std::vector<std::uint64_t> versions_;
  // Live points by id. While the segment is appendable, a map. Once it is sealed, only the
  // offsets live at sealing, sorted by id (4 bytes a point instead of a map node); a point
  // removed since fails the live check.
  std::map<PointId, PointOffset> offsets_;
  std::vector<PointOffset> sorted_offsets_;
  /// The first index of sorted_offsets_ whose id is not below `id`.
  std::size_t sorted_lower_bound(const PointId& id) const noexcept;
  Bitmap live_;
  PayloadIndex payload_index_;
  std::map<std::string, std::unique_ptr<HnswGraph>> graphs_;
  std::uint64_t changes_ = 0;
  mutable std::mutex payload_bytes_mutex_;
  mutable std::pair<std::uint64_t, std::uint64_t> payload_bytes_{~0ULL, 0}; // changes_, bytes
  bool vectors_saved_ = false; // a sealed segment's vector files are written
  bool graphs_saved_ = false;
  bool indexed_ = false; // install_graphs ran (see indexed())
};

/// The vector stored for Cosine: normalised (a zero vector stays zero).
void normalize(std::vector<float>& v);

} // namespace vdb
