#include "tools/bench/vdb_bench/dataset.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <stdexcept>
#include <thread>

#include <zlib.h>

namespace vdb::bench {
namespace {

std::vector<unsigned char> read_gz(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) {
    throw std::runtime_error("cannot open " + path + " (install dataset-fashion-mnist)");
  }
  std::vector<unsigned char> out;
  unsigned char buf[1 << 16];
  int n = 0;
  while ((n = gzread(f, buf, sizeof buf)) > 0) {
    out.insert(out.end(), buf, buf + n);
  }
  gzclose(f);
  return out;
}

std::uint32_t big_endian(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         p[3];
}

// An idx3 image file as floats, at most `limit` images.
std::vector<float> idx_images(const std::string& path, std::size_t limit, std::size_t& dim) {
  const std::vector<unsigned char> raw = read_gz(path);
  if (raw.size() < 16 || big_endian(raw.data()) != 0x803) {
    throw std::runtime_error(path + ": not an idx3 file");
  }
  const std::size_t count = std::min<std::size_t>(big_endian(&raw[4]), limit);
  dim = std::size_t{big_endian(&raw[8])} * big_endian(&raw[12]);
  std::vector<float> out(count * dim);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<float>(raw[16 + i]);
  }
  return out;
}

void normalize_rows(std::vector<float>& v, std::size_t dim) {
  for (std::size_t i = 0; i < v.size(); i += dim) {
    double n = 0;
    for (std::size_t j = 0; j < dim; ++j) {
      n += double(v[i + j]) * v[i + j];
    }
    n = std::sqrt(n);
    for (std::size_t j = 0; j < dim; ++j) {
      v[i + j] = static_cast<float>(v[i + j] / n);
    }
  }
}

std::vector<float> read_vecs(const std::string& path, std::size_t& dim) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot open " + path);
  }
  std::vector<float> out;
  std::int32_t d = 0;
  while (in.read(reinterpret_cast<char*>(&d), 4)) {
    dim = static_cast<std::size_t>(d);
    const std::size_t at = out.size();
    out.resize(at + dim);
    in.read(reinterpret_cast<char*>(&out[at]), static_cast<std::streamsize>(dim * 4));
  }
  return out;
}

template <class Allowed>
void nearest(const Dataset& d, std::size_t k, std::size_t q, Allowed allowed, std::uint32_t* out) {
  std::vector<std::pair<float, std::uint32_t>> all;
  all.reserve(d.size());
  for (std::uint32_t i = 0; i < d.size(); ++i) {
    if (allowed(i)) {
      all.emplace_back(reference_distance(d.metric, d.query(q), d.vector(i), d.dim), i);
    }
  }
  const std::size_t take = std::min(k, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(take), all.end());
  for (std::size_t j = 0; j < k; ++j) {
    out[j] = j < take ? all[j].second : UINT32_MAX;
  }
}

template <class Job> void parallel_queries(std::size_t count, Job job) {
  const std::size_t threads = std::max(1U, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (std::size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (std::size_t q = t; q < count; q += threads) {
        job(q);
      }
    });
  }
  for (auto& th : pool) {
    th.join();
  }
}

} // namespace

float reference_distance(BenchMetric metric, const float* a, const float* b, std::size_t dim) {
  float s = 0;
  if (metric == BenchMetric::l2) {
    for (std::size_t i = 0; i < dim; ++i) {
      s += (a[i] - b[i]) * (a[i] - b[i]);
    }
    return s;
  }
  for (std::size_t i = 0; i < dim; ++i) {
    s += a[i] * b[i];
  }
  return -s;
}

