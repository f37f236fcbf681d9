// Datasets for vdb-bench: vectors, queries, the metric, and exact ground truth (cached on disk).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vdb::bench {

enum class BenchMetric { l2, cosine };

struct Dataset {
  std::string name;
  BenchMetric metric = BenchMetric::l2;
  std::size_t dim = 0;
  std::vector<float> base;    ///< n × dim (unit vectors for cosine)
  std::vector<float> queries; ///< q × dim (unit vectors for cosine)
  std::vector<std::uint32_t>
      cluster; ///< per base vector, the cluster it was drawn from (synthetic)
  std::vector<std::uint32_t> query_cluster;
  /// Synthetic payload fields, per base vector: `n` uniform in [0, 100000) (independent of the
  /// vector) and `cpos` = cluster * K + uniform [0, K), K = 100000 / clusters (tied to it).
  std::vector<std::int64_t> n_field;
  std::vector<std::int64_t> cpos_field;
  std::size_t clusters = 0;
  /// The tenant suite's keyword field, per base vector: one of `tenants` values, drawn
  /// uniformly (independent of the vector); empty outside that suite. See assign_tenants().
  std::vector<std::uint32_t> tenant;
  std::size_t tenants = 0;

  std::size_t size() const { return dim == 0 ? 0 : base.size() / dim; }
  std::size_t query_count() const { return dim == 0 ? 0 : queries.size() / dim; }
  const float* vector(std::size_t i) const { return &base[i * dim]; }
  const float* query(std::size_t i) const { return &queries[i * dim]; }
};

/// Fashion-MNIST from Debian's dataset-fashion-mnist: 60,000 training images as base vectors
/// (784 floats, pixel values 0..255) and the first `queries` test images as queries; L2.
Dataset load_fashion_mnist(std::size_t queries = 1000,
                           const std::string& dir = "/usr/share/datasets/fashion-mnist");

/// `n` vectors of `dim` floats around sqrt(n) cluster centres, normalised (cosine), with
/// `queries` queries drawn the same way; fixed seed.
Dataset make_clustered(std::size_t n, std::size_t dim, std::size_t queries, unsigned seed = 42);

/// Gives every base vector one of `count` tenants, uniformly at random (fixed seed), so each
/// tenant holds about 1/count of the points wherever they lie.
void assign_tenants(Dataset& d, std::size_t count, unsigned seed = 7);

/// An fvecs base file, an fvecs query file (L2).
Dataset load_fvecs(const std::string& base, const std::string& queries);

/// Ids of the k nearest base vectors for every query (exact, multi-threaded), from `cache` when
/// it holds them for this dataset, else computed and written there.
std::vector<std::uint32_t> ground_truth(const Dataset& d, std::size_t k, const std::string& cache);

/// The k nearest base vectors among those a query's mask allows (mask[i] != 0), for the first
/// mask_of_query.size() queries.
std::vector<std::uint32_t>
ground_truth_masked(const Dataset& d, std::size_t k,
                    const std::vector<const std::vector<std::uint8_t>*>& mask_of_query);

/// An ivecs file's rows (for ground truth given with fvecs datasets).
std::vector<std::uint32_t> load_ivecs(const std::string& path, std::size_t k);

/// Squared L2 or negated dot: smaller is closer (plain scalar code, for ground truth).
float reference_distance(BenchMetric metric, const float* a, const float* b, std::size_t dim);

} // namespace vdb::bench
