// vdb-bench: recall@10 against queries per second for VDB and its peers (hnswlib, FAISS),
// measured in one run on one machine. See docs/benchmarks.md for the commands and results.
//
//   vdb-bench --dataset fashion-mnist --json report.json [--plot recall-qps.png]
//   vdb-bench --dataset synthetic --n 200000 --dim 128
//   vdb-bench --dataset fvecs --base b.fvecs --queries q.fvecs
//   options: --m 16 --ef-construct 100 --ef 10,16,...  --runs 3 --systems vdb,hnswlib,faiss
//            (also vdb-int8: int8 codes, rescored with --oversampling X (default 2);
//            a list, e.g. --oversampling 1,1.5,2, searches the one int8 index at each, as rows
//            vdb-int8-os1, ..., and summarises them as vdb-int8, the best of them at each
//            recall: oversampling is a search parameter like ef, tuned per recall level;
//            --quantile Q (default 0.99); vdb-int8-norescore;
//            faiss-sq8: FAISS's IndexHNSWSQ with 8-bit codes; vdb-graph-mmap: VDB in a
//            temporary data folder with hnsw_config.on_disk, its graph's links mapped)
//            --threads N (build threads; default all cores) --cache DIR --plugins DIR
//            --one-build (build only with --threads, not also with one thread)
//            --filtered (synthetic only: the filtered suite, for which VDB is built again with
//            payload indexes on its two fields; --payload-m N sets its payload_m, default m;
//            --selectivities 0.5,0.1,... --filter-queries N (default 200) --filter-runs N
//            (timed passes per filtered row, default --runs) --baseline-filter-efs 200,400
//            (hnswlib's in-graph filter also at these ef, as rows hnswlib-ef200, ...))
//            --tenants 10,20 (any dataset: the tenant suite, a keyword field with that many
//            tenants and each query filtered on one; VDB with one graph and with a graph per
//            tenant (m 0, "vdb-tenants"), hnswlib's filter, one hnswlib index per tenant
//            ("hnswlib-per-tenant"), the subset scan; --filter-queries and --filter-runs apply)
#include "core/plugin_host/plugin_registry.hpp"
#include "tools/bench/bench_plugins.hpp"
#include "tools/bench/vdb_bench/ann_index.hpp"
#include "tools/bench/vdb_bench/vdb_index.hpp"

#include <nlohmann/json.hpp>

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string_view>
#include <thread>

namespace vdb::bench {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kTopK = 10; // recall@10
constexpr double kMinPass = 0.2;  // seconds: the shortest timed pass of the filtered suite

struct Options {
  std::string dataset = "fashion-mnist";
  std::size_t n = 200'000;
  std::size_t dim = 128;
  std::size_t queries = 1000;
  std::string base, query_file, gt_file;
  BuildParams build;
  std::vector<std::size_t> efs{10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512};
  std::size_t runs = 3;
  std::set<std::string> systems{"vdb", "hnswlib", "faiss"};
  std::string json_path, plot_path;
  std::string cache = "bench-cache";
  std::string distance = "auto";         ///< VDB's distance backend
  std::vector<double> oversampling{2.0}; ///< vdb-int8's (rescored) oversampling(s)
  double quantile = 0.99;                ///< the int8 systems' quantile
  bool filtered = false;                 ///< also run the filtered suite (synthetic datasets)
  bool one_build = false;                ///< skip the one-thread build (for quick comparisons)
  std::size_t filter_queries = 200;
  std::optional<std::size_t> filter_runs;       ///< timed passes per filtered row (default: runs)
  std::vector<std::size_t> baseline_filter_efs; ///< hnswlib's filter also at these ef
  std::vector<double> selectivities{0.5, 0.1, 0.01, 0.001, 0.0001};
  std::vector<std::size_t> tenants; ///< the tenant suite's tenant counts (empty: not run)
};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// The process's resident anonymous memory (heap and private mappings) in bytes, after the heap
// has returned its free pages: what an index holds, however it allocates (VDB's ram store maps
// its chunks itself, outside malloc), including pages a huge-page mapping fills.
std::size_t resident_anonymous() {
  malloc_trim(0);
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("RssAnon:", 0) == 0) {
      return std::stoull(line.substr(8)) * 1024; // "RssAnon:   1234 kB"
    }
  }
  return 0;
}

