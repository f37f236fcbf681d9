// The filter language, as Qdrant users write it: a Filter holds `must`, `should`, `must_not`
// and `min_should` clauses over conditions, and a Filter is itself a condition, so filters nest.
// This file holds the parsed form and the JSON parser; evaluation lives in filter_checker.hpp
// (payload checks) and payload_index.hpp (index-backed plans and cardinality estimates).
#pragma once

#include "core/common/error.hpp"
#include "core/engine/datetime.hpp"
#include "core/engine/geo.hpp"
#include "core/engine/json_path.hpp"
#include "core/engine/payload.hpp"
#include "core/engine/point_id.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace vdb {

/// Bounds on a value; at least one is set. `T` is double (numbers), Timestamp (datetimes) or
/// std::uint64_t (values_count).
template <class T> struct Bounds {
  std::optional<T> gt, gte, lt, lte;
  bool contains(T v) const noexcept {
    return (!gt || v > *gt) && (!gte || v >= *gte) && (!lt || v < *lt) && (!lte || v <= *lte);
  }
};

/// `match: {value: ...}`: a keyword (string), an integer or a bool.
struct MatchValue {
  std::variant<std::string, std::int64_t, bool> value;
};
/// A set of strings or of integers, for `match: {any: [...]}` and `match: {except: [...]}`.
using AnyVariants = std::variant<std::vector<std::string>, std::vector<std::int64_t>>;
/// `match: {any: [...]}`: some value is in the set.
struct MatchAny {
  AnyVariants any;
};
/// `match: {except: [...]}`: some value is outside the set (a value of another type counts as
/// outside; null does not; a key with no value does not match).
struct MatchExcept {
  AnyVariants except;
};
/// `match: {text: "..."}`: the string values at the key, together, hold every word of the text
/// (words as the text index tokenizes them: ASCII letters and digits, lowercased), with or
/// without a text index.
struct MatchText {
  std::string text;
  std::vector<std::string> tokens; ///< the text, tokenized once at parse time
};
/// `range` with numbers: some numeric value is within the bounds.
struct NumericRange {
  Bounds<double> bounds;
};
/// `range` with RFC 3339 strings: some string value that parses as a datetime is within them.
struct DatetimeRange {
  Bounds<Timestamp> bounds;
};
/// `values_count`: the number of values the key reaches (an array counts its elements).
struct ValuesCount {
  Bounds<std::uint64_t> bounds;
};

/// A condition on the values a key path reaches; it holds when any value satisfies the test.
struct FieldCondition {
  JsonPath key;
  std::variant<MatchValue, MatchAny, MatchExcept, MatchText, NumericRange, DatetimeRange,
               ValuesCount, GeoRadius, GeoBoundingBox>
      test;
};
/// `is_empty: {key}`: the key is missing, null, `[]`, or holds only nulls.
struct IsEmpty {
  JsonPath key;
};
/// `is_null: {key}`: the key holds an explicit null (or an array with a null in it).
struct IsNull {
  JsonPath key;
};
/// `has_id: [...]`: the point's id is in the list.
struct HasId {
  std::vector<PointId> ids; ///< sorted, without duplicates
};

struct Filter;
/// `nested: {key, filter}`: the filter holds on one element of the array of objects at `key`,
/// with the filter's keys read inside that element.
struct Nested {
  JsonPath key;
  std::shared_ptr<const Filter> filter;
};

struct Condition {
  std::variant<FieldCondition, IsEmpty, IsNull, HasId, Nested, std::shared_ptr<const Filter>> value;
};

struct MinShould {
  std::vector<Condition> conditions;
  std::size_t min_count = 0;
};

/// An empty filter matches every point. `should` holds when it is empty or any condition holds.
struct Filter {
  std::vector<Condition> must;
  std::vector<Condition> should;
  std::vector<Condition> must_not;
  std::optional<MinShould> min_should;

  bool empty() const noexcept {
    return must.empty() && should.empty() && must_not.empty() && !min_should;
  }
};

struct FilterLimits {
  /// Deepest nesting of filters (the top filter is depth 1; a filter used as a condition, or
  /// inside `nested`, is one deeper).
  std::size_t max_depth = 32;
  /// Most conditions in the whole filter.
  std::size_t max_conditions = 10'000;
};

/// Parses a filter from its JSON form. Errors are invalid_argument and name the field by its
/// path in the request, e.g. "filter.must[1].range: give at least one of gt, gte, lt, lte".
Expected<Filter> parse_filter(const Json& json, const FilterLimits& limits = {},
                              std::string_view field = "filter");

/// A string that identifies a field condition exactly (two conditions with the same key match
/// the same points): the key path, the kind of test and its values. Written into `key`, whose
/// capacity is reused: the query path builds one per cached-bitmap lookup.
void condition_key(const FieldCondition& condition, std::string& key);

/// Splits text into lowercase words of ASCII letters and digits (other bytes, including all
/// non-ASCII UTF-8 sequences, are kept inside words: only ASCII punctuation and whitespace
/// separate them). The text index and `match: {text}` both use it.
std::vector<std::string> tokenize_words(std::string_view text);

} // namespace vdb
