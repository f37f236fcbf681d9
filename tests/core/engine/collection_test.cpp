// Collections and points as a user sees them: create/list/delete, upsert and delete, payload
// edits, retrieve with selectors, scroll pages, counts, payload indexes, and collection info.
#include "support/engine.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace vdb {
namespace {

using test::filter_of;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

PointId id(std::uint64_t n) { return PointId::from_number(n); }

class CollectionTest : public ::testing::Test {
protected:
  CollectionTest() : catalog_(test::engine_context(), CollectionConfig{}) {
    EXPECT_TRUE(catalog_
                    .create_collection("shop", Json::parse(R"({
        "vectors": {"size": 3, "distance": "Dot"}})"))
                    .ok());
    shop_ = *catalog_.get("shop");
  }

  void upsert(std::uint64_t n, std::vector<float> v, const char* payload = "{}") {
    auto r = shop_->upsert({PointStruct{id(n), {{"", std::move(v)}}, Json::parse(payload)}});
    ASSERT_TRUE(r.ok()) << r.error().message;
  }
  Json payload_of(std::uint64_t n) {
    auto records = shop_->retrieve({id(n)}, PayloadSelector::all(), VectorSelector::none());
    EXPECT_TRUE(records.ok());
    return records->empty() ? Json() : *records->front().payload;
  }

  Catalog catalog_;
  std::shared_ptr<Collection> shop_;
};

TEST_F(CollectionTest, CreateListDeleteAndDuplicates) {
  EXPECT_TRUE(catalog_
                  .create_collection("b", Json::parse(R"({"vectors": {
      "image": {"size": 4, "distance": "Cosine"}, "text": {"size": 2, "distance": "Euclid"}}})"))
                  .ok());
  EXPECT_THAT(catalog_.list(), ElementsAre("b", "shop"));
  const Status again = catalog_.create_collection(
      "b", Json::parse(R"({"vectors": {"size": 1, "distance": "Dot"}})"));
  EXPECT_EQ(again.code(), Errc::already_exists);
  EXPECT_THAT(again.message(), HasSubstr("'b' already exists"));
  EXPECT_TRUE(catalog_.delete_collection("b").ok());
  EXPECT_EQ(catalog_.delete_collection("b").code(), Errc::not_found);
  EXPECT_EQ(catalog_.get("b").error().code, Errc::not_found);
  EXPECT_THAT(catalog_.list(), ElementsAre("shop"));
}

TEST_F(CollectionTest, ConfigIsStoredAndReturnedWithDefaults) {
  ASSERT_TRUE(catalog_
                  .create_collection("c", Json::parse(R"({
      "vectors": {"size": 8, "distance": "Manhattan", "on_disk": true},
      "hnsw_config": {"m": 32, "payload_m": 8},
      "optimizers_config": {"memmap_threshold": 20000, "indexing_threshold": 0, "deleted_threshold": 0.5},
      "wal_config": {"wal_capacity_mb": 64},
      "quantization_config": {"scalar": {"type": "int8", "quantile": 0.95, "always_ram": true}},
      "on_disk_payload": false})"))
                  .ok());
  const Json j = to_json((*catalog_.get("c"))->info().config);
  EXPECT_EQ(j["vectors"], Json::parse(R"({"size": 8, "distance": "Manhattan", "on_disk": true})"));
  EXPECT_EQ(j["hnsw_config"]["m"], 32);
  EXPECT_EQ(j["hnsw_config"]["ef_construct"], 100);
  EXPECT_EQ(j["hnsw_config"]["payload_m"], 8);
  EXPECT_EQ(j["optimizers_config"]["memmap_threshold"], 20000);
  EXPECT_EQ(j["optimizers_config"]["indexing_threshold"], 0);
  EXPECT_EQ(j["optimizers_config"]["deleted_threshold"], 0.5);
  EXPECT_EQ(j["optimizers_config"]["flush_interval_sec"], 5);
  EXPECT_EQ(j["wal_config"]["wal_capacity_mb"], 64);
  EXPECT_EQ(j["quantization_config"]["scalar"]["quantile"], 0.95);
  EXPECT_EQ(j["on_disk_payload"], false);
  // What came back parses to the same configuration.
  EXPECT_EQ(to_json(*parse_collection_config(j)), j);
}

TEST_F(CollectionTest, UpsertReplacesWholePointsAndCounts) {
  upsert(1, {1, 0, 0}, R"({"a": 1, "b": 2})");
  upsert(2, {0, 1, 0});
  upsert(1, {0, 0, 1}, R"({"c": 3})");
  EXPECT_EQ(*shop_->count(nullptr), 2U);
  auto r = shop_->retrieve({id(1)}, PayloadSelector::all(), VectorSelector::every());
  ASSERT_EQ(r->size(), 1U);
  EXPECT_EQ(*r->front().payload, Json::parse(R"({"c": 3})"));
  EXPECT_EQ(r->front().vectors.at(""), (std::vector<float>{0, 0, 1}));
  EXPECT_EQ(shop_->info().points_count, 2U);
}

