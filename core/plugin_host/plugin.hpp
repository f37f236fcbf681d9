// One loaded plugin: its library (kept loaded while anything uses the plugin) and the
// description it gave at init, checked against this host's ABI.
#pragma once

#include "core/common/error.hpp"
#include "core/plugin_host/shared_library.hpp"

#include <vdb/plugin_api.h>

#include <memory>
#include <string>

namespace vdb {

class Plugin {
public:
  /// Loads the library at `path`, calls its init symbol and checks what it returns: ABI major
  /// version, struct sizes, kind, name and every function pointer. Errors name the file and the
  /// reason.
  static Expected<std::shared_ptr<const Plugin>> load(const std::string& path);

  const std::string& name() const noexcept { return name_; }
  const std::string& path() const noexcept { return library_.path(); }
  vdb_plugin_kind kind() const noexcept { return kind_; }
  const std::string& version() const noexcept { return version_; }
  const std::string& description() const noexcept { return description_; }
  std::uint32_t abi_minor() const noexcept { return abi_minor_; }
  /// Non-null exactly for distance plugins.
  const vdb_distance_api* distance() const noexcept { return distance_; }
  /// Non-null exactly for storage plugins.
  const vdb_storage_api* storage() const noexcept { return storage_; }

  Plugin(SharedLibrary library, const vdb_plugin_info& info);

private:
  SharedLibrary library_;
  std::string name_;
  std::string version_;
  std::string description_;
  vdb_plugin_kind kind_;
  std::uint32_t abi_minor_;
  const vdb_distance_api* distance_;
  const vdb_storage_api* storage_;
};

const char* to_string(vdb_plugin_kind kind) noexcept;

} // namespace vdb
