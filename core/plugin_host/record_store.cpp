#include "core/plugin_host/record_store.hpp"

#include "core/plugin_host/host_api.hpp"

#include <cstddef>
#include <cstring>

namespace vdb {

Expected<std::unique_ptr<RecordStore>> RecordStore::open(std::shared_ptr<const Plugin> plugin,
                                                         const RecordStoreOptions& options) {
  if (plugin == nullptr || plugin->storage() == nullptr) {
    return Error{Errc::invalid_argument, "record store: not a storage plugin"};
  }
  if (options.record_size == 0) {
    return Error{Errc::invalid_argument, "record store: record_size must be at least 1"};
  }
  vdb_store_options c_options{};
  c_options.struct_size = sizeof(c_options);
  c_options.flags = options.create ? VDB_STORE_CREATE : 0;
  c_options.path = options.path.c_str();
  c_options.record_size = options.record_size;
  c_options.records_per_chunk = options.records_per_chunk;
  std::string where = "storage " + plugin->name();
  if (!options.path.empty()) {
    where += " " + options.path;
  }
  vdb_store* store = nullptr;
  clear_plugin_error();
  const vdb_status status = plugin->storage()->open(&c_options, &store);
  if (status != VDB_OK) {
    return plugin_error(status, where + ": open");
  }
  return std::unique_ptr<RecordStore>(
      new RecordStore(std::move(plugin), store, options.record_size, std::move(where)));
}

RecordStore::~RecordStore() { api_->close(store_); }

Error RecordStore::error(vdb_status status, const char* op) const {
  return plugin_error(status, where_ + ": " + op);
}

Expected<std::uint64_t> RecordStore::append(const void* records, std::uint64_t n) {
  std::uint64_t first = 0;
  const vdb_status status = api_->append(store_, records, n, &first);
  if (status != VDB_OK) {
    return error(status, "append");
  }
  return first;
}

Expected<const void*> RecordStore::get(std::uint64_t index) const {
  const void* record = nullptr;
  const vdb_status status = api_->get(store_, index, &record, nullptr);
  if (status != VDB_OK) {
    return error(status, "get");
  }
  return record;
}

bool RecordStore::reads_many() const noexcept {
  return VDB_HAS_FIELD(api_, vdb_storage_api, read_many) && api_->read_many != nullptr;
}

Status RecordStore::read_many(const std::uint64_t* indices, std::uint64_t n, void* out) const {
  if (reads_many()) {
    const vdb_status status = api_->read_many(store_, indices, n, out);
    return status == VDB_OK ? Status() : Status(error(status, "read_many"));
  }
  auto* to = static_cast<std::byte*>(out);
  for (std::uint64_t i = 0; i < n; ++i) {
    auto record = get(indices[i]);
    if (!record.ok()) {
      return record.status();
    }
    std::memcpy(to + i * record_size_, *record, record_size_);
  }
  return {};
}

Status RecordStore::overwrite(std::uint64_t index, const void* record) {
  const vdb_status status = api_->overwrite(store_, index, record);
  return status == VDB_OK ? Status() : Status(error(status, "overwrite"));
}

std::uint64_t RecordStore::count() const {
  std::uint64_t n = 0;
  api_->count(store_, &n);
  return n;
}

Status RecordStore::flush() {
  const vdb_status status = api_->flush(store_);
  return status == VDB_OK ? Status() : Status(error(status, "flush"));
}

bool RecordStore::persistent() const noexcept {
  return (api_->capabilities & VDB_STORAGE_PERSISTENT) != 0;
}

} // namespace vdb
