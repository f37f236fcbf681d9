// vdbd as a user runs it: it starts, logs the distance backend it chose, and exits cleanly on
// SIGTERM; a bad setting stops it at once with a message naming the key.
#include "support/temp_dir.hpp"
#include "support/vdbd_process.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace vdb {
namespace {

using ::testing::HasSubstr;
using Server = test::VdbdProcess;

class Vdbd : public ::testing::Test {
protected:
  std::vector<std::string> base_args() const { return test::vdbd_args(dir_.path().string()); }
  test::TempDir dir_;
};

TEST_F(Vdbd, StartsLogsTheBackendAndExitsCleanlyOnSigterm) {
  Server server(base_args());
  ASSERT_TRUE(server.wait_for("vdbd ready", std::chrono::seconds(20))) << server.log();
  EXPECT_THAT(server.log(), HasSubstr("distance backend: "));
  EXPECT_THAT(server.log(), HasSubstr("plugins: loaded storage plugin mmap"));
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait_exit(std::chrono::seconds(10)), 0) << server.log();
  EXPECT_THAT(server.log(), HasSubstr("received SIGTERM, shutting down"));
  EXPECT_TRUE(std::filesystem::is_directory(dir_.file("storage")));
}

TEST_F(Vdbd, TheEnvironmentOverridesTheDistanceBackend) {
  Server server(base_args(), {"VDB__PLUGINS__DISTANCE_BACKEND=scalar"});
  ASSERT_TRUE(server.wait_for("vdbd ready", std::chrono::seconds(20))) << server.log();
  EXPECT_THAT(server.log(), HasSubstr("distance backend: scalar (distance_backend: scalar)"));
  server.signal(SIGINT);
  EXPECT_EQ(server.wait_exit(std::chrono::seconds(10)), 0) << server.log();
}

TEST_F(Vdbd, ABadSettingStopsItWithTheKeyPath) {
  auto args = base_args();
  args.emplace_back("--service.rpc_port=http");
  Server server(args);
  EXPECT_EQ(server.wait_exit(std::chrono::seconds(10)), 2);
  EXPECT_THAT(server.log(), HasSubstr("config key 'service.rpc_port' (command line)"));
}

TEST_F(Vdbd, AnUnavailableBackendStopsIt) {
  auto args = base_args();
  args.emplace_back("--plugins.distance_backend=quantum");
  Server server(args);
  EXPECT_EQ(server.wait_exit(std::chrono::seconds(10)), 1);
  EXPECT_THAT(server.log(), HasSubstr("distance_backend quantum: no such plugin is loaded"));
}

} // namespace
} // namespace vdb
