#include "core/plugin_host/host_api.hpp"

#include "core/common/log.hpp"

#include <string>

namespace vdb {
namespace {

thread_local std::string t_error_text;

void report_error(vdb_status /*status*/, const char* message) {
  try {
    t_error_text = message != nullptr ? message : "";
  } catch (...) { // NOLINT(bugprone-empty-catch): out of memory while keeping the text
  }
}

void log_from_plugin(vdb_log_level level, const char* message) {
  if (message == nullptr) {
    return;
  }
  try {
    switch (level) {
    case VDB_LOG_DEBUG:
      log::debug(message);
      break;
    case VDB_LOG_INFO:
      log::info(message);
      break;
    case VDB_LOG_WARN:
      log::warn(message);
      break;
    default:
      log::error(message);
      break;
    }
  } catch (...) { // NOLINT(bugprone-empty-catch): logging must never throw into a plugin
  }
}

constexpr vdb_host_api kHostApi = {sizeof(vdb_host_api), VDB_PLUGIN_ABI_MAJOR,
                                   VDB_PLUGIN_ABI_MINOR, 0,
                                   &report_error,        &log_from_plugin};

} // namespace

const vdb_host_api* host_api() noexcept { return &kHostApi; }

Errc to_errc(vdb_status status) noexcept {
  switch (status) {
  case VDB_OK:
    return Errc::ok;
  case VDB_ERR_INVALID_ARGUMENT:
    return Errc::invalid_argument;
  case VDB_ERR_OUT_OF_RANGE:
    return Errc::out_of_range;
  case VDB_ERR_IO:
    return Errc::io_error;
  case VDB_ERR_NO_SPACE:
    return Errc::no_space;
  case VDB_ERR_CORRUPT:
    return Errc::corrupt;
  case VDB_ERR_UNSUPPORTED:
    return Errc::unsupported;
  case VDB_ERR_OUT_OF_MEMORY:
    return Errc::out_of_memory;
  case VDB_ERR_NOT_FOUND:
    return Errc::not_found;
  case VDB_ERR_INTERNAL:
    break;
  }
  return Errc::internal;
}

Error plugin_error(vdb_status status, std::string_view context) {
  std::string text = std::move(t_error_text);
  t_error_text.clear();
  if (text.empty()) {
    text = "failed with status " + std::to_string(static_cast<int>(status)) + " and no message";
  }
  return Error{to_errc(status), std::string(context) + ": " + text};
}

void clear_plugin_error() noexcept { t_error_text.clear(); }

} // namespace vdb
