// The CAF side of the Service: the actors, their messages and the routing. The only translation
// unit of core/actors that includes CAF.
#include "core/actors/service.hpp"

#include "core/common/log.hpp"
#include "core/engine/snapshots.hpp"

#include <caf/all.hpp>

#include <atomic>
#include <future>
#include <map>
#include <thread>

namespace vdb {
namespace {

using Clock = std::chrono::steady_clock;

/// A request's answer, shared by the closures that carry the request from actor to actor. The
/// first answer wins; a request dropped unanswered (its actor exited at shutdown) is answered
/// with unavailable when the last copy goes.
template <class T> class Answer {
public:
  explicit Answer(Service::Reply<T> done) : done_(std::move(done)) {}
  Answer(const Answer&) = delete;
  Answer& operator=(const Answer&) = delete;
  ~Answer() {
    if (!answered_.exchange(true)) {
      done_(Error{Errc::unavailable, "the service stopped before serving the request"});
    }
  }
  void operator()(Expected<T> value) {
    if (!answered_.exchange(true)) {
      done_(std::move(value));
    }
  }

private:
  Service::Reply<T> done_;
  std::atomic<bool> answered_{false};
};

template <class T> std::shared_ptr<Answer<T>> answer_of(Service::Reply<T> done) {
  return std::make_shared<Answer<T>>(std::move(done));
}

/// The one message the actors exchange: a request's next step, run by the actor that receives
/// it, or `expire` once the request's deadline has passed.
struct Task {
  Clock::time_point deadline;
  std::function<void()> run;
  std::function<void()> expire;
};

/// A collection and the actors that serve it.
struct Entry {
  std::shared_ptr<Collection> collection;
  caf::actor ingest;
  caf::actor filter;
  caf::actor search; // a pool
  caf::actor index;  // detached: its own thread
  std::atomic<bool> index_pending{false};
};
using EntryPtr = std::shared_ptr<Entry>;

/// What the catalog actor owns.
struct CatalogState {
  CatalogState(EngineContext context, CollectionConfig defaults, fs::path storage)
      : catalog(std::move(context), std::move(defaults), std::move(storage)) {}
  Catalog catalog;
  std::map<std::string, EntryPtr> entries;
};

/// The catalog actor's message: a step run on its state.
struct CatalogTask {
  std::function<void(CatalogState&)> run;
};

enum class Lane { ingest, filter, search, index };

// Every actor is spawned with an argument (its role): CAF 0.17's spawn without arguments binds a
// reference to a null std::tuple<>, which UBSan reports.
caf::behavior lane(caf::event_based_actor* /*self*/, const char* /*role*/) {
  return {
      [](Task& task) {
        if (Clock::now() > task.deadline) {
          task.expire();
        } else {
          task.run();
        }
      },
  };
}

Json info_json(const CollectionInfo& info) {
  Json segments = Json::array();
  for (const SegmentInfo& s : info.segments) {
    segments.push_back({{"id", s.id},
                        {"points", s.points},
                        {"deleted", s.deleted},
                        {"appendable", s.appendable},
                        {"indexed", s.indexed},
                        {"payload_links", s.payload_links}});
  }
  Json schema = Json::object();
  for (const auto& [key, field] : info.payload_schema) {
    schema[key] = {{"data_type", to_string(field.type)}, {"points", field.points}};
  }
  const OptimizerStatus& o = info.optimizer;
  Json optimizer = {{"status", o.last_error.empty() ? "ok" : "error"},
                    {"running", o.running},
                    {"task", o.task},
                    {"done", o.done},
                    {"total", o.total}};
  if (!o.last_error.empty()) {
    optimizer["error"] = o.last_error;
  }
  return {{"status", o.running ? "yellow" : "green"},
          {"points_count", info.points_count},
          {"vectors_count", info.vectors_count},
          {"segments_count", info.segments.size()},
          {"segments", segments},
          {"optimizer_status", optimizer},
          {"payload_schema", schema},
          {"last_operation", info.last_operation},
          {"storage",
           {{"on_disk", info.storage.on_disk},
            {"checkpoint_operation", info.storage.checkpoint_operation},
            {"wal_bytes", info.storage.wal_bytes},
            {"wal_syncs", info.storage.wal_syncs},
            {"mmap_vector_bytes", info.storage.mmap_vector_bytes},
            {"mmap_payload_bytes", info.storage.mmap_payload_bytes},
            {"payload_indexes_built_at_start", info.storage.payload_indexes_built_at_start}}},
          {"memory",
           {{"vectors_ram", info.memory.vectors_ram},
            {"vectors_mmap", info.memory.vectors_mmap},
            {"codes_ram", info.memory.codes_ram},
            {"codes_mmap", info.memory.codes_mmap},
            {"graph_ram", info.memory.graph_ram},
            {"graph_mmap", info.memory.graph_mmap},
            {"payload_ram", info.memory.payload_ram},
            {"payload_mmap", info.memory.payload_mmap}}},
          {"config", to_json(info.config)}};
}

Expected<PointsSelector> points_selector(const Selector& selector, const FilterLimits& limits) {
  if (selector.filter) {
    auto filter = parse_filter(*selector.filter, limits, "filter");
    VDB_TRY(filter);
    return PointsSelector{std::move(*filter)};
  }
  return PointsSelector{selector.ids};
}

/// A key path, or invalid_argument naming `field`.
Expected<JsonPath> path_of(const std::string& text, const std::string& field) {
  auto path = JsonPath::parse(text);
  if (!path) {
    return invalid(field, path.error().message);
  }
  return path;
}

/// A filter parsed once and shared, immutable, by the steps that use it; null for no filter.
Expected<std::shared_ptr<const Filter>> shared_filter(const std::optional<Json>& json,
                                                      const FilterLimits& limits,
                                                      const std::string& field) {
  if (!json || json->is_null()) {
    return std::shared_ptr<const Filter>();
  }
  auto filter = parse_filter(*json, limits, field);
  VDB_TRY(filter);
  return std::shared_ptr<const Filter>(std::make_shared<Filter>(std::move(*filter)));
}

} // namespace
} // namespace vdb

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vdb::Task)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vdb::CatalogTask)

