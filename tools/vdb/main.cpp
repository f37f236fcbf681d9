// vdb, the command-line client of vdbd (see tools/vdb/cli.cpp for the commands).
#include "protocol/remote_client.hpp"
#include "tools/vdb/cli.hpp"

#include <iostream>

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << vdb::cli::kUsage;
    return args.empty() ? 2 : 0;
  }
  auto options = vdb::cli::parse_options(args);
  if (!options) {
    std::cerr << "vdb: " << options.error().message << '\n';
    return 2;
  }
  auto client = vdb::RemoteClient::connect(
      vdb::RemoteOptions{options->host, options->port, options->api_key, 64U << 20});
  if (!client) {
    std::cerr << "vdb: " << client.error().message << '\n';
    return 1;
  }
  return vdb::cli::run(**client, *options, args, std::cout, std::cerr);
}
