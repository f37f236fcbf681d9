// What every collection of a database shares: the distance backend chosen at start-up, the
// storage plugin that holds vectors, and the limits of a request.
#pragma once

#include "core/engine/filter.hpp"
#include "core/plugin_host/distance_backend.hpp"
#include "core/plugin_host/plugin.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>

namespace vdb {

/// Bounds on what one request may ask for (config section `limits`).
struct EngineLimits {
  std::size_t max_batch_size = 10'000;   ///< points per upsert, ids per selector
  std::size_t max_search_limit = 10'000; ///< limit + offset of a search or scroll
  std::size_t max_payload_bytes = 1 << 20;
  std::uint32_t max_vector_dim = 65'536;
  std::size_t max_collection_name_length = 255;
  std::size_t max_collections = 0; ///< 0: no limit
  FilterLimits filter;
};

/// What every collection shares: the distance backend chosen at start-up, the storage plugin
/// that holds vectors, and the limits.
struct EngineContext {
  DistanceBackend distance;
  std::shared_ptr<const Plugin> vector_storage;
  EngineLimits limits;
  /// Each collection runs its optimizer on a thread of its own. False when the caller drives
  /// optimization itself (the actor runtime's indexing actors call Collection::optimize_now).
  bool background_optimizer = true;
  /// The persistent storage plugin for segments placed in files (memmap_threshold, on_disk);
  /// null: every segment keeps its vectors with `vector_storage`.
  std::shared_ptr<const Plugin> mmap_storage = nullptr;
  /// Rescoring reads the candidates' originals of segments kept in files with the store's
  /// read_many (io_uring) instead of through the mapping (storage.performance.async_scorer).
  bool async_scorer = false;
};

} // namespace vdb
