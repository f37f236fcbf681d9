#include "core/engine/point_id.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <unordered_set>
#include <vector>

namespace vdb {
namespace {

using ::testing::HasSubstr;

constexpr const char* kCanonical = "550e8400-e29b-41d4-a716-446655440000";

TEST(PointId, AcceptsEveryCommonUuidFormAndWritesTheCanonicalOne) {
  for (const char* text :
       {"550e8400-e29b-41d4-a716-446655440000", "550E8400-E29B-41D4-A716-446655440000",
        "550e8400e29b41d4a716446655440000", "{550e8400-e29b-41d4-a716-446655440000}",
        "urn:uuid:550e8400-e29b-41d4-a716-446655440000"}) {
    auto id = PointId::parse_uuid(text);
    ASSERT_TRUE(id.ok()) << text << ": " << id.error().message;
    EXPECT_TRUE(id->is_uuid());
    EXPECT_EQ(id->to_string(), kCanonical) << text;
  }
}

TEST(PointId, RefusesMalformedUuidsNamingTheField) {
  for (const char* text :
       {"", "42", "550e8400-e29b-41d4-a716-44665544000", "550e8400-e29b-41d4-a716-4466554400000",
        "550e8400xe29b-41d4-a716-446655440000", "g50e8400-e29b-41d4-a716-446655440000",
        "{550e8400e29b41d4a716446655440000"}) {
    auto id = PointId::parse_uuid(text, "points[3].id");
    ASSERT_FALSE(id.ok()) << text;
    EXPECT_EQ(id.error().code, Errc::invalid_argument);
    EXPECT_THAT(id.error().message, HasSubstr("points[3].id"));
  }
}

TEST(PointId, IntegersOrderBeforeUuidsAndEachByValue) {
  const PointId big = PointId::from_number(UINT64_MAX);
  const PointId small = PointId::from_number(7);
  const PointId uuid_low = *PointId::parse_uuid("00000000-0000-0000-0000-000000000001");
  const PointId uuid_high = *PointId::parse_uuid("ffffffff-0000-0000-0000-000000000000");
  std::vector<PointId> ids = {uuid_high, big, uuid_low, small};
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<PointId>{small, big, uuid_low, uuid_high}));
  EXPECT_EQ(big.to_string(), "18446744073709551615");
}

TEST(PointId, EqualIdsHashAlikeAndAnIntegerNeverEqualsAUuid) {
  const PointId a = *PointId::parse_uuid(kCanonical);
  const PointId b = *PointId::parse_uuid("550E8400E29B41D4A716446655440000");
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.hash(), b.hash());
  EXPECT_NE(PointId::from_number(0), *PointId::parse_uuid("00000000-0000-0000-0000-000000000000"));
  std::unordered_set<PointId, PointIdHash> set;
  for (std::uint64_t i = 0; i < 1000; ++i) {
    set.insert(PointId::from_number(i));
  }
  set.insert(a);
  set.insert(b);
  EXPECT_EQ(set.size(), 1001U);
}

} // namespace
} // namespace vdb
