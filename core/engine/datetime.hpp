// Datetimes in payloads and filters: RFC 3339 strings, read as microseconds since the Unix
// epoch (UTC), which is what datetime ranges and the datetime index compare.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vdb {

/// Microseconds since 1970-01-01T00:00:00Z.
using Timestamp = std::int64_t;

/// Parses "2024-05-01T10:20:30.123456Z" and the forms Qdrant also accepts: `T` or a space between
/// date and time, seconds and fraction optional, `Z`, `+hh:mm`, `-hhmm` or no zone (read as
/// UTC), and a date alone ("2024-05-01", midnight UTC). Fractions beyond microseconds are cut.
/// Returns nothing for any other text, including impossible dates such as February 30.
std::optional<Timestamp> parse_datetime(std::string_view text);

/// The timestamp as "YYYY-MM-DDThh:mm:ss[.ffffff]Z".
std::string format_datetime(Timestamp micros);

} // namespace vdb
