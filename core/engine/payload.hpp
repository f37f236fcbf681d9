// Payloads are JSON objects (nlohmann::json): strings, integers, floats, booleans, null, arrays
// and nested objects. This file reads the values a key path reaches, with Qdrant's semantics.
#pragma once

#include "core/common/error.hpp"
#include "core/engine/json_path.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace vdb {

using Json = nlohmann::json;

/// Appends to `out` every value `path` reaches in `payload`:
///  - a key descends into an object (on anything else it reaches nothing);
///  - `[]` continues with every element of an array, `[N]` with element N;
///  - a value reached at the end of the path that is an array contributes each of its elements,
///    so a condition on an array field matches when any element matches.
/// Pointers borrow from `payload`. A missing key reaches nothing; an explicit null is a value.
void collect_values(const Json& payload, const JsonPath& path, std::vector<const Json*>& out);

/// The same values, returned.
std::vector<const Json*> values_at(const Json& payload, const JsonPath& path);

/// The value as a signed 64-bit integer, when it is a JSON integer that fits (not a float, not
/// an unsigned integer above 2^63-1).
std::optional<std::int64_t> integer_value(const Json& value);

/// Checks a payload from outside: a JSON object (null is not accepted here), keys and strings
/// valid UTF-8, numbers finite, nesting at most 64 levels, and at most `max_bytes` when
/// serialized (0: no limit). Errors are invalid_argument and name `field` and where inside it.
Status validate_payload(const Json& payload, std::size_t max_bytes,
                        std::string_view field = "payload");

/// Parses a payload from JSON text: it must be an object. Errors name `field`.
Expected<Json> parse_payload(std::string_view text, std::string_view field = "payload");

} // namespace vdb
