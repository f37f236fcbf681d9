#include "core/engine/collection_config.hpp"

#include <limits>
#include <set>

namespace vdb {
namespace {

// Reads the keys of one JSON object into typed fields, remembering which keys it knows, so
// finish() can name the first unknown one. Every read keeps the current value when the key is
// missing or null.
class ObjectReader {
public:
  ObjectReader(const Json& object, std::string field) : object_(object), field_(std::move(field)) {}

  Status begin() const {
    if (!object_.is_object()) {
      return invalid(field_, std::string("must be an object, got ") + object_.type_name());
    }
    return {};
  }

  template <class T>
  Status integer(const char* key, T& out, std::uint64_t min = 0,
                 std::uint64_t max = std::numeric_limits<T>::max()) {
    const Json* v = take(key);
    if (v == nullptr) {
      return {};
    }
    const bool non_negative =
        v->is_number_unsigned() || (v->is_number_integer() && v->get<std::int64_t>() >= 0);
    if (!non_negative || v->get<std::uint64_t>() < min || v->get<std::uint64_t>() > max) {
      return invalid(at(key),
                     "must be an integer in " + std::to_string(min) + ".." + std::to_string(max));
    }
    out = static_cast<T>(v->get<std::uint64_t>());
    return {};
  }

  template <class T>
  Status optional_integer(const char* key, std::optional<T>& out, std::uint64_t min = 0,
                          std::uint64_t max = std::numeric_limits<T>::max()) {
    if (const Json* v = find(key); v != nullptr && !v->is_null()) {
      T value{};
      VDB_TRY(integer(key, value, min, max));
      out = value;
    } else {
      take(key);
    }
    return {};
  }

  Status number(const char* key, double& out, double min, double max) {
    const Json* v = take(key);
    if (v == nullptr) {
      return {};
    }
    if (!v->is_number() || !(v->get<double>() >= min && v->get<double>() <= max)) {
      return invalid(at(key), "must be a number in " + format(min) + ".." + format(max));
    }
    out = v->get<double>();
    return {};
  }

  Status boolean(const char* key, bool& out) {
    const Json* v = take(key);
    if (v == nullptr) {
      return {};
    }
    if (!v->is_boolean()) {
      return invalid(at(key), "must be true or false");
    }
    out = v->get<bool>();
    return {};
  }

  /// The value under `key` (not null), marked as known.
  const Json* take(const char* key) {
    known_.insert(key);
    const Json* v = find(key);
    return v == nullptr || v->is_null() ? nullptr : v;
  }

  Status finish() const {
    for (const auto& [key, value] : object_.items()) {
      if (known_.count(key) == 0) {
        return invalid(at(key), "unknown field");
      }
    }
    return {};
  }

  std::string at(const std::string& key) const { return field_ + "." + key; }

private:
  const Json* find(const char* key) const {
    const auto it = object_.find(key);
    return it == object_.end() ? nullptr : &*it;
  }
  static std::string format(double v) {
    std::string s = std::to_string(v);
    s.erase(s.find_last_not_of('0') + 1);
    if (!s.empty() && s.back() == '.') {
      s.pop_back();
    }
    return s;
  }