namespace vdb {

class Service::Runtime {
public:
  explicit Runtime(ServiceOptions options) : options_(std::move(options)) {
    options_.context.background_optimizer = false; // the index actors drive it
    if (options_.snapshots.empty() && !options_.storage.empty()) {
      options_.snapshots = options_.storage / "snapshots";
    }
    threads_ = options_.threads != 0
                   ? options_.threads
                   : std::max<std::size_t>(1, std::thread::hardware_concurrency());
    searchers_ = options_.searchers != 0 ? options_.searchers : threads_;
    config_.set("scheduler.max-threads", threads_);
    config_.set("logger.verbosity", caf::atom("quiet"));
    // The collections load before any actor exists, so a failure leaves nothing running.
    auto state =
        std::make_shared<CatalogState>(options_.context, options_.defaults, options_.storage);
    auto failed = state->catalog.open_existing();
    if (!failed) {
      throw std::runtime_error(failed.error().message);
    }
    failed_ = std::move(*failed);
    system_ = std::make_unique<caf::actor_system>(config_);
    for (const std::string& name : state->catalog.list()) {
      // A loaded collection may have work left (a big appendable segment, a segment whose
      // graph a crash interrupted): its index actor starts on it at once.
      state->entries[name] = spawn(*state->catalog.get(name));
      wake_indexer(state->entries[name]);
    }
    catalog_ = system_->spawn(
        [](caf::event_based_actor*, const std::shared_ptr<CatalogState>& owned) -> caf::behavior {
          return {[owned](CatalogTask& task) { task.run(*owned); }};
        },
        std::move(state));
  }

