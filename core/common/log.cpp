#include "core/common/log.hpp"

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>

namespace vdb::log {
namespace {
std::atomic<Level> g_level{Level::info};
std::mutex g_write_mutex;

const char* level_name(Level level) noexcept {
  switch (level) {
  case Level::debug:
    return "DEBUG";
  case Level::info:
    return "INFO";
  case Level::warn:
    return "WARN";
  case Level::error:
    return "ERROR";
  case Level::off:
    break;
  }
  return "";
}
} // namespace

bool parse_level(std::string_view text, Level* out) noexcept {
  std::string lower(text);
  for (char& c : lower) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  static constexpr std::pair<const char*, Level> kNames[] = {{"debug", Level::debug},
                                                             {"info", Level::info},
                                                             {"warn", Level::warn},
                                                             {"error", Level::error},
                                                             {"off", Level::off}};
  for (const auto& [name, value] : kNames) {
    if (lower == name) {
      *out = value;
      return true;
    }
  }
  return false;
}

void set_level(Level level) noexcept { g_level.store(level, std::memory_order_relaxed); }
Level level() noexcept { return g_level.load(std::memory_order_relaxed); }

void write(Level level, std::string_view message) {
  if (level < g_level.load(std::memory_order_relaxed) || level == Level::off) {
    return;
  }
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  const std::lock_guard<std::mutex> lock(g_write_mutex);
  std::fprintf(stderr, "%s.%03dZ %-5s %.*s\n", stamp, static_cast<int>(millis), level_name(level),
               static_cast<int>(message.size()), message.data());
  std::fflush(stderr);
}

} // namespace vdb::log
