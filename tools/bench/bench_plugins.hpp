// What every benchmark executable does first: load the plugins of `--plugins DIR` (default: the
// build's plugin folder) and take that flag out of the arguments Google Benchmark reads.
#pragma once

#include "core/plugin_host/plugin_registry.hpp"

#include <cstring>
#include <iostream>
#include <string>

namespace vdb::bench {

/// Loads the plugins into `registry` and removes `--plugins DIR` from argc/argv. Prints the error
/// and returns false when loading fails.
inline bool load_plugins(int& argc, char** argv, PluginRegistry& registry) {
  std::string dir = VDB_PLUGIN_DIR;
  int kept = 0;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--plugins") == 0 && i + 1 < argc) {
      dir = argv[++i];
      continue;
    }
    argv[kept++] = argv[i];
  }
  argc = kept;
  if (Status s = registry.discover(dir, {}); !s.ok()) {
    std::cerr << s.message() << "\n";
    return false;
  }
  return true;
}

} // namespace vdb::bench
