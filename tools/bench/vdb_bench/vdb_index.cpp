// VDB's HNSW graph as a library, the way the peers are measured: vectors in VDB's own storage,
// distances through the distance plugin chosen at start-up.
#include "tools/bench/vdb_bench/vdb_index.hpp"

#include <cstring>

namespace vdb::bench {

VdbIndex::VdbIndex(DistanceBackend backend) : backend_(std::move(backend)) {}

void VdbIndex::build(const Dataset& d, const BuildParams& params) {
  dim_ = d.dim;
  // VDB holds its own copy, as the peers do, in huge pages as its RAM store does.
  data_ = HugeBuffer<float>(d.base.size());
  std::copy(d.base.begin(), d.base.end(), data_.data());
  std::vector<const float*> vectors(d.size());
  for (std::size_t i = 0; i < d.size(); ++i) {
    vectors[i] = &data_[i * d.dim];
  }
  metric_ = d.metric == BenchMetric::l2 ? Metric::l2sq : Metric::dot;
  HnswParams p;
  p.m = static_cast<std::uint32_t>(params.m);
  p.ef_construct = static_cast<std::uint32_t>(params.ef_construct);
  p.threads = static_cast<std::uint32_t>(params.threads);
  graph_ = HnswGraph::build(std::move(vectors), VectorScorer(backend_, metric_, d.dim), p);
}

void VdbIndex::search(const float* query, std::size_t k, std::uint32_t* out) {
  graph_->search(
      query, k, ef_, [](std::uint32_t) { return true; }, hits_);
  fill(k, out);
}

bool VdbIndex::search_filtered(const float* query, std::size_t k,
                               const std::vector<std::uint8_t>& mask, std::uint32_t* out) {
  graph_->search(
      query, k, ef_, [&](std::uint32_t id) { return mask[id] != 0; }, hits_);
  fill(k, out);
  return true;
}

void VdbIndex::fill(std::size_t k, std::uint32_t* out) const {
  std::fill(out, out + k, UINT32_MAX);
  for (std::size_t i = 0; i < hits_.size() && i < k; ++i) {
    out[i] = hits_[i].id;
  }
}

} // namespace vdb::bench