double recall_at(const std::vector<std::uint32_t>& got, const std::vector<std::uint32_t>& truth,
                 std::size_t queries, std::size_t k) {
  std::size_t hits = 0;
  std::size_t wanted = 0;
  for (std::size_t q = 0; q < queries; ++q) {
    std::set<std::uint32_t> want;
    for (std::size_t j = 0; j < k; ++j) {
      if (truth[q * k + j] != UINT32_MAX) {
        want.insert(truth[q * k + j]);
      }
    }
    wanted += want.size();
    for (std::size_t j = 0; j < k; ++j) {
      hits += want.count(got[q * k + j]);
    }
  }
  return wanted == 0 ? 1.0 : static_cast<double>(hits) / static_cast<double>(wanted);
}

std::unique_ptr<AnnIndex> make(const std::string& system, const PluginRegistry& plugins,
                               const std::string& distance = "auto", double oversampling = 2.0,
                               double quantile = 0.99) {
  if (system == "vdb" || system == "exact-subset" || system.rfind("vdb-int8", 0) == 0 ||
      system == "vdb-graph-mmap") {
    auto backend = plugins.choose_distance(distance);
    if (!backend) {
      throw std::runtime_error(backend.error().message);
    }
    if (system == "exact-subset") {
      return std::make_unique<ExactSubset>(*backend);
    }
    if (system == "vdb-graph-mmap") {
      return std::make_unique<VdbIndex>(
          EngineContext{*backend, plugins.find(VDB_PLUGIN_STORAGE, "ram"), EngineLimits{}},
          Int8Mode{}, true);
    }
    Int8Mode int8;
    int8.enabled = system != "vdb";
    int8.rescore = system != "vdb-int8-norescore";
    int8.oversampling = int8.rescore ? oversampling : 1.0;
    int8.quantile = quantile;
    return std::make_unique<VdbIndex>(
        EngineContext{*backend, plugins.find(VDB_PLUGIN_STORAGE, "ram"), EngineLimits{}}, int8);
  }
#ifdef VDB_BENCH_HNSWLIB
  if (system == "hnswlib") {
    return make_hnswlib();
  }
  if (system == "hnswlib-per-tenant") {
    return make_hnswlib_per_tenant();
  }
#endif
#ifdef VDB_BENCH_FAISS
  if (system == "faiss") {
    return make_faiss();
  }
  if (system == "faiss-sq8") {
    return make_faiss_sq8();
  }
#endif
  return nullptr;
}

// The QPS a system reaches at `target` recall, interpolated linearly on its ef sweep.
std::optional<double> qps_at(const std::vector<std::pair<double, double>>& recall_qps,
                             double target) {
  for (std::size_t i = 0; i + 1 < recall_qps.size(); ++i) {
    const auto [r0, q0] = recall_qps[i];
    const auto [r1, q1] = recall_qps[i + 1];
    if (r0 <= target && target <= r1 && r1 > r0) {
      return q0 + (q1 - q0) * (target - r0) / (r1 - r0);
    }
  }
  if (!recall_qps.empty() && recall_qps.front().first >= target) {
    return recall_qps.front().second;
  }
  return std::nullopt;
}

// The oversampling a sweep name carries ("vdb-int8-os1.5" → 1.5).
std::optional<double> oversampling_of(const std::string& name) {
  constexpr std::string_view kPrefix = "vdb-int8-os";
  if (name.rfind(kPrefix, 0) != 0) {
    return std::nullopt;
  }
  return std::stod(name.substr(kPrefix.size()));
}

std::string number_text(double x) {
  std::ostringstream out;
  out << x;
  return out.str();
}

