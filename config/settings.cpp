#include "config/settings.hpp"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <limits>
#include <map>
#include <sstream>

extern char** environ; // NOLINT(readability-identifier-naming): POSIX name

namespace vdb {
namespace {

constexpr std::string_view kEnvPrefix = "VDB__";

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
  case YAML::NodeType::Map:
    return "a mapping";
  case YAML::NodeType::Sequence:
    return "a list";
  case YAML::NodeType::Null:
    return "null";
  case YAML::NodeType::Scalar:
    return "'" + node.Scalar() + "'";
  default:
    return "nothing";
  }
}

std::vector<std::string> split(const std::string& text, std::string_view sep) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t at = text.find(sep, start);
    parts.push_back(text.substr(start, at - start));
    if (at == std::string::npos) {
      return parts;
    }
    start = at + sep.size();
  }
}

/// The merged YAML tree and, for every key set above the defaults, where its value came from.
class Layers {
public:
  explicit Layers(const YAML::Node& defaults) : root_(defaults) {}

  Status overlay(const YAML::Node& node, const std::string& source) {
    if (node.IsNull()) {
      return {}; // an empty file changes nothing
    }
    if (!node.IsMap()) {
      return {Errc::invalid_argument, source + ": the top level must be a mapping"};
    }
    return merge(root_, node, "", source);
  }

  /// Sets one dotted key path from a text value (environment or command line).
  Status set(const std::string& dotted, const std::string& text, const std::string& source) {
    YAML::Node value;
    const bool structured = !text.empty() && (text.front() == '[' || text.front() == '{');
    if (structured) {
      try {
        value = YAML::Load(text);
      } catch (const YAML::Exception& e) {
        return {Errc::invalid_argument,
                "config key '" + dotted + "' (" + source + "): cannot parse: " + e.msg};
      }
    } else {
      value = YAML::Node(text);
    }
    YAML::Node wrapped(YAML::NodeType::Map);
    YAML::Node cursor = wrapped;
    const auto keys = split(dotted, ".");
    for (std::size_t i = 0; i + 1 < keys.size(); ++i) {
      cursor[keys[i]] = YAML::Node(YAML::NodeType::Map);
      cursor.reset(cursor[keys[i]]); // rebind; operator= would overwrite the node
    }
    cursor[keys.back()] = value;
    return overlay(wrapped, source);
  }

  const YAML::Node& root() const noexcept { return root_; }
  std::string origin(const std::string& path) const {
    const auto it = origin_.find(path);
    return it == origin_.end() ? "defaults" : it->second;
  }

private:
  Status merge(YAML::Node base, const YAML::Node& over, const std::string& prefix,
               const std::string& source) {
    for (const auto& item : over) {
      const std::string key = item.first.as<std::string>();
      const std::string path = prefix.empty() ? key : prefix + "." + key;
      const YAML::Node& const_base = base;
      const YAML::Node existing = const_base[key];
      if (!existing.IsDefined()) {
        return {Errc::invalid_argument, "unknown config key '" + path + "' (" + source + ")"};
      }
      if (existing.IsMap()) {
        if (!item.second.IsMap()) {
          return {Errc::invalid_argument, "config key '" + path + "' (" + source +
                                              "): expected a mapping, got " +
                                              describe(item.second)};
        }
        VDB_TRY(merge(base[key], item.second, path, source));
      } else {
        base[key] = YAML::Clone(item.second);
        origin_[path] = source;
      }
    }
    return {};
  }

  YAML::Node root_;
  std::map<std::string, std::string> origin_;
};

/// Reads typed values by dotted path; each error names the path and where the value came from.
class Decoder {
public:
  explicit Decoder(const Layers& layers) : layers_(layers) {}

  template <class T> Status integer(const std::string& path, T* out, long long min, long long max) {
    const YAML::Node node = at(path);
    long long value = 0;
    try {
      value = node.as<long long>();
    } catch (const YAML::Exception&) {
      return wrong(path, "an integer", node);
    }
    if (value < min || value > max) {
      return range(path, std::to_string(min), std::to_string(max), node);
    }
    *out = static_cast<T>(value);
    return {};
  }

  Status real(const std::string& path, double* out, double min, double max) {
    const YAML::Node node = at(path);
    try {
      *out = node.as<double>();
    } catch (const YAML::Exception&) {
      return wrong(path, "a number", node);
    }
    if (!(*out >= min && *out <= max)) {
      std::ostringstream lo;
      std::ostringstream hi;
      lo << min;
      hi << max;
      return range(path, lo.str(), hi.str(), node);
    }
    return {};
  }

  Status boolean(const std::string& path, bool* out) {
    const YAML::Node node = at(path);
    try {
      *out = node.as<bool>();
    } catch (const YAML::Exception&) {
      return wrong(path, "true or false", node);
    }
    return {};
  }

  Status string(const std::string& path, std::string* out, bool allow_empty = true) {
    const YAML::Node node = at(path);
    if (!node.IsScalar()) {
      return wrong(path, "a string", node);
    }
    *out = node.Scalar();
    if (!allow_empty && out->empty()) {
      return fail(path, "must not be empty");
    }
    return {};
  }