  const Json& object_;
  std::string field_;
  std::set<std::string> known_;
};

Status read_hnsw(const Json& j, const std::string& field, HnswConfig& out) {
  ObjectReader r(j, field);
  VDB_TRY(r.begin());
  VDB_TRY(r.integer("m", out.m, 0, 1024));
  VDB_TRY(r.integer("ef_construct", out.ef_construct, 4, 65536));
  VDB_TRY(r.integer("full_scan_threshold", out.full_scan_threshold));
  VDB_TRY(r.integer("max_indexing_threads", out.max_indexing_threads, 0, 4096));
  VDB_TRY(r.boolean("on_disk", out.on_disk));
  VDB_TRY(r.optional_integer("payload_m", out.payload_m, 0, 1024));
  return r.finish();
}

Status read_optimizers(const Json& j, const std::string& field, OptimizersConfig& out) {
  ObjectReader r(j, field);
  VDB_TRY(r.begin());
  VDB_TRY(r.number("deleted_threshold", out.deleted_threshold, 0.0, 1.0));
  VDB_TRY(r.integer("vacuum_min_vector_number", out.vacuum_min_vector_number, 100));
  VDB_TRY(r.integer("default_segment_number", out.default_segment_number, 0, 1024));
  VDB_TRY(r.optional_integer("max_segment_size", out.max_segment_size, 1));
  VDB_TRY(r.optional_integer("memmap_threshold", out.memmap_threshold));
  VDB_TRY(r.integer("indexing_threshold", out.indexing_threshold));
  VDB_TRY(r.integer("flush_interval_sec", out.flush_interval_sec));
  VDB_TRY(r.optional_integer("max_optimization_threads", out.max_optimization_threads));
  return r.finish();
}

Status read_wal(const Json& j, const std::string& field, WalConfig& out) {
  ObjectReader r(j, field);
  VDB_TRY(r.begin());
  VDB_TRY(r.integer("wal_capacity_mb", out.wal_capacity_mb, 1));
  VDB_TRY(r.integer("wal_segments_ahead", out.wal_segments_ahead));
  return r.finish();
}

Status read_quantization(const Json& j, const std::string& field,
                         std::optional<QuantizationConfig>& out) {
  if (j.is_string() && j.get<std::string>() == "Disabled") {
    out.reset();
    return {};
  }
  ObjectReader r(j, field);
  VDB_TRY(r.begin());
  const Json* scalar = r.take("scalar");
  VDB_TRY(r.finish());
  if (scalar == nullptr) {
    return invalid(field, "give `scalar` (the only quantization VDB has), or \"Disabled\"");
  }
  QuantizationConfig q;
  ObjectReader s(*scalar, field + ".scalar");
  VDB_TRY(s.begin());
  if (const Json* type = s.take("type"); type == nullptr || *type != "int8") {
    return invalid(s.at("type"), "must be \"int8\"");
  }
  double quantile = 0.99;
  const bool has_quantile = scalar->contains("quantile") && !(*scalar)["quantile"].is_null();
  VDB_TRY(s.number("quantile", quantile, 0.5, 1.0));
  if (has_quantile) {
    q.scalar.quantile = quantile;
  }
  bool always_ram = false;
  const bool has_always_ram = scalar->contains("always_ram") && !(*scalar)["always_ram"].is_null();
  VDB_TRY(s.boolean("always_ram", always_ram));
  if (has_always_ram) {
    q.scalar.always_ram = always_ram;
  }
  VDB_TRY(s.finish());
  out = q;
  return {};
}

Expected<Distance> read_distance(const Json& j, const std::string& field) {
  if (j.is_string()) {
    for (const Distance d :
         {Distance::cosine, Distance::euclid, Distance::dot, Distance::manhattan}) {
      if (j.get<std::string>() == to_string(d)) {
        return d;
      }
    }
  }
  return invalid(field, "must be one of \"Cosine\", \"Euclid\", \"Dot\", \"Manhattan\"");
}

Expected<VectorParams> read_vector(const Json& j, const std::string& field, std::uint32_t max_dim) {
  ObjectReader r(j, field);
  VDB_TRY(r.begin());
  VectorParams out;
  if (!j.contains("size")) {
    return invalid(field + ".size", "is required");
  }
  VDB_TRY(r.integer("size", out.size, 1, max_dim));
  const Json* distance = r.take("distance");
  if (distance == nullptr) {
    return invalid(field + ".distance", "is required");
  }
  auto d = read_distance(*distance, field + ".distance");
  VDB_TRY(d);
  out.distance = *d;
  VDB_TRY(r.boolean("on_disk", out.on_disk));
  if (const Json* h = r.take("hnsw_config")) {
    HnswConfig hnsw;
    VDB_TRY(read_hnsw(*h, field + ".hnsw_config", hnsw));
    out.hnsw_config = hnsw;
  }
  if (const Json* q = r.take("quantization_config")) {
    VDB_TRY(read_quantization(*q, field + ".quantization_config", out.quantization_config));
  }
  VDB_TRY(r.finish());
  return out;
}

Status check_vector_name(const std::string& name, const std::string& field) {
  if (name.empty() || name.size() > 255) {
    return invalid(field, "a vector name must have 1 to 255 characters");
  }
  return {};
}

Json hnsw_json(const HnswConfig& h) {
  Json j{{"m", h.m},
         {"ef_construct", h.ef_construct},
         {"full_scan_threshold", h.full_scan_threshold},
         {"max_indexing_threads", h.max_indexing_threads},
         {"on_disk", h.on_disk}};
  j["payload_m"] = h.payload_m ? Json(*h.payload_m) : Json();
  return j;
}

Json quantization_json(const QuantizationConfig& q) {
  Json s{{"type", q.scalar.type}};
  if (q.scalar.quantile) {
    s["quantile"] = *q.scalar.quantile;
  }
  if (q.scalar.always_ram) {
    s["always_ram"] = *q.scalar.always_ram;
  }
  return Json{{"scalar", s}};
}

template <class T> Json optional_json(const std::optional<T>& v) { return v ? Json(*v) : Json(); }

} // namespace

const char* to_string(Distance distance) noexcept {
  switch (distance) {
  case Distance::cosine:
    return "Cosine";
  case Distance::euclid:
    return "Euclid";
  case Distance::dot:
    return "Dot";
  case Distance::manhattan:
    return "Manhattan";
  }
  return "?";
}

Expected<CollectionConfig> parse_collection_config(const Json& body,
                                                   const CollectionConfig& defaults,
                                                   std::uint32_t max_vector_dim) {
  CollectionConfig out = defaults;
  out.vectors.clear();
  ObjectReader r(body, "collection");
  VDB_TRY(r.begin());
  const Json* vectors = r.take("vectors");
  if (vectors == nullptr) {
    return invalid("collection.vectors", "is required: {size, distance} or named vectors");
  }
  if (!vectors->is_object()) {
    return invalid("collection.vectors", "must be an object");
  }
  if (vectors->contains("size") || vectors->contains("distance")) {
    auto v = read_vector(*vectors, "collection.vectors", max_vector_dim);
    VDB_TRY(v);
    out.vectors[""] = *v;
  } else {
    if (vectors->empty()) {
      return invalid("collection.vectors", "name at least one vector, or give {size, distance}");
    }
    for (const auto& [name, params] : vectors->items()) {
      const std::string field = "collection.vectors." + name;
      VDB_TRY(check_vector_name(name, field));
      auto v = read_vector(params, field, max_vector_dim);
      VDB_TRY(v);
      out.vectors[name] = *v;
    }
  }
  if (const Json* h = r.take("hnsw_config")) {
    VDB_TRY(read_hnsw(*h, "collection.hnsw_config", out.hnsw_config));
  }
  if (const Json* o = r.take("optimizers_config")) {
    VDB_TRY(read_optimizers(*o, "collection.optimizers_config", out.optimizers_config));
  }
  if (const Json* w = r.take("wal_config")) {
    VDB_TRY(read_wal(*w, "collection.wal_config", out.wal_config));
  }
  if (const Json* q = r.take("quantization_config")) {
    VDB_TRY(read_quantization(*q, "collection.quantization_config", out.quantization_config));
  }
  VDB_TRY(r.boolean("on_disk_payload", out.on_disk_payload));
  VDB_TRY(r.finish());
  for (const auto& [name, v] : out.vectors) {
    if (v.quantization_config && v.distance == Distance::manhattan) {
      return invalid(name.empty() ? "collection.vectors.quantization_config"
                                  : "collection.vectors." + name + ".quantization_config",
                     "scalar quantization serves Cosine, Dot and Euclid, not Manhattan");
    }
  }
  return out;
}

Json to_json(const CollectionConfig& config) {
  const auto vector_json = [](const VectorParams& v) {
    Json j{{"size", v.size}, {"distance", to_string(v.distance)}, {"on_disk", v.on_disk}};
    if (v.hnsw_config) {
      j["hnsw_config"] = hnsw_json(*v.hnsw_config);
    }
    if (v.quantization_config) {
      j["quantization_config"] = quantization_json(*v.quantization_config);
    }
    return j;
  };
  Json vectors = Json::object();
  if (config.unnamed_vector()) {
    vectors = vector_json(config.vectors.at(""));
  } else {
    for (const auto& [name, v] : config.vectors) {
      vectors[name] = vector_json(v);
    }
  }
  const OptimizersConfig& o = config.optimizers_config;
  return Json{{"vectors", vectors},
              {"hnsw_config", hnsw_json(config.hnsw_config)},
              {"optimizers_config",
               {{"deleted_threshold", o.deleted_threshold},
                {"vacuum_min_vector_number", o.vacuum_min_vector_number},
                {"default_segment_number", o.default_segment_number},
                {"max_segment_size", optional_json(o.max_segment_size)},
                {"memmap_threshold", optional_json(o.memmap_threshold)},
                {"indexing_threshold", o.indexing_threshold},
                {"flush_interval_sec", o.flush_interval_sec},
                {"max_optimization_threads", optional_json(o.max_optimization_threads)}}},
              {"wal_config",
               {{"wal_capacity_mb", config.wal_config.wal_capacity_mb},
                {"wal_segments_ahead", config.wal_config.wal_segments_ahead}}},
              {"quantization_config", config.quantization_config
                                          ? quantization_json(*config.quantization_config)
                                          : Json()},
              {"on_disk_payload", config.on_disk_payload}};
}

} // namespace vdb
