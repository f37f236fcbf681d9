// The plugins of this build, loaded once through the real loader and shared by the tests.
#pragma once

#include "core/plugin_host/plugin_registry.hpp"

#include <string>

namespace vdb::test {

/// Every plugin of the build's plugin folder plus the C example plugin.
const PluginRegistry& built_plugins();

/// The path of a library in the folder of plugins the loader must refuse.
std::string broken_plugin(const std::string& flaw);

} // namespace vdb::test
