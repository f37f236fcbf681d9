// vdb-load: load and throughput tests of vdbd over Cap'n Proto RPC.
//
//   vdb-load mixed [--port P | --serve] [--clients 8] [--seconds 60] [--n 200000] [--dim 128]
//            [--search-share 0.8] [--json FILE]
//     N clients, each on its own connection, for T seconds: searches (half of them filtered)
//     and wait=true upserts. Every acknowledged upsert is checked from another client at once
//     (read-your-writes). Reports throughput, p50/p95/p99 per operation, errors.
//
//   vdb-load throughput [--dataset fashion-mnist|synthetic] [--ef 48] [--clients 2]
//            [--seconds 10] [--json FILE]
//     One index served in-process and over loopback RPC: queries per second through the
//     embedded API and through RemoteClient, with batches of 100 queries per call and with one
//     query per call, on the same cores.
//
//   vdb-load ingest --data DIR [--writers 4] [--batch 100] [--dim 128] [--seconds 10]
//            [--json FILE]
//     Durable ingestion into an embedded database kept in DIR (put DIR on tmpfs, e.g.
//     /dev/shm, to see what the disk's fdatasync costs): wait=true upserts of batches of new
//     points, first from one writer, then from --writers writers at once, each on a fresh
//     collection. Reports points per second, batch latency and how many writes shared each
//     fdatasync (group commit).
//
//   vdb-load startup --data DIR [--n 1000000] [--dim 128] [--json FILE]
//     Start-up time of a data folder: loads --n points into collection "startup" (once; an
//     existing one is reused), waits until the optimizer has indexed them, closes the database
//     (a checkpoint), then times opening it again until the collection answers a search. The
//     points carry an integer payload "n" with a payload index.
//
//   vdb-load memory --data DIR [--n 200000] [--dim 128] [--json FILE]
//     Resident memory of the same vectors kept several ways, each in its own folder under DIR
//     (built once): "ram" (vectors in RAM, no quantization), "quantized" (vectors on_disk in
//     mmap files, int8 codes with always_ram) and "quantized-mmap" (the same, codes mapped from
//     their file: always_ram false); "quantized-async" opens the "quantized" folder with
//     storage.performance.async_scorer, so rescoring reads the originals from the file instead
//     of the mapping; "graph-mmap" and "quantized-async-graph-mmap" are "ram" and
//     "quantized-async" with hnsw_config.on_disk (the graph's links mapped from its file). Each is
//     measured in a fresh process after the page cache is dropped (when permitted): RSS before
//     opening, then after opening and 1,000 warm-up searches (rescored, oversampling 2, for the
//     quantized ones), split into anonymous memory (the process's own) and file pages (mmap, which
//     the kernel may evict). The warm-up's QPS (from a cold page cache) and that of the same
//     searches once more (warm) are reported too.
//
// --serve starts a server inside this process (the same actors and RPC code as vdbd); without
// it the tool connects to a vdbd at --host/--port.
#include "core/actors/database.hpp"
#include "protocol/remote_client.hpp"
#include "protocol/server.hpp"
#include "tools/bench/bench_plugins.hpp"
#include "tools/bench/vdb_bench/dataset.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <random>
#include <thread>

#include <unistd.h>

namespace vdb::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string mode;
  std::string host = "127.0.0.1";
  std::uint16_t port = 6334;
  std::string api_key;
  bool serve = false;
  std::size_t clients = 8;
  double seconds = 60;
  std::size_t n = 200'000;
  std::size_t dim = 128;
  double search_share = 0.8;
  std::string dataset = "synthetic";
  std::size_t ef = 48;
  std::string json_path;
  std::string data;
  std::string variant; // memory-probe: one of kMemoryVariants
  std::size_t writers = 4;
  std::size_t batch = 100;
};

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "vdb-load: %s\n", message.c_str());
  std::exit(1);
}

template <class T> T must(Expected<T> value, const char* what) {
  if (!value) {
    die(std::string(what) + ": " + value.error().message);
  }
  return std::move(*value);
}

void must(const Status& s, const char* what) {
  if (!s.ok()) {
    die(std::string(what) + ": " + s.message());
  }
}

