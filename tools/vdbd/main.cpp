// vdbd, the VDB server: loads the configuration and the plugins, chooses the distance backend,
// starts the actors and serves the Cap'n Proto RPC API until SIGTERM or SIGINT.
#include "config/settings.hpp"
#include "core/actors/database.hpp"
#include "core/common/log.hpp"
#include "core/plugin_host/plugin_registry.hpp"
#include "protocol/server.hpp"

#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

namespace {

constexpr const char* kUsage = R"(usage: vdbd [--config FILE] [--SECTION.KEY=VALUE ...]

Starts the VDB server. Settings come from the compiled-in defaults (config/defaults.yaml), then
FILE, then environment variables VDB__SECTION__KEY, then --SECTION.KEY=VALUE flags.

  --config FILE      YAML file with the settings to change
  --check-config     load and check the settings and the plugins, then exit
  --help             this text
  --version          the version
)";

struct Arguments {
  vdb::SettingsSources sources;
  bool check_only = false;
};

// Returns 0 to go on, or the exit code to stop with.
int parse_arguments(int argc, char** argv, Arguments* args) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return -1;
    }
    if (arg == "--version") {
      std::puts("vdbd 0.1.0");
      return -1;
    }
    if (arg == "--check-config") {
      args->check_only = true;
    } else if (arg == "--config" && i + 1 < argc) {
      args->sources.config_file = argv[++i];
    } else if (arg.rfind("--config=", 0) == 0) {
      args->sources.config_file = arg.substr(std::strlen("--config="));
    } else if (arg.rfind("--", 0) == 0 && arg.find('=') != std::string::npos) {
      args->sources.overrides.push_back(arg.substr(2));
    } else {
      std::fprintf(stderr, "vdbd: unknown argument '%s'\n%s", arg.c_str(), kUsage);
      return 2;
    }
  }
  return 0;
}

int run(const Arguments& args, const sigset_t& stop_signals) {
  auto settings = vdb::load_settings(args.sources);
  if (!settings) {
    std::fprintf(stderr, "vdbd: %s\n", settings.error().message.c_str());
    return 2;
  }
  vdb::log::set_level(settings->logging.level);

  vdb::PluginRegistry registry;
  const std::string dir =
      settings->plugins.dir.empty() ? vdb::PluginRegistry::default_dir() : settings->plugins.dir;
  vdb::log::info("plugins: loading from " + (dir.empty() ? std::string("(none found)") : dir));
  if (vdb::Status s = registry.discover(dir, settings->plugins.load); !s.ok()) {
    vdb::log::error(s.message());
    return 1;
  }
  for (const auto& notice : registry.skipped()) {
    vdb::log::info("plugins: skipped " + notice.path + ": " + notice.reason);
  }
  for (const auto& notice : registry.refused()) {
    vdb::log::warn(notice.reason);
  }
  for (const auto kind : {VDB_PLUGIN_DISTANCE, VDB_PLUGIN_STORAGE}) {
    for (const auto& plugin : registry.plugins(kind)) {
      vdb::log::info(std::string("plugins: loaded ") + vdb::to_string(kind) + " plugin " +
                     plugin->name() + " " + plugin->version() + " (" + plugin->path() + ")");
    }
  }
  auto distance = registry.choose_distance(settings->plugins.distance_backend);
  if (!distance) {
    vdb::log::error(distance.error().message);
    return 1;
  }
  vdb::log::info("distance backend: " + distance->name() +
                 " (distance_backend: " + settings->plugins.distance_backend + ")");
  for (const char* storage : {"ram", "mmap"}) {
    if (!registry.find(VDB_PLUGIN_STORAGE, storage)) {
      vdb::log::error(std::string("storage plugin ") + storage + " is not loaded");
      return 1;
    }
  }
  if (args.check_only) {
    vdb::log::info("configuration and plugins are valid");
    return 0;
  }

  std::error_code ec;
  std::filesystem::create_directories(settings->storage.storage_path, ec);
  if (ec) {
    vdb::log::error("storage.storage_path " + settings->storage.storage_path + ": " + ec.message());
    return 1;
  }
  vdb::log::info("storage: " + settings->storage.storage_path);

  auto options = vdb::service_options(*settings, registry);
  if (!options) {
    vdb::log::error(options.error().message);
    return 1;
  }
  options->storage = settings->storage.storage_path;
  options->snapshots = settings->storage.snapshots_path;
  std::unique_ptr<vdb::Service> service;
  try {
    service = std::make_unique<vdb::Service>(std::move(*options));
  } catch (const std::exception& e) {
    vdb::log::error(std::string("storage.storage_path: ") + e.what());
    return 1;
  }
  vdb::RpcServerOptions rpc;
  rpc.host = settings->service.host;
  rpc.port = settings->service.rpc_port;
  rpc.api_key = settings->service.api_key;
  rpc.read_only_api_key = settings->service.read_only_api_key;
  rpc.max_message_bytes = std::size_t{settings->service.max_request_size_mb} << 20;
  auto server = vdb::RpcServer::start(*service, rpc);
  if (!server) {
    vdb::log::error(server.error().message);
    return 1;
  }
  vdb::log::info("rpc: listening on " + rpc.host + ":" + std::to_string((*server)->port()) +
                 (rpc.api_key.empty() ? " (no API key)" : " (API key required)"));
  vdb::log::info("vdbd ready; serving until SIGTERM or SIGINT");

  int signal = 0;
  sigwait(&stop_signals, &signal);
  vdb::log::info(std::string("received ") + (signal == SIGINT ? "SIGINT" : "SIGTERM") +
                 ", shutting down");
  // Stop accepting and close the connections first, then the actors (queued requests are
  // answered with unavailable, index builds cancelled).
  (*server)->stop();
  service.reset();
  vdb::log::info("vdbd stopped");
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  // Block the stop signals before any thread starts, so every thread inherits the mask and the
  // main thread alone receives them through sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  Arguments args;
  if (const int code = parse_arguments(argc, argv, &args); code != 0) {
    return code < 0 ? 0 : code;
  }
  args.sources.environment = vdb::process_environment();
  try {
    return run(args, stop_signals);
  } catch (const std::exception& e) {
    // Nothing should throw this far; if something does, say what instead of aborting.
    vdb::log::error(std::string("vdbd: fatal: ") + e.what());
    return 1;
  }
}
