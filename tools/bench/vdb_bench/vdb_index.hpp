#pragma once

#include "core/index/hnsw_graph.hpp"
#include "tools/bench/vdb_bench/ann_index.hpp"

namespace vdb::bench {

class VdbIndex final : public AnnIndex {
public:
  explicit VdbIndex(DistanceBackend backend);
  std::string name() const override { return "vdb"; }
  void build(const Dataset& d, const BuildParams& params) override;
  void set_ef(std::size_t ef) override { ef_ = ef; }
  void search(const float* query, std::size_t k, std::uint32_t* out) override;
  bool search_filtered(const float* query, std::size_t k, const std::vector<std::uint8_t>& mask,
                       std::uint32_t* out) override;

private:
  void fill(std::size_t k, std::uint32_t* out) const;

  DistanceBackend backend_;
  Metric metric_ = Metric::l2sq;
  std::size_t dim_ = 0;
  std::size_t ef_ = 100;
  HugeBuffer<float> data_;
  std::unique_ptr<HnswGraph> graph_;
  std::vector<Neighbor> hits_;
};

} // namespace vdb::bench