  ~Runtime() {
    // Stop the catalog first (no new routes), then every collection's actors. Index builds
    // are cancelled so the detached index actors exit at once.
    auto done = std::make_shared<std::promise<std::vector<EntryPtr>>>();
    auto future = done->get_future();
    caf::anon_send(catalog_, CatalogTask{[done](CatalogState& state) {
                     std::vector<EntryPtr> all;
                     for (auto& [name, entry] : state.entries) {
                       all.push_back(entry);
                     }
                     state.entries.clear();
                     done->set_value(std::move(all));
                   }});
    std::vector<EntryPtr> entries;
    if (future.wait_for(std::chrono::seconds(10)) == std::future_status::ready) {
      entries = future.get();
    }
    caf::anon_send_exit(catalog_, caf::exit_reason::user_shutdown);
    for (const EntryPtr& e : entries) {
      stop(*e);
    }
    // An entry holds its actors' handles: a detached actor's thread waits until the last one
    // is gone, so none may outlive this point.
    entries.clear();
    catalog_ = caf::actor();
    system_.reset(); // waits for the actors
  }

  const ServiceOptions& options() const noexcept { return options_; }
  const std::vector<std::string>& failed() const noexcept { return failed_; }
  const FilterLimits& filter_limits() const noexcept { return options_.context.limits.filter; }

  Clock::time_point deadline() const { return Clock::now() + options_.timeout; }

  /// Runs `step` on the catalog actor.
  void on_catalog(std::function<void(CatalogState&)> step) {
    caf::anon_send(catalog_, CatalogTask{std::move(step)});
  }

  /// Runs `step` on the actor of `lane` of collection `name`, or answers not_found.
  template <class T>
  void on(const std::string& name, Lane lane, std::shared_ptr<Answer<T>> answer,
          std::function<void(const EntryPtr&)> step, Clock::time_point deadline) {
    on_catalog([name, lane, answer, step = std::move(step), deadline](CatalogState& state) {
      const auto it = state.entries.find(name);
      if (it == state.entries.end()) {
        (*answer)(Error{Errc::not_found, "collection '" + name + "' does not exist"});
        return;
      }
      const EntryPtr& entry = it->second;
      send(
          lane == Lane::ingest   ? entry->ingest
          : lane == Lane::filter ? entry->filter
          : lane == Lane::index  ? entry->index
                                 : entry->search,
          answer, [entry, step] { step(entry); }, deadline);
    });
  }

  /// A read with a filter: the collection's filter actor parses the filter (with the limits),
  /// then `serve` runs with it on a search actor, or on the filter actor itself when
  /// `on_filter_actor` (cheap answers such as estimates).
  template <class T>
  void filtered_read(const std::string& name, std::shared_ptr<Answer<T>> answer,
                     std::optional<Json> filter_json,
                     std::function<void(Entry&, const Filter*)> serve,
                     bool on_filter_actor = false) {
    const auto until = deadline();
    on(
        name, Lane::filter, answer,
        [answer, filter_json = std::move(filter_json), limits = filter_limits(), until,
         serve = std::move(serve), on_filter_actor](const EntryPtr& e) {
          auto filter = shared_filter(filter_json, limits, "filter");
          if (!filter) {
            (*answer)(filter.error());
          } else if (on_filter_actor) {
            serve(*e, filter->get());
          } else {
            send(
                e->search, answer, [e, serve, filter = *filter] { serve(*e, filter.get()); },
                until);
          }
        },
        until);
  }

  /// Sends a step to an actor with the request's deadline.
  template <class T>
  static void send(const caf::actor& to, std::shared_ptr<Answer<T>> answer,
                   std::function<void()> step, Clock::time_point deadline) {
    caf::anon_send(to, Task{deadline, std::move(step), [answer] {
                              (*answer)(Error{Errc::deadline_exceeded,
                                              "the request timed out before it was served"});
                            }});
  }

