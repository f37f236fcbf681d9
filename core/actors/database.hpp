// vdb::Database: VDB in-process. It runs the same actors as the server (core/actors/service.hpp)
// and answers the same API (core/actors/api.hpp), so an application can embed VDB without a
// server, as Qdrant's QdrantClient(":memory:") allows:
//
//   auto db = vdb::Database::open(":memory:");
//   (*db)->create_collection("docs", {{"vectors", {{"size", 4}, {"distance", "Cosine"}}}});
//
// Calls block the calling thread until the actors answer or the request's timeout passes.
#pragma once

#include "config/settings.hpp"
#include "core/actors/service.hpp"
#include "core/plugin_host/plugin_registry.hpp"

#include <memory>
#include <string>

namespace vdb {

/// The service options `settings` describe: plugins chosen from `registry` (which must outlive
/// the service), limits, collection defaults, threads and the request timeout.
Expected<ServiceOptions> service_options(const Settings& settings, const PluginRegistry& registry);

/// Loads the plugins `settings.plugins` names (the built-in folder when `dir` is empty).
Expected<std::unique_ptr<PluginRegistry>> load_plugins(const Settings& settings);

class Database final : public Client {
public:
  /// Opens `location` with `settings`: ":memory:", or a data folder (created when missing)
  /// whose collections load, and where every write is kept (see docs/storage.md).
  static Expected<std::unique_ptr<Database>> open(const std::string& location,
                                                  const Settings& settings);
  /// Opens `location` with the compiled-in default settings.
  static Expected<std::unique_ptr<Database>> open(const std::string& location = ":memory:");
  /// Opens a database on a ready engine context (its plugins must outlive the database); in
  /// `options.storage` when set, else in memory.
  static Expected<std::unique_ptr<Database>> open(ServiceOptions options);

  ~Database() override;
  /// Collections in the data folder that failed to load (logged; not served).
  const std::vector<std::string>& failed_collections() const noexcept {
    return service_->failed_collections();
  }

  Service& service() noexcept { return *service_; }

  // The default arguments repeat Client's, so calls read the same through either type.
  Status create_collection(const std::string& name, const Json& config) override;
  Status delete_collection(const std::string& name) override;
  Expected<std::vector<std::string>> list_collections() override;
  Expected<Json> collection_info(const std::string& name) override;

  Expected<WriteResult> upsert(const std::string& collection, std::vector<PointStruct> points,
                               bool wait = true) override;
  Expected<WriteResult> delete_points(const std::string& collection, const Selector& selector,
                                      bool wait = true) override;
  Expected<WriteResult> set_payload(const std::string& collection, const Json& payload,
                                    const Selector& selector,
                                    const std::optional<std::string>& key = std::nullopt,
                                    bool wait = true) override;
  Expected<WriteResult> overwrite_payload(const std::string& collection, const Json& payload,
                                          const Selector& selector, bool wait = true) override;
  Expected<WriteResult> delete_payload(const std::string& collection,
                                       const std::vector<std::string>& keys,
                                       const Selector& selector, bool wait = true) override;
  Expected<WriteResult> clear_payload(const std::string& collection, const Selector& selector,
                                      bool wait = true) override;
  Expected<WriteResult> update_vectors(const std::string& collection,
                                       std::vector<PointVectors> points, bool wait = true) override;
  Expected<WriteResult> create_payload_index(const std::string& collection,
                                             const std::string& field, const std::string& schema,
                                             bool wait = true) override;
  Expected<WriteResult> delete_payload_index(const std::string& collection,
                                             const std::string& field, bool wait = true) override;

  Expected<std::vector<Record>> retrieve(const std::string& collection,
                                         const std::vector<PointId>& ids,
                                         const PayloadSelector& with_payload,
                                         const VectorSelector& with_vector) override;
  Expected<ScrollResult> scroll(const std::string& collection, const ScrollQuery& query) override;
  Expected<std::uint64_t> count(const std::string& collection,
                                const std::optional<Json>& filter = std::nullopt,
                                bool exact = true) override;
  Expected<std::vector<ScoredPoint>> search(const std::string& collection,
                                            const Query& query) override;
  Expected<std::vector<std::vector<ScoredPoint>>>
  search_batch(const std::string& collection, const std::vector<Query>& queries) override;
  Expected<HealthInfo> health() override;

  Expected<SnapshotInfo> create_snapshot(const std::string& collection) override;
  Expected<std::vector<SnapshotInfo>> list_snapshots(const std::string& collection) override;
  Status delete_snapshot(const std::string& collection, const std::string& name) override;
  Status recover_snapshot(const std::string& collection, const std::string& name) override;

private:
  Database(std::unique_ptr<PluginRegistry> plugins, ServiceOptions options);
  static Expected<std::unique_ptr<Database>> open_with(std::unique_ptr<PluginRegistry> plugins,
                                                       ServiceOptions options);
  template <class T, class Start> Expected<T> await(Start&& start);

  std::unique_ptr<PluginRegistry> plugins_; // null when the caller owns them
  std::unique_ptr<Service> service_;
};

} // namespace vdb
