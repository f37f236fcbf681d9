#include "core/engine/filter.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <limits>

namespace vdb {
namespace {

std::string kind_of(const Json& j) { return j.type_name(); }

class Parser {
public:
  explicit Parser(const FilterLimits& limits) : limits_(limits) {}

  Expected<Filter> filter(const Json& j, const std::string& field, std::size_t depth) {
    if (depth > limits_.max_depth) {
      return invalid(field, "filters nest deeper than the limit of " +
                                std::to_string(limits_.max_depth) + " levels");
    }
    if (!j.is_object()) {
      return invalid(field, "a filter must be a JSON object, got " + kind_of(j));
    }
    Filter out;
    for (const auto& [key, value] : j.items()) {
      const std::string sub = field + "." + key;
      if (key == "must" || key == "should" || key == "must_not") {
        auto& clause = key == "must" ? out.must : key == "should" ? out.should : out.must_not;
        VDB_TRY(conditions(value, sub, depth, clause));
      } else if (key == "min_should") {
        if (!value.is_object()) {
          return invalid(sub, "must be an object {conditions, min_count}, got " + kind_of(value));
        }
        MinShould ms;
        for (const auto& [k, v] : value.items()) {
          if (k == "conditions") {
            VDB_TRY(conditions(v, sub + ".conditions", depth, ms.conditions));
          } else if (k == "min_count") {
            if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0)) {
              return invalid(sub + ".min_count", "must be a non-negative integer");
            }
            ms.min_count = v.get<std::size_t>();
          } else {
            return invalid(sub + "." + k, "unknown field (expected conditions, min_count)");
          }
        }
        if (value.find("min_count") == value.end()) {
          return invalid(sub + ".min_count", "is required");
        }
        out.min_should = std::move(ms);
      } else {
        return invalid(sub, "unknown field (expected must, should, must_not, min_should)");
      }
    }
    return out;
  }

private:
  // A clause holds one condition or an array of them. null means an empty clause.
  Status conditions(const Json& j, const std::string& field, std::size_t depth,
                    std::vector<Condition>& out) {
    if (j.is_null()) {
      return {};
    }
    if (j.is_array()) {
      for (std::size_t i = 0; i < j.size(); ++i) {
        auto c = condition(j[i], field + "[" + std::to_string(i) + "]", depth);
        VDB_TRY(c);
        out.push_back(std::move(*c));
      }
      return {};
    }
    auto c = condition(j, field, depth);
    VDB_TRY(c);
    out.push_back(std::move(*c));
    return {};
  }

  Expected<Condition> condition(const Json& j, const std::string& field, std::size_t depth) {
    if (++count_ > limits_.max_conditions) {
      return invalid(field, "the filter has more than " + std::to_string(limits_.max_conditions) +
                                " conditions");
    }
    if (!j.is_object()) {
      return invalid(field, "a condition must be a JSON object, got " + kind_of(j));
    }
    if (j.contains("key")) {
      auto c = field_condition(j, field);
      VDB_TRY(c);
      return Condition{std::move(*c)};
    }
    if (j.size() == 1) {
      const std::string& name = j.begin().key();
      const Json& body = j.begin().value();
      if (name == "is_empty" || name == "is_null") {
        auto key = key_of(body, field + "." + name);
        VDB_TRY(key);
        if (name == "is_empty") {
          return Condition{IsEmpty{std::move(*key)}};
        }
        return Condition{IsNull{std::move(*key)}};
      }
      if (name == "has_id") {
        return has_id(body, field + ".has_id");
      }
      if (name == "nested") {
        return nested(body, field + ".nested", depth);
      }
    }
    auto f = filter(j, field, depth + 1);
    VDB_TRY(f);
    return Condition{std::make_shared<const Filter>(std::move(*f))};
  }

  static Expected<JsonPath> key_of(const Json& body, const std::string& field) {
    if (!body.is_object() || !body.contains("key") || !body["key"].is_string()) {
      return invalid(field, "must be an object with a string `key`");
    }
    if (body.size() != 1) {
      return invalid(field, "only `key` is allowed here");
    }
    return JsonPath::parse(body["key"].get_ref<const std::string&>(), field + ".key");
  }

