// The filter language: parsing (with errors that name the field) and the meaning of every
// condition, checked on payloads.
#include "core/engine/filter_checker.hpp"
#include "support/engine.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace vdb {
namespace {

using test::filter_of;
using ::testing::HasSubstr;

const Json kShop = Json::parse(R"({
  "city": "London",
  "price": 11.5,
  "count": 3,
  "tags": ["sale", "new"],
  "sold_out": false,
  "nothing": null,
  "empty": [],
  "created": "2024-05-01T10:00:00Z",
  "location": {"lon": -0.1276, "lat": 51.5072},
  "description": "A Red bicycle, almost new!",
  "reviews": [{"user": "ann", "stars": 5}, {"user": "bob", "stars": 2}]
})");

bool matches(std::string_view filter_json, const Json& payload = kShop,
             PointId id = PointId::from_number(7)) {
  return check_filter(filter_of(filter_json), id, payload);
}

std::string parse_error(std::string_view filter_json, FilterLimits limits = {}) {
  auto f = parse_filter(Json::parse(filter_json), limits);
  EXPECT_FALSE(f.ok()) << filter_json;
  return f ? "" : f.error().message;
}

TEST(Filter, MatchValueComparesKeywordsIntegersAndBools) {
  EXPECT_TRUE(matches(R"({"must": [{"key": "city", "match": {"value": "London"}}]})"));
  EXPECT_FALSE(matches(R"({"must": [{"key": "city", "match": {"value": "london"}}]})"));
  EXPECT_TRUE(matches(R"({"must": {"key": "count", "match": {"value": 3}}})"));
  EXPECT_FALSE(matches(R"({"must": {"key": "price", "match": {"value": 11}}})"));
  EXPECT_TRUE(matches(R"({"must": {"key": "sold_out", "match": {"value": false}}})"));
  EXPECT_TRUE(matches(R"({"must": {"key": "tags", "match": {"value": "new"}}})"));
}

TEST(Filter, MatchAnyAndExceptFollowQdrant) {
  EXPECT_TRUE(matches(R"({"must": {"key": "city", "match": {"any": ["Paris", "London"]}}})"));
  EXPECT_FALSE(matches(R"({"must": {"key": "city", "match": {"any": []}}})"));
  EXPECT_TRUE(matches(R"({"must": {"key": "count", "match": {"any": [1, 3]}}})"));
  // except: some value outside the set.
  EXPECT_TRUE(matches(R"({"must": {"key": "tags", "match": {"except": ["sale"]}}})"));
  EXPECT_FALSE(matches(R"({"must": {"key": "tags", "match": {"except": ["sale", "new"]}}})"));
  // A value of another type is outside the set; null is not; a missing key does not match.
  EXPECT_TRUE(matches(R"({"must": {"key": "count", "match": {"except": ["x"]}}})"));
  EXPECT_FALSE(matches(R"({"must": {"key": "nothing", "match": {"except": ["x"]}}})"));
  EXPECT_FALSE(matches(R"({"must": {"key": "missing", "match": {"except": ["x"]}}})"));
}

TEST(Filter, MatchTextNeedsEveryWordInAnyCase) {
  EXPECT_TRUE(matches(R"({"must": {"key": "description", "match": {"text": "red BICYCLE"}}})"));
  EXPECT_TRUE(matches(R"({"must": {"key": "description", "match": {"text": "new"}}})"));
  EXPECT_FALSE(matches(R"({"must": {"key": "description", "match": {"text": "red car"}}})"));
  // Words, not substrings.
  EXPECT_FALSE(matches(R"({"must": {"key": "description", "match": {"text": "bicy"}}})"));
}

TEST(Filter, RangesCompareNumbersAndDatetimes) {
  EXPECT_TRUE(matches(R"({"must": {"key": "price", "range": {"gt": 11, "lte": 11.5}}})"));
  EXPECT_FALSE(matches(R"({"must": {"key": "price", "range": {"lt": 11.5}}})"));
  EXPECT_TRUE(matches(R"({"must": {"key": "count", "range": {"gte": 3}}})"));
  EXPECT_FALSE(matches(R"({"must": {"key": "city", "range": {"gte": 0}}})"));
  EXPECT_TRUE(matches(
      R"({"must": {"key": "created", "range": {"gte": "2024-05-01T09:00:00Z", "lt": "2024-05-02"}}})"));
  EXPECT_TRUE(
      matches(R"({"must": {"key": "created", "range": {"gt": "2024-05-01T11:59:59+02:00"}}})"));
  EXPECT_FALSE(matches(R"({"must": {"key": "created", "range": {"gt": "2024-05-01T10:00:00Z"}}})"));
}