Options parse(int argc, char** argv) {
  Options o;
  const auto list = [](const std::string& s) {
    std::vector<std::string> out;
    std::stringstream in(s);
    std::string item;
    while (std::getline(in, item, ',')) {
      out.push_back(item);
    }
    return out;
  };
  o.build.threads = std::max(1U, std::thread::hardware_concurrency());
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        throw std::runtime_error(a + " needs a value");
      }
      return argv[++i];
    };
    if (a == "--dataset")
      o.dataset = value();
    else if (a == "--n")
      o.n = std::stoul(value());
    else if (a == "--dim")
      o.dim = std::stoul(value());
    else if (a == "--queries")
      o.queries = std::stoul(value());
    else if (a == "--base")
      o.base = value();
    else if (a == "--query-file")
      o.query_file = value();
    else if (a == "--gt")
      o.gt_file = value();
    else if (a == "--m")
      o.build.m = std::stoul(value());
    else if (a == "--ef-construct")
      o.build.ef_construct = std::stoul(value());
    else if (a == "--one-build")
      o.one_build = true;
    else if (a == "--threads")
      o.build.threads = std::stoul(value());
    else if (a == "--runs")
      o.runs = std::stoul(value());
    else if (a == "--json")
      o.json_path = value();
    else if (a == "--plot")
      o.plot_path = value();
    else if (a == "--cache")
      o.cache = value();
    else if (a == "--distance")
      o.distance = value();
    else if (a == "--quantile")
      o.quantile = std::stod(value());
    else if (a == "--oversampling") {
      o.oversampling.clear();
      for (const auto& v : list(value()))
        o.oversampling.push_back(std::stod(v));
    } else if (a == "--filtered")
      o.filtered = true;
    else if (a == "--payload-m")
      o.build.payload_m = std::stoul(value());
    else if (a == "--selectivities") {
      o.selectivities.clear();
      for (const auto& v : list(value()))
        o.selectivities.push_back(std::stod(v));
    } else if (a == "--baseline-filter-efs") {
      for (const auto& v : list(value()))
        o.baseline_filter_efs.push_back(std::stoul(v));
    } else if (a == "--tenants") {
      for (const auto& v : list(value()))
        o.tenants.push_back(std::stoul(v));
    } else if (a == "--filter-runs")
      o.filter_runs = std::stoul(value());
    else if (a == "--filter-queries")
      o.filter_queries = std::stoul(value());
    else if (a == "--systems") {
      o.systems.clear();
      for (const auto& s : list(value()))
        o.systems.insert(s);
    } else if (a == "--ef") {
      o.efs.clear();
      for (const auto& s : list(value()))
        o.efs.push_back(std::stoul(s));
    } else {
      throw std::runtime_error("unknown option " + a +
                               " (see the top of tools/bench/vdb_bench/main.cpp)");
    }
  }
  return o;
}

void write_plot(const std::string& path, const std::string& title, const Json& rows) {
  std::map<std::string, std::vector<std::pair<double, double>>> series;
  for (const Json& r : rows) {
    if (r.contains("ef") && !r.contains("filter")) {
      series[r["system"]].emplace_back(r["recall"].get<double>(), r["qps"].get<double>());
    }
  }
  const std::string data = path + ".dat";
  std::ofstream out(data);
  std::string plots;
  for (const auto& [system, points] : series) {
    out << "# " << system << "\n";
    for (const auto& [r, q] : points)
      out << r << " " << q << "\n";
    out << "\n\n";
    plots += (plots.empty() ? "" : ", ") + std::string("'") + data + "' index " +
             std::to_string(std::distance(series.begin(), series.find(system))) +
             " with linespoints title '" + system + "'";
  }
  out.close();
  std::ofstream script(path + ".gp");
  script << "set terminal pngcairo size 900,600 noenhanced\nset output '" << path << "'\n"
         << "set title '" << title << " (single thread, recall@10 vs QPS)'\n"
         << "set xlabel 'recall@10'\nset ylabel 'queries per second'\nset logscale y\n"
         << "set grid\nset key top right\nplot " << plots << "\n";
  script.close();
  if (std::system(("gnuplot '" + path + ".gp'").c_str()) != 0) {
    std::cerr << "gnuplot failed; the data is in " << data << "\n";
  }
}

