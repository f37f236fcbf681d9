// A small leveled logger writing one line per message to stderr. Thread-safe.
#pragma once

#include <string_view>

namespace vdb::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3, off = 4 };

/// Parses "debug", "info", "warn", "error" or "off" (any case); false when unknown.
bool parse_level(std::string_view text, Level* out) noexcept;
void set_level(Level level) noexcept;
Level level() noexcept;

void write(Level level, std::string_view message);

inline void debug(std::string_view m) { write(Level::debug, m); }
inline void info(std::string_view m) { write(Level::info, m); }
inline void warn(std::string_view m) { write(Level::warn, m); }
inline void error(std::string_view m) { write(Level::error, m); }

} // namespace vdb::log
