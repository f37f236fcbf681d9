#include "core/engine/filter_checker.hpp"

#include <algorithm>
#include <limits>

namespace vdb {
namespace {

bool in_set(const AnyVariants& set, const Json& v) {
  if (const auto* strings = std::get_if<std::vector<std::string>>(&set)) {
    return v.is_string() &&
           std::binary_search(strings->begin(), strings->end(), v.get_ref<const std::string&>());
  }
  const auto& ints = std::get<std::vector<std::int64_t>>(set);
  const auto n = integer_value(v);
  return n && std::binary_search(ints.begin(), ints.end(), *n);
}

// Whether the string values, together, hold every token.
bool has_all_tokens(const std::vector<const Json*>& values,
                    const std::vector<std::string>& tokens) {
  std::vector<std::string> words;
  for (const Json* v : values) {
    if (v->is_string()) {
      for (std::string& w : tokenize_words(v->get_ref<const std::string&>())) {
        words.push_back(std::move(w));
      }
    }
  }
  std::sort(words.begin(), words.end());
  return std::all_of(tokens.begin(), tokens.end(), [&](const std::string& t) {
    return std::binary_search(words.begin(), words.end(), t);
  });
}

struct ValueTest {
  const Json& v;

  bool operator()(const MatchValue& m) const {
    return std::visit(
        [&](const auto& want) {
          using T = std::decay_t<decltype(want)>;
          if constexpr (std::is_same_v<T, std::string>) {
            return v.is_string() && v.get_ref<const std::string&>() == want;
          } else if constexpr (std::is_same_v<T, bool>) {
            return v.is_boolean() && v.get<bool>() == want;
          } else {
            const auto n = integer_value(v);
            return n && *n == want;
          }
        },
        m.value);
  }
  bool operator()(const MatchAny& m) const { return in_set(m.any, v); }
  bool operator()(const MatchExcept& m) const {
    if (v.is_null()) {
      return false;
    }
    const bool same_type = std::holds_alternative<std::vector<std::string>>(m.except)
                               ? v.is_string()
                               : integer_value(v).has_value();
    return !same_type || !in_set(m.except, v);
  }
  bool operator()(const MatchText& /*unused*/) const { return false; } // handled per key
  bool operator()(const NumericRange& r) const {
    return v.is_number() && r.bounds.contains(v.get<double>());
  }
  bool operator()(const DatetimeRange& r) const {
    if (!v.is_string()) {
      return false;
    }
    const auto t = parse_datetime(v.get_ref<const std::string&>());
    return t && r.bounds.contains(*t);
  }
  bool operator()(const ValuesCount& /*unused*/) const { return false; } // handled per key
  bool operator()(const GeoRadius& g) const {
    const auto p = geo_point_of(v);
    return p && g.contains(*p);
  }
  bool operator()(const GeoBoundingBox& g) const {
    const auto p = geo_point_of(v);
    return p && g.contains(*p);
  }
};

} // namespace

bool check_field_condition(const FieldCondition& condition, const Json& payload) {
  std::vector<const Json*> values;
  collect_values(payload, condition.key, values);
  if (const auto* count = std::get_if<ValuesCount>(&condition.test)) {
    const auto n = static_cast<std::uint64_t>(
        std::count_if(values.begin(), values.end(), [](const Json* v) { return !v->is_null(); }));
    return count->bounds.contains(n);
  }
  if (const auto* text = std::get_if<MatchText>(&condition.test)) {
    return has_all_tokens(values, text->tokens);
  }
  return std::any_of(values.begin(), values.end(),
                     [&](const Json* v) { return std::visit(ValueTest{*v}, condition.test); });
}

bool check_is_empty(const JsonPath& key, const Json& payload) {
  std::vector<const Json*> values;
  collect_values(payload, key, values);
  return std::all_of(values.begin(), values.end(), [](const Json* v) { return v->is_null(); });
}

bool check_is_null(const JsonPath& key, const Json& payload) {
  std::vector<const Json*> values;
  collect_values(payload, key, values);
  return std::any_of(values.begin(), values.end(), [](const Json* v) { return v->is_null(); });
}

bool check_has_id(const HasId& has_id, const PointId& id) {
  return std::binary_search(has_id.ids.begin(), has_id.ids.end(), id);
}

bool check_nested(const Nested& nested, const PointId& id, const Json& payload) {
  std::vector<const Json*> elements;
  collect_values(payload, nested.key, elements);
  return std::any_of(elements.begin(), elements.end(), [&](const Json* element) {
    return element->is_object() && check_filter(*nested.filter, id, *element);
  });
}

bool check_condition(const Condition& condition, const PointId& id, const Json& payload) {
  return std::visit(
      [&](const auto& cond) -> bool {
        using T = std::decay_t<decltype(cond)>;
        if constexpr (std::is_same_v<T, FieldCondition>) {
          return check_field_condition(cond, payload);
        } else if constexpr (std::is_same_v<T, IsEmpty>) {
          return check_is_empty(cond.key, payload);
        } else if constexpr (std::is_same_v<T, IsNull>) {
          return check_is_null(cond.key, payload);
        } else if constexpr (std::is_same_v<T, HasId>) {
          return check_has_id(cond, id);
        } else if constexpr (std::is_same_v<T, Nested>) {
          return check_nested(cond, id, payload);
        } else {
          return check_filter(*cond, id, payload);
        }
      },
      condition.value);
}

bool check_filter(const Filter& filter, const PointId& id, const Json& payload) {
  return evaluate_filter(filter,
                         [&](const Condition& c) { return check_condition(c, id, payload); });
}

} // namespace vdb
