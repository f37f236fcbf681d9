// The typed configuration, decoded once from the layered YAML (see config/defaults.yaml for every
// key and its meaning) and passed down explicitly: nothing reads configuration from a global.
#pragma once

#include "core/common/error.hpp"
#include "core/common/log.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vdb {

struct ServiceSettings {
  std::string host;
  std::uint16_t rpc_port = 0;
  std::string api_key;
  std::string read_only_api_key;
  std::uint32_t max_request_size_mb = 0;
  std::uint32_t max_workers = 0;
};

struct WalSettings {
  std::uint32_t wal_capacity_mb = 0;
  std::uint32_t wal_segments_ahead = 0;
};

struct PerformanceSettings {
  std::uint32_t max_search_threads = 0;
  std::uint32_t max_optimization_threads = 0;
  bool async_scorer = false;
};

struct OptimizerSettings {
  double deleted_threshold = 0;
  std::uint64_t vacuum_min_vector_number = 0;
  std::uint32_t default_segment_number = 0;
  std::uint64_t max_segment_size_kb = 0;
  std::uint64_t memmap_threshold_kb = 0;
  std::uint64_t indexing_threshold_kb = 0;
  std::uint32_t flush_interval_sec = 0;
};

struct HnswSettings {
  std::uint32_t m = 0;
  std::uint32_t ef_construct = 0;
  std::uint64_t full_scan_threshold_kb = 0;
  std::uint32_t max_indexing_threads = 0;
  bool on_disk = false;
  std::uint32_t payload_m = 0;
};

struct ScalarQuantizationSettings {
  std::string type;
  double quantile = 0;
  bool always_ram = false;
};

struct QuantizationSettings {
  enum class Kind { none, scalar };
  Kind kind = Kind::none;
  ScalarQuantizationSettings scalar;
};

struct StorageSettings {
  std::string storage_path;
  std::string snapshots_path;
  bool on_disk_payload = false;
  WalSettings wal;
  PerformanceSettings performance;
  OptimizerSettings optimizers;
  HnswSettings hnsw_index;
  QuantizationSettings quantization;
};

struct PluginSettings {
  std::string dir;
  std::vector<std::string> load;
  std::string distance_backend;
};

struct LoggingSettings {
  log::Level level = log::Level::info;
};

struct LimitSettings {
  std::uint32_t max_batch_size = 0;
  std::uint32_t max_search_limit = 0;
  std::uint32_t max_filter_depth = 0;
  std::uint64_t max_payload_bytes = 0;
  std::uint32_t max_vector_dim = 0;
  std::uint32_t max_collection_name_length = 0;
  std::uint32_t max_collections = 0;
  std::uint32_t request_timeout_ms = 0;
};

struct Settings {
  ServiceSettings service;
  StorageSettings storage;
  PluginSettings plugins;
  LoggingSettings logging;
  LimitSettings limits;
};

/// The layers above the compiled-in defaults.
struct SettingsSources {
  /// A YAML file (--config); none when empty.
  std::string config_file;
  /// Environment variables; only names starting with VDB__ are read (VDB__SERVICE__RPC_PORT sets
  /// service.rpc_port).
  std::vector<std::pair<std::string, std::string>> environment;
  /// Command-line overrides "section.key=value", applied last.
  std::vector<std::string> overrides;
};

/// The environment of this process, for SettingsSources::environment.
std::vector<std::pair<std::string, std::string>> process_environment();

/// The text of config/defaults.yaml, compiled in.
const char* default_settings_yaml() noexcept;

/// Layers defaults -> file -> environment -> overrides and decodes the result. Errors name the
/// key path and where the bad value came from.
Expected<Settings> load_settings(const SettingsSources& sources);

} // namespace vdb
