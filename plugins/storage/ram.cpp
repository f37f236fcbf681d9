// The `ram` storage backend: chunks on the heap. Not persistent: flush does nothing and every
// open starts empty.
#include "chunked_records.hpp"

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
            : vdb::storage::default_records_per_chunk(options.record_size);
    *out = std::make_unique<RamStore>(options.record_size, per_chunk);
    return VDB_OK;
  }

  vdb_status flush() override { return VDB_OK; }

protected:
  vdb_status allocate_chunk(std::uint64_t /*k*/, std::byte** out) override {
    // 64-byte aligned so that vectors starting a chunk share no cache line with anything else.
    auto* chunk =
        static_cast<std::byte*>(::operator new (chunk_bytes(), std::align_val_t{64}, std::nothrow));
    if (chunk == nullptr) {
      return vdb::sdk::fail(VDB_ERR_OUT_OF_MEMORY, "ram store: cannot allocate " +
                                                       std::to_string(chunk_bytes()) + " bytes");
    }
    chunks_.push_back(Chunk(chunk));
    *out = chunk;
    return VDB_OK;
  }

private:
  struct AlignedDelete {
    void operator()(std::byte* p) const noexcept { ::operator delete (p, std::align_val_t{64}); }
  };
  using Chunk = std::unique_ptr<std::byte, AlignedDelete>;
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
