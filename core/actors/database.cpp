#include "core/actors/database.hpp"

#include "config/engine_settings.hpp"

#include <future>
#include <thread>

namespace vdb {

Expected<std::unique_ptr<PluginRegistry>> load_plugins(const Settings& settings) {
  auto registry = std::make_unique<PluginRegistry>();
  const std::string dir =
      settings.plugins.dir.empty() ? PluginRegistry::default_dir() : settings.plugins.dir;
  if (const Status s = registry->discover(dir, settings.plugins.load); !s.ok()) {
    return s.error();
  }
  return registry;
}

Expected<ServiceOptions> service_options(const Settings& settings, const PluginRegistry& registry) {
  auto distance = registry.choose_distance(settings.plugins.distance_backend);
  VDB_TRY(distance);
  auto ram = registry.find(VDB_PLUGIN_STORAGE, "ram");
  if (!ram) {
    return Error{Errc::not_found, "plugins: the ram storage plugin is not loaded"};
  }
  ServiceOptions options(EngineContext{*distance, ram, engine_limits(settings)});
  // Segments past memmap_threshold (or with on_disk vectors) go to the mmap plugin's files.
  options.context.mmap_storage = registry.find(VDB_PLUGIN_STORAGE, "mmap");
  options.context.async_scorer = settings.storage.performance.async_scorer;
  options.defaults = collection_defaults(settings);
  options.threads = settings.service.max_workers;
  options.searchers = settings.storage.performance.max_search_threads;
  options.timeout = std::chrono::milliseconds(settings.limits.request_timeout_ms);
  return options;
}

Expected<std::unique_ptr<Database>> Database::open(const std::string& location,
                                                   const Settings& settings) {
  if (location.empty()) {
    return Error{Errc::invalid_argument, "location: give a folder or \":memory:\""};
  }
  auto plugins = load_plugins(settings);
  VDB_TRY(plugins);
  auto options = service_options(settings, **plugins);
  VDB_TRY(options);
  if (location != ":memory:") {
    options->storage = location;
  }
  return open_with(std::move(*plugins), std::move(*options));
}

Expected<std::unique_ptr<Database>> Database::open_with(std::unique_ptr<PluginRegistry> plugins,
                                                        ServiceOptions options) {
  if (!options.storage.empty()) {
    std::error_code ec;
    fs::create_directories(options.storage / "collections", ec);
    if (ec) {
      return Error{Errc::io_error, "location: " + options.storage.string() + ": " + ec.message()};
    }
  }
  try {
    return std::unique_ptr<Database>(new Database(std::move(plugins), std::move(options)));
  } catch (const std::exception& e) {
    return Error{Errc::io_error, std::string("location: ") + e.what()};
  }
}

Expected<std::unique_ptr<Database>> Database::open(const std::string& location) {
  auto settings = load_settings(SettingsSources{});
  VDB_TRY(settings);
  return open(location, *settings);
}

Expected<std::unique_ptr<Database>> Database::open(ServiceOptions options) {
  return open_with(nullptr, std::move(options));
}

Database::Database(std::unique_ptr<PluginRegistry> plugins, ServiceOptions options)
    : plugins_(std::move(plugins)), service_(std::make_unique<Service>(std::move(options))) {}

Database::~Database() { service_.reset(); } // the actors go before the plugins

template <class T, class Start> Expected<T> Database::await(Start&& start) {
  auto promise = std::make_shared<std::promise<Expected<T>>>();
  auto future = promise->get_future();
  start([promise](Expected<T> value) { promise->set_value(std::move(value)); });
  // The actors answer every request (deadline_exceeded once its timeout passes); the margin
  // covers a request that is being served when its deadline passes.
  const auto limit = service_->options().timeout + std::chrono::seconds(5);
  if (future.wait_for(limit) != std::future_status::ready) {
    return Error{Errc::deadline_exceeded, "the request was not answered in time"};
  }
  return future.get();
}

namespace {
Status status_of(const Expected<bool>& done) { return done.ok() ? Status() : done.status(); }
} // namespace

Status Database::create_collection(const std::string& name, const Json& config) {
  return status_of(
      await<bool>([&](auto reply) { service_->create_collection(name, config, reply); }));
}

Status Database::delete_collection(const std::string& name) {
  return status_of(await<bool>([&](auto reply) { service_->delete_collection(name, reply); }));
}

Expected<std::vector<std::string>> Database::list_collections() {
  return await<std::vector<std::string>>([&](auto reply) { service_->list_collections(reply); });
}

Expected<Json> Database::collection_info(const std::string& name) {
  return await<Json>([&](auto reply) { service_->collection_info(name, reply); });
}

Expected<WriteResult> Database::upsert(const std::string& collection,
                                       std::vector<PointStruct> points, bool wait) {
  return await<WriteResult>(
      [&](auto reply) { service_->upsert(collection, std::move(points), wait, reply); });
}

Expected<WriteResult> Database::delete_points(const std::string& collection,
                                              const Selector& selector, bool wait) {
  return await<WriteResult>(
      [&](auto reply) { service_->delete_points(collection, selector, wait, reply); });
}

Expected<WriteResult> Database::set_payload(const std::string& collection, const Json& payload,
                                            const Selector& selector,
                                            const std::optional<std::string>& key, bool wait) {
  return await<WriteResult>(
      [&](auto reply) { service_->set_payload(collection, payload, selector, key, wait, reply); });
}

Expected<WriteResult> Database::overwrite_payload(const std::string& collection,
                                                  const Json& payload, const Selector& selector,
                                                  bool wait) {
  return await<WriteResult>(
      [&](auto reply) { service_->overwrite_payload(collection, payload, selector, wait, reply); });
}

Expected<WriteResult> Database::delete_payload(const std::string& collection,
                                               const std::vector<std::string>& keys,
                                               const Selector& selector, bool wait) {
  return await<WriteResult>(
      [&](auto reply) { service_->delete_payload(collection, keys, selector, wait, reply); });
}

Expected<WriteResult> Database::clear_payload(const std::string& collection,
                                              const Selector& selector, bool wait) {
  return await<WriteResult>(
      [&](auto reply) { service_->clear_payload(collection, selector, wait, reply); });
}

Expected<WriteResult> Database::update_vectors(const std::string& collection,
                                               std::vector<PointVectors> points, bool wait) {
  return await<WriteResult>(
      [&](auto reply) { service_->update_vectors(collection, std::move(points), wait, reply); });
}

Expected<WriteResult> Database::create_payload_index(const std::string& collection,
                                                     const std::string& field,
                                                     const std::string& schema, bool wait) {
  return await<WriteResult>(
      [&](auto reply) { service_->create_payload_index(collection, field, schema, wait, reply); });
}

Expected<WriteResult> Database::delete_payload_index(const std::string& collection,
                                                     const std::string& field, bool wait) {
  return await<WriteResult>(
      [&](auto reply) { service_->delete_payload_index(collection, field, wait, reply); });
}

Expected<std::vector<Record>> Database::retrieve(const std::string& collection,
                                                 const std::vector<PointId>& ids,
                                                 const PayloadSelector& with_payload,
                                                 const VectorSelector& with_vector) {
  return await<std::vector<Record>>(
      [&](auto reply) { service_->retrieve(collection, ids, with_payload, with_vector, reply); });
}

Expected<ScrollResult> Database::scroll(const std::string& collection, const ScrollQuery& query) {
  return await<ScrollResult>([&](auto reply) { service_->scroll(collection, query, reply); });
}

Expected<std::uint64_t> Database::count(const std::string& collection,
                                        const std::optional<Json>& filter, bool exact) {
  return await<std::uint64_t>(
      [&](auto reply) { service_->count(collection, filter, exact, reply); });
}

Expected<std::vector<ScoredPoint>> Database::search(const std::string& collection,
                                                    const Query& query) {
  return await<std::vector<ScoredPoint>>(
      [&](auto reply) { service_->search(collection, query, reply); });
}

Expected<std::vector<std::vector<ScoredPoint>>>
Database::search_batch(const std::string& collection, const std::vector<Query>& queries) {
  return await<std::vector<std::vector<ScoredPoint>>>(
      [&](auto reply) { service_->search_batch(collection, queries, reply); });
}

Expected<HealthInfo> Database::health() {
  return await<HealthInfo>([&](auto reply) { service_->health(reply); });
}

Expected<SnapshotInfo> Database::create_snapshot(const std::string& collection) {
  return await<SnapshotInfo>([&](auto reply) { service_->create_snapshot(collection, reply); });
}

Expected<std::vector<SnapshotInfo>> Database::list_snapshots(const std::string& collection) {
  return await<std::vector<SnapshotInfo>>(
      [&](auto reply) { service_->list_snapshots(collection, reply); });
}

Status Database::delete_snapshot(const std::string& collection, const std::string& name) {
  return status_of(
      await<bool>([&](auto reply) { service_->delete_snapshot(collection, name, reply); }));
}

Status Database::recover_snapshot(const std::string& collection, const std::string& name) {
  return status_of(
      await<bool>([&](auto reply) { service_->recover_snapshot(collection, name, reply); }));
}

} // namespace vdb
