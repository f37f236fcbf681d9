#include "core/engine/payload.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace vdb {
namespace {

using ::testing::HasSubstr;

// The payload of Qdrant's documentation examples for nested keys and arrays.
const Json kPayload = Json::parse(R"({
  "country": {
    "name": "Germany",
    "cities": [
      {"name": "Berlin", "population": 3.7, "sightseeing": ["Brandenburg Gate", "Reichstag"]},
      {"name": "Munich", "population": 1.5, "sightseeing": ["Marienplatz", "Olympiapark"]}
    ]
  },
  "tags": ["a", "b", "c"],
  "empty": [],
  "nothing": null,
  "count": 7,
  "dotted.key": true
})");

std::vector<Json> values(const char* path) {
  std::vector<Json> out;
  for (const Json* v : values_at(kPayload, *JsonPath::parse(path))) {
    out.push_back(*v);
  }
  return out;
}

TEST(Payload, AKeyPathDescendsIntoObjects) {
  EXPECT_EQ(values("country.name"), std::vector<Json>{"Germany"});
  EXPECT_EQ(values("count"), std::vector<Json>{7});
  EXPECT_EQ(values(R"("dotted.key")"), std::vector<Json>{true});
}

TEST(Payload, BracketsFlattenArraysAndIndexesPickOneElement) {
  EXPECT_EQ(values("country.cities[].population"), (std::vector<Json>{3.7, 1.5}));
  EXPECT_EQ(values("country.cities[1].name"), std::vector<Json>{"Munich"});
  EXPECT_EQ(values("country.cities[].sightseeing"),
            (std::vector<Json>{"Brandenburg Gate", "Reichstag", "Marienplatz", "Olympiapark"}));
  EXPECT_TRUE(values("country.cities[7].name").empty());
}

TEST(Payload, AnArrayAtTheEndContributesEachElement) {
  EXPECT_EQ(values("tags"), (std::vector<Json>{"a", "b", "c"}));
  EXPECT_TRUE(values("empty").empty());
}

TEST(Payload, MissingKeysReachNothingAndNullIsAValue) {
  EXPECT_TRUE(values("absent").empty());
  EXPECT_TRUE(values("country.name.deeper").empty()); // a key on a string
  EXPECT_TRUE(values("country.cities.name").empty()); // a key on an array needs []
  EXPECT_EQ(values("nothing"), std::vector<Json>{nullptr});
}

TEST(Payload, ParsingAcceptsOnlyObjects) {
  EXPECT_TRUE(parse_payload(R"({"a": [1, 2.5, "x", null, {"b": false}]})").ok());
  const auto not_object = parse_payload("[1, 2]", "points[0].payload");
  ASSERT_FALSE(not_object.ok());
  EXPECT_THAT(not_object.error().message, HasSubstr("points[0].payload: must be a JSON object"));
  const auto broken = parse_payload(R"({"a": )");
  ASSERT_FALSE(broken.ok());
  EXPECT_THAT(broken.error().message, HasSubstr("not valid JSON"));
}

} // namespace
} // namespace vdb
