#include "core/plugin_host/plugin_registry.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace vdb {
namespace fs = std::filesystem;

namespace {
constexpr std::string_view kPrefix = "libvdb_";
constexpr std::string_view kSuffix = ".so";
constexpr std::string_view kDistancePrefix = "distance_";

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    out += (out.empty() ? "" : ", ") + item;
  }
  return out;
}
} // namespace

std::string PluginRegistry::stem(const std::string& path) {
  const std::string file = fs::path(path).filename().string();
  if (file.size() <= kPrefix.size() + kSuffix.size() || file.rfind(kPrefix, 0) != 0 ||
      file.compare(file.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0) {
    return {};
  }
  return file.substr(kPrefix.size(), file.size() - kPrefix.size() - kSuffix.size());
}

std::string PluginRegistry::cpu_refusal(const std::string& path) const {
  const std::string s = stem(path);
  if (s.rfind(kDistancePrefix, 0) != 0) {
    return {};
  }
  const std::string backend = s.substr(kDistancePrefix.size());
  const auto missing = missing_features(backend, cpu_);
  if (missing.empty()) {
    return {};
  }
  return "distance backend " + backend + " needs CPU features this machine lacks: " + join(missing);
}

Status PluginRegistry::load(const std::string& path) {
  if (std::string why = cpu_refusal(path); !why.empty()) {
    return {Errc::unsupported, "plugin " + path + " not loaded: " + why};
  }
  auto plugin = Plugin::load(path);
  if (!plugin) {
    return plugin.error();
  }
  if (const auto existing = find((*plugin)->kind(), (*plugin)->name())) {
    return {Errc::already_exists, "plugin " + path + " refused: a " + to_string((*plugin)->kind()) +
                                      " plugin named " + (*plugin)->name() +
                                      " is already loaded from " + existing->path()};
  }
  plugins_.push_back(std::move(*plugin));
  return {};
}

Status PluginRegistry::discover(const std::string& dir,
                                const std::vector<std::string>& explicit_list) {
  std::vector<std::string> found;
  if (!dir.empty()) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (entry.is_regular_file(ec) && !stem(entry.path().string()).empty()) {
        found.push_back(entry.path().string());
      }
    }
    if (ec) {
      return {Errc::not_found, "plugins.dir " + dir + ": " + ec.message()};
    }
    std::sort(found.begin(), found.end());
  }
  for (const std::string& path : found) {
    if (std::string why = cpu_refusal(path); !why.empty()) {
      skipped_.push_back({path, why});
      continue;
    }
    if (Status s = load(path); !s.ok()) {
      refused_.push_back({path, s.message()});
    }
  }
  for (const std::string& entry : explicit_list) {
    const bool is_path = entry.find('/') != std::string::npos;
    const std::string path =
        is_path ? entry
                : (fs::path(dir) / (std::string(kPrefix) + entry + std::string(kSuffix))).string();
    if (std::find(found.begin(), found.end(), path) != found.end()) {
      continue; // already discovered
    }
    if (Status s = load(path); !s.ok()) {
      return {s.code(), "plugins.load: " + s.message()};
    }
  }
  return {};
}

std::shared_ptr<const Plugin> PluginRegistry::find(vdb_plugin_kind kind,
                                                   std::string_view name) const {
  for (const auto& p : plugins_) {
    if (p->kind() == kind && p->name() == name) {
      return p;
    }
  }
  return nullptr;
}

std::vector<std::shared_ptr<const Plugin>> PluginRegistry::plugins(vdb_plugin_kind kind) const {
  std::vector<std::shared_ptr<const Plugin>> out;
  for (const auto& p : plugins_) {
    if (p->kind() == kind) {
      out.push_back(p);
    }
  }
  return out;
}

Expected<DistanceBackend> PluginRegistry::choose_distance(std::string_view setting) const {
  if (setting == "auto") {
    for (const std::string& name : builtin_distance_preference()) {
      if (auto plugin = find(VDB_PLUGIN_DISTANCE, name)) {
        return DistanceBackend(std::move(plugin));
      }
    }
    return Error{Errc::not_found,
                 "distance_backend auto: no built-in distance plugin is loaded (is plugins.dir "
                 "right?)"};
  }
  if (auto plugin = find(VDB_PLUGIN_DISTANCE, setting)) {
    return DistanceBackend(std::move(plugin));
  }
  std::string name(setting);
  if (auto missing = missing_features(name, cpu_); !missing.empty()) {
    return Error{Errc::unsupported,
                 "distance_backend " + name + ": this CPU lacks " + join(missing)};
  }
  std::vector<std::string> names;
  for (const auto& p : plugins(VDB_PLUGIN_DISTANCE)) {
    names.push_back(p->name());
  }
  return Error{Errc::not_found, "distance_backend " + name +
                                    ": no such plugin is loaded (loaded: " +
                                    (names.empty() ? std::string("none") : join(names)) + ")"};
}

Expected<std::unique_ptr<RecordStore>>
PluginRegistry::open_store(std::string_view plugin_name, const RecordStoreOptions& options) const {
  auto plugin = find(VDB_PLUGIN_STORAGE, plugin_name);
  if (!plugin) {
    return Error{Errc::not_found, "storage plugin " + std::string(plugin_name) + " is not loaded"};
  }
  return RecordStore::open(std::move(plugin), options);
}

std::string PluginRegistry::default_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) {
    return {};
  }
  for (const fs::path& candidate : {exe.parent_path() / ".." / "plugins",
                                    exe.parent_path() / ".." / "lib" / "vdb" / "plugins"}) {
    if (fs::is_directory(candidate, ec)) {
      return fs::weakly_canonical(candidate, ec).string();
    }
  }
  return {};
}

} // namespace vdb