Dataset load_fashion_mnist(std::size_t queries, const std::string& dir) {
  Dataset d;
  d.name = "fashion-mnist";
  d.metric = BenchMetric::l2;
  d.base = idx_images(dir + "/train-images-idx3-ubyte.gz", 60'000, d.dim);
  d.queries = idx_images(dir + "/t10k-images-idx3-ubyte.gz", queries, d.dim);
  return d;
}

Dataset make_clustered(std::size_t n, std::size_t dim, std::size_t queries, unsigned seed) {
  Dataset d;
  d.name = "clustered-" + std::to_string(n) + "x" + std::to_string(dim);
  d.metric = BenchMetric::cosine;
  d.dim = dim;
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal;
  const std::size_t clusters = std::max<std::size_t>(1, static_cast<std::size_t>(std::sqrt(n)));
  std::vector<float> centres(clusters * dim);
  for (float& x : centres) {
    x = normal(gen);
  }
  const auto draw = [&](std::vector<float>& out, std::vector<std::uint32_t>& labels,
                        std::size_t count) {
    out.resize(count * dim);
    labels.resize(count);
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t c = gen() % clusters;
      labels[i] = static_cast<std::uint32_t>(c);
      for (std::size_t j = 0; j < dim; ++j) {
        out[i * dim + j] = centres[c * dim + j] + 0.5F * normal(gen);
      }
    }
  };
  draw(d.base, d.cluster, n);
  draw(d.queries, d.query_cluster, queries);
  d.clusters = clusters;
  const std::int64_t per_cluster = 100'000 / static_cast<std::int64_t>(clusters);
  std::uniform_int_distribution<std::int64_t> uniform(0, 99'999);
  std::uniform_int_distribution<std::int64_t> within(0, per_cluster - 1);
  for (std::size_t i = 0; i < n; ++i) {
    d.n_field.push_back(uniform(gen));
    d.cpos_field.push_back(static_cast<std::int64_t>(d.cluster[i]) * per_cluster + within(gen));
  }
  normalize_rows(d.base, dim);
  normalize_rows(d.queries, dim);
  return d;
}

Dataset load_fvecs(const std::string& base, const std::string& queries) {
  Dataset d;
  d.name = base;
  d.base = read_vecs(base, d.dim);
  std::size_t qdim = 0;
  d.queries = read_vecs(queries, qdim);
  if (qdim != d.dim) {
    throw std::runtime_error("query and base dimensions differ");
  }
  return d;
}

std::vector<std::uint32_t> load_ivecs(const std::string& path, std::size_t k) {
  std::size_t dim = 0;
  const std::vector<float> raw = read_vecs(path, dim);
  std::vector<std::uint32_t> out;
  for (std::size_t i = 0; i < raw.size(); i += dim) {
    for (std::size_t j = 0; j < k; ++j) {
      std::uint32_t v = 0;
      std::memcpy(&v, &raw[i + j], 4);
      out.push_back(v);
    }
  }
  return out;
}

std::vector<std::uint32_t> ground_truth(const Dataset& d, std::size_t k, const std::string& cache) {
  const std::size_t q = d.query_count();
  std::vector<std::uint32_t> out(q * k);
  {
    std::ifstream in(cache, std::ios::binary);
    std::uint64_t header[3] = {};
    if (in.read(reinterpret_cast<char*>(header), sizeof header) && header[0] == d.size() &&
        header[1] == q && header[2] == k &&
        in.read(reinterpret_cast<char*>(out.data()),
                static_cast<std::streamsize>(out.size() * 4))) {
      return out;
    }
  }
  parallel_queries(q, [&](std::size_t i) {
    nearest(
        d, k, i, [](std::uint32_t) { return true; }, &out[i * k]);
  });
  std::ofstream file(cache, std::ios::binary);
  const std::uint64_t header[3] = {d.size(), q, k};
  file.write(reinterpret_cast<const char*>(header), sizeof header);
  file.write(reinterpret_cast<const char*>(out.data()),
             static_cast<std::streamsize>(out.size() * 4));
  return out;
}

void assign_tenants(Dataset& d, std::size_t count, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<std::uint32_t> pick(0, static_cast<std::uint32_t>(count - 1));
  d.tenants = count;
  d.tenant.resize(d.size());
  for (std::uint32_t& t : d.tenant) {
    t = pick(gen);
  }
}

std::vector<std::uint32_t>
ground_truth_masked(const Dataset& d, std::size_t k,
                    const std::vector<const std::vector<std::uint8_t>*>& mask_of_query) {
  const std::size_t q = mask_of_query.size();
  std::vector<std::uint32_t> out(q * k);
  parallel_queries(q, [&](std::size_t i) {
    const std::vector<std::uint8_t>& mask = *mask_of_query[i];
    nearest(
        d, k, i, [&](std::uint32_t p) { return mask[p] != 0; }, &out[i * k]);
  });
  return out;
}

} // namespace vdb::bench
