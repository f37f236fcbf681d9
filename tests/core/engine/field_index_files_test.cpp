// Payload indexes in files: every index type written and read back answers every condition as
// the original does (filter, estimate, check), and a truncated or inconsistent copy is refused
// with an error, never loaded in part and never a crash.
#include "core/engine/field_index.hpp"
#include "core/engine/payload.hpp"
#include "support/engine.hpp"

#include <gtest/gtest.h>

#include <random>

namespace vdb {
namespace {

constexpr PointOffset kSlots = 300;

// Payloads with one, several, no and wrong-typed values for each field.
Json payload_of(PointOffset i) {
  std::mt19937 gen(i);
  auto pick = [&](int n) { return static_cast<int>(gen() % static_cast<unsigned>(n)); };
  Json p;
  const std::vector<std::string> words{"red", "green", "blue", "big"};
  p["kw"] = pick(5) == 0 ? Json::array({"a", "b"}) : Json("k" + std::to_string(pick(7)));
  p["num"] = pick(6) == 0 ? Json("x") : Json(pick(40) - 20);
  p["flt"] = pick(5) == 0 ? Json::array({0.25 * pick(9), -1.0}) : Json(0.5 * pick(30));
  p["flag"] = pick(2) == 0;
  p["uid"] = pick(2) == 0 ? "550e8400-e29b-41d4-a716-44665544000" + std::to_string(pick(10))
                          : "not a uuid";
  p["when"] = "2024-01-0" + std::to_string(1 + pick(9)) + "T00:00:00Z";
  p["text"] =
      words[static_cast<std::size_t>(pick(4))] + " " + words[static_cast<std::size_t>(pick(4))];
  p["geo"] = Json{{"lon", pick(20) - 10.0 + 0.5}, {"lat", pick(10) + 40.25}};
  if (pick(7) == 0) {
    p.erase("kw");
  }
  return p;
}

struct Case {
  const char* key;
  PayloadFieldType type;
  std::vector<const char*> conditions; // the JSON of one field condition each
};

const std::vector<Case> kCases{
    {"kw",
     PayloadFieldType::keyword,
     {R"({"key": "kw", "match": {"value": "k3"}})",
      R"({"key": "kw", "match": {"any": ["a", "k1"]}})",
      R"({"key": "kw", "match": {"except": ["k2"]}})"}},
    {"num",
     PayloadFieldType::integer,
     {R"({"key": "num", "match": {"value": 4}})",
      R"({"key": "num", "range": {"gte": -3, "lt": 9}})",
      R"({"key": "num", "match": {"except": [1, 2]}})"}},
    {"flt",
     PayloadFieldType::float_number,
     {R"({"key": "flt", "range": {"gt": 2.0, "lte": 9.5}})"}},
    {"flag", PayloadFieldType::boolean, {R"({"key": "flag", "match": {"value": true}})"}},
    {"uid",
     PayloadFieldType::uuid,
     {R"({"key": "uid", "match": {"value": "550e8400-e29b-41d4-a716-446655440003"}})"}},
    {"when",
     PayloadFieldType::datetime,
     {R"({"key": "when", "range": {"gte": "2024-01-03T00:00:00Z", "lt": "2024-01-07"}})"}},
    {"text", PayloadFieldType::text, {R"({"key": "text", "match": {"text": "red big"}})"}},
    {"geo",
     PayloadFieldType::geo,
     {R"({"key": "geo", "geo_radius": {"center": {"lon": 0.5, "lat": 45.0}, "radius": 300000}})",
      R"({"key": "geo", "geo_bounding_box": {"top_left": {"lon": -5, "lat": 49},
          "bottom_right": {"lon": 3, "lat": 41}}})"}},
};

FieldCondition condition_of(const char* json) {
  const Filter f = test::filter_of(std::string(R"({"must": [)") + json + "]}");
  return std::get<FieldCondition>(f.must.at(0).value);
}

std::unique_ptr<FieldIndex> filled(const Case& c) {
  auto index = make_field_index(c.type);
  const JsonPath key = *JsonPath::parse(c.key);
  for (PointOffset i = 0; i < kSlots; ++i) {
    const Json payload = payload_of(i);
    std::vector<const Json*> values;
    collect_values(payload, key, values);
    if (!values.empty()) {
      index->set(i, values);
    }
  }
  for (PointOffset i = 0; i < kSlots; i += 13) {
    index->remove(i); // deleted points leave nothing behind
  }
  return index;
}

std::string saved(const FieldIndex& index) {
  std::string bytes;
  ByteWriter w(bytes);
  index.save(w);
  return bytes;
}

TEST(FieldIndexFiles, EveryTypeReadsBackWithTheSameAnswers) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.key);
    const auto original = filled(c);
    const std::string bytes = saved(*original);
    auto copy = make_field_index(c.type);
    ByteReader r(bytes, "test");
    ASSERT_TRUE(copy->load(r, kSlots).ok());
    EXPECT_TRUE(r.done());
    EXPECT_EQ(copy->indexed_points(), original->indexed_points());
    EXPECT_EQ(copy->distinct_values(), original->distinct_values());
    EXPECT_GT(copy->indexed_points(), kSlots / 3);
    for (const char* json : c.conditions) {
      SCOPED_TRACE(json);
      const FieldCondition condition = condition_of(json);
      const auto want = original->filter(condition);
      ASSERT_TRUE(want.has_value());
      EXPECT_GT(want->cardinality(), 0U);
      EXPECT_EQ(copy->filter(condition), want);
      const auto a = original->estimate(condition);
      const auto b = copy->estimate(condition);
      ASSERT_TRUE(a && b);
      EXPECT_EQ(a->min, b->min);
      EXPECT_EQ(a->expected, b->expected);
      EXPECT_EQ(a->max, b->max);
      for (PointOffset i = 0; i < kSlots; ++i) {
        EXPECT_EQ(copy->check(condition, i), original->check(condition, i)) << i;
      }
    }
    // The copy keeps working as an index: changes after loading are seen.
    const Json payload = payload_of(7);
    std::vector<const Json*> values;
    collect_values(payload, *JsonPath::parse(c.key), values);
    copy->set(8, values);
    original->set(8, values);
    copy->remove(9);
    original->remove(9);
    for (const char* json : c.conditions) {
      EXPECT_EQ(copy->filter(condition_of(json)), original->filter(condition_of(json)));
    }
    // Saving the copy gives the same bytes.
    EXPECT_EQ(saved(*copy), saved(*original));
  }
}