  /// Spawns the actors of a new collection.
  EntryPtr spawn(std::shared_ptr<Collection> collection) {
    auto entry = std::make_shared<Entry>();
    entry->collection = std::move(collection);
    entry->ingest = system_->spawn(lane, "ingest");
    entry->filter = system_->spawn(lane, "filter");
    entry->index = system_->spawn<caf::detached>(lane, "index");
    caf::actor_system* sys = system_.get();
    entry->search = caf::actor_pool::make(
        system_->dummy_execution_unit(), searchers_, [sys] { return sys->spawn(lane, "search"); },
        caf::actor_pool::round_robin());
    return entry;
  }

  static void stop(Entry& entry) {
    entry.collection->stop_optimizer();
    for (const caf::actor* a : {&entry.ingest, &entry.filter, &entry.search, &entry.index}) {
      caf::anon_send_exit(*a, caf::exit_reason::user_shutdown);
    }
  }

  /// Asks the index actor to optimize once the writes so far are applied (coalesced: one
  /// pending request at a time).
  static void wake_indexer(const EntryPtr& entry) {
    if (entry->index_pending.exchange(true)) {
      return;
    }
    caf::anon_send(entry->index, Task{Clock::time_point::max(),
                                      [entry] {
                                        entry->index_pending = false;
                                        const Status s = entry->collection->optimize_now();
                                        if (!s.ok() && s.code() != Errc::unavailable) {
                                          log::warn("collection " + entry->collection->name() +
                                                    ": optimizer: " + s.message());
                                        }
                                      },
                                      [] {}});
  }

private:
  ServiceOptions options_;
  std::vector<std::string> failed_;
  std::size_t threads_ = 1;
  std::size_t searchers_ = 1;
  caf::actor_system_config config_;
  std::unique_ptr<caf::actor_system> system_;
  caf::actor catalog_;
};

// ---- the API ------------------------------------------------------------------------------------

Service::Service(ServiceOptions options)
    : runtime_(std::make_unique<Runtime>(std::move(options))) {}

Service::~Service() = default;

const ServiceOptions& Service::options() const noexcept { return runtime_->options(); }

const std::vector<std::string>& Service::failed_collections() const noexcept {
  return runtime_->failed();
}

void Service::create_collection(std::string name, Json config, Reply<bool> done) {
  auto answer = answer_of(std::move(done));
  Runtime* rt = runtime_.get();
  rt->on_catalog(
      [rt, answer, name = std::move(name), config = std::move(config)](CatalogState& state) {
        if (const Status s = state.catalog.create_collection(name, config); !s.ok()) {
          (*answer)(s.error());
          return;
        }
        auto collection = state.catalog.get(name);
        if (!collection) {
          (*answer)(collection.error());
          return;
        }
        state.entries[name] = rt->spawn(*collection);
        (*answer)(true);
      });
}

void Service::delete_collection(std::string name, Reply<bool> done) {
  auto answer = answer_of(std::move(done));
  runtime_->on_catalog([answer, name = std::move(name)](CatalogState& state) {
    if (const Status s = state.catalog.delete_collection(name); !s.ok()) {
      (*answer)(s.error());
      return;
    }
    if (const auto it = state.entries.find(name); it != state.entries.end()) {
      Runtime::stop(*it->second);
      state.entries.erase(it);
    }
    (*answer)(true);
  });
}

void Service::list_collections(Reply<std::vector<std::string>> done) {
  auto answer = answer_of(std::move(done));
  runtime_->on_catalog([answer](CatalogState& state) { (*answer)(state.catalog.list()); });
}

void Service::health(Reply<HealthInfo> done) {
  auto answer = answer_of(std::move(done));
  runtime_->on_catalog([answer](CatalogState& state) {
    (*answer)(HealthInfo{"0.1.0", state.catalog.list().size()});
  });
}

void Service::collection_info(const std::string& name, Reply<Json> done) {
  auto answer = answer_of(std::move(done));
  runtime_->on(
      name, Lane::search, answer,
      [answer](const EntryPtr& e) { (*answer)(info_json(e->collection->info())); },
      runtime_->deadline());
}

// Snapshots: taken on the collection's index actor (it checkpoints, and the optimizer waits
// meanwhile); listing and deleting files and recovery run on the catalog actor.

void Service::create_snapshot(const std::string& collection, Reply<SnapshotInfo> done) {
  auto answer = answer_of(std::move(done));
  const fs::path root = runtime_->options().snapshots;
  runtime_->on(
      collection, Lane::index, answer,
      [answer, root](const EntryPtr& e) {
        if (root.empty()) {
          (*answer)(Error{Errc::unsupported, "snapshot: the database is kept in memory"});
          return;
        }
        (*answer)(vdb::create_snapshot(*e->collection, root));
      },
      runtime_->deadline());
}

void Service::list_snapshots(const std::string& collection, Reply<std::vector<SnapshotInfo>> done) {
  auto answer = answer_of(std::move(done));
  const fs::path root = runtime_->options().snapshots;
  runtime_->on_catalog([answer, root, collection](CatalogState& state) {
    if (auto c = state.catalog.get(collection); !c) {
      (*answer)(c.error());
    } else {
      (*answer)(vdb::list_snapshots(root, collection));
    }
  });
}

void Service::delete_snapshot(const std::string& collection, const std::string& name,
                              Reply<bool> done) {
  auto answer = answer_of(std::move(done));
  const fs::path root = runtime_->options().snapshots;
  runtime_->on_catalog([answer, root, collection, name](CatalogState&) {
    if (const Status s = vdb::delete_snapshot(root, collection, name); !s.ok()) {
      (*answer)(s.error());
    } else {
      (*answer)(true);
    }
  });
}

void Service::recover_snapshot(const std::string& collection, const std::string& name,
                               Reply<bool> done) {
  auto answer = answer_of(std::move(done));
  Runtime* rt = runtime_.get();
  const fs::path root = rt->options().snapshots;
  rt->on_catalog([rt, answer, root, collection, name](CatalogState& state) {
    if (const Status s = state.catalog.validate_name(collection); !s.ok()) {
      (*answer)(s.error());
      return;
    }
    auto file = vdb::snapshot_file(root, collection, name);
    if (!file) {
      (*answer)(file.error());
      return;
    }
    auto recovered = state.catalog.recover_snapshot(collection, *file);
    if (!recovered) {
      (*answer)(recovered.error());
      return;
    }
    if (const auto it = state.entries.find(collection); it != state.entries.end()) {
      Runtime::stop(*it->second);
      state.entries.erase(it);
    }
    state.entries[collection] = rt->spawn(*recovered);
    Runtime::wake_indexer(state.entries[collection]);
    (*answer)(true);
  });
}

// Writes: logged and applied by the collection's ingest actor in arrival order. With
// wait = false the answer goes once the write is in the log (it survives a crash of the
// process); with wait = true once the log is synced to disk as well (it survives power loss).
// The ingest actor does not wait for the sync: the log's sync thread answers, and writes that
// arrive meanwhile share the next sync.
namespace {
using WriteStep = std::function<Expected<UpdateResult>(Collection&)>;
} // namespace

static void write(Service::Runtime& rt, const std::string& collection, bool wait,
                  Service::Reply<WriteResult> done, WriteStep step) {
  auto answer = answer_of(std::move(done));
  auto apply = [answer, wait, step = std::move(step)](const EntryPtr& e) {
    auto result = step(*e->collection);
    if (!result.ok()) {
      (*answer)(result.error());
      return;
    }
    Service::Runtime::wake_indexer(e);
    const std::uint64_t op = result->operation_id;
    if (!wait) {
      (*answer)(WriteResult{op, false});
      return;
    }
    e->collection->when_durable(op, [answer, op](const Status& s) {
      if (s.ok()) {
        (*answer)(WriteResult{op, true});
      } else {
        (*answer)(s.error());
      }
    });
  };
  rt.on(collection, Lane::ingest, answer, std::move(apply), rt.deadline());
}

void Service::upsert(const std::string& collection, std::vector<PointStruct> points, bool wait,
                     Reply<WriteResult> done) {
  auto shared = std::make_shared<std::vector<PointStruct>>(std::move(points));
  write(*runtime_, collection, wait, std::move(done),
        [shared](Collection& c) { return c.upsert(std::move(*shared)); });
}

// Selectors and key paths are checked here, before the write is queued, so that a write sent
// with wait = false is refused for bad input instead of being acknowledged and then dropped.

void Service::delete_points(const std::string& collection, const Selector& selector, bool wait,
                            Reply<WriteResult> done) {
  auto points = points_selector(selector, runtime_->filter_limits());
  if (!points) {
    done(points.error());
    return;
  }
  write(*runtime_, collection, wait, std::move(done),
        [points = std::move(*points)](Collection& c) { return c.delete_points(points); });
}

void Service::set_payload(const std::string& collection, Json payload, const Selector& selector,
                          std::optional<std::string> key, bool wait, Reply<WriteResult> done) {
  auto points = points_selector(selector, runtime_->filter_limits());
  if (!points) {
    done(points.error());
    return;
  }
  std::optional<JsonPath> path;
  if (key) {
    auto parsed = path_of(*key, "key");
    if (!parsed) {
      done(parsed.error());
      return;
    }
    path = std::move(*parsed);
  }
  write(*runtime_, collection, wait, std::move(done),
        [payload = std::move(payload), points = std::move(*points),
         path = std::move(path)](Collection& c) { return c.set_payload(payload, points, path); });
}

void Service::overwrite_payload(const std::string& collection, Json payload,
                                const Selector& selector, bool wait, Reply<WriteResult> done) {
  auto points = points_selector(selector, runtime_->filter_limits());
  if (!points) {
    done(points.error());
    return;
  }
  write(*runtime_, collection, wait, std::move(done),
        [payload = std::move(payload), points = std::move(*points)](Collection& c) {
          return c.overwrite_payload(payload, points);
        });
}

void Service::delete_payload(const std::string& collection, const std::vector<std::string>& keys,
                             const Selector& selector, bool wait, Reply<WriteResult> done) {
  auto points = points_selector(selector, runtime_->filter_limits());
  if (!points) {
    done(points.error());
    return;
  }
  std::vector<JsonPath> paths;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    auto parsed = path_of(keys[i], "keys[" + std::to_string(i) + "]");
    if (!parsed) {
      done(parsed.error());
      return;
    }
    paths.push_back(std::move(*parsed));
  }
  write(*runtime_, collection, wait, std::move(done),
        [paths = std::move(paths), points = std::move(*points)](Collection& c) {
          return c.delete_payload(paths, points);
        });
}