  static Expected<Condition> has_id(const Json& body, const std::string& field) {
    if (!body.is_array()) {
      return invalid(field, "must be an array of point ids, got " + kind_of(body));
    }
    HasId out;
    for (std::size_t i = 0; i < body.size(); ++i) {
      auto id = parse_point_id(body[i], field + "[" + std::to_string(i) + "]");
      VDB_TRY(id);
      out.ids.push_back(*id);
    }
    std::sort(out.ids.begin(), out.ids.end());
    out.ids.erase(std::unique(out.ids.begin(), out.ids.end()), out.ids.end());
    return Condition{std::move(out)};
  }

  Expected<Condition> nested(const Json& body, const std::string& field, std::size_t depth) {
    if (!body.is_object() || !body.contains("key") || !body["key"].is_string() ||
        !body.contains("filter")) {
      return invalid(field, "must be an object {key, filter}");
    }
    for (const auto& [k, v] : body.items()) {
      if (k != "key" && k != "filter") {
        return invalid(field + "." + k, "unknown field (expected key, filter)");
      }
    }
    auto key = JsonPath::parse(body["key"].get_ref<const std::string&>(), field + ".key");
    VDB_TRY(key);
    auto f = filter(body["filter"], field + ".filter", depth + 1);
    VDB_TRY(f);
    return Condition{Nested{std::move(*key), std::make_shared<const Filter>(std::move(*f))}};
  }

  static Expected<FieldCondition> field_condition(const Json& j, const std::string& field) {
    if (!j["key"].is_string()) {
      return invalid(field + ".key", "must be a string");
    }
    auto key = JsonPath::parse(j["key"].get_ref<const std::string&>(), field + ".key");
    VDB_TRY(key);
    FieldCondition out{std::move(*key), MatchValue{}};
    int tests = 0;
    for (const auto& [name, body] : j.items()) {
      const std::string sub = field + "." + name;
      if (name == "key" || body.is_null()) {
        continue;
      }
      ++tests;
      Status status;
      if (name == "match") {
        status = match(body, sub, out);
      } else if (name == "range") {
        status = range(body, sub, out);
      } else if (name == "values_count") {
        auto b = bounds<std::uint64_t>(body, sub);
        status = b.status();
        if (b) {
          out.test = ValuesCount{*b};
        }
      } else if (name == "geo_radius") {
        status = geo_radius(body, sub, out);
      } else if (name == "geo_bounding_box") {
        status = geo_box(body, sub, out);
      } else {
        return invalid(sub, "unknown condition (expected match, range, values_count, "
                            "geo_radius, geo_bounding_box)");
      }
      VDB_TRY(status);
    }
    if (tests != 1) {
      return invalid(field, tests == 0 ? "a condition on `key` needs one of match, range, "
                                         "values_count, geo_radius, geo_bounding_box"
                                       : "give only one of match, range, values_count, "
                                         "geo_radius, geo_bounding_box per condition");
    }
    return out;
  }

  static Expected<std::int64_t> integer(const Json& v, const std::string& field) {
    if (auto n = integer_value(v)) {
      return *n;
    }
    return invalid(field,
                   v.is_number_integer() ? "integer is larger than 2^63-1" : "must be an integer");
  }