// Every system searches filtered at ef = ef_construct, the default, except the extra hnswlib
// rows "hnswlib-efN", which show what its filter reaches with a wider beam.
std::size_t filter_ef(const Options& o, const std::string& name) {
  constexpr std::string_view kWider = "hnswlib-ef";
  return name.rfind(kWider, 0) == 0 ? std::stoul(name.substr(kWider.size())) : o.build.ef_construct;
}

// Times `systems` on the queries' `filters` (one per query, the first filters.size() queries),
// interleaved like the unfiltered sweep: each run times every system in turn. Prints and
// reports each system's recall@10 against the exact filtered ground truth and its median QPS,
// in rows labelled `label` with `selectivity` and the fields of `extra`.
void time_filtered(const Options& o, const Dataset& d,
                   const std::vector<std::pair<std::string, AnnIndex*>>& systems,
                   const std::vector<QueryFilter>& filters, const std::string& label,
                   double selectivity, const Json& extra, Json& report) {
  const std::size_t k = kTopK;
  const std::size_t queries = filters.size();
  std::vector<const std::vector<std::uint8_t>*> masks(queries, nullptr);
  double matching = 0;
  for (std::size_t q = 0; q < queries; ++q) {
    masks[q] = filters[q].mask;
    matching += static_cast<double>(filters[q].ids->size());
  }
  const std::vector<std::uint32_t> truth = ground_truth_masked(d, k, masks);
  std::map<std::string, std::vector<std::uint32_t>> got;
  std::map<std::string, std::vector<double>> qps;
  std::set<std::string> unsupported;
  for (std::size_t run_i = 0; run_i < o.filter_runs.value_or(o.runs); ++run_i) {
    for (const auto& [name, index] : systems) {
      if (unsupported.count(name) != 0) {
        continue;
      }
      index->set_ef(filter_ef(o, name));
      got[name].resize(queries * k);
      bool supported = true;
      // A pass repeats the queries for at least kMinPass: at a few hundred thousand queries
      // per second one pass over them is shorter than the cache misses of its first query
      // after another system's pass.
      std::size_t done = 0;
      const auto start = Clock::now();
      do {
        for (std::size_t q = 0; q < queries && supported; ++q) {
          QueryFilter f = filters[q];
          f.post_filter = name == "hnswlib-postfilter";
          supported = index->search_filtered(d.query(q), k, f, &got[name][q * k]);
        }
        done += queries;
      } while (supported && seconds_since(start) < kMinPass);
      qps[name].push_back(static_cast<double>(done) / seconds_since(start));
      if (!supported) {
        unsupported.insert(name);
      }
    }
  }
  std::printf("\n%-11s %8s %-20s %8s %10s\n", "filter", "select.", "system", "recall", "QPS");
  for (const auto& [name, index] : systems) {
    if (unsupported.count(name) != 0) {
      continue;
    }
    const double r = recall_at(got[name], truth, queries, k);
    const double m = median(qps[name]);
    std::printf("%-11s %7.2f%% %-20s %8.4f %10.0f\n", label.c_str(), selectivity * 100,
                name.c_str(), r, m);
    Json row{{"system", name},
             {"filter", label},
             {"selectivity", selectivity},
             {"matching_points", matching / static_cast<double>(queries)},
             {"ef", filter_ef(o, name)},
             {"recall", r},
             {"qps", m}};
    row.update(extra);
    report["rows"].push_back(row);
  }
}