void Service::clear_payload(const std::string& collection, const Selector& selector, bool wait,
                            Reply<WriteResult> done) {
  auto points = points_selector(selector, runtime_->filter_limits());
  if (!points) {
    done(points.error());
    return;
  }
  write(*runtime_, collection, wait, std::move(done),
        [points = std::move(*points)](Collection& c) { return c.clear_payload(points); });
}

void Service::update_vectors(const std::string& collection, std::vector<PointVectors> points,
                             bool wait, Reply<WriteResult> done) {
  auto shared = std::make_shared<std::vector<PointVectors>>(std::move(points));
  write(*runtime_, collection, wait, std::move(done),
        [shared](Collection& c) { return c.update_vectors(std::move(*shared)); });
}

void Service::create_payload_index(const std::string& collection, const std::string& field,
                                   const std::string& schema, bool wait, Reply<WriteResult> done) {
  auto path = path_of(field, "field_name");
  if (!path) {
    done(path.error());
    return;
  }
  auto type = parse_payload_field_type(schema, "field_schema");
  if (!type) {
    done(type.error());
    return;
  }
  write(*runtime_, collection, wait, std::move(done),
        [path = std::move(*path), type = *type](Collection& c) {
          return c.create_payload_index(path, type);
        });
}

void Service::delete_payload_index(const std::string& collection, const std::string& field,
                                   bool wait, Reply<WriteResult> done) {
  auto path = path_of(field, "field_name");
  if (!path) {
    done(path.error());
    return;
  }
  write(*runtime_, collection, wait, std::move(done),
        [path = std::move(*path)](Collection& c) { return c.delete_payload_index(path); });
}

