#include "core/engine/point.hpp"

namespace vdb {
namespace {

Expected<std::vector<JsonPath>> read_keys(const Json& j, const std::string& field) {
  if (!j.is_array()) {
    return invalid(field, "must be an array of payload keys");
  }
  std::vector<JsonPath> keys;
  for (std::size_t i = 0; i < j.size(); ++i) {
    const std::string at = field + "[" + std::to_string(i) + "]";
    if (!j[i].is_string()) {
      return invalid(at, "must be a string");
    }
    auto path = JsonPath::parse(j[i].get_ref<const std::string&>(), at);
    VDB_TRY(path);
    keys.push_back(std::move(*path));
  }
  return keys;
}

// Copies into `out` what `segments[at..]` reaches in `node`, keeping the structure on the way.
void copy_path(const Json& node, const std::vector<JsonPath::Segment>& segments, std::size_t at,
               Json& out) {
  if (at == segments.size()) {
    out = node;
    return;
  }
  const JsonPath::Segment& s = segments[at];
  if (s.kind == JsonPath::Segment::Kind::key) {
    if (node.is_object()) {
      const auto it = node.find(s.key);
      if (it != node.end()) {
        if (!out.is_object()) {
          out = Json::object();
        }
        copy_path(*it, segments, at + 1, out[s.key]);
      }
    }
    return;
  }
  // Through arrays, keep the whole array value (elements are not filtered).
  if (node.is_array()) {
    out = node;
  }
}

void erase_at(Json& node, const std::vector<JsonPath::Segment>& segments, std::size_t at) {
  using Kind = JsonPath::Segment::Kind;
  const JsonPath::Segment& s = segments[at];
  const bool last = at + 1 == segments.size();
  switch (s.kind) {
  case Kind::key:
    if (node.is_object()) {
      if (last) {
        node.erase(s.key);
      } else if (auto it = node.find(s.key); it != node.end()) {
        erase_at(*it, segments, at + 1);
      }
    }
    break;
  case Kind::every_element:
    if (node.is_array()) {
      if (last) {
        node = Json::array();
      } else {
        for (Json& element : node) {
          erase_at(element, segments, at + 1);
        }
      }
    }
    break;
  case Kind::element:
    if (node.is_array() && s.index < node.size()) {
      if (last) {
        node.erase(s.index);
      } else {
        erase_at(node[s.index], segments, at + 1);
      }
    }
    break;
  }
}

Json vectors_json(const NamedVectors& vectors, bool unnamed_vector) {
  if (unnamed_vector) {
    const auto it = vectors.find("");
    return it == vectors.end() ? Json() : Json(it->second);
  }
  Json out = Json::object();
  for (const auto& [name, v] : vectors) {
    out[name] = v;
  }
  return out;
}

} // namespace

Expected<PayloadSelector> parse_payload_selector(const Json& j, std::string_view field) {
  if (j.is_null()) {
    return PayloadSelector::all();
  }
  if (j.is_boolean()) {
    return j.get<bool>() ? PayloadSelector::all() : PayloadSelector::none();
  }
  PayloadSelector out;
  if (j.is_array()) {
    auto keys = read_keys(j, std::string(field));
    VDB_TRY(keys);
    return PayloadSelector{PayloadSelector::Mode::include, std::move(*keys)};
  }
  if (j.is_object() && j.size() == 1 && (j.contains("include") || j.contains("exclude"))) {
    const bool include = j.contains("include");
    const char* name = include ? "include" : "exclude";
    auto keys = read_keys(j[name], std::string(field) + "." + name);
    VDB_TRY(keys);
    return PayloadSelector{include ? PayloadSelector::Mode::include
                                   : PayloadSelector::Mode::exclude,
                           std::move(*keys)};
  }
  return invalid(field, "must be true, false, [keys], {\"include\": [keys]} or "
                        "{\"exclude\": [keys]}");
}

Expected<VectorSelector> parse_vector_selector(const Json& j, std::string_view field) {
  if (j.is_null()) {
    return VectorSelector::none();
  }
  if (j.is_boolean()) {
    return j.get<bool>() ? VectorSelector::every() : VectorSelector::none();
  }
  if (j.is_array()) {
    VectorSelector out;
    for (std::size_t i = 0; i < j.size(); ++i) {
      if (!j[i].is_string()) {
        return invalid(std::string(field) + "[" + std::to_string(i) + "]", "must be a vector name");
      }
      out.names.push_back(j[i].get<std::string>());
    }
    return out;
  }
  return invalid(field, "must be true, false or a list of vector names");
}

Json select_payload(const Json& payload, const PayloadSelector& selector) {
  switch (selector.mode) {
  case PayloadSelector::Mode::all:
    return payload;
  case PayloadSelector::Mode::none:
    return Json::object();
  case PayloadSelector::Mode::include: {
    Json out = Json::object();
    for (const JsonPath& key : selector.keys) {
      copy_path(payload, key.segments(), 0, out);
    }
    return out.is_object() ? out : Json::object();
  }
  case PayloadSelector::Mode::exclude: {
    Json out = payload;
    for (const JsonPath& key : selector.keys) {
      erase_path(out, key);
    }
    return out;
  }
  }
  return payload;
}

void erase_path(Json& payload, const JsonPath& path) {
  if (!path.segments().empty()) {
    erase_at(payload, path.segments(), 0);
  }
}

Json to_json(const Record& record, bool unnamed_vector) {
  Json j{{"id", point_id_json(record.id)}, {"version", record.version}};
  if (record.payload) {
    j["payload"] = *record.payload;
  }
  if (!record.vectors.empty()) {
    j["vector"] = vectors_json(record.vectors, unnamed_vector);
  }
  return j;
}

Json to_json(const ScoredPoint& point, bool unnamed_vector) {
  Json j{{"id", point_id_json(point.id)}, {"version", point.version}, {"score", point.score}};
  if (point.payload) {
    j["payload"] = *point.payload;
  }
  if (!point.vectors.empty()) {
    j["vector"] = vectors_json(point.vectors, unnamed_vector);
  }
  return j;
}

} // namespace vdb
