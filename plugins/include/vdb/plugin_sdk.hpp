// Header-only C++ helpers for VDB plugin authors. Optional: a plugin may use the C header
// alone. These helpers keep C++ exceptions and types on the plugin's side of the boundary.
#pragma once

#include <vdb/plugin_api.h>

#include <exception>
#include <new>
#include <string>

namespace vdb::sdk {

/// The host's services, stored once by `accept_host` during vdb_plugin_init. Each plugin
/// library has its own copy (plugins are built with hidden visibility).
inline const vdb_host_api*& host_slot() noexcept {
  static const vdb_host_api* host = nullptr;
  return host;
}

/// Checks the host's ABI major version and keeps the host pointer. Returns VDB_OK, or
/// VDB_ERR_UNSUPPORTED after reporting why (when the host can still be told).
inline vdb_status accept_host(const vdb_host_api* host) noexcept {
  if (host == nullptr) {
    return VDB_ERR_INVALID_ARGUMENT;
  }
  if (host->abi_major != VDB_PLUGIN_ABI_MAJOR) {
    if (host->report_error != nullptr) {
      host->report_error(VDB_ERR_UNSUPPORTED, "plugin built for another ABI major version");
    }
    return VDB_ERR_UNSUPPORTED;
  }
  host_slot() = host;
  return VDB_OK;
}

/// The usual body of vdb_plugin_init: accept the host, then hand out the plugin's static info.
inline vdb_status init(const vdb_host_api* host, const vdb_plugin_info* plugin_info,
                       const vdb_plugin_info** out) noexcept {
  const vdb_status status = accept_host(host);
  if (status != VDB_OK) {
    return status;
  }
  if (out == nullptr) {
    return VDB_ERR_INVALID_ARGUMENT;
  }
  *out = plugin_info;
  return VDB_OK;
}

/// Reports `message` to the host and returns `status`, so a failing call reads
/// `return fail(VDB_ERR_IO, "...");`.
inline vdb_status fail(vdb_status status, const char* message) noexcept {
  const vdb_host_api* host = host_slot();
  if (host != nullptr && host->report_error != nullptr) {
    host->report_error(status, message);
  }
  return status;
}

inline vdb_status fail(vdb_status status, const std::string& message) noexcept {
  return fail(status, message.c_str());
}

inline void log(vdb_log_level level, const std::string& message) noexcept {
  const vdb_host_api* host = host_slot();
  if (host != nullptr && host->log != nullptr) {
    host->log(level, message.c_str());
  }
}

/// Runs `body` (which returns vdb_status) and turns any exception into a status with its text,
/// so that no exception ever unwinds into the host.
template <class Body> vdb_status guard(Body&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return fail(VDB_ERR_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return fail(VDB_ERR_INTERNAL, e.what());
  } catch (...) {
    return fail(VDB_ERR_INTERNAL, "unknown exception in plugin");
  }
}

} // namespace vdb::sdk