// Reads: retrieve goes straight to a searcher; reads with a filter pass the filter actor first,
// which parses the filter once and hands it, immutable, to a searcher.

void Service::retrieve(const std::string& collection, std::vector<PointId> ids,
                       PayloadSelector with_payload, VectorSelector with_vector,
                       Reply<std::vector<Record>> done) {
  auto answer = answer_of(std::move(done));
  runtime_->on(
      collection, Lane::search, answer,
      [answer, ids = std::move(ids), with_payload = std::move(with_payload),
       with_vector = std::move(with_vector)](const EntryPtr& e) {
        (*answer)(e->collection->retrieve(ids, with_payload, with_vector));
      },
      runtime_->deadline());
}

void Service::scroll(const std::string& collection, ScrollQuery query, Reply<ScrollResult> done) {
  auto answer = answer_of(std::move(done));
  std::optional<Json> filter = std::move(query.filter);
  runtime_->filtered_read(collection, answer, std::move(filter),
                          [answer, query = std::move(query)](Entry& e, const Filter* f) {
                            ScrollRequest r;
                            r.filter = f;
                            r.limit = query.limit;
                            r.offset = query.offset;
                            r.with_payload = query.with_payload;
                            r.with_vector = query.with_vector;
                            (*answer)(e.collection->scroll(r));
                          });
}

