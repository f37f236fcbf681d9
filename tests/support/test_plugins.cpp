#include "support/test_plugins.hpp"

#include <stdexcept>

namespace vdb::test {

const PluginRegistry& built_plugins() {
  static const PluginRegistry registry = [] {
    PluginRegistry r;
    if (Status s = r.discover(VDB_PLUGIN_DIR, {VDB_EXAMPLE_PLUGIN}); !s.ok()) {
      throw std::runtime_error(s.message());
    }
    if (!r.refused().empty()) {
      throw std::runtime_error("a built plugin was refused: " + r.refused().front().reason);
    }
    return r;
  }();
  return registry;
}

std::string broken_plugin(const std::string& flaw) {
  return std::string(VDB_TEST_PLUGIN_DIR) + "/libvdb_distance_broken_" + flaw + ".so";
}

} // namespace vdb::test