TEST_F(CollectionTest, UuidIdsComeBackInCanonicalForm) {
  const PointId uuid = *PointId::parse_uuid("{550E8400-E29B-41D4-A716-446655440000}");
  ASSERT_TRUE(shop_->upsert({PointStruct{uuid, {{"", {1, 2, 3}}}, Json::object()}}).ok());
  upsert(5, {1, 1, 1});
  ScrollRequest all;
  all.with_payload = PayloadSelector::none();
  auto page = shop_->scroll(all);
  ASSERT_EQ(page->points.size(), 2U);
  EXPECT_EQ(page->points[0].id, id(5)); // integers order before UUIDs
  EXPECT_EQ(to_json(page->points[1], true)["id"], "550e8400-e29b-41d4-a716-446655440000");
}

TEST_F(CollectionTest, DeleteByIdsAndByFilter) {
  for (std::uint64_t i = 0; i < 10; ++i) {
    upsert(i, {1, 0, 0}, i % 2 == 0 ? R"({"even": true})" : R"({"even": false})");
  }
  ASSERT_TRUE(shop_->delete_points(std::vector<PointId>{id(1), id(3), id(99)}).ok());
  EXPECT_EQ(*shop_->count(nullptr), 8U);
  ASSERT_TRUE(
      shop_->delete_points(filter_of(R"({"must": {"key": "even", "match": {"value": true}}})"))
          .ok());
  EXPECT_EQ(*shop_->count(nullptr), 3U);
  auto left = shop_->retrieve({id(0), id(5), id(7), id(9)}, PayloadSelector::none(),
                              VectorSelector::none());
  ASSERT_EQ(left->size(), 3U);
  EXPECT_EQ((*left)[0].id, id(5));
  // A deleted id comes back as a new point.
  upsert(0, {0, 1, 0}, R"({"even": 1})");
  EXPECT_EQ(payload_of(0), Json::parse(R"({"even": 1})"));
}

TEST_F(CollectionTest, PayloadOperations) {
  upsert(1, {1, 0, 0}, R"({"a": 1, "nested": {"x": 1, "y": 2}, "list": [1, 2, 3]})");
  upsert(2, {1, 0, 0}, R"({"a": 2})");
  ASSERT_TRUE(
      shop_->set_payload(Json::parse(R"({"b": "new", "a": 10})"), std::vector<PointId>{id(1)})
          .ok());
  EXPECT_EQ(payload_of(1)["a"], 10);
  EXPECT_EQ(payload_of(1)["b"], "new");
  ASSERT_TRUE(shop_
                  ->set_payload(Json::parse(R"({"z": true})"), std::vector<PointId>{id(1)},
                                *JsonPath::parse("nested"))
                  .ok());
  EXPECT_EQ(payload_of(1)["nested"], Json::parse(R"({"x": 1, "y": 2, "z": true})"));
  ASSERT_TRUE(shop_
                  ->delete_payload({*JsonPath::parse("nested.x"), *JsonPath::parse("list[1]")},
                                   std::vector<PointId>{id(1)})
                  .ok());
  EXPECT_EQ(payload_of(1)["nested"], Json::parse(R"({"y": 2, "z": true})"));
  EXPECT_EQ(payload_of(1)["list"], Json::parse("[1, 3]"));
  ASSERT_TRUE(shop_
                  ->set_payload(Json::parse(R"({"tag": "x"})"),
                                filter_of(R"({"must": {"key": "a", "match": {"value": 2}}})"))
                  .ok());
  EXPECT_EQ(payload_of(2), Json::parse(R"({"a": 2, "tag": "x"})"));
  ASSERT_TRUE(
      shop_->overwrite_payload(Json::parse(R"({"only": 1})"), std::vector<PointId>{id(2)}).ok());
  EXPECT_EQ(payload_of(2), Json::parse(R"({"only": 1})"));
  ASSERT_TRUE(shop_->clear_payload(std::vector<PointId>{id(1), id(2)}).ok());
  EXPECT_EQ(payload_of(1), Json::object());
  EXPECT_EQ(payload_of(2), Json::object());
  // A missing id fails the whole request and changes nothing.
  upsert(3, {1, 0, 0}, R"({"keep": 1})");
  const auto missing =
      shop_->set_payload(Json::parse(R"({"x": 1})"), std::vector<PointId>{id(3), id(404)});
  EXPECT_EQ(missing.error().code, Errc::not_found);
  EXPECT_THAT(missing.error().message, HasSubstr("points[1]: no point with id 404"));
  EXPECT_EQ(payload_of(3), Json::parse(R"({"keep": 1})"));
}

