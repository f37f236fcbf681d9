// An open record store of a storage plugin, owned RAII-style: closing it is the destructor. It
// keeps its plugin's library loaded for as long as it lives.
//
// Thread-safety follows the ABI: one writer (append, overwrite, flush) at a time, any number of
// concurrent readers (get, count); pointers from get() stay valid until the store is destroyed.
#pragma once

#include "core/common/error.hpp"
#include "core/plugin_host/plugin.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace vdb {

struct RecordStoreOptions {
  std::string path;                    ///< file path for persistent stores; ignored by `ram`
  std::uint64_t record_size = 0;       ///< bytes per record, >= 1
  std::uint64_t records_per_chunk = 0; ///< 0: the plugin chooses (about 1 MiB per chunk)
  bool create = true;                  ///< create the store when it does not exist
};

class RecordStore {
public:
  /// Opens a store with `plugin`, which must be a storage plugin.
  static Expected<std::unique_ptr<RecordStore>> open(std::shared_ptr<const Plugin> plugin,
                                                     const RecordStoreOptions& options);
  ~RecordStore();
  RecordStore(const RecordStore&) = delete;
  RecordStore& operator=(const RecordStore&) = delete;

  /// Appends n records (n * record_size() bytes); returns the index of the first.
  Expected<std::uint64_t> append(const void* records, std::uint64_t n = 1);
  /// A pointer to record `index`, valid until the store is destroyed.
  Expected<const void*> get(std::uint64_t index) const;
  /// Copies records `indices[0..n)` into `out` (n * record_size() bytes), in that order. The
  /// plugin's read_many (ABI 1.3) when it has one, which may read the file instead of the
  /// mapping; otherwise copies through get().
  Status read_many(const std::uint64_t* indices, std::uint64_t n, void* out) const;
  /// Whether the plugin reads records for read_many itself (rather than the host copying).
  bool reads_many() const noexcept;
  Status overwrite(std::uint64_t index, const void* record);
  std::uint64_t count() const;
  Status flush();

  std::uint64_t record_size() const noexcept { return record_size_; }
  bool persistent() const noexcept;
  const Plugin& plugin() const noexcept { return *plugin_; }

private:
  RecordStore(std::shared_ptr<const Plugin> plugin, vdb_store* store, std::uint64_t record_size,
              std::string where)
      : plugin_(std::move(plugin)), api_(plugin_->storage()), store_(store),
        record_size_(record_size), where_(std::move(where)) {}
  Error error(vdb_status status, const char* op) const;

  std::shared_ptr<const Plugin> plugin_;
  const vdb_storage_api* api_;
  vdb_store* store_;
  std::uint64_t record_size_;
  std::string where_; // "storage <plugin> <path>", the context of every error
};

} // namespace vdb