  static Expected<AnyVariants> any_variants(const Json& v, const std::string& field) {
    if (!v.is_array()) {
      return invalid(field, "must be an array of strings or of integers, got " + kind_of(v));
    }
    if (v.empty() || v[0].is_string()) {
      std::vector<std::string> strings;
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (!v[i].is_string()) {
          return invalid(field + "[" + std::to_string(i) + "]",
                         "all elements must be strings, like the first");
        }
        strings.push_back(v[i].get<std::string>());
      }
      std::sort(strings.begin(), strings.end());
      strings.erase(std::unique(strings.begin(), strings.end()), strings.end());
      return AnyVariants{std::move(strings)};
    }
    std::vector<std::int64_t> ints;
    for (std::size_t i = 0; i < v.size(); ++i) {
      auto n = integer(v[i], field + "[" + std::to_string(i) + "]");
      if (!n) {
        return invalid(field + "[" + std::to_string(i) + "]",
                       "all elements must be integers, like the first (or all strings)");
      }
      ints.push_back(*n);
    }
    std::sort(ints.begin(), ints.end());
    ints.erase(std::unique(ints.begin(), ints.end()), ints.end());
    return AnyVariants{std::move(ints)};
  }

  static Status match(const Json& body, const std::string& field, FieldCondition& out) {
    if (!body.is_object() || body.size() != 1) {
      return invalid(field, "must be an object with exactly one of value, any, except, text");
    }
    const std::string& kind = body.begin().key();
    const Json& v = body.begin().value();
    const std::string sub = field + "." + kind;
    if (kind == "value") {
      if (v.is_string()) {
        out.test = MatchValue{v.get<std::string>()};
      } else if (v.is_boolean()) {
        out.test = MatchValue{v.get<bool>()};
      } else if (v.is_number_integer()) {
        auto n = integer(v, sub);
        VDB_TRY(n);
        out.test = MatchValue{*n};
      } else {
        return invalid(sub, "must be a string, an integer or a bool, got " + kind_of(v) +
                                (v.is_number() ? " (use range for floats)" : ""));
      }
    } else if (kind == "any" || kind == "except") {
      auto set = any_variants(v, sub);
      VDB_TRY(set);
      if (kind == "any") {
        out.test = MatchAny{std::move(*set)};
      } else {
        out.test = MatchExcept{std::move(*set)};
      }
    } else if (kind == "text") {
      if (!v.is_string()) {
        return invalid(sub, "must be a string");
      }
      MatchText text{v.get<std::string>(), {}};
      text.tokens = tokenize_words(text.text);
      if (text.tokens.empty()) {
        return invalid(sub, "holds no word to search for");
      }
      out.test = std::move(text);
    } else {
      return invalid(sub, "unknown match (expected value, any, except, text)");
    }
    return {};
  }

  // Reads {gt, gte, lt, lte} with `read` turning each bound into T.
  template <class T, class Read>
  static Expected<Bounds<T>> bounds_with(const Json& body, const std::string& field, Read read) {
    if (!body.is_object()) {
      return invalid(field, "must be an object with gt, gte, lt or lte, got " + kind_of(body));
    }
    Bounds<T> out;
    for (const auto& [k, v] : body.items()) {
      std::optional<T>* slot = k == "gt"    ? &out.gt
                               : k == "gte" ? &out.gte
                               : k == "lt"  ? &out.lt
                               : k == "lte" ? &out.lte
                                            : nullptr;
      if (slot == nullptr) {
        return invalid(field + "." + k, "unknown bound (expected gt, gte, lt, lte)");
      }
      if (v.is_null()) {
        continue;
      }
      auto value = read(v, field + "." + k);
      VDB_TRY(value);
      *slot = *value;
    }
    if (!out.gt && !out.gte && !out.lt && !out.lte) {
      return invalid(field, "give at least one of gt, gte, lt, lte");
    }
    return out;
  }

  template <class T> static Expected<Bounds<T>> bounds(const Json& body, const std::string& f) {
    return bounds_with<T>(body, f, [](const Json& v, const std::string& at) -> Expected<T> {
      if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0)) {
        return invalid(at, "must be a non-negative integer");
      }
      return v.get<T>();
    });
  }

  static Status range(const Json& body, const std::string& field, FieldCondition& out) {
    bool strings = false;
    if (body.is_object()) {
      for (const auto& [k, v] : body.items()) {
        strings = strings || v.is_string();
      }
    }
    if (strings) {
      auto b = bounds_with<Timestamp>(
          body, field, [](const Json& v, const std::string& at) -> Expected<Timestamp> {
            if (!v.is_string()) {
              return invalid(at, "must be an RFC 3339 datetime string, like the other bounds");
            }
            auto t = parse_datetime(v.get_ref<const std::string&>());
            if (!t) {
              return invalid(at, "'" + v.get<std::string>().substr(0, 64) +
                                     "' is not an RFC 3339 datetime");
            }
            return *t;
          });
      VDB_TRY(b);
      out.test = DatetimeRange{*b};
      return {};
    }
    auto b = bounds_with<double>(body, field,
                                 [](const Json& v, const std::string& at) -> Expected<double> {
                                   if (!v.is_number()) {
                                     return invalid(at, "must be a number, got " + kind_of(v));
                                   }
                                   return v.get<double>();
                                 });
    VDB_TRY(b);
    out.test = NumericRange{*b};
    return {};
  }

  static Expected<GeoPoint> geo_point(const Json& body, const std::string& field) {
    auto p = geo_point_of(body);
    if (!p || body.size() != 2) {
      return invalid(field, "must be {lon, lat} with lon in -180..180 and lat in -90..90");
    }
    return *p;
  }

  static Status geo_radius(const Json& body, const std::string& field, FieldCondition& out) {
    if (!body.is_object() || !body.contains("center") || !body.contains("radius") ||
        body.size() != 2) {
      return invalid(field, "must be an object {center: {lon, lat}, radius}");
    }
    auto center = geo_point(body["center"], field + ".center");
    VDB_TRY(center);
    const Json& r = body["radius"];
    if (!r.is_number() || !(r.get<double>() >= 0) || !std::isfinite(r.get<double>())) {
      return invalid(field + ".radius", "must be a non-negative number of meters");
    }
    out.test = GeoRadius{*center, r.get<double>()};
    return {};
  }

  static Status geo_box(const Json& body, const std::string& field, FieldCondition& out) {
    if (!body.is_object() || !body.contains("top_left") || !body.contains("bottom_right") ||
        body.size() != 2) {
      return invalid(field, "must be an object {top_left: {lon, lat}, bottom_right: {lon, lat}}");
    }
    auto tl = geo_point(body["top_left"], field + ".top_left");
    VDB_TRY(tl);
    auto br = geo_point(body["bottom_right"], field + ".bottom_right");
    VDB_TRY(br);
    if (tl->lat < br->lat) {
      return invalid(field, "top_left.lat must not be south of bottom_right.lat");
    }
    out.test = GeoBoundingBox{*tl, *br};
    return {};
  }

  const FilterLimits& limits_;
  std::size_t count_ = 0;
};

} // namespace

