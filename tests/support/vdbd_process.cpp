#include "support/vdbd_process.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ; // NOLINT(readability-identifier-naming): POSIX name

namespace vdb::test {

using Clock = std::chrono::steady_clock;

VdbdProcess::VdbdProcess(const std::vector<std::string>& args,
                         const std::vector<std::string>& env_extra) {
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

VdbdProcess::~VdbdProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  ::close(out_);
}

bool VdbdProcess::wait_for(const std::string& text, std::chrono::milliseconds timeout) {
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

std::uint16_t VdbdProcess::wait_listening(std::chrono::milliseconds timeout) {
  const std::string marker = "rpc: listening on ";
  if (!wait_for(marker, timeout) || !wait_for("vdbd ready", timeout)) {
    return 0;
  }
  const std::size_t at = log_.find(marker) + marker.size();
  const std::size_t colon = log_.find(':', at);
  return static_cast<std::uint16_t>(std::stoul(log_.substr(colon + 1)));
}

int VdbdProcess::wait_exit(std::chrono::milliseconds timeout) {
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

void VdbdProcess::signal(int sig) const { ::kill(pid_, sig); }

std::vector<std::string> vdbd_args(const std::string& dir) {
  return {"--config",
          std::string(VDB_SOURCE_DIR) + "/config/defaults.yaml",
          "--plugins.dir=" VDB_PLUGIN_DIR,
          "--storage.storage_path=" + dir + "/storage",
          "--storage.snapshots_path=" + dir + "/snapshots",
          "--service.rpc_port=0"};
}

} // namespace vdb::test
