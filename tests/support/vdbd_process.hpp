// vdbd as a child process for tests: started with arguments, its stderr read through a pipe,
// stopped with a signal (SIGKILL when the test ends without stopping it).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace vdb::test {

class VdbdProcess {
public:
  explicit VdbdProcess(const std::vector<std::string>& args,
                       const std::vector<std::string>& env_extra = {});
  ~VdbdProcess();
  VdbdProcess(const VdbdProcess&) = delete;
  VdbdProcess& operator=(const VdbdProcess&) = delete;

  /// Reads stderr until `text` appears, the pipe closes, or `timeout` passes.
  bool wait_for(const std::string& text, std::chrono::milliseconds timeout);
  /// Waits for the "rpc: listening on HOST:PORT" line; the port, or 0.
  std::uint16_t wait_listening(std::chrono::milliseconds timeout);
  /// Waits for the process to exit; its exit code, or -1 on a signal or a timeout.
  int wait_exit(std::chrono::milliseconds timeout);

  void signal(int sig) const;
  const std::string& log() const { return log_; }

private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string log_;
};

/// The arguments that start vdbd on this build's plugins, on a free port, storing under `dir`.
std::vector<std::string> vdbd_args(const std::string& dir);

} // namespace vdb::test