/// The default settings, with the plugins of this build.
Settings bench_settings() {
  auto settings = must(load_settings(SettingsSources{}), "settings");
  settings.plugins.dir = VDB_PLUGIN_DIR;
  return settings;
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) {
    return 0;
  }
  std::sort(v.begin(), v.end());
  const auto at = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  return v[at];
}

/// A server inside this process when --serve is given.
struct LocalServer {
  std::unique_ptr<Database> database;
  std::unique_ptr<RpcServer> rpc;
};

LocalServer serve(Options& o) {
  LocalServer s;
  const Settings settings = bench_settings();
  s.database = must(Database::open(":memory:", settings), "open");
  RpcServerOptions rpc;
  rpc.port = 0;
  rpc.max_message_bytes = 256U << 20;
  s.rpc = must(RpcServer::start(s.database->service(), rpc), "rpc");
  o.port = s.rpc->port();
  return s;
}

std::unique_ptr<RemoteClient> connect(const Options& o) {
  return must(RemoteClient::connect(RemoteOptions{o.host, o.port, o.api_key, 256U << 20}),
              "connect");
}

PointStruct point_of(const Dataset& d, std::size_t i, std::uint64_t id) {
  return PointStruct{PointId::from_number(id),
                     {{"", std::vector<float>(d.vector(i), d.vector(i) + d.dim)}},
                     i < d.n_field.size() ? Json{{"n", d.n_field[i]}} : Json::object()};
}