TEST_F(CollectionTest, RetrieveSelectsPayloadKeysAndVectors) {
  upsert(1, {1, 2, 3}, R"({"a": 1, "b": {"c": 2, "d": 3}, "e": 4})");
  auto include = shop_->retrieve({id(1)}, *parse_payload_selector(Json::parse(R"(["a", "b.c"])")),
                                 VectorSelector::none());
  EXPECT_EQ(*include->front().payload, Json::parse(R"({"a": 1, "b": {"c": 2}})"));
  EXPECT_TRUE(include->front().vectors.empty());
  auto exclude =
      shop_->retrieve({id(1)}, *parse_payload_selector(Json::parse(R"({"exclude": ["b"]})")),
                      VectorSelector::every());
  EXPECT_EQ(*exclude->front().payload, Json::parse(R"({"a": 1, "e": 4})"));
  EXPECT_EQ(exclude->front().vectors.at(""), (std::vector<float>{1, 2, 3}));
  auto none = shop_->retrieve({id(1), id(2)}, PayloadSelector::none(), VectorSelector::none());
  ASSERT_EQ(none->size(), 1U);
  EXPECT_FALSE(none->front().payload.has_value());
}

TEST_F(CollectionTest, ScrollPagesResumeFromTheOffset) {
  for (std::uint64_t i = 0; i < 25; ++i) {
    upsert(i * 2, {1, 0, 0}, i % 3 == 0 ? R"({"third": true})" : "{}");
  }
  ScrollRequest request;
  request.limit = 10;
  std::vector<std::uint64_t> seen;
  int pages = 0;
  do {
    auto page = shop_->scroll(request);
    ASSERT_TRUE(page.ok());
    for (const Record& r : page->points) {
      seen.push_back(r.id.number());
    }
    request.offset = page->next_page_offset;
    ++pages;
  } while (request.offset);
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(seen.size(), 25U);
  for (std::size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i], i * 2);
  }
  const Filter third = filter_of(R"({"must": {"key": "third", "match": {"value": true}}})");
  request = ScrollRequest{};
  request.filter = &third;
  request.offset = id(13); // not an id itself: starts at the next one
  auto page = shop_->scroll(request);
  ASSERT_EQ(page->points.size(), 6U);
  EXPECT_EQ(page->points.front().id, id(18));
  EXPECT_FALSE(page->next_page_offset);
  EXPECT_EQ(*shop_->count(&third), 9U);
}

TEST_F(CollectionTest, UpdateVectorsKeepsPayload) {
  upsert(1, {1, 0, 0}, R"({"a": 1})");
  ASSERT_TRUE(shop_->update_vectors({PointVectors{id(1), {{"", {0, 1, 0}}}}}).ok());
  auto r = shop_->retrieve({id(1)}, PayloadSelector::all(), VectorSelector::every());
  EXPECT_EQ(r->front().vectors.at(""), (std::vector<float>{0, 1, 0}));
  EXPECT_EQ(*r->front().payload, Json::parse(R"({"a": 1})"));
  EXPECT_EQ(shop_->update_vectors({PointVectors{id(9), {{"", {0, 1, 0}}}}}).error().code,
            Errc::not_found);
}

TEST_F(CollectionTest, PayloadIndexesAreListedAndDropped) {
  upsert(1, {1, 0, 0}, R"({"city": "Oslo", "n": 1})");
  upsert(2, {1, 0, 0}, R"({"city": "Rome"})");
  ASSERT_TRUE(
      shop_->create_payload_index(*JsonPath::parse("city"), PayloadFieldType::keyword).ok());
  ASSERT_TRUE(shop_->create_payload_index(*JsonPath::parse("n"), PayloadFieldType::integer).ok());
  auto schema = shop_->info().payload_schema;
  ASSERT_EQ(schema.size(), 2U);
  EXPECT_EQ(schema["city"].type, PayloadFieldType::keyword);
  EXPECT_EQ(schema["city"].points, 2U);
  EXPECT_EQ(schema["n"].points, 1U);
  const Filter oslo = filter_of(R"({"must": {"key": "city", "match": {"value": "Oslo"}}})");
  EXPECT_EQ(shop_->estimate(oslo), CardinalityEstimate::exact(1));
  EXPECT_EQ(*shop_->count(&oslo, false), 1U);
  ASSERT_TRUE(shop_->delete_payload_index(*JsonPath::parse("city")).ok());
  EXPECT_EQ(shop_->delete_payload_index(*JsonPath::parse("city")).error().code, Errc::not_found);
  EXPECT_EQ(shop_->estimate(oslo), CardinalityEstimate::unknown(2));
  EXPECT_EQ(*shop_->count(&oslo), 1U);
}

