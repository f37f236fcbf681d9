// The collections of one database by name (Qdrant's "table of contents"): create, delete, list,
// and find. Collections are shared with in-flight requests: deleting one removes it from the
// catalog at once, and requests that already hold it finish on it.
#pragma once

#include "core/engine/collection.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

namespace vdb {

class Catalog {
public:
  /// `defaults` supplies every collection setting a create request leaves out. With a
  /// `storage` folder, collections are kept in "<storage>/collections/<name>" (open_existing
  /// loads them); without one they live in memory.
  Catalog(EngineContext context, CollectionConfig defaults, fs::path storage = {})
      : context_(std::move(context)), defaults_(std::move(defaults)), storage_(std::move(storage)) {
  }

  /// Loads the collections kept in the storage folder. One that fails to load is logged,
  /// left on disk untouched and named in the result; the others serve.
  Expected<std::vector<std::string>> open_existing();
  const fs::path& storage() const noexcept { return storage_; }

  const EngineContext& context() const noexcept { return context_; }
  const CollectionConfig& defaults() const noexcept { return defaults_; }

  /// Checks a collection name: 1..max_collection_name_length bytes of UTF-8, no control
  /// characters, none of / \ : * ? " < > |, not starting with '.', and no "..". Such names are
  /// safe as directory names on every platform.
  Status validate_name(std::string_view name) const;

  /// Creates a collection from a create request body (see parse_collection_config).
  Status create_collection(const std::string& name, const Json& body);
  /// Creates a collection from a parsed configuration.
  Status create_collection(const std::string& name, CollectionConfig config);
  /// not_found when there is no such collection. A kept collection's folder is deleted.
  Status delete_collection(const std::string& name);
  /// Makes collection `name` the one archived in the snapshot `archive` (replacing a
  /// collection of that name). The archive is checked and extracted into a fresh folder and
  /// opened there first: a refused or broken archive leaves the existing collection as it was.
  /// unsupported without a storage folder.
  Expected<std::shared_ptr<Collection>> recover_snapshot(const std::string& name,
                                                         const fs::path& archive);
  /// Names in order.
  std::vector<std::string> list() const;
  /// The collection, or not_found naming it.
  Expected<std::shared_ptr<Collection>> get(const std::string& name) const;

private:
  const EngineContext context_;
  const CollectionConfig defaults_;
  const fs::path storage_;
  mutable std::shared_mutex mutex_;
  std::map<std::string, std::shared_ptr<Collection>> collections_;
};

} // namespace vdb