  Status strings(const std::string& path, std::vector<std::string>* out) {
    const YAML::Node node = at(path);
    if (!node.IsSequence()) {
      return wrong(path, "a list of strings", node);
    }
    out->clear();
    for (const auto& item : node) {
      if (!item.IsScalar()) {
        return wrong(path, "a list of strings", node);
      }
      out->push_back(item.Scalar());
    }
    return {};
  }

  Status fail(const std::string& path, const std::string& what) const {
    return {Errc::invalid_argument,
            "config key '" + path + "' (" + layers_.origin(path) + "): " + what};
  }

private:
  YAML::Node at(const std::string& path) const {
    YAML::Node node = layers_.root(); // a handle: reset() below rebinds it, never writes
    for (const std::string& key : split(path, ".")) {
      const YAML::Node& const_node = node;
      node.reset(const_node[key]);
    }
    return node;
  }

  Status wrong(const std::string& path, const std::string& expected, const YAML::Node& node) const {
    return fail(path, "expected " + expected + ", got " + describe(node));
  }
  Status range(const std::string& path, const std::string& min, const std::string& max,
               const YAML::Node& node) const {
    return fail(path, "must be between " + min + " and " + max + ", got " + describe(node));
  }

  const Layers& layers_;
};

constexpr long long kU32 = std::numeric_limits<std::uint32_t>::max();
constexpr long long kI64 = std::numeric_limits<long long>::max();

Status decode_service(Decoder& d, ServiceSettings& s) {
  VDB_TRY(d.string("service.host", &s.host, false));
  VDB_TRY(d.integer("service.rpc_port", &s.rpc_port, 0, 65535));
  VDB_TRY(d.string("service.api_key", &s.api_key));
  VDB_TRY(d.string("service.read_only_api_key", &s.read_only_api_key));
  VDB_TRY(d.integer("service.max_request_size_mb", &s.max_request_size_mb, 1, 2048));
  VDB_TRY(d.integer("service.max_workers", &s.max_workers, 0, 1024));
  if (!s.api_key.empty() && s.api_key == s.read_only_api_key) {
    return d.fail("service.read_only_api_key", "must differ from service.api_key");
  }
  return {};
}

Status decode_storage(Decoder& d, StorageSettings& s) {
  VDB_TRY(d.string("storage.storage_path", &s.storage_path, false));
  VDB_TRY(d.string("storage.snapshots_path", &s.snapshots_path, false));
  VDB_TRY(d.boolean("storage.on_disk_payload", &s.on_disk_payload));
  VDB_TRY(d.integer("storage.wal.wal_capacity_mb", &s.wal.wal_capacity_mb, 1, 4096));
  VDB_TRY(d.integer("storage.wal.wal_segments_ahead", &s.wal.wal_segments_ahead, 0, 64));
  auto& perf = s.performance;
  VDB_TRY(d.integer("storage.performance.max_search_threads", &perf.max_search_threads, 0, 1024));
  VDB_TRY(d.integer("storage.performance.max_optimization_threads", &perf.max_optimization_threads,
                    0, 1024));
  VDB_TRY(d.boolean("storage.performance.async_scorer", &perf.async_scorer));
  auto& opt = s.optimizers;
  VDB_TRY(d.real("storage.optimizers.deleted_threshold", &opt.deleted_threshold, 0.0, 1.0));
  VDB_TRY(d.integer("storage.optimizers.vacuum_min_vector_number", &opt.vacuum_min_vector_number, 0,
                    kI64));
  VDB_TRY(
      d.integer("storage.optimizers.default_segment_number", &opt.default_segment_number, 0, 1024));
  VDB_TRY(d.integer("storage.optimizers.max_segment_size_kb", &opt.max_segment_size_kb, 0, kI64));
  VDB_TRY(d.integer("storage.optimizers.memmap_threshold_kb", &opt.memmap_threshold_kb, 0, kI64));
  VDB_TRY(
      d.integer("storage.optimizers.indexing_threshold_kb", &opt.indexing_threshold_kb, 0, kI64));
  VDB_TRY(d.integer("storage.optimizers.flush_interval_sec", &opt.flush_interval_sec, 1, 86400));
  auto& hnsw = s.hnsw_index;
  VDB_TRY(d.integer("storage.hnsw_index.m", &hnsw.m, 0, 512));
  VDB_TRY(d.integer("storage.hnsw_index.ef_construct", &hnsw.ef_construct, 4, 100000));
  VDB_TRY(d.integer("storage.hnsw_index.full_scan_threshold_kb", &hnsw.full_scan_threshold_kb, 0,
                    kI64));
  VDB_TRY(
      d.integer("storage.hnsw_index.max_indexing_threads", &hnsw.max_indexing_threads, 0, 1024));
  VDB_TRY(d.boolean("storage.hnsw_index.on_disk", &hnsw.on_disk));
  VDB_TRY(d.integer("storage.hnsw_index.payload_m", &hnsw.payload_m, 0, 512));
  auto& q = s.quantization;
  std::string kind;
  VDB_TRY(d.string("storage.quantization.kind", &kind));
  if (kind == "none") {
    q.kind = QuantizationSettings::Kind::none;
  } else if (kind == "scalar") {
    q.kind = QuantizationSettings::Kind::scalar;
  } else {
    return d.fail("storage.quantization.kind", "expected none or scalar, got '" + kind + "'");
  }
  VDB_TRY(d.string("storage.quantization.scalar.type", &q.scalar.type));
  if (q.scalar.type != "int8") {
    return d.fail("storage.quantization.scalar.type", "expected int8, got '" + q.scalar.type + "'");
  }
  VDB_TRY(d.real("storage.quantization.scalar.quantile", &q.scalar.quantile, 0.5, 1.0));
  VDB_TRY(d.boolean("storage.quantization.scalar.always_ram", &q.scalar.always_ram));
  return {};
}

