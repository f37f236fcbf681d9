// hnswlib (Debian's libhnswlib-dev 0.6.2), compiled with -O3 -march=native as its users do.
// Its filtered search is given hnswlib 0.7's semantics here (0.6.2 predates the filter
// functor): refused points still route the search but never enter the result set, and the
// search runs until it holds ef accepted points.
#include "tools/bench/vdb_bench/ann_index.hpp"

#include <hnswlib/hnswlib.h>

#include <atomic>
#include <thread>

namespace vdb::bench {
namespace {

class HnswlibIndex final : public AnnIndex {
public:
  std::string name() const override { return "hnswlib"; }

  void build(const Dataset& d, const BuildParams& params) override {
    if (d.metric == BenchMetric::l2) {
      space_ = std::make_unique<hnswlib::L2Space>(d.dim);
    } else {
      space_ = std::make_unique<hnswlib::InnerProductSpace>(d.dim);
    }
    index_ = std::make_unique<hnswlib::HierarchicalNSW<float>>(space_.get(), d.size(), params.m,
                                                               params.ef_construct);
    // As hnswlib's Python binding does: the first point alone, then the rest in parallel.
    index_->addPoint(d.vector(0), 0);
    std::atomic<std::size_t> next{1};
    std::vector<std::thread> pool;
    for (std::size_t t = 0; t < params.threads; ++t) {
      pool.emplace_back([&] {
        for (std::size_t i = next.fetch_add(1); i < d.size(); i = next.fetch_add(1)) {
          index_->addPoint(d.vector(i), i);
        }
      });
    }
    for (auto& th : pool) {
      th.join();
    }
  }

  void set_ef(std::size_t ef) override { index_->setEf(ef); }

  void search(const float* query, std::size_t k, std::uint32_t* out) override {
    auto result = index_->searchKnn(query, k);
    fill(result, k, out);
  }

  bool search_filtered(const float* query, std::size_t k, const QueryFilter& filter,
                       std::uint32_t* out) override {
    const std::vector<std::uint8_t>& mask = *filter.mask;
    if (filter.post_filter) {
      // The ef nearest without the filter, then the matching ones among them.
      auto result = index_->searchKnn(query, std::max(index_->ef_, k));
      std::vector<std::pair<float, hnswlib::labeltype>> kept;
      while (!result.empty()) {
        if (mask[result.top().second] != 0) {
          kept.push_back(result.top());
        }
        result.pop();
      }
      std::sort(kept.begin(), kept.end());
      std::fill(out, out + k, UINT32_MAX);
      for (std::size_t i = 0; i < k && i < kept.size(); ++i) {
        out[i] = static_cast<std::uint32_t>(kept[i].second);
      }
      return true;
    }
    using Pair = std::pair<float, hnswlib::tableint>;
    auto& h = *index_;
    hnswlib::tableint current = h.enterpoint_node_;
    float best = h.fstdistfunc_(query, h.getDataByInternalId(current), h.dist_func_param_);
    for (int level = h.maxlevel_; level > 0; --level) {
      bool changed = true;
      while (changed) {
        changed = false;
        auto* data = reinterpret_cast<unsigned int*>(h.get_linklist(current, level));
        const int size = h.getListCount(data);
        auto* links = reinterpret_cast<hnswlib::tableint*>(data + 1);
        for (int i = 0; i < size; ++i) {
          const float dd =
              h.fstdistfunc_(query, h.getDataByInternalId(links[i]), h.dist_func_param_);
          if (dd < best) {
            best = dd;
            current = links[i];
            changed = true;
          }
        }
      }
    }
    // searchBaseLayerST of hnswlib 0.7 with an isIdAllowed filter.
    const std::size_t ef = std::max(h.ef_, k);
    hnswlib::VisitedList* vl = h.visited_list_pool_->getFreeVisitedList();
    hnswlib::vl_type* visited = vl->mass;
    const hnswlib::vl_type tag = vl->curV;
    std::priority_queue<Pair, std::vector<Pair>, hnswlib::HierarchicalNSW<float>::CompareByFirst>
        top;
    std::priority_queue<Pair, std::vector<Pair>, hnswlib::HierarchicalNSW<float>::CompareByFirst>
        candidates;
    const auto allowed = [&](hnswlib::tableint id) { return mask[h.getExternalLabel(id)] != 0; };
    float lower = std::numeric_limits<float>::max();
    if (allowed(current)) {
      top.emplace(best, current);
      lower = best;
    }
    candidates.emplace(-best, current);
    visited[current] = tag;
    while (!candidates.empty()) {
      const Pair c = candidates.top();
      if (-c.first > lower && top.size() == ef) {
        break;
      }
      candidates.pop();
      auto* data = reinterpret_cast<int*>(h.get_linklist0(c.second));
      const std::size_t size = h.getListCount(reinterpret_cast<unsigned int*>(data));
      for (std::size_t j = 1; j <= size; ++j) {
        const int id = data[j];
        if (visited[id] == tag) {
          continue;
        }
        visited[id] = tag;
        const float dd = h.fstdistfunc_(query, h.getDataByInternalId(id), h.dist_func_param_);
        if (top.size() < ef || lower > dd) {
          candidates.emplace(-dd, id);
          if (allowed(id)) {
            top.emplace(dd, id);
          }
          if (top.size() > ef) {
            top.pop();
          }
          if (!top.empty()) {
            lower = top.top().first;
          }
        }
      }
    }
    h.visited_list_pool_->releaseVisitedList(vl);
    while (top.size() > k) {
      top.pop();
    }
    std::priority_queue<std::pair<float, hnswlib::labeltype>> result;
    while (!top.empty()) {
      result.emplace(top.top().first, h.getExternalLabel(top.top().second));
      top.pop();
    }
    fill(result, k, out);
    return true;
  }

private:
  static void fill(std::priority_queue<std::pair<float, hnswlib::labeltype>>& result, std::size_t k,
                   std::uint32_t* out) {
    std::fill(out, out + k, UINT32_MAX);
    std::size_t n = result.size();
    while (!result.empty()) {
      out[--n] = static_cast<std::uint32_t>(result.top().second);
      result.pop();
    }
  }

  std::unique_ptr<hnswlib::SpaceInterface<float>> space_;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> index_;
};

} // namespace

std::unique_ptr<AnnIndex> make_hnswlib() { return std::make_unique<HnswlibIndex>(); }

} // namespace vdb::bench