TEST(Filter, ValuesCountIsEmptyAndIsNull) {
  EXPECT_TRUE(matches(R"({"must": {"key": "tags", "values_count": {"gte": 2, "lt": 3}}})"));
  EXPECT_TRUE(matches(R"({"must": {"key": "city", "values_count": {"lte": 1}}})"));
  EXPECT_TRUE(matches(R"({"must": {"is_empty": {"key": "empty"}}})"));
  EXPECT_TRUE(matches(R"({"must": {"is_empty": {"key": "missing"}}})"));
  EXPECT_TRUE(matches(R"({"must": {"is_empty": {"key": "nothing"}}})"));
  EXPECT_FALSE(matches(R"({"must": {"is_empty": {"key": "tags"}}})"));
  EXPECT_TRUE(matches(R"({"must": {"is_null": {"key": "nothing"}}})"));
  EXPECT_FALSE(matches(R"({"must": {"is_null": {"key": "missing"}}})"));
  EXPECT_FALSE(matches(R"({"must": {"is_null": {"key": "empty"}}})"));
}

TEST(Filter, HasIdAcceptsIntegersAndUuids) {
  EXPECT_TRUE(matches(R"({"must": {"has_id": [1, 7]}})"));
  EXPECT_FALSE(matches(R"({"must": {"has_id": [1, "550e8400-e29b-41d4-a716-446655440000"]}})"));
  const PointId uuid = *PointId::parse_uuid("550e8400-e29b-41d4-a716-446655440000");
  EXPECT_TRUE(
      matches(R"({"must": {"has_id": ["550E8400E29B41D4A716446655440000"]}})", kShop, uuid));
}

TEST(Filter, NestedHoldsOnOneElement) {
  // ann gave 5 stars and bob 2: no single review is by bob with 5 stars.
  EXPECT_FALSE(matches(R"({"must": {"nested": {"key": "reviews", "filter": {"must": [
      {"key": "user", "match": {"value": "bob"}}, {"key": "stars", "range": {"gte": 5}}]}}}})"));
  EXPECT_TRUE(matches(R"({"must": {"nested": {"key": "reviews", "filter": {"must": [
      {"key": "user", "match": {"value": "ann"}}, {"key": "stars", "range": {"gte": 5}}]}}}})"));
  // Without nested, the conditions may hold on different elements.
  EXPECT_TRUE(matches(R"({"must": [{"key": "reviews[].user", "match": {"value": "bob"}},
                                   {"key": "reviews[].stars", "range": {"gte": 5}}]})"));
}

TEST(Filter, GeoRadiusAndBoundingBox) {
  // Westminster is about 1.1 km from the point stored.
  EXPECT_TRUE(matches(R"({"must": {"key": "location", "geo_radius": {
      "center": {"lon": -0.1419, "lat": 51.5014}, "radius": 1500}}})"));
  EXPECT_FALSE(matches(R"({"must": {"key": "location", "geo_radius": {
      "center": {"lon": -0.1419, "lat": 51.5014}, "radius": 500}}})"));
  EXPECT_TRUE(matches(R"({"must": {"key": "location", "geo_bounding_box": {
      "top_left": {"lon": -1, "lat": 52}, "bottom_right": {"lon": 1, "lat": 51}}}})"));
  EXPECT_FALSE(matches(R"({"must": {"key": "location", "geo_bounding_box": {
      "top_left": {"lon": 1, "lat": 52}, "bottom_right": {"lon": 2, "lat": 51}}}})"));
  // A box across the antimeridian.
  const Json fiji = Json::parse(R"({"location": {"lon": 179.5, "lat": -17}})");
  EXPECT_TRUE(matches(R"({"must": {"key": "location", "geo_bounding_box": {
      "top_left": {"lon": 170, "lat": -10}, "bottom_right": {"lon": -170, "lat": -20}}}})",
                      fiji));
}

TEST(Filter, ClausesCombineAsQdrantDoes) {
  EXPECT_TRUE(matches(R"({})"));
  EXPECT_TRUE(matches(R"({"should": []})"));
  EXPECT_TRUE(matches(R"({"should": [{"key": "city", "match": {"value": "Paris"}},
                                     {"key": "count", "match": {"value": 3}}]})"));
  EXPECT_FALSE(matches(R"({"should": [{"key": "city", "match": {"value": "Paris"}}]})"));
  EXPECT_FALSE(matches(R"({"must_not": [{"key": "city", "match": {"value": "Paris"}},
                                        {"key": "count", "match": {"value": 3}}]})"));
  EXPECT_TRUE(matches(R"({"min_should": {"min_count": 2, "conditions": [
      {"key": "city", "match": {"value": "London"}}, {"key": "count", "match": {"value": 4}},
      {"key": "sold_out", "match": {"value": false}}]}})"));
  EXPECT_FALSE(matches(R"({"min_should": {"min_count": 3, "conditions": [
      {"key": "city", "match": {"value": "London"}}, {"key": "count", "match": {"value": 4}},
      {"key": "sold_out", "match": {"value": false}}]}})"));
  // A filter is a condition.
  EXPECT_TRUE(matches(R"({"must": [{"should": [{"key": "city", "match": {"value": "London"}}]},
      {"must_not": [{"key": "count", "match": {"value": 4}}]}]})"));
}

