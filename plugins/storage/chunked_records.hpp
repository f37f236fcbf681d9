// The part of a record store that RAM and mmap share: records live in fixed-size chunks that are
// allocated on demand and never move, found through a two-level directory of atomic pointers.
// One writer appends and overwrites; readers call get() and count() concurrently.
#pragma once

#include <vdb/plugin_api.h>
#include <vdb/plugin_sdk.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

namespace vdb::storage {

/// Chunk size the plugins choose when the caller leaves records_per_chunk at 0.
inline constexpr std::uint64_t kDefaultChunkBytes = std::uint64_t{1} << 20;

inline std::uint64_t default_records_per_chunk(std::uint64_t record_size) noexcept {
  return record_size >= kDefaultChunkBytes ? 1 : kDefaultChunkBytes / record_size;
}

class ChunkedRecords {
public:
  static constexpr std::size_t kBlocks = 1024;
  static constexpr std::size_t kChunksPerBlock = 1024;
  static constexpr std::uint64_t kMaxChunks = std::uint64_t{kBlocks} * kChunksPerBlock;

  ChunkedRecords(std::uint64_t record_size, std::uint64_t records_per_chunk) noexcept
      : record_size_(record_size), records_per_chunk_(records_per_chunk) {}
  virtual ~ChunkedRecords() = default;
  ChunkedRecords(const ChunkedRecords&) = delete;
  ChunkedRecords& operator=(const ChunkedRecords&) = delete;

  std::uint64_t record_size() const noexcept { return record_size_; }
  std::uint64_t records_per_chunk() const noexcept { return records_per_chunk_; }
  std::uint64_t chunk_bytes() const noexcept { return record_size_ * records_per_chunk_; }
  std::uint64_t count() const noexcept { return count_.load(std::memory_order_acquire); }

  vdb_status append(const void* records, std::uint64_t n, std::uint64_t* first_index) {
    if ((records == nullptr && n != 0) || first_index == nullptr) {
      return sdk::fail(VDB_ERR_INVALID_ARGUMENT, "null pointer");
    }
    const std::uint64_t first = count_.load(std::memory_order_relaxed);
    if (n > kMaxChunks * records_per_chunk_ - first) {
      return sdk::fail(VDB_ERR_NO_SPACE, "the store has reached its maximum size");
    }
    const std::uint64_t end = first + n;
    // Allocate every chunk first, so a failure leaves the count unchanged.
    for (std::uint64_t k = allocated_; k * records_per_chunk_ < end; ++k) {
      std::byte* chunk = nullptr;
      const vdb_status status = allocate_chunk(k, &chunk);
      if (status != VDB_OK) {
        return status;
      }
      publish_chunk(k, chunk);
      allocated_ = k + 1;
    }
    const auto* src = static_cast<const std::byte*>(records);
    for (std::uint64_t i = first; i < end;) {
      const std::uint64_t in_chunk = std::min(end - i, records_per_chunk_ - i % records_per_chunk_);
      std::memcpy(address(i), src, in_chunk * record_size_);
      mark_dirty(i / records_per_chunk_);
      src += in_chunk * record_size_;
      i += in_chunk;
    }
    count_.store(end, std::memory_order_release);
    *first_index = first;
    return VDB_OK;
  }

  vdb_status get(std::uint64_t index, const void** out, std::uint64_t* contiguous) const {
    if (out == nullptr) {
      return sdk::fail(VDB_ERR_INVALID_ARGUMENT, "null pointer");
    }
    const std::uint64_t n = count();
    if (index >= n) {
      return out_of_range(index, n);
    }
    *out = address(index);
    if (contiguous != nullptr) {
      *contiguous = std::min(n - index, records_per_chunk_ - index % records_per_chunk_);
    }
    return VDB_OK;
  }

  vdb_status overwrite(std::uint64_t index, const void* record) {
    if (record == nullptr) {
      return sdk::fail(VDB_ERR_INVALID_ARGUMENT, "null pointer");
    }
    const std::uint64_t n = count();
    if (index >= n) {
      return out_of_range(index, n);
    }
    std::memcpy(address(index), record, record_size_);
    mark_dirty(index / records_per_chunk_);
    return VDB_OK;
  }

  /// Copies records `indices[0..n)` into `out`, in that order; every index is checked first.
  /// This copies from the chunks; a store in a file may read the file instead (read_records).
  vdb_status read_many(const std::uint64_t* indices, std::uint64_t n, void* out) const {
    if ((indices == nullptr || out == nullptr) && n != 0) {
      return sdk::fail(VDB_ERR_INVALID_ARGUMENT, "null pointer");
    }
    const std::uint64_t total = count();
    for (std::uint64_t i = 0; i < n; ++i) {
      if (indices[i] >= total) {
        return out_of_range(indices[i], total);
      }
    }
    return read_records(indices, n, static_cast<std::byte*>(out));
  }

  virtual vdb_status flush() = 0;

protected:
  /// Provides memory for chunk `k` of chunk_bytes(); called in order k = 0, 1, 2, ...
  virtual vdb_status allocate_chunk(std::uint64_t k, std::byte** out) = 0;
  /// Called when records of chunk `k` change; persistent stores remember what to sync.
  virtual void mark_dirty(std::uint64_t /*k*/) {}
  /// read_many once the indices are checked: copies from the chunks.
  virtual vdb_status read_records(const std::uint64_t* indices, std::uint64_t n,
                                  std::byte* out) const {
    for (std::uint64_t i = 0; i < n; ++i) {
      std::memcpy(out + i * record_size_, address(indices[i]), record_size_);
    }
    return VDB_OK;
  }