/// Creates collection `name` and loads every base vector in batches from several clients.
void load(const Options& o, const Dataset& d, const std::string& name, const char* distance) {
  auto admin = connect(o);
  Client& db = *admin;
  (void)db.delete_collection(name);
  must(db.create_collection(name, {{"vectors", {{"size", d.dim}, {"distance", distance}}}}),
       "create collection");
  must(db.create_payload_index(name, "n", "integer", true), "create index");
  std::atomic<std::size_t> next{0};
  const auto start = Clock::now();
  std::vector<std::thread> loaders;
  for (std::size_t t = 0; t < 2; ++t) {
    loaders.emplace_back([&] {
      auto client = connect(o);
      Client& c = *client;
      for (std::size_t from = next.fetch_add(1000); from < d.size(); from = next.fetch_add(1000)) {
        std::vector<PointStruct> batch;
        for (std::size_t i = from; i < std::min(d.size(), from + 1000); ++i) {
          batch.push_back(point_of(d, i, i));
        }
        must(c.upsert(name, std::move(batch), true), "upsert");
      }
    });
  }
  for (auto& t : loaders) {
    t.join();
  }
  std::fprintf(stderr, "loaded %zu points in %.1f s; waiting for the optimizer\n", d.size(),
               std::chrono::duration<double>(Clock::now() - start).count());
  while (true) {
    const Json info = must(db.collection_info(name), "info");
    bool indexed = true;
    for (const Json& s : info["segments"]) {
      indexed = indexed && (s["indexed"].get<bool>() || s["appendable"].get<bool>());
    }
    if (indexed && !info["optimizer_status"]["running"].get<bool>()) {
      std::fprintf(stderr, "indexed in %.1f s (%zu segments)\n",
                   std::chrono::duration<double>(Clock::now() - start).count(),
                   info["segments"].size());
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

// ---- mixed ------------------------------------------------------------------------------------

int mixed(Options& o) {
  LocalServer local;
  if (o.serve) {
    local = serve(o);
  }
  const Dataset d = make_clustered(o.n, o.dim, 1000);
  load(o, d, "load", "Cosine");

  struct Stats {
    std::vector<double> search_ms, filtered_ms, upsert_ms;
    std::uint64_t errors = 0, ryw_checks = 0, ryw_failures = 0;
    std::string first_error;
  };
  std::vector<Stats> stats(o.clients);
  std::vector<std::unique_ptr<RemoteClient>> clients;
  for (std::size_t i = 0; i < o.clients; ++i) {
    clients.push_back(connect(o));
  }
  std::atomic<std::uint64_t> next_id{d.size()};
  const auto stop_at = Clock::now() + std::chrono::duration<double>(o.seconds);
  const auto begin = Clock::now();
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < o.clients; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 gen(1234 + t);
      Client& mine = *clients[t];
      Client& other = *clients[(t + 1) % clients.size()];
      Stats& s = stats[t];
      const auto fail = [&s](const Error& e) {
        if (s.errors++ == 0) {
          s.first_error = e.message;
        }
      };
      while (Clock::now() < stop_at) {
        const double r = std::uniform_real_distribution<double>(0, 1)(gen);
        const std::size_t q = gen() % d.query_count();
        const auto t0 = Clock::now();
        if (r < o.search_share) {
          Query query;
          query.vector.assign(d.query(q), d.query(q) + d.dim);
          const bool filtered = (gen() & 1U) != 0;
          if (filtered) { // 10% of the points
            const std::int64_t lo = static_cast<std::int64_t>(gen() % 90'000);
            query.filter =
                Json{{"must", {{{"key", "n"}, {"range", {{"gte", lo}, {"lt", lo + 10'000}}}}}}};
          }
          auto hits = mine.search("load", query);
          const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
          if (!hits) {
            fail(hits.error());
          } else {
            (filtered ? s.filtered_ms : s.search_ms).push_back(ms);
          }
        } else {
          const std::uint64_t id = next_id.fetch_add(1);
          const std::size_t source = gen() % d.size();
          auto done = mine.upsert("load", {point_of(d, source, id)}, true);
          s.upsert_ms.push_back(
              std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
          if (!done) {
            fail(done.error());
            continue;
          }
          // Read-your-writes: another connection sees the acknowledged point at once.
          Query check;
          check.vector.assign(d.vector(source), d.vector(source) + d.dim);
          check.limit = 1;
          check.filter = Json{{"must", {{{"has_id", {id}}}}}};
          auto seen = other.search("load", check);
          ++s.ryw_checks;
          if (!seen) {
            fail(seen.error());
          } else if (seen->empty() || seen->front().id.number() != id) {
            ++s.ryw_failures;
          }
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - begin).count();
  Stats all;
  for (Stats& s : stats) {
    all.search_ms.insert(all.search_ms.end(), s.search_ms.begin(), s.search_ms.end());
    all.filtered_ms.insert(all.filtered_ms.end(), s.filtered_ms.begin(), s.filtered_ms.end());
    all.upsert_ms.insert(all.upsert_ms.end(), s.upsert_ms.begin(), s.upsert_ms.end());
    all.errors += s.errors;
    all.ryw_checks += s.ryw_checks;
    all.ryw_failures += s.ryw_failures;
    if (all.first_error.empty()) {
      all.first_error = s.first_error;
    }
  }
  const std::size_t ops = all.search_ms.size() + all.filtered_ms.size() + all.upsert_ms.size();
  Json report = {{"clients", o.clients},
                 {"seconds", elapsed},
                 {"points", o.n},
                 {"dim", o.dim},
                 {"operations", ops},
                 {"throughput_ops", static_cast<double>(ops) / elapsed},
                 {"errors", all.errors},
                 {"read_your_writes_checks", all.ryw_checks},
                 {"read_your_writes_failures", all.ryw_failures}};
  std::printf("%zu clients, %.0f s, %zu points x %zu: %zu operations, %.0f ops/s, %llu errors, "
              "read-your-writes %llu/%llu failed\n",
              o.clients, elapsed, o.n, o.dim, ops, static_cast<double>(ops) / elapsed,
              static_cast<unsigned long long>(all.errors),
              static_cast<unsigned long long>(all.ryw_failures),
              static_cast<unsigned long long>(all.ryw_checks));
  std::printf("%-18s %10s %10s %10s %10s\n", "operation", "count", "p50 ms", "p95 ms", "p99 ms");
  const std::vector<std::pair<const char*, std::vector<double>*>> kinds = {
      {"search", &all.search_ms},
      {"filtered search", &all.filtered_ms},
      {"upsert (wait)", &all.upsert_ms}};
  for (const auto& [name, v] : kinds) {
    const double p50 = percentile(*v, 0.5), p95 = percentile(*v, 0.95), p99 = percentile(*v, 0.99);
    std::printf("%-18s %10zu %10.2f %10.2f %10.2f\n", name, v->size(), p50, p95, p99);
    report["latency_ms"][name] = {{"count", v->size()}, {"p50", p50}, {"p95", p95}, {"p99", p99}};
  }
  if (!all.first_error.empty()) {
    std::printf("first error: %s\n", all.first_error.c_str());
  }
  if (!o.json_path.empty()) {
    std::ofstream(o.json_path) << report.dump(2) << '\n';
  }
  return all.errors == 0 && all.ryw_failures == 0 ? 0 : 1;
}

// ---- throughput -------------------------------------------------------------------------------

int throughput(Options& o) {
  o.serve = true;
  LocalServer local = serve(o);
  const bool fashion = o.dataset == "fashion-mnist";
  const Dataset d = fashion ? load_fashion_mnist(1000) : make_clustered(o.n, o.dim, 1000);
  load(o, d, "bench", fashion ? "Euclid" : "Cosine");

  std::vector<Query> queries(d.query_count());
  for (std::size_t i = 0; i < queries.size(); ++i) {
    queries[i].vector.assign(d.query(i), d.query(i) + d.dim);
    queries[i].hnsw_ef = o.ef;
  }
  // Queries per second from `clients` threads, each with its own Client from `make`.
  const auto measure = [&](auto make, std::size_t batch) {
    std::atomic<std::uint64_t> answered{0};
    const auto stop_at = Clock::now() + std::chrono::duration<double>(o.seconds);
    const auto begin = Clock::now();
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < o.clients; ++t) {
      threads.emplace_back([&, t] {
        auto owner = make();
        Client& c = *owner;
        std::size_t at = t * 97;
        while (Clock::now() < stop_at) {
          if (batch == 0) { // an empty call: the fixed cost of a round trip
            must(c.health(), "health");
            answered += 1;
          } else if (batch == 1) {
            must(c.search("bench", queries[at++ % queries.size()]), "search");
            answered += 1;
          } else {
            std::vector<Query> part;
            for (std::size_t i = 0; i < batch; ++i) {
              part.push_back(queries[at++ % queries.size()]);
            }
            must(c.search_batch("bench", part), "search_batch");
            answered += batch;
          }
        }
      });
    }
    for (auto& t : threads) {
      t.join();
    }
    return static_cast<double>(answered) /
           std::chrono::duration<double>(Clock::now() - begin).count();
  };
  struct Borrowed { // the embedded API, shared by the threads
    Database* db;
    Client& operator*() const { return *db; }
  };
  const auto embedded = [&] { return Borrowed{local.database.get()}; };
  const auto remote = [&] { return connect(o); };
  Json report = {{"dataset", d.name}, {"ef", o.ef}, {"clients", o.clients}};
  std::printf("%-8s %14s %14s %8s\n", "batch", "in-process q/s", "RPC q/s", "RPC/in-process");
  // Batch 0 is an empty call (health): what a round trip costs without a search.
  for (const std::size_t batch : {std::size_t{100}, std::size_t{1}, std::size_t{0}}) {
    const double in_process = measure(embedded, batch);
    const double over_rpc = measure(remote, batch);
    std::printf("%-8s %14.0f %14.0f %8.2f\n", batch == 0 ? "empty" : std::to_string(batch).c_str(),
                in_process, over_rpc, over_rpc / in_process);
    report[batch == 0 ? std::string("empty_call") : "batch_" + std::to_string(batch)] = {
        {"in_process_qps", in_process}, {"rpc_qps", over_rpc}, {"ratio", over_rpc / in_process}};
  }
  if (!o.json_path.empty()) {
    std::ofstream(o.json_path) << report.dump(2) << '\n';
  }
  return 0;
}

// ---- ingest ---------------------------------------------------------------------------------

int ingest(const Options& o) {
  if (o.data.empty()) {
    die("ingest needs --data DIR");
  }
  const Settings settings = bench_settings();
  auto db = must(Database::open(o.data, settings), "open --data");
  // One pool of distinct vectors, reused with fresh ids: generating them is not what is timed.
  std::mt19937 gen(7);
  std::normal_distribution<float> normal;
  std::vector<std::vector<float>> pool(4096, std::vector<float>(o.dim));
  for (auto& v : pool) {
    for (float& x : v) {
      x = normal(gen);
    }
  }
  Json report = {{"data", o.data}, {"batch", o.batch}, {"dim", o.dim}, {"runs", Json::array()}};
  std::printf("%-8s %12s %12s %12s %12s %14s\n", "writers", "points/s", "p50 ms", "p99 ms",
              "syncs/s", "writes/sync");
  for (const std::size_t writers : {std::size_t{1}, o.writers}) {
    const std::string name = "ingest_" + std::to_string(writers);
    (void)db->delete_collection(name);
    must(db->create_collection(name, {{"vectors", {{"size", o.dim}, {"distance", "Cosine"}}}}),
         "create collection");
    const Json before = must(db->collection_info(name), "info");
    std::atomic<std::uint64_t> next_id{1};
    std::atomic<bool> stop{false};
    std::mutex mutex;
    std::vector<double> latencies;
    std::uint64_t points = 0;
    std::uint64_t writes = 0;
    const auto start = Clock::now();
    std::vector<std::thread> threads;
    for (std::size_t w = 0; w < writers; ++w) {
      threads.emplace_back([&] {
        std::vector<double> mine;
        std::uint64_t my_points = 0;
        while (!stop) {
          std::vector<PointStruct> batch;
          const std::uint64_t first = next_id.fetch_add(o.batch);
          for (std::uint64_t i = 0; i < o.batch; ++i) {
            batch.push_back(PointStruct{PointId::from_number(first + i),
                                        {{"", pool[(first + i) % pool.size()]}},
                                        Json{{"i", first + i}}});
          }
          const auto t0 = Clock::now();
          must(db->upsert(name, std::move(batch), true), "upsert");
          mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
          my_points += o.batch;
        }
        std::lock_guard lock(mutex);
        latencies.insert(latencies.end(), mine.begin(), mine.end());
        points += my_points;
        writes += mine.size();
      });
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
    stop = true;
    for (auto& t : threads) {
      t.join();
    }
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    const Json after = must(db->collection_info(name), "info");
    const auto syncs = after["storage"]["wal_syncs"].get<std::uint64_t>() -
                       before["storage"]["wal_syncs"].get<std::uint64_t>();
    const double rate = static_cast<double>(points) / elapsed;
    const double p50 = percentile(latencies, 0.5);
    const double p99 = percentile(latencies, 0.99);
    std::printf("%-8zu %12.0f %12.2f %12.2f %12.0f %14.2f\n", writers, rate, p50, p99,
                static_cast<double>(syncs) / elapsed,
                syncs == 0 ? 0.0 : static_cast<double>(writes) / static_cast<double>(syncs));
    report["runs"].push_back({{"writers", writers},
                              {"points_per_second", rate},
                              {"p50_ms", p50},
                              {"p99_ms", p99},
                              {"syncs", syncs},
                              {"writes", writes},
                              {"seconds", elapsed}});
    (void)db->delete_collection(name);
  }
  if (!o.json_path.empty()) {
    std::ofstream(o.json_path) << report.dump(2) << '\n';
  }
  return 0;
}

// ---- startup --------------------------------------------------------------------------------

// Blocks until every sealed segment of `name` has its graph and the appendable one is small.
// Upserts points 0..n-1 with normal random vectors (a fixed seed: the same vectors every time) in
// batches of 1,000, each with the payload {"n": i mod 1000} when `payload` is set.
void load_random(Database& db, const std::string& name, std::size_t n, std::size_t dim,
                 bool payload) {
  std::mt19937 gen(3);
  std::normal_distribution<float> normal;
  for (std::size_t first = 0; first < n; first += 1000) {
    std::vector<PointStruct> batch;
    for (std::size_t i = first; i < std::min(n, first + 1000); ++i) {
      std::vector<float> v(dim);
      for (float& x : v) {
        x = normal(gen);
      }
      batch.push_back(PointStruct{
          PointId::from_number(i), {{"", std::move(v)}}, payload ? Json{{"n", i % 1000}} : Json()});
    }
    must(db.upsert(name, std::move(batch), false), "upsert");
  }
}

std::uint64_t wait_indexed(Database& db, const std::string& name, std::size_t dim) {
  for (;;) {
    const Json info = must(db.collection_info(name), "info");
    const std::uint64_t threshold =
        info["config"]["optimizers_config"]["indexing_threshold"].get<std::uint64_t>() * 1024 /
        (dim * sizeof(float));
    bool busy = info["optimizer_status"]["running"].get<bool>();
    for (const Json& seg : info["segments"]) {
      busy = busy || (seg["appendable"].get<bool>() ? seg["points"].get<std::uint64_t>() > threshold
                                                    : !seg["indexed"].get<bool>());
    }
    if (!busy) {
      return info["segments"].size();
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

int startup(const Options& o) {
  if (o.data.empty()) {
    die("startup needs --data DIR");
  }
  const Settings settings = bench_settings();
  {
    auto db = must(Database::open(o.data, settings), "open --data");
    const auto names = must(db->list_collections(), "list");
    if (std::find(names.begin(), names.end(), "startup") == names.end()) {
      must(db->create_collection("startup",
                                 {{"vectors", {{"size", o.dim}, {"distance", "Cosine"}}}}),
           "create collection");
      const auto begin = Clock::now();
      load_random(*db, "startup", o.n, o.dim, true);
      std::printf("loaded %zu points in %.1f s; indexing...\n", o.n,
                  std::chrono::duration<double>(Clock::now() - begin).count());
    }
    // An integer payload index: start-up rebuilds payload indexes from the payloads.
    must(db->create_payload_index("startup", "n", "integer", true), "create index");
    const std::uint64_t segments = wait_indexed(*db, "startup", o.dim);
    std::printf("%llu segments indexed\n", static_cast<unsigned long long>(segments));
  }
  const auto begin = Clock::now();
  auto db = must(Database::open(o.data, settings), "open --data");
  Query q;
  q.vector.assign(o.dim, 0.5F);
  must(db->search("startup", q), "search");
  const double seconds = std::chrono::duration<double>(Clock::now() - begin).count();
  const Json info = must(db->collection_info("startup"), "info");
  std::printf("start-up: %.2f s to open and answer a search (%llu points, %zu segments)\n", seconds,
              static_cast<unsigned long long>(info["points_count"].get<std::uint64_t>()),
              info["segments"].size());
  if (!o.json_path.empty()) {
    std::ofstream(o.json_path) << Json{{"points", info["points_count"]},
                                       {"dim", o.dim},
                                       {"segments", info["segments"].size()},
                                       {"startup_seconds", seconds}}
                                      .dump(2)
                               << '\n';
  }
  return 0;
}

// ---- memory ---------------------------------------------------------------------------------

std::string g_self; // argv[0], to run the probes in fresh processes

struct Rss {
  std::uint64_t total = 0; // VmRSS, bytes
  std::uint64_t anon = 0;  // RssAnon
  std::uint64_t file = 0;  // RssFile
};

Rss rss_now() {
  Rss out;
  std::ifstream status("/proc/self/status");
  std::string key;
  std::uint64_t kb = 0;
  std::string unit;
  while (status >> key) {
    if (key == "VmRSS:" || key == "RssAnon:" || key == "RssFile:") {
      status >> kb >> unit;
      (key == "VmRSS:" ? out.total : key == "RssAnon:" ? out.anon : out.file) = kb * 1024;
    }
  }
  return out;
}

Json collection_body(const std::string& variant, std::size_t dim) {
  Json body{{"vectors", {{"size", dim}, {"distance", "Cosine"}}},
            {"optimizers_config", {{"memmap_threshold", 0}}}};
  const bool graph_mmap = variant == "graph-mmap" || variant == "quantized-graph-mmap";
  if (graph_mmap) {
    body["hnsw_config"] = {{"on_disk", true}};
  }
  if (variant != "ram" && variant != "graph-mmap") {
    // Originals in mmap files; codes in RAM, or (quantized-mmap) mapped from their file too.
    body["vectors"]["on_disk"] = true;
    body["quantization_config"] = {
        {"scalar",
         {{"type", "int8"}, {"quantile", 0.99}, {"always_ram", variant != "quantized-mmap"}}}};
  }
  return body;
}

// The variants: where their data folder is (under --data) and whether rescoring reads the
// originals with batched file reads (storage.performance.async_scorer) instead of the mapping.
struct MemoryVariant {
  const char* name;
  const char* folder;
  bool async_scorer;
};
constexpr MemoryVariant kMemoryVariants[] = {
    {"ram", "ram", false},
    {"graph-mmap", "graph-mmap", false},
    {"quantized", "quantized", false},
    {"quantized-async", "quantized", true},
    {"quantized-mmap", "quantized-mmap", false},
    {"quantized-async-graph-mmap", "quantized-graph-mmap", true}};

// One variant, in this (fresh) process: open, warm up, measure; then the same searches again,
// warm. Both passes are timed: the first starts from a dropped page cache.
int memory_probe(const Options& o) {
  const auto* variant = std::find_if(std::begin(kMemoryVariants), std::end(kMemoryVariants),
                                     [&](const MemoryVariant& v) { return o.variant == v.name; });
  if (variant == std::end(kMemoryVariants)) {
    die("memory-probe: unknown --variant '" + o.variant + "'");
  }
  Settings settings = bench_settings();
  settings.storage.performance.async_scorer = variant->async_scorer;
  const Rss before = rss_now();
  auto db = must(Database::open(o.data, settings), "open --data");
  std::mt19937 gen(17);
  std::normal_distribution<float> normal;
  std::vector<Query> queries(1000);
  for (Query& q : queries) {
    q.limit = 10;
    if (o.variant != "ram" && o.variant != "graph-mmap") {
      q.quantization.rescore = true;
      q.quantization.oversampling = 2.0;
    }
    q.vector.assign(o.dim, 0.0F);
    for (float& x : q.vector) {
      x = normal(gen);
    }
  }
  const auto pass = [&] {
    const auto start = Clock::now();
    for (const Query& q : queries) {
      must(db->search("m", q), "search");
    }
    return static_cast<double>(queries.size()) /
           std::chrono::duration<double>(Clock::now() - start).count();
  };
  const double cold_qps = pass();
  const Rss after = rss_now();
  const double warm_qps = pass();
  const Json info = must(db->collection_info("m"), "info");
  std::cout << Json{{"variant", o.variant},     {"rss_before", before.total},
                    {"rss_after", after.total}, {"anon_after", after.anon},
                    {"file_after", after.file}, {"memory", info["memory"]},
                    {"cold_qps", cold_qps},     {"warm_qps", warm_qps}}
                   .dump()
            << std::endl;
  return 0;
}

int memory(const Options& o) {
  if (o.data.empty()) {
    die("memory needs --data DIR");
  }
  const Settings settings = bench_settings();
  Json rows = Json::array();
  for (const MemoryVariant& variant : kMemoryVariants) {
    const std::string dir = o.data + "/" + variant.folder;
    if (!std::filesystem::exists(dir)) {
      auto db = must(Database::open(dir, settings), "open the data folder");
      must(db->create_collection("m", collection_body(variant.folder, o.dim)), "create collection");
      load_random(*db, "m", o.n, o.dim, false); // the same vectors for both
      wait_indexed(*db, "m", o.dim);
      std::fprintf(stderr, "%s: %zu points loaded and indexed\n", variant.folder, o.n);
    }
    // A cold start: the page cache dropped (needs root; otherwise said so).
    ::sync();
    const bool dropped = static_cast<bool>(std::ofstream("/proc/sys/vm/drop_caches") << "3\n");
    const std::string command = g_self + " memory-probe --data " + dir + " --variant " +
                                variant.name + " --dim " + std::to_string(o.dim);
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) {
      die("cannot run " + command);
    }
    std::string out;
    char buffer[4096];
    while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) {
      out += buffer;
    }
    if (::pclose(pipe) != 0) {
      die("the probe failed: " + command);
    }
    Json row = Json::parse(out.substr(out.find('{')));
    row["page_cache_dropped"] = dropped;
    rows.push_back(row);
  }
  std::printf("%-21s %8s %8s %8s %11s %9s %10s %9s %10s %9s %9s\n", "variant", "RSS MB", "anon MB",
              "file MB", "vectors RAM", "codes RAM", "codes mmap", "graph RAM", "graph mmap",
              "cold QPS", "warm QPS");
  const auto grown = [](const Json& r) {
    return r["rss_after"].get<double>() - r["rss_before"].get<double>();
  };
  for (const Json& r : rows) {
    std::printf(
        "%-21s %8.1f %8.1f %8.1f %11.1f %9.1f %10.1f %9.1f %10.1f %9.0f %9.0f\n",
        r["variant"].get<std::string>().c_str(), grown(r) / 1e6,
        r["anon_after"].get<double>() / 1e6, r["file_after"].get<double>() / 1e6,
        r["memory"]["vectors_ram"].get<double>() / 1e6,
        r["memory"]["codes_ram"].get<double>() / 1e6, r["memory"].value("codes_mmap", 0.0) / 1e6,
        r["memory"].value("graph_ram", 0.0) / 1e6, r["memory"].value("graph_mmap", 0.0) / 1e6,
        r["cold_qps"].get<double>(), r["warm_qps"].get<double>());
  }
  Json ratios = Json::object();
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const Json& r = rows[i];
    const double ratio = grown(r) / grown(rows[0]);
    const double anon_ratio = r["anon_after"].get<double>() / rows[0]["anon_after"].get<double>();
    std::printf("%s / ram: RSS growth %.3f, anonymous memory %.3f\n",
                r["variant"].get<std::string>().c_str(), ratio, anon_ratio);
    ratios[r["variant"].get<std::string>()] = {{"rss_growth_ratio", ratio},
                                               {"anon_ratio", anon_ratio}};
  }
  if (!o.json_path.empty()) {
    std::ofstream(o.json_path)
        << Json{{"points", o.n}, {"dim", o.dim}, {"rows", rows}, {"ratios_to_ram", ratios}}.dump(2)
        << '\n';
  }
  return 0;
}

Options parse(int argc, char** argv) {
  Options o;
  if (argc < 2) {
    die("usage: vdb-load mixed|throughput|ingest|startup|memory [options] (see the top of "
        "tools/bench/vdb_load.cpp)");
  }
  o.mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        die(a + " needs a value");
      }
      return argv[++i];
    };
    if (a == "--host") {
      o.host = value();
    } else if (a == "--port") {
      o.port = static_cast<std::uint16_t>(std::stoul(value()));
    } else if (a == "--api-key") {
      o.api_key = value();
    } else if (a == "--serve") {
      o.serve = true;
    } else if (a == "--clients") {
      o.clients = std::max<std::size_t>(1, std::stoul(value()));
    } else if (a == "--seconds") {
      o.seconds = std::stod(value());
    } else if (a == "--n") {
      o.n = std::stoul(value());
    } else if (a == "--dim") {
      o.dim = std::stoul(value());
    } else if (a == "--search-share") {
      o.search_share = std::stod(value());
    } else if (a == "--dataset") {
      o.dataset = value();
    } else if (a == "--ef") {
      o.ef = std::stoul(value());
    } else if (a == "--json") {
      o.json_path = value();
    } else if (a == "--data") {
      o.data = value();
    } else if (a == "--writers") {
      o.writers = std::max<std::size_t>(1, std::stoul(value()));
    } else if (a == "--variant") {
      o.variant = value();
    } else if (a == "--batch") {
      o.batch = std::max<std::size_t>(1, std::stoul(value()));
    } else {
      die("unknown option " + a);
    }
  }
  return o;
}

} // namespace
} // namespace vdb::bench

int main(int argc, char** argv) {
  try {
    vdb::bench::Options o = vdb::bench::parse(argc, argv);
    if (o.mode == "mixed") {
      return vdb::bench::mixed(o);
    }
    if (o.mode == "throughput") {
      return vdb::bench::throughput(o);
    }
    if (o.mode == "ingest") {
      return vdb::bench::ingest(o);
    }
    if (o.mode == "startup") {
      return vdb::bench::startup(o);
    }
    if (o.mode == "memory") {
      vdb::bench::g_self = argv[0];
      return vdb::bench::memory(o);
    }
    if (o.mode == "memory-probe") {
      return vdb::bench::memory_probe(o);
    }
    vdb::bench::die("unknown mode " + o.mode + " (mixed, throughput, ingest, startup or memory)");
  } catch (const std::exception& e) { // a bad number in an option (std::stoul)
    vdb::bench::die(e.what());
  }
}
