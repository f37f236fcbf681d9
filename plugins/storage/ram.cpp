// The `ram` storage backend: chunks of anonymous memory. Not persistent: flush does nothing and
// every open starts empty.
//
// A chunk is one 2 MiB page's worth of records by default, mapped 2 MiB-aligned. From a store's
// second chunk on (a store that large is searched at random), chunks are advised to the kernel as
// transparent huge pages: a graph search then misses the TLB on far fewer of the vectors it
// reads. The first chunk stays in small pages, so a store holding a few records costs a few
// pages of memory, not 2 MiB.
#include "chunked_records.hpp"

#include <sys/mman.h>

#include <new>
#include <vector>

namespace {

using vdb::storage::ChunkedRecords;

class RamStore final : public ChunkedRecords {
public:
  using ChunkedRecords::ChunkedRecords;

  static vdb_status open(const vdb_store_options& options, std::unique_ptr<RamStore>* out) {
    const std::uint64_t per_chunk =
        options.records_per_chunk != 0
            ? options.records_per_chunk
            : std::max<std::uint64_t>(1, kHugePage / options.record_size);
    *out = std::make_unique<RamStore>(options.record_size, per_chunk);
    return VDB_OK;
  }

  vdb_status flush() override { return VDB_OK; }

protected:
  vdb_status allocate_chunk(std::uint64_t k, std::byte** out) override {
    if (chunk_bytes() < kHugePage / 2) { // chunks the caller chose small: from the heap
      auto* chunk = static_cast<std::byte*>(
          ::operator new (chunk_bytes(), std::align_val_t{64}, std::nothrow));
      if (chunk == nullptr) {
        return vdb::sdk::fail(VDB_ERR_OUT_OF_MEMORY, "ram store: cannot allocate " +
                                                         std::to_string(chunk_bytes()) + " bytes");
      }
      return keep(Chunk(chunk, Release{0}), out);
    }
    // Whole huge pages, mapped with room to spare and trimmed to a 2 MiB boundary.
    const std::uint64_t bytes = (chunk_bytes() + kHugePage - 1) / kHugePage * kHugePage;
    void* mapped = mmap(nullptr, bytes + kHugePage, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mapped == MAP_FAILED) {
      return vdb::sdk::fail(VDB_ERR_OUT_OF_MEMORY,
                            "ram store: cannot map " + std::to_string(bytes) + " bytes");
    }
    auto* start = static_cast<std::byte*>(mapped);
    const std::uint64_t skip =
        (kHugePage - reinterpret_cast<std::uintptr_t>(start) % kHugePage) % kHugePage;
    if (skip != 0) {
      munmap(start, skip);
    }
    munmap(start + skip + bytes, kHugePage - skip);
    std::byte* chunk = start + skip;
    if (k != 0) {
      madvise(chunk, bytes, MADV_HUGEPAGE); // advice: ignored where huge pages are unavailable
    }
    return keep(Chunk(chunk, Release{bytes}), out);
  }

private:
  static constexpr std::uint64_t kHugePage = std::uint64_t{2} << 20;
  struct Release {
    std::uint64_t mapped_bytes = 0; // 0: from the heap
    void operator()(std::byte* p) const noexcept {
      if (mapped_bytes == 0) {
        ::operator delete (p, std::align_val_t{64});
      } else {
        munmap(p, mapped_bytes);
      }
    }
  };
  using Chunk = std::unique_ptr<std::byte, Release>;

  // The chunk is released if the list cannot grow.
  vdb_status keep(Chunk chunk, std::byte** out) {
    *out = chunk.get();
    chunks_.push_back(std::move(chunk));
    return VDB_OK;
  }

  std::vector<Chunk> chunks_;
};

using Table = vdb::storage::StorageTable<RamStore>;
constexpr vdb_storage_api kApi = Table::api(0);
constexpr vdb_plugin_info kInfo =
    Table::info("ram", "records in heap memory, not persistent", &kApi);

} // namespace

extern "C" VDB_PLUGIN_EXPORT vdb_status vdb_plugin_init(const vdb_host_api* host,
                                                        const vdb_plugin_info** info) {
  return vdb::sdk::init(host, &kInfo, info);
}