  /// For reopening: makes chunk `k` reachable and sets how many records exist.
  void adopt_chunk(std::uint64_t k, std::byte* chunk) {
    publish_chunk(k, chunk);
    allocated_ = k + 1;
  }
  void set_count(std::uint64_t n) noexcept { count_.store(n, std::memory_order_release); }
  std::uint64_t allocated_chunks() const noexcept { return allocated_; }

private:
  using Block = std::array<std::atomic<std::byte*>, kChunksPerBlock>;

  static vdb_status out_of_range(std::uint64_t index, std::uint64_t n) {
    return sdk::fail(VDB_ERR_OUT_OF_RANGE, "record " + std::to_string(index) +
                                               " is past the end (count " + std::to_string(n) +
                                               ")");
  }

  void publish_chunk(std::uint64_t k, std::byte* chunk) {
    auto& slot = blocks_[k / kChunksPerBlock];
    Block* block = slot.load(std::memory_order_acquire);
    if (block == nullptr) {
      owned_blocks_[k / kChunksPerBlock] = std::make_unique<Block>();
      block = owned_blocks_[k / kChunksPerBlock].get();
      slot.store(block, std::memory_order_release);
    }
    (*block)[k % kChunksPerBlock].store(chunk, std::memory_order_release);
  }

  std::byte* address(std::uint64_t index) const noexcept {
    const std::uint64_t k = index / records_per_chunk_;
    const Block* block = blocks_[k / kChunksPerBlock].load(std::memory_order_acquire);
    std::byte* chunk = (*block)[k % kChunksPerBlock].load(std::memory_order_acquire);
    return chunk + (index % records_per_chunk_) * record_size_;
  }

  const std::uint64_t record_size_;
  const std::uint64_t records_per_chunk_;
  std::atomic<std::uint64_t> count_{0};
  std::uint64_t allocated_ = 0; // writer only
  std::array<std::atomic<Block*>, kBlocks> blocks_{};
  std::array<std::unique_ptr<Block>, kBlocks> owned_blocks_{};
};

/// The C function table for a store type derived from ChunkedRecords. `Store::open` is the
/// store-specific part; everything else forwards to ChunkedRecords.
template <class Store> struct StorageTable {
  static ChunkedRecords* self(vdb_store* s) noexcept { return reinterpret_cast<Store*>(s); }

  static vdb_status open(const vdb_store_options* options, vdb_store** out) noexcept {
    return sdk::guard([&] {
      if (options == nullptr || out == nullptr) {
        return sdk::fail(VDB_ERR_INVALID_ARGUMENT, "null pointer");
      }
      if (!VDB_HAS_FIELD(options, vdb_store_options, records_per_chunk)) {
        return sdk::fail(VDB_ERR_INVALID_ARGUMENT, "vdb_store_options is too small");
      }
      if (options->record_size == 0) {
        return sdk::fail(VDB_ERR_INVALID_ARGUMENT, "record_size must be at least 1");
      }
      std::unique_ptr<Store> store;
      const vdb_status status = Store::open(*options, &store);
      if (status == VDB_OK) {
        *out = reinterpret_cast<vdb_store*>(store.release());
      }
      return status;
    });
  }
  static vdb_status close(vdb_store* s) noexcept {
    delete reinterpret_cast<Store*>(s);
    return VDB_OK;
  }
  static vdb_status append(vdb_store* s, const void* records, std::uint64_t n,
                           std::uint64_t* first) noexcept {
    return sdk::guard([&] { return self(s)->append(records, n, first); });
  }
  static vdb_status get(vdb_store* s, std::uint64_t index, const void** out,
                        std::uint64_t* contiguous) noexcept {
    return self(s)->get(index, out, contiguous);
  }
  static vdb_status overwrite(vdb_store* s, std::uint64_t index, const void* record) noexcept {
    return self(s)->overwrite(index, record);
  }
  static vdb_status count(vdb_store* s, std::uint64_t* out) noexcept {
    if (out == nullptr) {
      return sdk::fail(VDB_ERR_INVALID_ARGUMENT, "null pointer");
    }
    *out = self(s)->count();
    return VDB_OK;
  }
  static vdb_status flush(vdb_store* s) noexcept {
    return sdk::guard([&] { return self(s)->flush(); });
  }
  static vdb_status read_many(vdb_store* s, const std::uint64_t* indices, std::uint64_t n,
                              void* out) noexcept {
    return sdk::guard([&] { return self(s)->read_many(indices, n, out); });
  }

  static constexpr vdb_storage_api api(std::uint32_t capabilities) noexcept {
    return vdb_storage_api{sizeof(vdb_storage_api),
                           capabilities,
                           &open,
                           &close,
                           &append,
                           &get,
                           &overwrite,
                           &count,
                           &flush,
                           &read_many};
  }

  static constexpr vdb_plugin_info info(const char* name, const char* description,
                                        const vdb_storage_api* table) noexcept {
    return vdb_plugin_info{sizeof(vdb_plugin_info),
                           VDB_PLUGIN_ABI_MAJOR,
                           VDB_PLUGIN_ABI_MINOR,
                           VDB_PLUGIN_STORAGE,
                           name,
                           "1.0.0",
                           description,
                           nullptr,
                           table};
  }
};

} // namespace vdb::storage