TEST(Filter, ParseErrorsNameTheField) {
  EXPECT_THAT(parse_error(R"({"must": [{"key": "a", "range": {}}]})"),
              HasSubstr("filter.must[0].range: give at least one of gt, gte, lt, lte"));
  EXPECT_THAT(parse_error(R"({"must": [{"key": "a", "match": {"value": 1.5}}]})"),
              HasSubstr("filter.must[0].match.value"));
  EXPECT_THAT(parse_error(R"({"musts": []})"), HasSubstr("filter.musts: unknown field"));
  EXPECT_THAT(parse_error(R"({"should": [{"key": "a"}]})"), HasSubstr("filter.should[0]"));
  EXPECT_THAT(parse_error(R"({"must": {"key": "a", "match": {"any": ["x", 1]}}})"),
              HasSubstr("filter.must.match.any[1]"));
  EXPECT_THAT(parse_error(R"({"must": {"key": "a..b", "match": {"value": 1}}})"),
              HasSubstr("filter.must.key"));
  EXPECT_THAT(parse_error(R"({"must": {"has_id": [-1]}})"), HasSubstr("filter.must.has_id[0]"));
  EXPECT_THAT(parse_error(R"({"must": {"key": "d", "range": {"gt": "yesterday"}}})"),
              HasSubstr("filter.must.range.gt"));
  EXPECT_THAT(parse_error(R"({"must": {"key": "d", "range": {"gt": 1}, "match": {"value": 1}}})"),
              HasSubstr("only one of"));
  EXPECT_THAT(parse_error(R"({"must": {"key": "g", "geo_radius": {"center": {"lon": 200, "lat": 0},
                             "radius": 1}}})"),
              HasSubstr("filter.must.geo_radius.center"));
  EXPECT_THAT(parse_error(R"({"min_should": {"conditions": []}})"),
              HasSubstr("filter.min_should.min_count: is required"));
  EXPECT_THAT(parse_error(R"([1])"), HasSubstr("filter: a filter must be a JSON object"));
}

TEST(Filter, DepthAndSizeAreLimited) {
  std::string deep = R"({"key": "a", "match": {"value": 1}})";
  for (int i = 0; i < 5; ++i) {
    deep = R"({"must": [)" + deep + "]}";
  }
  EXPECT_TRUE(parse_filter(Json::parse(deep), FilterLimits{5, 100}).ok());
  EXPECT_THAT(parse_error(deep, FilterLimits{4, 100}), HasSubstr("deeper than the limit of 4"));
  EXPECT_THAT(parse_error(R"({"must": [{}, {}, {}]})", FilterLimits{8, 2}),
              HasSubstr("more than 2 conditions"));
}

TEST(Datetime, ParsesRfc3339AndQdrantForms) {
  EXPECT_EQ(parse_datetime("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_datetime("1970-01-01"), 0);
  EXPECT_EQ(parse_datetime("1970-01-01 00:00:01.5"), 1'500'000);
  EXPECT_EQ(parse_datetime("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_EQ(parse_datetime("1969-12-31T23:00:00-0100"), 0);
  EXPECT_EQ(parse_datetime("2024-02-29T00:00"), 1'709'164'800'000'000);
  EXPECT_FALSE(parse_datetime("2023-02-29"));
  EXPECT_FALSE(parse_datetime("2024-13-01"));
  EXPECT_FALSE(parse_datetime("2024-01-01T25:00"));
  EXPECT_FALSE(parse_datetime("2024-01-01T10:00:00Q"));
  EXPECT_FALSE(parse_datetime("yesterday"));
  EXPECT_EQ(format_datetime(*parse_datetime("2024-05-01T10:20:30.25Z")),
            "2024-05-01T10:20:30.250000Z");
}

TEST(Tokenizer, SplitsOnAsciiPunctuationAndLowercases) {
  EXPECT_EQ(tokenize_words("Hello, World! x2-y"),
            (std::vector<std::string>{"hello", "world", "x2", "y"}));
  EXPECT_EQ(tokenize_words("  "), std::vector<std::string>{});
  EXPECT_EQ(tokenize_words("Größe straße"), (std::vector<std::string>{"größe", "straße"}));
}

} // namespace
} // namespace vdb
