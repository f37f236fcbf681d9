#include "core/engine/catalog.hpp"

#include "core/common/log.hpp"
#include "core/common/utf8.hpp"
#include "core/storage/archive.hpp"
#include "core/storage/files.hpp"

#include <atomic>

namespace vdb {

Status Catalog::validate_name(std::string_view name) const {
  const auto fail = [&](const std::string& why) {
    return Error{Errc::invalid_argument,
                 "collection_name: '" + std::string(name.substr(0, 64)) + "' " + why};
  };
  if (name.empty()) {
    return Error{Errc::invalid_argument, "collection_name: must not be empty"};
  }
  const std::size_t max = context_.limits.max_collection_name_length;
  if (name.size() > max) {
    return fail("is longer than " + std::to_string(max) + " bytes");
  }
  if (!valid_utf8(name)) {
    return Error{Errc::invalid_argument, "collection_name: is not valid UTF-8"};
  }
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      return fail("holds a control character");
    }
    if (std::string_view("/\\:*?\"<>|").find(c) != std::string_view::npos) {
      return fail(std::string("holds '") + c + "'; names cannot hold / \\ : * ? \" < > |");
    }
  }
  if (name.front() == '.' || name.find("..") != std::string_view::npos) {
    return fail("must not start with '.' or hold \"..\"");
  }
  return {};
}

Status Catalog::create_collection(const std::string& name, const Json& body) {
  VDB_TRY(validate_name(name));
  auto config = parse_collection_config(body, defaults_, context_.limits.max_vector_dim);
  VDB_TRY(config);
  return create_collection(name, std::move(*config));
}

Status Catalog::create_collection(const std::string& name, CollectionConfig config) {
  VDB_TRY(validate_name(name));
  std::unique_lock lock(mutex_);
  if (collections_.count(name) != 0) {
    return Error{Errc::already_exists, "collection_name: collection '" + name + "' already exists"};
  }
  if (context_.limits.max_collections != 0 &&
      collections_.size() >= context_.limits.max_collections) {
    return Error{Errc::out_of_range, "collection_name: the database already holds " +
                                         std::to_string(collections_.size()) +
                                         " collections, the configured limit"};
  }
  auto collection = storage_.empty() ? Collection::create(name, std::move(config), context_)
                                     : Collection::create(name, std::move(config), context_,
                                                          storage_ / "collections" / name);
  VDB_TRY(collection);
  collections_.emplace(name, std::shared_ptr<Collection>(std::move(*collection)));
  return {};
}

namespace {
std::atomic<std::uint64_t> g_counter{0};
} // namespace

Expected<std::shared_ptr<Collection>> Catalog::recover_snapshot(const std::string& name,
                                                                const fs::path& archive) {
  VDB_TRY(validate_name(name));
  if (storage_.empty()) {
    return Error{Errc::unsupported, "snapshot: recovery needs a data folder"};
  }
  const fs::path root = storage_ / "collections";
  const fs::path staging = root / (".recovering-" + name + "-" + std::to_string(++g_counter));
  std::error_code ec;
  fs::remove_all(staging, ec);
  auto manifest = extract_archive(archive, staging);
  VDB_TRY(manifest);
  const auto cleanup = [&](Error e) {
    fs::remove_all(staging, ec);
    return e;
  };
  if (manifest->value("kind", "") != "vdb-collection-snapshot") {
    return cleanup(Error{Errc::invalid_argument, "snapshot: not a collection snapshot"});
  }
  {
    // Open it where it is: everything is checked before the existing collection is touched.
    auto trial = Collection::open(name, staging, context_);
    if (!trial) {
      return cleanup(Error{trial.error().code, "snapshot: " + trial.error().message});
    }
    (*trial)->stop_optimizer();
  }
  std::unique_lock lock(mutex_);
  const fs::path dir = root / name;
  if (const auto it = collections_.find(name); it != collections_.end()) {
    it->second->stop_optimizer();
    it->second->detach();
    collections_.erase(it);
  }
  const fs::path old = root / (".deleted-" + name + "-" + std::to_string(++g_counter));
  if (fs::exists(dir, ec)) {
    fs::rename(dir, old, ec);
    if (ec) {
      return cleanup(Error{Errc::io_error, "move " + dir.string() + ": " + ec.message()});
    }
  }
  fs::rename(staging, dir, ec);
  if (ec) {
    const Error e{Errc::io_error, "move " + staging.string() + ": " + ec.message()};
    fs::rename(old, dir, ec); // put the old one back; it loads again at the next start
    return cleanup(e);
  }
  VDB_TRY(sync_dir(root));
  fs::remove_all(old, ec);
  auto collection = Collection::open(name, dir, context_);
  VDB_TRY(collection);
  std::shared_ptr<Collection> shared(std::move(*collection));
  collections_[name] = shared;
  return shared;
}