TEST(FieldIndexFiles, ATruncatedCopyIsRefusedAtEveryLength) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.key);
    const std::string bytes = saved(*filled(c));
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      auto copy = make_field_index(c.type);
      ByteReader r(std::string_view(bytes).substr(0, n), "test");
      const Status s = copy->load(r, kSlots);
      ASSERT_FALSE(s.ok()) << "loaded from " << n << " of " << bytes.size() << " bytes";
      EXPECT_EQ(s.error().code, Errc::corrupt);
    }
  }
}

TEST(FieldIndexFiles, OffsetsPastTheSegmentAndValuesOutOfOrderAreRefused) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.key);
    const std::string bytes = saved(*filled(c));
    auto copy = make_field_index(c.type);
    ByteReader r(bytes, "points-3.vdb");
    const Status s = copy->load(r, kSlots / 2); // a segment with fewer slots than the index saw
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find("points-3.vdb"), std::string::npos) << s.message();
  }
  // Two integer postings swapped.
  auto index = make_field_index(PayloadFieldType::integer);
  const Json one = 1;
  const Json two = 2;
  index->set(0, {&one});
  index->set(1, {&two});
  std::string bytes = saved(*index);
  // Layout: a u64 count, then each value (i64) with its posting list.
  const std::size_t first = 8;
  std::int64_t v = 0;
  std::memcpy(&v, bytes.data() + first, 8);
  ASSERT_EQ(v, 1);
  v = 5; // now first value 5 > second value 2
  std::memcpy(bytes.data() + first, &v, 8);
  auto copy = make_field_index(PayloadFieldType::integer);
  ByteReader r(bytes, "test");
  const Status s = copy->load(r, kSlots);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("out of order"), std::string::npos) << s.message();
}

} // namespace
} // namespace vdb
