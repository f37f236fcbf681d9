// vdbd as a user runs it: it starts, logs the distance backend it chose, and exits cleanly on
// SIGTERM; a bad setting stops it at once with a message naming the key.
#include "support/temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

extern char** environ; // NOLINT(readability-identifier-naming): POSIX name

namespace vdb {
namespace {

using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

/// vdbd running as a child process, its stderr read through a pipe.
class Server {
public:
  explicit Server(const std::vector<std::string>& args,
                  const std::vector<std::string>& env_extra = {}) {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
    std::vector<std::string> argv_store = {VDBD_PATH};
    argv_store.insert(argv_store.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_store) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    std::vector<std::string> env_store;
    for (char** e = environ; *e != nullptr; ++e) {
      if (std::string(*e).rfind("VDB__", 0) != 0) {
        env_store.emplace_back(*e);
      }
    }
    env_store.insert(env_store.end(), env_extra.begin(), env_extra.end());
    std::vector<char*> envp;
    for (auto& e : env_store) {
      envp.push_back(e.data());
    }
    envp.push_back(nullptr);
    EXPECT_EQ(posix_spawn(&pid_, VDBD_PATH, &actions, nullptr, argv.data(), envp.data()), 0);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    out_ = fds[0];
  }
  ~Server() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(out_);
  }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Reads stderr until `text` appears, the pipe closes, or `timeout` passes.
  bool wait_for(const std::string& text, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (log_.find(text) == std::string::npos) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      pollfd p{out_, POLLIN, 0};
      if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) {
        return false;
      }
      char buf[4096];
      const ssize_t n = ::read(out_, buf, sizeof buf);
      if (n <= 0) {
        return log_.find(text) != std::string::npos;
      }
      log_.append(buf, static_cast<std::size_t>(n));
    }
    return true;
  }

  /// Waits for the process to exit; its exit code, or -1 on a signal or a timeout.
  int wait_exit(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        wait_for("\x01", std::chrono::milliseconds(50)); // drain what is left
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      ::usleep(5000);
    }
    return -1;
  }

  void signal(int sig) const { ::kill(pid_, sig); }
  const std::string& log() const { return log_; }

private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string log_;
};

class Vdbd : public ::testing::Test {
protected:
  std::vector<std::string> base_args() const {
    return {"--config", std::string(VDB_SOURCE_DIR) + "/config/defaults.yaml",
            "--plugins.dir=" VDB_PLUGIN_DIR, "--storage.storage_path=" + dir_.file("storage")};
  }
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