Status Catalog::delete_collection(const std::string& name) {
  std::shared_ptr<Collection> gone;
  {
    std::unique_lock lock(mutex_);
    const auto it = collections_.find(name);
    if (it == collections_.end()) {
      return Error{Errc::not_found, "collection_name: no collection named '" + name + "'"};
    }
    gone = std::move(it->second);
    collections_.erase(it);
  }
  if (storage_.empty()) {
    return {};
  }
  // Requests that hold the collection finish in memory; its folder goes now. The rename makes
  // the deletion atomic: a crash leaves a hidden folder that the next start removes.
  gone->stop_optimizer();
  gone->detach();
  const fs::path dir = storage_ / "collections" / name;
  const fs::path doomed =
      storage_ / "collections" / (".deleted-" + name + "-" + std::to_string(++g_counter));
  std::error_code ec;
  fs::rename(dir, doomed, ec);
  if (ec) {
    return Error{Errc::io_error, "delete " + dir.string() + ": " + ec.message()};
  }
  VDB_TRY(sync_dir(storage_ / "collections"));
  fs::remove_all(doomed, ec);
  return {};
}

Expected<std::vector<std::string>> Catalog::open_existing() {
  std::vector<std::string> failed;
  if (storage_.empty()) {
    return failed;
  }
  const fs::path root = storage_ / "collections";
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) {
    return Error{Errc::io_error, "create " + root.string() + ": " + ec.message()};
  }
  std::vector<fs::path> dirs;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    dirs.push_back(entry.path());
  }
  if (ec) {
    return Error{Errc::io_error, "list " + root.string() + ": " + ec.message()};
  }
  std::sort(dirs.begin(), dirs.end());
  for (const fs::path& dir : dirs) {
    const std::string name = dir.filename().string();
    if (name.front() == '.') { // a deletion or a creation a crash interrupted
      fs::remove_all(dir, ec);
      continue;
    }
    if (!validate_name(name).ok() || !fs::is_directory(dir)) {
      log::warn("storage: ignoring " + dir.string() + " (not a collection folder)");
      continue;
    }
    auto collection = Collection::open(name, dir, context_);
    if (!collection) {
      log::error("collection " + name +
                 " failed to load and is not served: " + collection.error().message);
      failed.push_back(name);
      continue;
    }
    std::unique_lock lock(mutex_);
    collections_.emplace(name, std::shared_ptr<Collection>(std::move(*collection)));
  }
  return failed;
}

std::vector<std::string> Catalog::list() const {
  std::shared_lock lock(mutex_);
  std::vector<std::string> out;
  out.reserve(collections_.size());
  for (const auto& [name, collection] : collections_) {
    out.push_back(name);
  }
  return out;
}

Expected<std::shared_ptr<Collection>> Catalog::get(const std::string& name) const {
  std::shared_lock lock(mutex_);
  const auto it = collections_.find(name);
  if (it == collections_.end()) {
    return Error{Errc::not_found, "collection_name: no collection named '" + name + "'"};
  }
  return it->second;
}

} // namespace vdb
