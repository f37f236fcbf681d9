// What the engine takes from the settings: the limits of a request and the defaults of a new
// collection (the `storage.*` sections), so every consumer derives them the same way.
#pragma once

#include "config/settings.hpp"
#include "core/engine/collection.hpp"

namespace vdb {

/// `limits.*` as engine limits.
EngineLimits engine_limits(const Settings& settings);

/// The configuration a create-collection request starts from: `storage.hnsw_index`,
/// `storage.optimizers` (a 0 in `max_segment_size_kb` or `memmap_threshold_kb` means unset),
/// `storage.wal`, `storage.quantization` and `storage.on_disk_payload`.
CollectionConfig collection_defaults(const Settings& settings);

} // namespace vdb
