// FAISS (Debian's libfaiss-dev 1.7.3): IndexHNSWFlat at the same m and ef_construct, and
// IndexHNSWSQ with 8-bit scalar codes ("faiss-sq8"). Its HNSW has no filtered search in 1.7.3,
// so these systems answer unfiltered queries only.
#include "tools/bench/vdb_bench/ann_index.hpp"

#include <faiss/IndexHNSW.h>
#include <omp.h>

namespace vdb::bench {
namespace {

class FaissIndex final : public AnnIndex {
public:
  explicit FaissIndex(bool sq8) : sq8_(sq8) {}
  std::string name() const override { return sq8_ ? "faiss-sq8" : "faiss"; }

  void build(const Dataset& d, const BuildParams& params) override {
    const faiss::MetricType metric =
        d.metric == BenchMetric::l2 ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT;
    const auto dim = static_cast<int>(d.dim);
    const auto m = static_cast<int>(params.m);
    if (sq8_) {
      index_ =
          std::make_unique<faiss::IndexHNSWSQ>(dim, faiss::ScalarQuantizer::QT_8bit, m, metric);
    } else {
      index_ = std::make_unique<faiss::IndexHNSWFlat>(dim, m, metric);
    }
    index_->hnsw.efConstruction = static_cast<int>(params.ef_construct);
    omp_set_num_threads(static_cast<int>(params.threads));
    if (sq8_) {
      index_->train(static_cast<faiss::Index::idx_t>(d.size()), d.base.data());
    }
    index_->add(static_cast<faiss::Index::idx_t>(d.size()), d.base.data());
    omp_set_num_threads(1); // searches run one query at a time on one thread
  }

  void set_ef(std::size_t ef) override { index_->hnsw.efSearch = static_cast<int>(ef); }

  void search(const float* query, std::size_t k, std::uint32_t* out) override {
    labels_.resize(k);
    distances_.resize(k);
    index_->search(1, query, static_cast<faiss::Index::idx_t>(k), distances_.data(),
                   labels_.data());
    for (std::size_t i = 0; i < k; ++i) {
      out[i] = labels_[i] < 0 ? UINT32_MAX : static_cast<std::uint32_t>(labels_[i]);
    }
  }

private:
  bool sq8_;
  std::unique_ptr<faiss::IndexHNSW> index_;
  std::vector<faiss::Index::idx_t> labels_;
  std::vector<float> distances_;
};

} // namespace

std::unique_ptr<AnnIndex> make_faiss() { return std::make_unique<FaissIndex>(false); }
std::unique_ptr<AnnIndex> make_faiss_sq8() { return std::make_unique<FaissIndex>(true); }

} // namespace vdb::bench
