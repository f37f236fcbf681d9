#include "support/engine.hpp"

#include "support/test_plugins.hpp"

#include <gtest/gtest.h>

namespace vdb::test {

EngineContext engine_context(std::string_view distance, EngineLimits limits) {
  const PluginRegistry& registry = built_plugins();
  auto backend = registry.choose_distance(distance);
  if (!backend) {
    ADD_FAILURE() << backend.error().message;
    std::abort();
  }
  EngineContext context{*backend, registry.find(VDB_PLUGIN_STORAGE, "ram"), limits};
  context.mmap_storage = registry.find(VDB_PLUGIN_STORAGE, "mmap");
  return context;
}

Filter filter_of(std::string_view json) {
  auto filter = parse_filter(Json::parse(json));
  if (!filter) {
    ADD_FAILURE() << filter.error().message;
    return {};
  }
  return std::move(*filter);
}

} // namespace vdb::test
