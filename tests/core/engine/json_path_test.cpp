#include "core/engine/json_path.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace vdb {
namespace {

using ::testing::HasSubstr;
using Kind = JsonPath::Segment::Kind;

TEST(JsonPath, ParsesKeysFlattenedArraysIndexesAndQuotedKeys) {
  auto path = JsonPath::parse(R"(country.cities[].population)");
  ASSERT_TRUE(path.ok()) << path.error().message;
  ASSERT_EQ(path->segments().size(), 4U);
  EXPECT_EQ(path->segments()[0].key, "country");
  EXPECT_EQ(path->segments()[1].key, "cities");
  EXPECT_EQ(path->segments()[2].kind, Kind::every_element);
  EXPECT_EQ(path->segments()[3].key, "population");

  auto indexed = JsonPath::parse("a[12].b");
  ASSERT_TRUE(indexed.ok());
  EXPECT_EQ(indexed->segments()[1].kind, Kind::element);
  EXPECT_EQ(indexed->segments()[1].index, 12U);

  auto quoted = JsonPath::parse(R"(foo."qux[.]quux".bar)");
  ASSERT_TRUE(quoted.ok()) << quoted.error().message;
  EXPECT_EQ(quoted->segments()[1].key, "qux[.]quux");
}

TEST(JsonPath, WritesTheCanonicalFormBack) {
  for (const char* text : {"a", "a.b.c", "a[]", "a[].b", "a[3][]", R"(x."y.z"[0].w)", "ключ.δ"}) {
    auto path = JsonPath::parse(text);
    ASSERT_TRUE(path.ok()) << text << ": " << path.error().message;
    EXPECT_EQ(path->to_string(), text);
  }
  EXPECT_EQ(JsonPath::parse(R"("plain".b)")->to_string(), "plain.b"); // needless quotes go
}

TEST(JsonPath, RefusesMalformedPathsWithThePosition) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "the key path is empty"},
      {".a", "empty key"},
      {"a.", "ends with '.'"},
      {"a..b", "empty key"},
      {"a[", "'[' without ']'"},
      {"a[x]", "expected [] or [N]"},
      {"[].a", "empty key"},
      {R"(a."b)", "unterminated quoted key"},
      {"a]b", "unexpected ']'"},
      {"a[]b", "unexpected 'b'"},
      {"a[9999999999]", "array index too large"},
  };
  for (const auto& [text, reason] : cases) {
    auto path = JsonPath::parse(text, "filter.must[0].key");
    ASSERT_FALSE(path.ok()) << text;
    EXPECT_THAT(path.error().message, HasSubstr("filter.must[0].key")) << text;
    EXPECT_THAT(path.error().message, HasSubstr(reason)) << text;
  }
  EXPECT_FALSE(JsonPath::parse(std::string(JsonPath::kMaxLength + 1, 'a')).ok());
}

TEST(JsonPath, NestsUnderAParentPath) {
  const JsonPath parent = *JsonPath::parse("diet[]");
  const JsonPath child = *JsonPath::parse("food");
  EXPECT_EQ(child.under(parent).to_string(), "diet[].food");
}

} // namespace
} // namespace vdb
