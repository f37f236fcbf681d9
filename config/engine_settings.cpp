#include "config/engine_settings.hpp"

namespace vdb {

EngineLimits engine_limits(const Settings& settings) {
  const LimitSettings& l = settings.limits;
  EngineLimits out;
  out.max_batch_size = l.max_batch_size;
  out.max_search_limit = l.max_search_limit;
  out.max_payload_bytes = l.max_payload_bytes;
  out.max_vector_dim = l.max_vector_dim;
  out.max_collection_name_length = l.max_collection_name_length;
  out.max_collections = l.max_collections;
  out.filter.max_depth = l.max_filter_depth;
  return out;
}

CollectionConfig collection_defaults(const Settings& settings) {
  const StorageSettings& s = settings.storage;
  CollectionConfig out;
  HnswConfig& h = out.hnsw_config;
  h.m = s.hnsw_index.m;
  h.ef_construct = s.hnsw_index.ef_construct;
  h.full_scan_threshold = s.hnsw_index.full_scan_threshold_kb;
  h.max_indexing_threads = s.hnsw_index.max_indexing_threads;
  h.on_disk = s.hnsw_index.on_disk;
  h.payload_m = s.hnsw_index.payload_m;
  OptimizersConfig& o = out.optimizers_config;
  o.deleted_threshold = s.optimizers.deleted_threshold;
  o.vacuum_min_vector_number = s.optimizers.vacuum_min_vector_number;
  o.default_segment_number = s.optimizers.default_segment_number;
  if (s.optimizers.max_segment_size_kb != 0) {
    o.max_segment_size = s.optimizers.max_segment_size_kb;
  }
  if (s.optimizers.memmap_threshold_kb != 0) {
    o.memmap_threshold = s.optimizers.memmap_threshold_kb;
  }
  o.indexing_threshold = s.optimizers.indexing_threshold_kb;
  o.flush_interval_sec = s.optimizers.flush_interval_sec;
  if (s.performance.max_optimization_threads != 0) {
    o.max_optimization_threads = s.performance.max_optimization_threads;
  }
  out.wal_config.wal_capacity_mb = s.wal.wal_capacity_mb;
  out.wal_config.wal_segments_ahead = s.wal.wal_segments_ahead;
  if (s.quantization.kind == QuantizationSettings::Kind::scalar) {
    QuantizationConfig q;
    q.scalar.type = s.quantization.scalar.type;
    q.scalar.quantile = s.quantization.scalar.quantile;
    q.scalar.always_ram = s.quantization.scalar.always_ram;
    out.quantization_config = q;
  }
  out.on_disk_payload = s.on_disk_payload;
  return out;
}

} // namespace vdb