TEST_F(CollectionTest, RangeEstimatesHoldTheTrueCountAndStayTight) {
  // 6,400 points with n = 0..3199, twice each: the index's histogram has 64 buckets of about
  // 100 values. Every range's estimate must hold its true count, and a range that covers whole
  // buckets must not be counted as partly outside them.
  ASSERT_TRUE(shop_->create_payload_index(*JsonPath::parse("n"), PayloadFieldType::integer).ok());
  std::vector<PointStruct> points;
  for (std::uint64_t i = 0; i < 6400; ++i) {
    points.push_back(PointStruct{id(i), {{"", {1, 0, 0}}}, Json{{"n", i % 3200}}});
  }
  ASSERT_TRUE(shop_->upsert(std::move(points)).ok());
  std::uint64_t seed = 7;
  const auto next = [&seed](std::uint64_t below) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (seed >> 33) % below;
  };
  for (int i = 0; i < 300; ++i) {
    const std::int64_t a = static_cast<std::int64_t>(next(3300)) - 50;
    const std::int64_t b = a + static_cast<std::int64_t>(next(i < 150 ? 400 : 3300));
    const bool open_low = next(2) == 0;
    const bool open_high = next(2) == 0;
    Json range{{open_low ? "gt" : "gte", a}, {open_high ? "lt" : "lte", b}};
    std::uint64_t truth = 0;
    for (std::int64_t v = 0; v < 3200; ++v) {
      const bool above = open_low ? v > a : v >= a;
      const bool below = open_high ? v < b : v <= b;
      truth += above && below ? 2 : 0;
    }
    const Filter f = filter_of(Json{{"must", {{"key", "n"}, {"range", range}}}}.dump());
    const CardinalityEstimate e = shop_->estimate(f);
    ASSERT_LE(e.min, truth) << range.dump();
    ASSERT_GE(e.max, truth) << range.dump();
    ASSERT_LE(e.min, e.expected);
    ASSERT_LE(e.expected, e.max);
    // At most the two buckets at the ends are partial: about 2 x 200 values.
    ASSERT_LE(e.max - e.min, 600U) << range.dump();
  }
}

TEST_F(CollectionTest, RangesThatDifferBelowAMillionthAreNotConfused) {
  // Indexed filters are cached by a key of their condition; the key must tell these apart.
  for (std::uint64_t i = 0; i < 10; ++i) {
    upsert(i, {1, 0, 0}, ("{\"x\": " + std::to_string(i) + "e-7}").c_str());
  }
  ASSERT_TRUE(
      shop_->create_payload_index(*JsonPath::parse("x"), PayloadFieldType::float_number).ok());
  // Both bounds print as 0.000000 with 6 decimals.
  const Filter above_1 = filter_of(R"({"must": {"key": "x", "range": {"gt": 1.5e-7}}})");
  const Filter above_3 = filter_of(R"({"must": {"key": "x", "range": {"gt": 3.5e-7}}})");
  EXPECT_EQ(*shop_->count(&above_1), 8U);
  EXPECT_EQ(*shop_->count(&above_3), 6U);
  EXPECT_EQ(*shop_->count(&above_1), 8U);
}

TEST_F(CollectionTest, NamedVectorsMayBeMissingOnAPoint) {
  ASSERT_TRUE(catalog_
                  .create_collection("multi", Json::parse(R"({"vectors": {
      "image": {"size": 2, "distance": "Dot"}, "text": {"size": 3, "distance": "Dot"}}})"))
                  .ok());
  auto multi = *catalog_.get("multi");
  ASSERT_TRUE(
      multi
          ->upsert({PointStruct{id(1), {{"image", {1, 0}}}, Json::object()},
                    PointStruct{id(2), {{"image", {0, 1}}, {"text", {1, 1, 1}}}, Json::object()}})
          .ok());
  EXPECT_EQ(multi->info().vectors_count["text"], 1U);
  SearchRequest s;
  s.vector_name = "text";
  s.vector = {1, 0, 0};
  auto hits = multi->search(s);
  ASSERT_EQ(hits->size(), 1U);
  EXPECT_EQ(hits->front().id, id(2));
  auto r = multi->retrieve({id(1)}, PayloadSelector::none(),
                           *parse_vector_selector(Json::parse(R"(["image"])")));
  EXPECT_EQ(r->front().vectors.size(), 1U);
}

} // namespace
} // namespace vdb
