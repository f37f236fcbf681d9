#include "core/engine/catalog.hpp"

#include "core/common/utf8.hpp"

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
  auto collection = Collection::create(name, std::move(config), context_);
  VDB_TRY(collection);
  collections_.emplace(name, std::shared_ptr<Collection>(std::move(*collection)));
  return {};
}

Status Catalog::delete_collection(const std::string& name) {
  std::unique_lock lock(mutex_);
  if (collections_.erase(name) == 0) {
    return Error{Errc::not_found, "collection_name: no collection named '" + name + "'"};
  }
  return {};
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
