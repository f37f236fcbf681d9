#include "core/engine/payload.hpp"

#include "core/common/utf8.hpp"

#include <cmath>
#include <limits>

namespace vdb {
namespace {

void walk(const Json& node, const std::vector<JsonPath::Segment>& segments, std::size_t at,
          std::vector<const Json*>& out) {
  using Kind = JsonPath::Segment::Kind;
  if (at == segments.size()) {
    if (node.is_array()) {
      for (const Json& element : node) {
        out.push_back(&element);
      }
    } else {
      out.push_back(&node);
    }
    return;
  }
  const JsonPath::Segment& segment = segments[at];
  switch (segment.kind) {
  case Kind::key:
    if (node.is_object()) {
      const auto it = node.find(segment.key);
      if (it != node.end()) {
        walk(*it, segments, at + 1, out);
      }
    }
    break;
  case Kind::every_element:
    if (node.is_array()) {
      for (const Json& element : node) {
        walk(element, segments, at + 1, out);
      }
    }
    break;
  case Kind::element:
    if (node.is_array() && segment.index < node.size()) {
      walk(node[segment.index], segments, at + 1, out);
    }
    break;
  }
}

constexpr std::size_t kMaxPayloadDepth = 64;

// The first problem in `node`, with the path to it, or an empty string.
std::string first_problem(const Json& node, const std::string& at, std::size_t depth) {
  if (depth > kMaxPayloadDepth) {
    return at + ": nested deeper than " + std::to_string(kMaxPayloadDepth) + " levels";
  }
  if (node.is_string()) {
    if (!valid_utf8(node.get_ref<const std::string&>())) {
      return at + ": the string is not valid UTF-8";
    }
  } else if (node.is_number_float()) {
    if (!std::isfinite(node.get<double>())) {
      return at + ": numbers must be finite";
    }
  } else if (node.is_object()) {
    for (const auto& [key, value] : node.items()) {
      if (!valid_utf8(key)) {
        return at + ": a key is not valid UTF-8";
      }
      std::string problem = first_problem(value, at + "." + key, depth + 1);
      if (!problem.empty()) {
        return problem;
      }
    }
  } else if (node.is_array()) {
    for (std::size_t i = 0; i < node.size(); ++i) {
      std::string problem = first_problem(node[i], at + "[" + std::to_string(i) + "]", depth + 1);
      if (!problem.empty()) {
        return problem;
      }
    }
  }
  return {};
}

} // namespace

Status validate_payload(const Json& payload, std::size_t max_bytes, std::string_view field) {
  if (!payload.is_object()) {
    return invalid(field, std::string("must be a JSON object, got ") + payload.type_name());
  }
  std::string problem = first_problem(payload, std::string(field), 1);
  if (!problem.empty()) {
    return Error{Errc::invalid_argument, std::move(problem)};
  }
  if (max_bytes != 0) {
    const std::size_t size = payload.dump().size();
    if (size > max_bytes) {
      return invalid(field, std::to_string(size) + " bytes as JSON, more than the limit of " +
                                std::to_string(max_bytes));
    }
  }
  return {};
}

std::optional<std::int64_t> integer_value(const Json& value) {
  if (value.is_number_unsigned()) {
    const auto u = value.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return std::nullopt;
    }
    return static_cast<std::int64_t>(u);
  }
  if (value.is_number_integer()) {
    return value.get<std::int64_t>();
  }
  return std::nullopt;
}

void collect_values(const Json& payload, const JsonPath& path, std::vector<const Json*>& out) {
  walk(payload, path.segments(), 0, out);
}

std::vector<const Json*> values_at(const Json& payload, const JsonPath& path) {
  std::vector<const Json*> out;
  collect_values(payload, path, out);
  return out;
}

Expected<Json> parse_payload(std::string_view text, std::string_view field) {
  Json payload = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (payload.is_discarded()) {
    return invalid(field, "not valid JSON");
  }
  if (!payload.is_object()) {
    return invalid(field, std::string("must be a JSON object, got ") + payload.type_name());
  }
  return payload;
}

} // namespace vdb
