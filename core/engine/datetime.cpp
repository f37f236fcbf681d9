#include "core/engine/datetime.hpp"

#include <array>
#include <cstdio>

namespace vdb {
namespace {

constexpr std::int64_t kMicrosPerSecond = 1'000'000;
constexpr std::int64_t kSecondsPerDay = 86'400;

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool is_leap(std::int64_t y) noexcept { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(std::int64_t y, unsigned m) noexcept {
  constexpr std::array<unsigned, 12> kDays{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// Reads exactly `n` digits at `at`; advances `at`.
bool digits(std::string_view s, std::size_t& at, std::size_t n, unsigned& out) noexcept {
  if (at + n > s.size()) {
    return false;
  }
  out = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = s[at + i];
    if (c < '0' || c > '9') {
      return false;
    }
    out = out * 10 + static_cast<unsigned>(c - '0');
  }
  at += n;
  return true;
}

bool expect(std::string_view s, std::size_t& at, char c) noexcept {
  if (at < s.size() && s[at] == c) {
    ++at;
    return true;
  }
  return false;
}

} // namespace

std::optional<Timestamp> parse_datetime(std::string_view s) {
  std::size_t at = 0;
  unsigned year = 0;
  unsigned month = 0;
  unsigned day = 0;
  if (!digits(s, at, 4, year) || !expect(s, at, '-') || !digits(s, at, 2, month) ||
      !expect(s, at, '-') || !digits(s, at, 2, day)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) {
    return std::nullopt;
  }
  unsigned hour = 0;
  unsigned minute = 0;
  unsigned second = 0;
  std::int64_t fraction_micros = 0;
  std::int64_t offset_seconds = 0;
  if (at < s.size()) {
    if (s[at] != 'T' && s[at] != 't' && s[at] != ' ') {
      return std::nullopt;
    }
    ++at;
    if (!digits(s, at, 2, hour) || !expect(s, at, ':') || !digits(s, at, 2, minute)) {
      return std::nullopt;
    }
    if (expect(s, at, ':')) {
      if (!digits(s, at, 2, second)) {
        return std::nullopt;
      }
      if (expect(s, at, '.')) {
        std::size_t n = 0;
        std::int64_t scale = 100'000;
        while (at < s.size() && s[at] >= '0' && s[at] <= '9') {
          fraction_micros += (s[at] - '0') * scale;
          scale /= 10;
          ++at;
          ++n;
        }
        if (n == 0) {
          return std::nullopt;
        }
      }
    }
    // 23:59:60 (a leap second) is read as the next second, as chrono does.
    if (hour > 23 || minute > 59 || second > 60) {
      return std::nullopt;
    }
    if (at < s.size()) {
      const char zone = s[at];
      if (zone == 'Z' || zone == 'z') {
        ++at;
      } else if (zone == '+' || zone == '-') {
        ++at;
        unsigned oh = 0;
        unsigned om = 0;
        if (!digits(s, at, 2, oh)) {
          return std::nullopt;
        }
        expect(s, at, ':');
        if (!digits(s, at, 2, om) || oh > 23 || om > 59) {
          return std::nullopt;
        }
        offset_seconds = (zone == '+' ? 1 : -1) * static_cast<std::int64_t>(oh * 3600 + om * 60);
      } else {
        return std::nullopt;
      }
    }
  }
  if (at != s.size()) {
    return std::nullopt;
  }
  const std::int64_t seconds = days_from_civil(year, month, day) * kSecondsPerDay +
                               std::int64_t{hour} * 3600 + std::int64_t{minute} * 60 + second -
                               offset_seconds;
  return seconds * kMicrosPerSecond + fraction_micros;
}

std::string format_datetime(Timestamp micros) {
  std::int64_t seconds = micros / kMicrosPerSecond;
  std::int64_t fraction = micros % kMicrosPerSecond;
  if (fraction < 0) {
    fraction += kMicrosPerSecond;
    --seconds;
  }
  std::int64_t days = seconds / kSecondsPerDay;
  std::int64_t rest = seconds % kSecondsPerDay;
  if (rest < 0) {
    rest += kSecondsPerDay;
    --days;
  }
  // civil_from_days (Hinnant).
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
  std::array<char, 48> buf{};
  const int n =
      std::snprintf(buf.data(), buf.size(), "%04lld-%02u-%02uT%02lld:%02lld:%02lld",
                    static_cast<long long>(y), m, d, static_cast<long long>(rest / 3600),
                    static_cast<long long>(rest / 60 % 60), static_cast<long long>(rest % 60));
  std::string out(buf.data(), static_cast<std::size_t>(n));
  if (fraction != 0) {
    std::snprintf(buf.data(), buf.size(), ".%06lld", static_cast<long long>(fraction));
    out += buf.data();
  }
  return out + "Z";
}

} // namespace vdb
