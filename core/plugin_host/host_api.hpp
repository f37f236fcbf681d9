// The services the host hands to plugins (vdb_host_api) and the translation of a plugin's
// status and error text back into a core Error.
#pragma once

#include "core/common/error.hpp"

#include <vdb/plugin_api.h>

#include <string_view>

namespace vdb {

/// The process-wide host API: immutable, alive until exit, safe from any thread. Error text a
/// plugin reports is kept per thread until the host takes it with plugin_error().
const vdb_host_api* host_api() noexcept;

/// Converts a non-OK status from a plugin call made on this thread into an Error whose message
/// is "<context>: <text the plugin reported>"; clears the reported text.
Error plugin_error(vdb_status status, std::string_view context);

Errc to_errc(vdb_status status) noexcept;

/// Clears error text left over from an earlier call on this thread.
void clear_plugin_error() noexcept;

} // namespace vdb
