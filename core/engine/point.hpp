// Points as requests carry them and as reads return them, and the selectors that choose which
// payload keys and vectors a read returns.
#pragma once

#include "core/common/error.hpp"
#include "core/engine/filter.hpp"
#include "core/engine/json_path.hpp"
#include "core/engine/payload.hpp"
#include "core/engine/point_id.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace vdb {

/// Vectors by name; the unnamed vector has the name "".
using NamedVectors = std::map<std::string, std::vector<float>>;

/// A point to upsert. `payload` is a JSON object (null is read as {}).
struct PointStruct {
  PointId id;
  NamedVectors vectors;
  Json payload = Json::object();
};

/// A point's new vectors (the names not given keep their vectors).
struct PointVectors {
  PointId id;
  NamedVectors vectors;
};

/// `with_payload`: true (all), false (none), a list of keys to include, or keys to exclude.
struct PayloadSelector {
  enum class Mode { all, none, include, exclude };
  Mode mode = Mode::all;
  std::vector<JsonPath> keys;

  static PayloadSelector all() { return {}; }
  static PayloadSelector none() { return {Mode::none, {}}; }
};

/// `with_vector`: true (all), false (none) or a list of vector names.
struct VectorSelector {
  bool all = false;
  std::vector<std::string> names;

  static VectorSelector none() { return {}; }
  static VectorSelector every() { return {true, {}}; }
};

/// A point as a read returns it.
struct Record {
  PointId id;
  std::uint64_t version = 0; ///< the operation that last changed the point
  std::optional<Json> payload;
  NamedVectors vectors;
};

/// A search hit: the record and its score.
struct ScoredPoint {
  PointId id;
  std::uint64_t version = 0;
  float score = 0;
  std::optional<Json> payload;
  NamedVectors vectors;
};

/// Which points an operation applies to: a list of ids or a filter.
using PointsSelector = std::variant<std::vector<PointId>, Filter>;

/// Reads `with_payload`: bool, [keys], {"include": [keys]} or {"exclude": [keys]}.
Expected<PayloadSelector> parse_payload_selector(const Json& j,
                                                 std::string_view field = "with_payload");
/// Reads `with_vector`: bool or [names].
Expected<VectorSelector> parse_vector_selector(const Json& j,
                                               std::string_view field = "with_vector");

/// The payload with only the keys the selector lets through. An included key keeps its whole
/// value at its path (through objects); an excluded key is removed where the path reaches it.
Json select_payload(const Json& payload, const PayloadSelector& selector);

/// Removes what `path` reaches: the key under an object, an element `[N]`, or all elements for
/// a trailing `[]`. Missing paths change nothing.
void erase_path(Json& payload, const JsonPath& path);

/// JSON of a record or a hit: {"id", "version", "score"?, "payload"?, "vector"?}. A collection
/// with one unnamed vector returns "vector" as an array, others as an object by name.
Json to_json(const Record& record, bool unnamed_vector);
Json to_json(const ScoredPoint& point, bool unnamed_vector);

} // namespace vdb