Status decode_plugins(Decoder& d, PluginSettings& s) {
  VDB_TRY(d.string("plugins.dir", &s.dir));
  VDB_TRY(d.strings("plugins.load", &s.load));
  VDB_TRY(d.string("plugins.distance_backend", &s.distance_backend, false));
  for (const char c : s.distance_backend) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '_' && c != '-') {
      return d.fail("plugins.distance_backend",
                    "expected auto or a plugin name, got '" + s.distance_backend + "'");
    }
  }
  return {};
}

Status decode_limits(Decoder& d, LimitSettings& s) {
  VDB_TRY(d.integer("limits.max_batch_size", &s.max_batch_size, 1, kU32));
  VDB_TRY(d.integer("limits.max_search_limit", &s.max_search_limit, 1, kU32));
  VDB_TRY(d.integer("limits.max_filter_depth", &s.max_filter_depth, 1, 1000));
  VDB_TRY(d.integer("limits.max_payload_bytes", &s.max_payload_bytes, 1, kI64));
  VDB_TRY(d.integer("limits.max_vector_dim", &s.max_vector_dim, 1, 65536));
  VDB_TRY(d.integer("limits.max_collection_name_length", &s.max_collection_name_length, 1, 4096));
  VDB_TRY(d.integer("limits.max_collections", &s.max_collections, 0, kU32));
  VDB_TRY(d.integer("limits.request_timeout_ms", &s.request_timeout_ms, 1, kU32));
  return {};
}

Expected<Settings> decode(const Layers& layers) {
  Decoder d(layers);
  Settings s;
  VDB_TRY(decode_service(d, s.service));
  VDB_TRY(decode_storage(d, s.storage));
  VDB_TRY(decode_plugins(d, s.plugins));
  std::string level;
  VDB_TRY(d.string("logging.level", &level));
  if (!log::parse_level(level, &s.logging.level)) {
    return d.fail("logging.level", "expected debug, info, warn, error or off, got '" + level + "'")
        .error();
  }
  VDB_TRY(decode_limits(d, s.limits));
  return s;
}

std::string lower(std::string text) {
  for (char& c : text) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return text;
}

} // namespace

std::vector<std::pair<std::string, std::string>> process_environment() {
  std::vector<std::pair<std::string, std::string>> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string entry = *e;
    const std::size_t eq = entry.find('=');
    if (eq != std::string::npos) {
      env.emplace_back(entry.substr(0, eq), entry.substr(eq + 1));
    }
  }
  return env;
}

Expected<Settings> load_settings(const SettingsSources& sources) {
  YAML::Node defaults;
  try {
    defaults = YAML::Load(default_settings_yaml());
  } catch (const YAML::Exception& e) {
    return Error{Errc::internal, std::string("compiled-in defaults do not parse: ") + e.what()};
  }
  Layers layers(defaults);
  if (!sources.config_file.empty()) {
    YAML::Node file;
    try {
      file = YAML::LoadFile(sources.config_file);
    } catch (const YAML::BadFile&) {
      return Error{Errc::not_found, "config file " + sources.config_file + ": cannot be read"};
    } catch (const YAML::Exception& e) {
      return Error{Errc::invalid_argument, "config file " + sources.config_file + ": " + e.what()};
    }
    VDB_TRY(layers.overlay(file, "file " + sources.config_file));
  }
  for (const auto& [name, value] : sources.environment) {
    if (name.rfind(kEnvPrefix, 0) != 0) {
      continue;
    }
    std::string path;
    for (const std::string& part : split(name.substr(kEnvPrefix.size()), "__")) {
      path += (path.empty() ? "" : ".") + lower(part);
    }
    VDB_TRY(layers.set(path, value, "environment " + name));
  }
  for (const std::string& item : sources.overrides) {
    const std::size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Error{Errc::invalid_argument,
                   "command-line setting '" + item + "': expected --section.key=value"};
    }
    VDB_TRY(layers.set(item.substr(0, eq), item.substr(eq + 1), "command line"));
  }
  return decode(layers);
}

} // namespace vdb