// The filtered suite: range filters on `n` (independent of the vectors) and on `cpos` (tied to
// the clusters, placed on clusters away from the query's: the hard case), at each selectivity,
// every system at its default ef (ef_construct).
void run_filtered(const Options& o, const Dataset& d, const PluginRegistry& plugins,
                  std::map<std::string, std::unique_ptr<AnnIndex>>& built, Json& report) {
  if (d.n_field.empty()) {
    std::cerr << "the filtered suite needs a synthetic dataset (payload fields)\n";
    return;
  }
  const std::size_t queries = std::min(o.filter_queries, d.query_count());
  auto exact = make("exact-subset", plugins, o.distance);
  exact->build(d, o.build);
  // VDB filters with its payload indexes, which the unfiltered comparison leaves out: build it
  // again with them (and their payload-aware links), on all threads.
  std::map<std::string, std::unique_ptr<AnnIndex>> with_payloads;
  for (const auto& [name, index] : built) {
    if (name.rfind("vdb", 0) != 0) {
      continue;
    }
    auto again = make(name, plugins, o.distance, o.oversampling.front(), o.quantile);
    BuildParams p = o.build;
    p.payloads = true;
    const auto start = Clock::now();
    again->build(d, p);
    const double took = seconds_since(start);
    std::cerr << name << ": built with payload indexes in " << took << " s\n";
    report["rows"].push_back({{"system", name},
                              {"payload_indexes", Json::array({"n", "cpos"})},
                              {"payload_m", p.payload_m ? Json(*p.payload_m) : Json()},
                              {"build_seconds_all_threads", took},
                              {"build_threads", o.build.threads}});
    with_payloads[name] = std::move(again);
  }
  const std::int64_t per_cluster = 100'000 / static_cast<std::int64_t>(d.clusters);
  for (const bool correlated : {false, true}) {
    for (const double selectivity : o.selectivities) {
      const auto width =
          std::max<std::int64_t>(1, static_cast<std::int64_t>(selectivity * 100'000));
      const std::string field = correlated ? "cpos" : "n";
      const std::vector<std::int64_t>& values = correlated ? d.cpos_field : d.n_field;
      // Per query: the range, and (shared between queries with the same range) mask, ids, filter.
      struct Shared {
        std::vector<std::uint8_t> mask;
        std::vector<std::uint32_t> ids;
        Filter filter;
      };
      std::map<std::int64_t, Shared> by_start;
      std::vector<QueryFilter> filters(queries);
      for (std::size_t q = 0; q < queries; ++q) {
        std::int64_t lo = 0;
        if (correlated) {
          const std::size_t far = (d.query_cluster[q] + d.clusters / 2) % d.clusters;
          lo =
              std::min<std::int64_t>(static_cast<std::int64_t>(far) * per_cluster, 100'000 - width);
        }
        Shared& shared = by_start[lo];
        if (shared.mask.empty()) {
          shared.mask.assign(d.size(), 0);
          for (std::uint32_t i = 0; i < d.size(); ++i) {
            if (values[i] >= lo && values[i] < lo + width) {
              shared.mask[i] = 1;
              shared.ids.push_back(i);
            }
          }
          shared.filter = *parse_filter(
              Json{{"must", {{"key", field}, {"range", {{"gte", lo}, {"lt", lo + width}}}}}});
        }
        filters[q] = QueryFilter{&shared.filter, &shared.mask, &shared.ids};
      }
      std::vector<std::pair<std::string, AnnIndex*>> systems;
      for (auto& [name, index] : built) {
        const auto with = with_payloads.find(name);
        systems.emplace_back(name, with != with_payloads.end() ? with->second.get() : index.get());
        if (name == "hnswlib") {
          systems.emplace_back("hnswlib-postfilter", index.get());
          for (const std::size_t ef : o.baseline_filter_efs) {
            systems.emplace_back("hnswlib-ef" + std::to_string(ef), index.get());
          }
        }
      }
      systems.emplace_back("exact-subset", exact.get());
      time_filtered(o, d, systems, filters, correlated ? "correlated" : "independent", selectivity,
                    Json::object(), report);
    }
  }
}

// The tenant suite (--tenants T,...): a keyword field `tenant` with T values, each held by about
// 1/T of the points at random (independent of the vectors), and each query filtered on one
// tenant (`must: {key: tenant, match: {value}}`), Qdrant's multitenancy case. Per T: VDB in its
// default layout (one graph over the segment, with payload-aware links per tenant: payload_m)
// and in the tenant layout ("vdb-tenants": m 0, a graph per tenant only), both built again with
// a keyword index on `tenant`; hnswlib's in-graph filter on its one graph; one hnswlib index per
// tenant ("hnswlib-per-tenant", what a library user would build); and the subset scan.
void run_tenants(const Options& o, Dataset& d, const PluginRegistry& plugins,
                 std::map<std::string, std::unique_ptr<AnnIndex>>& built, Json& report) {
  const std::size_t queries = std::min(o.filter_queries, d.query_count());
  for (const std::size_t count : o.tenants) {
    assign_tenants(d, count);
    std::vector<std::vector<std::uint32_t>> ids(count);
    std::vector<std::vector<std::uint8_t>> masks(count, std::vector<std::uint8_t>(d.size(), 0));
    for (std::uint32_t i = 0; i < d.size(); ++i) {
      ids[d.tenant[i]].push_back(i);
      masks[d.tenant[i]][i] = 1;
    }
    std::vector<Filter> by_tenant;
    for (std::uint32_t t = 0; t < count; ++t) {
      by_tenant.push_back(*parse_filter(
          Json{{"must", {{"key", "tenant"}, {"match", {{"value", tenant_value(t)}}}}}}));
    }
    std::vector<QueryFilter> filters(queries);
    for (std::size_t q = 0; q < queries; ++q) {
      const auto t = static_cast<std::uint32_t>(q % count);
      filters[q] = QueryFilter{&by_tenant[t], &masks[t], &ids[t]};
      filters[q].tenant = t;
    }
    // The layouts that need the tenant field, built for this T on all threads.
    std::vector<std::pair<std::string, std::unique_ptr<AnnIndex>>> layouts;
    const auto build = [&](const std::string& name, const std::string& system, BuildParams p) {
      auto index = make(system, plugins, o.distance);
      const std::size_t before = resident_anonymous();
      const auto start = Clock::now();
      index->build(d, p);
      const double took = seconds_since(start);
      const std::size_t after = resident_anonymous();
      std::cerr << name << ": built for " << count << " tenants in " << took << " s\n";
      report["rows"].push_back({{"system", name},
                                {"tenants", count},
                                {"m", p.m},
                                {"payload_m", p.payload_m ? Json(*p.payload_m) : Json()},
                                {"build_seconds_all_threads", took},
                                {"build_threads", p.threads},
                                {"memory_bytes", after > before ? after - before : 0}});
      layouts.emplace_back(name, std::move(index));
    };
    BuildParams p = o.build;
    p.tenants = true;
    if (built.count("vdb") != 0) {
      build("vdb", "vdb", p);
      BuildParams tenant_layout = p;
      tenant_layout.m = 0;
      tenant_layout.payload_m = o.build.payload_m.value_or(o.build.m);
      build("vdb-tenants", "vdb", tenant_layout);
    }
    if (built.count("hnswlib") != 0) {
      build("hnswlib-per-tenant", "hnswlib-per-tenant", o.build);
    }
    auto exact = make("exact-subset", plugins, o.distance);
    exact->build(d, o.build);
    std::vector<std::pair<std::string, AnnIndex*>> systems;
    systems.reserve(layouts.size() + 2);
    for (const auto& [name, index] : layouts) {
      systems.emplace_back(name, index.get());
    }
    if (const auto h = built.find("hnswlib"); h != built.end()) {
      systems.emplace_back("hnswlib", h->second.get());
    }
    systems.emplace_back("exact-subset", exact.get());
    time_filtered(o, d, systems, filters, "tenant", 1.0 / static_cast<double>(count),
                  Json{{"tenants", count}}, report);
  }
  d.tenant.clear();
  d.tenants = 0;
}

int run(int argc, char** argv) {
  PluginRegistry plugins;
  if (!load_plugins(argc, argv, plugins)) {
    return 1;
  }
  const Options o = parse(argc, argv);
  Dataset d;
  if (o.dataset == "fashion-mnist") {
    d = load_fashion_mnist(o.queries);
  } else if (o.dataset == "synthetic") {
    d = make_clustered(o.n, o.dim, o.queries);
  } else if (o.dataset == "fvecs") {
    d = load_fvecs(o.base, o.query_file);
  } else {
    throw std::runtime_error("--dataset is fashion-mnist, synthetic or fvecs");
  }
  const std::size_t k = kTopK;
  std::filesystem::create_directories(o.cache);
  std::cerr << "dataset " << d.name << ": " << d.size() << " x " << d.dim << ", " << d.query_count()
            << " queries; ground truth...\n";
  const std::vector<std::uint32_t> truth = !o.gt_file.empty()
                                               ? load_ivecs(o.gt_file, k)
                                               : ground_truth(d, k, o.cache + "/" + d.name + ".gt");

  Json report{{"dataset", d.name},
              {"n", d.size()},
              {"dim", d.dim},
              {"queries", d.query_count()},
              {"m", o.build.m},
              {"ef_construct", o.build.ef_construct},
              {"build_threads", o.build.threads},
              {"runs", o.runs},
              {"rows", Json::array()}};
  std::printf("%-10s %6s %8s %10s\n", "system", "ef", "recall", "QPS");
  std::map<std::string, std::vector<std::pair<double, double>>> curves;
  std::map<std::string, std::unique_ptr<AnnIndex>> built;
  for (const std::string& system : o.systems) {
    if (!make(system, plugins)) {
      std::cerr << "skipping " << system << ": not built in (install its -dev package)\n";
      continue;
    }
    // Build with one thread and with all threads; search on the last one built.
    std::vector<double> build_1;
    std::vector<double> build_n;
    std::unique_ptr<AnnIndex> index;
    std::size_t memory = 0;
    std::vector<std::size_t> build_threads{o.build.threads};
    if (!o.one_build) {
      build_threads.insert(build_threads.begin(), 1);
    }
    for (std::size_t run_i = 0; run_i < o.runs; ++run_i) {
      for (const std::size_t threads : build_threads) {
        index.reset();
        const std::size_t before = resident_anonymous();
        index = make(system, plugins, o.distance, o.oversampling.front(), o.quantile);
        BuildParams p = o.build;
        p.threads = threads;
        const auto start = Clock::now();
        index->build(d, p);
        (threads == 1 ? build_1 : build_n).push_back(seconds_since(start));
        // The largest growth over the builds: a build that reuses pages an earlier one left
        // resident shows less than it holds.
        const std::size_t after = resident_anonymous();
        memory = std::max(memory, after > before ? after - before : 0);
        std::cerr << system << ": built with " << threads << " thread(s) in "
                  << (threads == 1 ? build_1 : build_n).back() << " s\n";
      }
    }
    report["rows"].push_back({{"system", system},
                              {"build_seconds_1_thread", median(build_1)},
                              {"build_seconds_all_threads", median(build_n)},
                              {"build_threads", o.build.threads},
                              {"memory_bytes", memory}});
    built[system] = std::move(index);
  }
  // The sweep, interleaved: for each ef, every system's timed pass in turn, run after run. The
  // machine is shared and its speed drifts by tens of percent within minutes; measured one
  // system after the other, that drift would land in the ratios between systems.
  // What the sweep times, by name: each built system, and the int8 index once per oversampling
  // when --oversampling lists several.
  std::map<std::string, AnnIndex*> sweep;
  for (const auto& [system, index] : built) {
    if (system == "vdb-int8" && o.oversampling.size() > 1) {
      for (const double x : o.oversampling) {
        sweep["vdb-int8-os" + number_text(x)] = index.get();
      }
    } else {
      sweep[system] = index.get();
    }
  }
  const auto prepare = [&o](const std::string& system, AnnIndex* index) {
    if (const auto x = oversampling_of(system)) {
      index->set_oversampling(*x);
    } else if (system == "vdb-int8") {
      index->set_oversampling(o.oversampling.front());
    }
  };
  std::map<std::string, std::vector<std::uint32_t>> got;
  for (const auto& [system, index] : sweep) {
    prepare(system, index);
    // One untimed pass first, so that no system's first ef pays for faulting in its index.
    got[system].resize(d.query_count() * k);
    index->set_ef(o.efs.front());
    for (std::size_t q = 0; q < d.query_count(); ++q) {
      index->search(d.query(q), k, &got[system][q * k]);
    }
  }
  for (const std::size_t ef : o.efs) {
    std::map<std::string, std::vector<double>> qps;
    for (std::size_t run_i = 0; run_i < o.runs; ++run_i) {
      for (const auto& [system, index] : sweep) {
        prepare(system, index);
        index->set_ef(ef);
        std::uint32_t* out = got[system].data();
        const auto start = Clock::now();
        for (std::size_t q = 0; q < d.query_count(); ++q) {
          index->search(d.query(q), k, out + q * k);
        }
        qps[system].push_back(static_cast<double>(d.query_count()) / seconds_since(start));
      }
    }
    for (const auto& [system, index] : sweep) {
      const double r = recall_at(got[system], truth, d.query_count(), k);
      const double m = median(qps[system]);
      curves[system].emplace_back(r, m);
      std::printf("%-10s %6zu %8.4f %10.0f\n", system.c_str(), ef, r, m);
      Json row{{"system", system}, {"ef", ef},       {"recall", r},
               {"qps", m},         {"m", o.build.m}, {"ef_construct", o.build.ef_construct}};
      if (system.rfind("vdb-int8", 0) == 0) {
        const bool rescore = system != "vdb-int8-norescore";
        row["quantization"] = {
            {"type", "int8"},
            {"quantile", o.quantile},
            {"rescore", rescore},
            {"oversampling",
             !rescore ? 1.0 : oversampling_of(system).value_or(o.oversampling.front())}};
      }
      report["rows"].push_back(row);
    }
  }
  std::printf("\n%-10s %12s %12s %10s %10s %10s\n", "system", "QPS@0.95", "QPS@0.99", "build 1t",
              "build Nt", "memory MB");
  Json summary = Json::object();
  // vdb-int8 over several oversamplings: at each recall, the best of their interpolated QPS
  // (each curve interpolated on its own, never between two settings).
  std::map<std::string, std::vector<std::pair<double, double>>> variants;
  for (const auto& [system, curve] : curves) {
    if (oversampling_of(system)) {
      variants[system] = curve;
    }
  }
  const auto best_at = [&variants](double target) {
    std::optional<double> best;
    for (const auto& [system, curve] : variants) {
      if (const auto q = qps_at(curve, target); q && (!best || *q > *best)) {
        best = q;
      }
    }
    return best;
  };
  if (!variants.empty()) {
    curves["vdb-int8"] = {}; // its summary row: the best oversampling per recall
  }
  for (const auto& [system, curve] : curves) {
    const bool best_of = system == "vdb-int8" && !variants.empty();
    const auto at95 = best_of ? best_at(0.95) : qps_at(curve, 0.95);
    const auto at99 = best_of ? best_at(0.99) : qps_at(curve, 0.99);
    Json build;
    const std::string built_as = oversampling_of(system) ? "vdb-int8" : system;
    for (const Json& r : report["rows"]) {
      if (r["system"] == built_as && r.contains("build_seconds_1_thread"))
        build = r;
    }
    std::printf("%-10s %12.0f %12.0f %10.2f %10.2f %10.1f\n", system.c_str(), at95.value_or(0),
                at99.value_or(0), build["build_seconds_1_thread"].get<double>(),
                build["build_seconds_all_threads"].get<double>(),
                static_cast<double>(build["memory_bytes"].get<std::size_t>()) / 1e6);
    summary[system] = {{"qps_at_recall_0.95", at95 ? Json(*at95) : Json()},
                       {"qps_at_recall_0.99", at99 ? Json(*at99) : Json()}};
    if (best_of) {
      summary[system]["best_of"] = "vdb-int8-os*";
    }
  }
  report["summary"] = summary;
  if (o.filtered) {
    run_filtered(o, d, plugins, built, report);
  }
  if (!o.tenants.empty()) {
    run_tenants(o, d, plugins, built, report);
  }
  if (!o.json_path.empty()) {
    std::ofstream(o.json_path) << report.dump(2) << "\n";
  }
  std::string plot = o.plot_path;
  if (plot.empty() && !o.json_path.empty()) {
    plot = std::filesystem::path(o.json_path).replace_extension(".png").string();
  }
  if (!plot.empty()) {
    write_plot(plot, d.name, report["rows"]);
  }
  return 0;
}

} // namespace
} // namespace vdb::bench

int main(int argc, char** argv) {
  try {
    return vdb::bench::run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "vdb-bench: " << e.what() << "\n";
    return 1;
  }
}