Expected<Filter> parse_filter(const Json& json, const FilterLimits& limits,
                              std::string_view field) {
  Parser parser(limits);
  return parser.filter(json, std::string(field), 1);
}

void condition_key(const FieldCondition& condition, std::string& key) {
  key.assign(condition.key.to_string());
  key += '\0';
  key += static_cast<char>('0' + condition.test.index());
  const auto add = [&key](const auto& v) {
    using T = std::decay_t<decltype(v)>;
    key += '\x1f';
    if constexpr (std::is_same_v<T, std::string>) {
      key += std::to_string(v.size());
      key += ':';
      key += v;
    } else {
      static_assert(std::is_arithmetic_v<T>);
      // The value's bytes: exact (to_string prints 6 decimals, so 1e-7 and 2e-7 would share
      // a key and a cached bitmap) and no formatting on the query path.
      char raw[sizeof v];
      std::memcpy(raw, &v, sizeof v);
      key.append(raw, sizeof v);
    }
  };
  const auto add_bounds = [&](const auto& b) {
    for (const auto* bound : {&b.gt, &b.gte, &b.lt, &b.lte}) {
      if (*bound) {
        add(**bound);
      } else {
        key += "\x1f-";
      }
    }
  };
  const auto add_set = [&](const AnyVariants& set) {
    std::visit(
        [&](const auto& values) {
          key += std::to_string(values.size());
          for (const auto& v : values) {
            add(v);
          }
        },
        set);
  };
  std::visit(
      [&](const auto& test) {
        using T = std::decay_t<decltype(test)>;
        if constexpr (std::is_same_v<T, MatchValue>) {
          key += std::to_string(test.value.index());
          std::visit([&](const auto& v) { add(v); }, test.value);
        } else if constexpr (std::is_same_v<T, MatchAny>) {
          add_set(test.any);
        } else if constexpr (std::is_same_v<T, MatchExcept>) {
          add_set(test.except);
        } else if constexpr (std::is_same_v<T, MatchText>) {
          for (const std::string& t : test.tokens) {
            add(t);
          }
        } else if constexpr (std::is_same_v<T, GeoRadius>) {
          add(test.center.lon);
          add(test.center.lat);
          add(test.radius_m);
        } else if constexpr (std::is_same_v<T, GeoBoundingBox>) {
          add(test.top_left.lon);
          add(test.top_left.lat);
          add(test.bottom_right.lon);
          add(test.bottom_right.lat);
        } else {
          add_bounds(test.bounds);
        }
      },
      condition.test);
}

std::vector<std::string> tokenize_words(std::string_view text) {
  std::vector<std::string> out;
  std::string word;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    const bool separator = u < 0x80 && !std::isalnum(u);
    if (separator) {
      if (!word.empty()) {
        out.push_back(std::move(word));
        word.clear();
      }
    } else {
      word.push_back(u < 0x80 ? static_cast<char>(std::tolower(u)) : c);
    }
  }
  if (!word.empty()) {
    out.push_back(std::move(word));
  }
  return out;
}

} // namespace vdb
