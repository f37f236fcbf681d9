#include "core/engine/payload.hpp"

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

} // namespace

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
    return Error{Errc::invalid_argument, std::string(field) + ": not valid JSON"};
  }
  if (!payload.is_object()) {
    return Error{Errc::invalid_argument,
                 std::string(field) + ": must be a JSON object, got " + payload.type_name()};
  }
  return payload;
}

} // namespace vdb
