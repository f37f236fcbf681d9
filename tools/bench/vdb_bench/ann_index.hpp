// One system under test in vdb-bench: build over a dataset, then answer k-NN queries, with or
// without a filter, one query at a time on the calling thread.
#pragma once

#include "tools/bench/vdb_bench/dataset.hpp"

#include "core/engine/filter.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vdb::bench {

struct BuildParams {
  std::size_t m = 16;
  std::size_t ef_construct = 100;
  std::size_t threads = 1;
  /// VDB only: index the dataset's payload fields (the filtered suite), with this payload_m
  /// (unset: the collection's default, m).
  bool payloads = false;
  std::optional<std::size_t> payload_m;
  /// VDB only: index the dataset's tenant field, a keyword "t<i>" (the tenant suite).
  bool tenants = false;
};

/// One query's filter, in the form each system takes it.
struct QueryFilter {
  const Filter* filter = nullptr;                  ///< as a VDB filter
  const std::vector<std::uint8_t>* mask = nullptr; ///< mask[id] != 0: matches
  const std::vector<std::uint32_t>* ids = nullptr; ///< the matching ids
  bool post_filter = false;          ///< hnswlib: search unfiltered, then keep the matches
  std::uint32_t tenant = UINT32_MAX; ///< the tenant suite: the one tenant the filter matches
};

class AnnIndex {
public:
  virtual ~AnnIndex() = default;
  virtual std::string name() const = 0;
  virtual void build(const Dataset& d, const BuildParams& params) = 0;
  virtual void set_ef(std::size_t ef) = 0;
  /// Systems that search on codes and rescore (vdb-int8): candidates per result.
  virtual void set_oversampling(double x) { (void)x; }
  /// The k nearest ids, closest first (UINT32_MAX fills missing slots).
  virtual void search(const float* query, std::size_t k, std::uint32_t* out) = 0;
  /// The k nearest among the points `filter` matches; false when the system cannot filter.
  virtual bool search_filtered(const float* query, std::size_t k, const QueryFilter& filter,
                               std::uint32_t* out) {
    (void)query, (void)k, (void)filter, (void)out;
    return false;
  }
};

#ifdef VDB_BENCH_HNSWLIB
std::unique_ptr<AnnIndex> make_hnswlib();
/// One hnswlib index per tenant (the dataset's tenant field), as a library user would serve
/// tenants: a filtered search is an unfiltered search of the filter's tenant's index.
std::unique_ptr<AnnIndex> make_hnswlib_per_tenant();
#endif
#ifdef VDB_BENCH_FAISS
std::unique_ptr<AnnIndex> make_faiss();
/// IndexHNSWSQ with 8-bit scalar codes (QT_8bit), searched on codes as FAISS does.
std::unique_ptr<AnnIndex> make_faiss_sq8();
#endif

} // namespace vdb::bench
