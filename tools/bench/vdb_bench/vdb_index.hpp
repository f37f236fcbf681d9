// VDB as its users run it, through the engine: one collection (Catalog → Collection → segments
// → HNSW, the query planner for filters), vectors in the `ram` storage plugin, distances through
// the distance plugin chosen at start-up. And the exact scan of a filter's matching subset, a
// baseline for filtered search.
#pragma once

#include "core/engine/catalog.hpp"
#include "tools/bench/vdb_bench/ann_index.hpp"

namespace vdb::bench {

/// The tenant suite's keyword value for tenant `i`: "t<i>".
inline std::string tenant_value(std::uint32_t i) { return "t" + std::to_string(i); }

/// How "vdb-int8" variants search: scalar int8 codes, re-ranked on the originals or not.
struct Int8Mode {
  bool enabled = false;
  bool rescore = true;
  double oversampling = 2.0;
  double quantile = 0.99;
};

class VdbIndex final : public AnnIndex {
public:
  /// `graph_on_disk`: the collection lives in a temporary data folder (removed afterwards) with
  /// hnsw_config.on_disk, so its graph's links are read from the mapped graph file.
  explicit VdbIndex(EngineContext context, Int8Mode int8 = {}, bool graph_on_disk = false)
      : context_(std::move(context)), int8_(int8), graph_on_disk_(graph_on_disk) {}
  ~VdbIndex() override;
  VdbIndex(const VdbIndex&) = delete;
  VdbIndex& operator=(const VdbIndex&) = delete;
  std::string name() const override {
    const std::string base = !int8_.enabled  ? "vdb"
                             : int8_.rescore ? "vdb-int8"
                                             : "vdb-int8-norescore";
    return graph_on_disk_ ? base + "-graph-mmap" : base;
  }
  void build(const Dataset& d, const BuildParams& params) override;
  void set_ef(std::size_t ef) override { ef_ = ef; }
  void set_oversampling(double x) override {
    if (int8_.enabled && int8_.rescore) {
      int8_.oversampling = x;
    }
  }
  void search(const float* query, std::size_t k, std::uint32_t* out) override;
  bool search_filtered(const float* query, std::size_t k, const QueryFilter& filter,
                       std::uint32_t* out) override;

private:
  void run(const float* query, std::size_t k, const Filter* filter, std::uint32_t* out);

  EngineContext context_;
  Int8Mode int8_;
  bool graph_on_disk_;
  std::string folder_; // the temporary data folder (graph_on_disk)
  std::size_t builds_ = 0;
  std::size_t dim_ = 0;
  std::size_t ef_ = 0;
  std::unique_ptr<Catalog> catalog_;
  std::shared_ptr<Collection> collection_;
};

/// Brute force over the ids a filter matches (VDB's distance plugin, gather kernel).
class ExactSubset final : public AnnIndex {
public:
  explicit ExactSubset(DistanceBackend backend) : backend_(std::move(backend)) {}
  std::string name() const override { return "exact-subset"; }
  void build(const Dataset& d, const BuildParams& params) override;
  void set_ef(std::size_t /*ef*/) override {}
  void search(const float* query, std::size_t k, std::uint32_t* out) override;
  bool search_filtered(const float* query, std::size_t k, const QueryFilter& filter,
                       std::uint32_t* out) override;

private:
  DistanceBackend backend_;
  const Dataset* data_ = nullptr;
  std::vector<const float*> pointers_;
  std::vector<float> scores_;
  std::vector<std::pair<float, std::uint32_t>> ranked_;
};

} // namespace vdb::bench
