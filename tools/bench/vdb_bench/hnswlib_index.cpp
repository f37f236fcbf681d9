// hnswlib (Debian's libhnswlib-dev 0.6.2), compiled with -O3 -march=native as its users do.
// Its filtered search is given hnswlib 0.7's semantics here (0.6.2 predates the filter
// functor): refused points still route the search but never enter the result set, and the
// search runs until it holds ef accepted points.
#include "tools/bench/vdb_bench/ann_index.hpp"

#include <hnswlib/hnswlib.h>

#include <atomic>
#include <numeric>
#include <stdexcept>
#include <thread>

namespace vdb::bench {
namespace {

using Result = std::priority_queue<std::pair<float, hnswlib::labeltype>>;

// The ids of a search's result, closest first.
void fill(Result& result, std::size_t k, std::uint32_t* out) {
  std::fill(out, out + k, UINT32_MAX);
  std::size_t n = result.size();
  while (!result.empty()) {
    out[--n] = static_cast<std::uint32_t>(result.top().second);
    result.pop();
  }
}

std::unique_ptr<hnswlib::SpaceInterface<float>> space_for(const Dataset& d) {
  if (d.metric == BenchMetric::l2) {
    return std::make_unique<hnswlib::L2Space>(d.dim);
  }
  return std::make_unique<hnswlib::InnerProductSpace>(d.dim);
}

// Adds points ids[from..] to `index` on `threads` threads, labelled by their ids.
void add_parallel(hnswlib::HierarchicalNSW<float>& index, const Dataset& d,
                  const std::vector<std::uint32_t>& ids, std::size_t from, std::size_t threads) {
  std::atomic<std::size_t> next{from};
  std::vector<std::thread> pool;
  for (std::size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (std::size_t i = next.fetch_add(1); i < ids.size(); i = next.fetch_add(1)) {
        index.addPoint(d.vector(ids[i]), ids[i]);
      }
    });
  }
  for (auto& th : pool) {
    th.join();
  }
}

class HnswlibIndex final : public AnnIndex {
public:
  std::string name() const override { return "hnswlib"; }

  void build(const Dataset& d, const BuildParams& params) override {
    space_ = space_for(d);
    index_ = std::make_unique<hnswlib::HierarchicalNSW<float>>(space_.get(), d.size(), params.m,
                                                               params.ef_construct);
    // As hnswlib's Python binding does: the first point alone, then the rest in parallel.
    std::vector<std::uint32_t> ids(d.size());
    std::iota(ids.begin(), ids.end(), 0U);
    index_->addPoint(d.vector(0), 0);
    add_parallel(*index_, d, ids, 1, params.threads);
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
    Result result;
    while (!top.empty()) {
      result.emplace(top.top().first, h.getExternalLabel(top.top().second));
      top.pop();
    }
    fill(result, k, out);
    return true;
  }

private:
  std::unique_ptr<hnswlib::SpaceInterface<float>> space_;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> index_;
};

// One index per tenant, each built as HnswlibIndex builds its one (first point, then the rest
// in parallel), one tenant after another.
class PerTenantIndex final : public AnnIndex {
public:
  std::string name() const override { return "hnswlib-per-tenant"; }

  void build(const Dataset& d, const BuildParams& params) override {
    if (d.tenant.empty()) {
      throw std::runtime_error("hnswlib-per-tenant needs the tenant suite's tenant field");
    }
    space_ = space_for(d);
    std::vector<std::vector<std::uint32_t>> members(d.tenants);
    for (std::uint32_t i = 0; i < d.tenant.size(); ++i) {
      members[d.tenant[i]].push_back(i);
    }
    indexes_.clear();
    for (const std::vector<std::uint32_t>& ids : members) {
      auto index = std::make_unique<hnswlib::HierarchicalNSW<float>>(
          space_.get(), std::max<std::size_t>(1, ids.size()), params.m, params.ef_construct);
      if (!ids.empty()) {
        index->addPoint(d.vector(ids[0]), ids[0]);
        add_parallel(*index, d, ids, 1, params.threads);
      }
      indexes_.push_back(std::move(index));
    }
  }

  void set_ef(std::size_t ef) override {
    for (auto& index : indexes_) {
      index->setEf(ef);
    }
  }

  /// Without a filter there is no one tenant to search.
  void search(const float* /*query*/, std::size_t k, std::uint32_t* out) override {
    std::fill(out, out + k, UINT32_MAX);
  }

  bool search_filtered(const float* query, std::size_t k, const QueryFilter& filter,
                       std::uint32_t* out) override {
    if (filter.tenant >= indexes_.size()) {
      return false; // not a filter on one tenant
    }
    Result result = indexes_[filter.tenant]->searchKnn(query, k);
    fill(result, k, out);
    return true;
  }

private:
  std::unique_ptr<hnswlib::SpaceInterface<float>> space_;
  std::vector<std::unique_ptr<hnswlib::HierarchicalNSW<float>>> indexes_;
};

} // namespace

std::unique_ptr<AnnIndex> make_hnswlib() { return std::make_unique<HnswlibIndex>(); }
std::unique_ptr<AnnIndex> make_hnswlib_per_tenant() { return std::make_unique<PerTenantIndex>(); }

} // namespace vdb::bench
