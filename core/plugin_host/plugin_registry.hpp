// The plugins this process has loaded, built once in main (no static registration) and passed
// to whatever needs a distance backend or a record store.
#pragma once

#include "core/common/error.hpp"
#include "core/plugin_host/cpu_features.hpp"
#include "core/plugin_host/distance_backend.hpp"
#include "core/plugin_host/plugin.hpp"
#include "core/plugin_host/record_store.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace vdb {

/// A plugin file that was found but not loaded, and why.
struct PluginNotice {
  std::string path;
  std::string reason;
};

class PluginRegistry {
public:
  explicit PluginRegistry(CpuFeatures cpu = CpuFeatures::detect()) : cpu_(cpu) {}

  /// Loads every `libvdb_*.so` in `dir`, then every entry of `explicit_list` (a path, or a stem
  /// such as "distance_example" meaning `<dir>/libvdb_distance_example.so`). A built-in distance
  /// plugin whose instructions the CPU lacks is skipped before dlopen. A discovered file that is
  /// refused is recorded in refused() and the rest still load; an explicitly listed one that
  /// fails makes this return its error.
  Status discover(const std::string& dir, const std::vector<std::string>& explicit_list);

  /// Loads one plugin file. Fails when it is refused, when the CPU cannot run it, or when a
  /// plugin of the same kind and name is already loaded.
  Status load(const std::string& path);

  std::shared_ptr<const Plugin> find(vdb_plugin_kind kind, std::string_view name) const;
  std::vector<std::shared_ptr<const Plugin>> plugins(vdb_plugin_kind kind) const;
  const std::vector<PluginNotice>& refused() const noexcept { return refused_; }
  const std::vector<PluginNotice>& skipped() const noexcept { return skipped_; }
  const CpuFeatures& cpu() const noexcept { return cpu_; }

  /// The distance backend for the setting `auto` (the best built-in one loaded: avx512, avx2,
  /// neon, scalar) or a plugin name.
  Expected<DistanceBackend> choose_distance(std::string_view setting) const;

  /// Opens a record store with the storage plugin called `plugin_name` ("ram", "mmap", ...).
  Expected<std::unique_ptr<RecordStore>> open_store(std::string_view plugin_name,
                                                    const RecordStoreOptions& options) const;

  /// Where plugins are looked for when `plugins.dir` is empty: `<exe dir>/../plugins` (the build
  /// tree), then `<exe dir>/../lib/vdb/plugins` (an install). Returns the first that exists, or
  /// an empty string.
  static std::string default_dir();

private:
  /// "distance_avx2" for ".../libvdb_distance_avx2.so"; empty when the name does not fit.
  static std::string stem(const std::string& path);
  /// The reason the CPU cannot run the built-in plugin file at `path`, or empty.
  std::string cpu_refusal(const std::string& path) const;

  CpuFeatures cpu_;
  std::vector<std::shared_ptr<const Plugin>> plugins_;
  std::vector<PluginNotice> refused_;
  std::vector<PluginNotice> skipped_;
};

} // namespace vdb
