// Evaluates filters by reading payloads: the reference semantics of every condition. Payload
// indexes (payload_index.hpp) must give exactly the same answers; the property tests hold them
// to it.
#pragma once

#include "core/engine/filter.hpp"

namespace vdb {

/// Whether the test of `condition` holds for the values its key reaches in `payload`.
bool check_field_condition(const FieldCondition& condition, const Json& payload);

/// Whether a key-only condition holds: IsEmpty (no non-null value) or IsNull (some null).
bool check_is_empty(const JsonPath& key, const Json& payload);
bool check_is_null(const JsonPath& key, const Json& payload);

/// Whether `nested` holds: some element reached at its key satisfies its filter.
bool check_nested(const Nested& nested, const PointId& id, const Json& payload);

/// Whether `id` is in the sorted list of `has_id`.
bool check_has_id(const HasId& has_id, const PointId& id);

/// Evaluates a filter, asking `leaf(condition)` for every condition that is not itself a filter.
/// `must` and `must_not` stop at the first deciding condition; clauses run in the order must,
/// must_not, should, min_should.
template <class Leaf> bool evaluate_filter(const Filter& filter, Leaf&& leaf);

template <class Leaf> bool evaluate_condition(const Condition& condition, Leaf&& leaf) {
  if (const auto* sub = std::get_if<std::shared_ptr<const Filter>>(&condition.value)) {
    return evaluate_filter(**sub, leaf);
  }
  return leaf(condition);
}

template <class Leaf> bool evaluate_filter(const Filter& filter, Leaf&& leaf) {
  for (const Condition& c : filter.must) {
    if (!evaluate_condition(c, leaf)) {
      return false;
    }
  }
  for (const Condition& c : filter.must_not) {
    if (evaluate_condition(c, leaf)) {
      return false;
    }
  }
  if (!filter.should.empty()) {
    bool any = false;
    for (const Condition& c : filter.should) {
      if (evaluate_condition(c, leaf)) {
        any = true;
        break;
      }
    }
    if (!any) {
      return false;
    }
  }
  if (filter.min_should) {
    std::size_t held = 0;
    const std::size_t need = filter.min_should->min_count;
    const std::size_t n = filter.min_should->conditions.size();
    for (std::size_t i = 0; i < n && held < need; ++i) {
      // Stop early once the rest cannot reach the count.
      if (held + (n - i) < need) {
        return false;
      }
      held += evaluate_condition(filter.min_should->conditions[i], leaf) ? 1 : 0;
    }
    if (held < need) {
      return false;
    }
  }
  return true;
}

/// Whether one condition (of any kind, a filter included) holds for a point's payload.
bool check_condition(const Condition& condition, const PointId& id, const Json& payload);

/// Evaluates a whole filter against one point by reading its payload.
bool check_filter(const Filter& filter, const PointId& id, const Json& payload);

} // namespace vdb
