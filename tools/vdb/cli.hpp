// The `vdb` command-line client, as a function of its arguments so tests can run it in-process
// against any Client (tools/vdb/main.cpp connects it to a vdbd).
#pragma once

#include "core/actors/api.hpp"

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

namespace vdb::cli {

/// Global options, read before the command.
struct Options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6334;
  std::string api_key;
  bool json = false;    ///< machine-readable output
  bool progress = true; ///< a progress bar on stderr while importing
};

/// Splits the global options off `args`; errors name the option.
Expected<Options> parse_options(std::vector<std::string>& args);

/// Runs one command (`args` without the global options) against `client`; writes results to
/// `out` and errors to `err`. Returns the process exit code: 0 done, 1 the server refused,
/// 2 a usage error.
int run(Client& client, const Options& options, const std::vector<std::string>& args,
        std::ostream& out, std::ostream& err);

extern const char* const kUsage;

} // namespace vdb::cli
