// A collection's configuration, in Qdrant's shape: one unnamed vector or several named ones,
// each with a size and a distance, plus the HNSW, optimizer, WAL and quantization settings and
// payload placement. Every setting is stored and returned; later layers give them effect.
#pragma once

#include "core/common/error.hpp"
#include "core/engine/payload.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace vdb {

enum class Distance { cosine, euclid, dot, manhattan };

/// "Cosine", "Euclid", "Dot", "Manhattan".
const char* to_string(Distance distance) noexcept;

struct HnswConfig {
  std::uint32_t m = 16;
  std::uint32_t ef_construct = 100;
  std::uint64_t full_scan_threshold = 10'000; ///< KB of vector data
  std::uint32_t max_indexing_threads = 0;     ///< 0: all cores
  bool on_disk = false;
  std::optional<std::uint32_t> payload_m; ///< unset: m

  /// full_scan_threshold as a number of vectors of `dim` floats.
  std::uint64_t full_scan_points(std::size_t dim) const noexcept {
    return full_scan_threshold * 1024 / (dim * sizeof(float));
  }
  /// The payload-aware links' m: payload_m, or m when it is unset.
  std::uint32_t block_m() const noexcept { return payload_m.value_or(m); }
};

struct OptimizersConfig {
  double deleted_threshold = 0.2; ///< fraction 0..1
  std::uint64_t vacuum_min_vector_number = 1000;
  std::uint32_t default_segment_number = 0;      ///< 0: chosen from the CPU count
  std::optional<std::uint64_t> max_segment_size; ///< KB
  std::optional<std::uint64_t> memmap_threshold; ///< KB; unset: never mmap by size
  std::uint64_t indexing_threshold = 10'000;     ///< KB; 0 disables indexing
  std::uint32_t flush_interval_sec = 5;
  std::optional<std::uint32_t> max_optimization_threads;
};

struct WalConfig {
  std::uint32_t wal_capacity_mb = 32;
  std::uint32_t wal_segments_ahead = 0;
};

struct ScalarQuantization {
  std::string type = "int8";
  std::optional<double> quantile; ///< 0.5..1.0
  std::optional<bool> always_ram;
};

struct QuantizationConfig {
  ScalarQuantization scalar;
};

struct VectorParams {
  std::uint32_t size = 0; ///< 1..65536
  Distance distance = Distance::cosine;
  bool on_disk = false;
  std::optional<HnswConfig> hnsw_config;                 ///< overrides the collection's
  std::optional<QuantizationConfig> quantization_config; ///< overrides the collection's
};

struct CollectionConfig {
  /// The vectors by name; the unnamed vector has the name "".
  std::map<std::string, VectorParams> vectors;
  HnswConfig hnsw_config;
  OptimizersConfig optimizers_config;
  WalConfig wal_config;
  std::optional<QuantizationConfig> quantization_config;
  bool on_disk_payload = true;

  /// Whether the collection has one unnamed vector (requests then give a plain array).
  bool unnamed_vector() const { return vectors.size() == 1 && vectors.count("") == 1; }
};

/// Reads the body of a create-collection request, e.g.
/// {"vectors": {"size": 4, "distance": "Dot"}, "hnsw_config": {"m": 32}}. Sections that are
/// missing, and keys missing from a section, come from `defaults` (whose `vectors` are
/// ignored). Unknown keys, wrong types and out-of-range values are errors naming the field.
Expected<CollectionConfig> parse_collection_config(const Json& body,
                                                   const CollectionConfig& defaults = {},
                                                   std::uint32_t max_vector_dim = 65536);

/// The configuration in the same JSON shape.
Json to_json(const CollectionConfig& config);

} // namespace vdb
