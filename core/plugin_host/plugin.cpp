#include "core/plugin_host/plugin.hpp"

#include "core/plugin_host/host_api.hpp"

#include <cstddef>

namespace vdb {
namespace {

// The last field of each struct in ABI 1.0: a plugin must provide at least up to there.
constexpr std::size_t kInfoMinSize = offsetof(vdb_plugin_info, storage) + sizeof(void*);
constexpr std::size_t kDistanceMinSize = offsetof(vdb_distance_api, l1_gather) + sizeof(void*);
constexpr std::size_t kStorageMinSize = offsetof(vdb_storage_api, flush) + sizeof(void*);

std::string str_or_empty(const char* s) { return s != nullptr ? s : ""; }

Status check_distance(const vdb_distance_api* api) {
  if (api == nullptr) {
    return {Errc::invalid_argument, "a distance plugin must provide its kernel table"};
  }
  if (api->struct_size < kDistanceMinSize) {
    return {Errc::invalid_argument, "vdb_distance_api.struct_size is " +
                                        std::to_string(api->struct_size) + ", ABI 1.0 needs " +
                                        std::to_string(kDistanceMinSize)};
  }
  const void* fns[] = {reinterpret_cast<const void*>(api->dot),
                       reinterpret_cast<const void*>(api->l2sq),
                       reinterpret_cast<const void*>(api->l1),
                       reinterpret_cast<const void*>(api->dot_batch),
                       reinterpret_cast<const void*>(api->l2sq_batch),
                       reinterpret_cast<const void*>(api->l1_batch),
                       reinterpret_cast<const void*>(api->dot_gather),
                       reinterpret_cast<const void*>(api->l2sq_gather),
                       reinterpret_cast<const void*>(api->l1_gather)};
  for (const void* fn : fns) {
    if (fn == nullptr) {
      return {Errc::invalid_argument, "vdb_distance_api has a null kernel"};
    }
  }
  // ABI 1.1's int8 kernels are optional, but all three or none.
  if (VDB_HAS_FIELD(api, vdb_distance_api, int8_dot_gather)) {
    const int given = (api->int8_dot != nullptr ? 1 : 0) +
                      (api->int8_dot_batch != nullptr ? 1 : 0) +
                      (api->int8_dot_gather != nullptr ? 1 : 0);
    if (given != 0 && given != 3) {
      return {Errc::invalid_argument,
              "vdb_distance_api: int8_dot, int8_dot_batch and int8_dot_gather come together "
              "(all three or none)"};
    }
  }
  // So are ABI 1.2's code kernels.
  if (VDB_HAS_FIELD(api, vdb_distance_api, code_dot_gather)) {
    const int given = (api->code_dot != nullptr ? 1 : 0) +
                      (api->code_dot_batch != nullptr ? 1 : 0) +
                      (api->code_dot_gather != nullptr ? 1 : 0);
    if (given != 0 && given != 3) {
      return {Errc::invalid_argument,
              "vdb_distance_api: code_dot, code_dot_batch and code_dot_gather come together "
              "(all three or none)"};
    }
  }
  return {};
}

Status check_storage(const vdb_storage_api* api) {
  if (api == nullptr) {
    return {Errc::invalid_argument, "a storage plugin must provide its function table"};
  }
  if (api->struct_size < kStorageMinSize) {
    return {Errc::invalid_argument, "vdb_storage_api.struct_size is " +
                                        std::to_string(api->struct_size) + ", ABI 1.0 needs " +
                                        std::to_string(kStorageMinSize)};
  }
  const void* fns[] = {
      reinterpret_cast<const void*>(api->open),      reinterpret_cast<const void*>(api->close),
      reinterpret_cast<const void*>(api->append),    reinterpret_cast<const void*>(api->get),
      reinterpret_cast<const void*>(api->overwrite), reinterpret_cast<const void*>(api->count),
      reinterpret_cast<const void*>(api->flush)};
  for (const void* fn : fns) {
    if (fn == nullptr) {
      return {Errc::invalid_argument, "vdb_storage_api has a null function"};
    }
  }
  return {};
}

Status check_info(const vdb_plugin_info* info) {
  if (info == nullptr) {
    return {Errc::invalid_argument, "init returned no plugin info"};
  }
  if (info->struct_size < kInfoMinSize) {
    return {Errc::invalid_argument, "vdb_plugin_info.struct_size is " +
                                        std::to_string(info->struct_size) + ", ABI 1.0 needs " +
                                        std::to_string(kInfoMinSize)};
  }
  if (info->abi_major != VDB_PLUGIN_ABI_MAJOR) {
    return {Errc::unsupported, "built for plugin ABI " + std::to_string(info->abi_major) + "." +
                                   std::to_string(info->abi_minor) + ", this host implements " +
                                   std::to_string(VDB_PLUGIN_ABI_MAJOR) + "." +
                                   std::to_string(VDB_PLUGIN_ABI_MINOR)};
  }
  if (info->name == nullptr || info->name[0] == '\0') {
    return {Errc::invalid_argument, "the plugin has no name"};
  }
  switch (info->kind) {
  case VDB_PLUGIN_DISTANCE:
    return check_distance(info->distance);
  case VDB_PLUGIN_STORAGE:
    return check_storage(info->storage);
  default:
    return {Errc::invalid_argument, "unknown plugin kind " + std::to_string(info->kind)};
  }
}

} // namespace

Plugin::Plugin(SharedLibrary library, const vdb_plugin_info& info)
    : library_(std::move(library)), name_(info.name), version_(str_or_empty(info.version)),
      description_(str_or_empty(info.description)), kind_(static_cast<vdb_plugin_kind>(info.kind)),
      abi_minor_(info.abi_minor),
      distance_(info.kind == VDB_PLUGIN_DISTANCE ? info.distance : nullptr),
      storage_(info.kind == VDB_PLUGIN_STORAGE ? info.storage : nullptr) {}

Expected<std::shared_ptr<const Plugin>> Plugin::load(const std::string& path) {
  auto library = SharedLibrary::open(path);
  if (!library) {
    return Error{library.error().code, "plugin refused: " + library.error().message};
  }
  void* init_symbol = library->symbol(VDB_PLUGIN_INIT_SYMBOL);
  if (init_symbol == nullptr) {
    return Error{Errc::invalid_argument,
                 "plugin " + path + " refused: it does not export " + VDB_PLUGIN_INIT_SYMBOL};
  }
  auto init = reinterpret_cast<vdb_plugin_init_fn>(init_symbol);
  const vdb_plugin_info* info = nullptr;
  clear_plugin_error();
  const vdb_status status = init(host_api(), &info);
  if (status != VDB_OK) {
    return plugin_error(status, "plugin " + path + " refused: its init failed");
  }
  if (Status check = check_info(info); !check.ok()) {
    const std::string name =
        info != nullptr && info->struct_size >= kInfoMinSize && info->name != nullptr
            ? std::string(" (") + info->name + ")"
            : std::string();
    return Error{check.code(), "plugin " + path + name + " refused: " + check.message()};
  }
  return std::make_shared<const Plugin>(std::move(*library), *info);
}

const char* to_string(vdb_plugin_kind kind) noexcept {
  switch (kind) {
  case VDB_PLUGIN_DISTANCE:
    return "distance";
  case VDB_PLUGIN_STORAGE:
    return "storage";
  }
  return "unknown";
}

} // namespace vdb