void Service::count(const std::string& collection, std::optional<Json> filter, bool exact,
                    Reply<std::uint64_t> done) {
  auto answer = answer_of(std::move(done));
  // An estimate comes from payload indexes alone: the filter actor answers it.
  runtime_->filtered_read(
      collection, answer, std::move(filter),
      [answer, exact](Entry& e, const Filter* f) { (*answer)(e.collection->count(f, exact)); },
      !exact);
}

void Service::search(const std::string& collection, Query query,
                     Reply<std::vector<ScoredPoint>> done) {
  auto answer = answer_of(std::move(done));
  if (!query.filter || query.filter->is_null()) {
    runtime_->on(
        collection, Lane::search, answer,
        [answer, query = std::move(query)](const EntryPtr& e) {
          (*answer)(e->collection->search(to_search_request(query, nullptr)));
        },
        runtime_->deadline());
    return;
  }
  std::optional<Json> filter = std::move(query.filter);
  runtime_->filtered_read(collection, answer, std::move(filter),
                          [answer, query = std::move(query)](Entry& e, const Filter* f) {
                            (*answer)(e.collection->search(to_search_request(query, f)));
                          });
}

void Service::search_batch(const std::string& collection, std::vector<Query> queries,
                           Reply<std::vector<std::vector<ScoredPoint>>> done) {
  auto answer = answer_of(std::move(done));
  const auto deadline = runtime_->deadline();
  const FilterLimits limits = runtime_->filter_limits();
  runtime_->on(
      collection, Lane::filter, answer,
      [answer, queries = std::move(queries), limits, deadline](const EntryPtr& e) {
        std::vector<std::shared_ptr<const Filter>> filters;
        filters.reserve(queries.size());
        for (std::size_t i = 0; i < queries.size(); ++i) {
          auto filter = shared_filter(queries[i].filter, limits,
                                      "searches[" + std::to_string(i) + "].filter");
          if (!filter) {
            (*answer)(filter.error());
            return;
          }
          filters.push_back(std::move(*filter));
        }
        Runtime::send(
            e->search, answer,
            [answer, e, queries, filters = std::move(filters)] {
              std::vector<SearchRequest> requests;
              requests.reserve(queries.size());
              for (std::size_t i = 0; i < queries.size(); ++i) {
                requests.push_back(to_search_request(queries[i], filters[i].get()));
              }
              (*answer)(e->collection->search_batch(requests));
            },
            deadline);
      },
      deadline);
}

} // namespace vdb
