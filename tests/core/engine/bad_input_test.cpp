// Every kind of bad input the engine answers, each with the field its error names, and proof
// that nothing stored changed. docs/data-model.md lists the same table.
#include "support/engine.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace vdb {
namespace {

using ::testing::HasSubstr;

class BadInput : public ::testing::Test {
protected:
  static EngineLimits limits() {
    EngineLimits l;
    l.max_search_limit = 100;
    l.max_payload_bytes = 256;
    l.filter.max_depth = 3;
    return l;
  }
  BadInput() : catalog_(test::engine_context("auto", limits()), CollectionConfig{}) {
    EXPECT_TRUE(
        catalog_
            .create_collection("c", Json::parse(R"({"vectors": {"size": 3, "distance": "Dot"}})"))
            .ok());
    c_ = *catalog_.get("c");
    EXPECT_TRUE(
        c_->upsert({PointStruct{PointId::from_number(1), {{"", {1, 2, 3}}}, Json{{"a", 1}}}}).ok());
  }
  ~BadInput() override {
    // Nothing stored changed.
    EXPECT_EQ(*c_->count(nullptr), 1U);
    auto r =
        c_->retrieve({PointId::from_number(1)}, PayloadSelector::all(), VectorSelector::every());
    EXPECT_EQ(*r->front().payload, (Json{{"a", 1}}));
    EXPECT_EQ(r->front().vectors.at(""), (std::vector<float>{1, 2, 3}));
  }

  Error upsert_error(std::vector<float> v, Json payload = Json::object(), std::string name = "") {
    auto r = c_->upsert({PointStruct{PointId::from_number(1), {{"", {0, 0, 0}}}, Json::object()},
                         PointStruct{PointId::from_number(2),
                                     {{std::move(name), std::move(v)}},
                                     std::move(payload)}});
    EXPECT_FALSE(r.ok());
    return r ? Error{} : r.error();
  }
  Error search_error(SearchRequest s) {
    auto r = c_->search(s);
    EXPECT_FALSE(r.ok());
    return r ? Error{} : r.error();
  }

  Catalog catalog_;
  std::shared_ptr<Collection> c_;
};

TEST_F(BadInput, WrongVectorDimension) {
  const Error e = upsert_error({1, 2});
  EXPECT_EQ(e.code, Errc::invalid_argument);
  EXPECT_THAT(
      e.message,
      HasSubstr("points[1] (id 2).vector: the vector has 2 dimensions; the collection expects 3"));
}

TEST_F(BadInput, NanOrInfiniteComponents) {
  EXPECT_THAT(upsert_error({1, std::nanf(""), 3}).message,
              HasSubstr("points[1] (id 2).vector[1]: vector components must be finite"));
  EXPECT_THAT(upsert_error({1, 2, std::numeric_limits<float>::infinity()}).message,
              HasSubstr("vector[2]"));
  SearchRequest s;
  s.vector = {std::nanf(""), 0, 0};
  EXPECT_THAT(search_error(s).message, HasSubstr("vector[0]: vector components must be finite"));
}

TEST_F(BadInput, UnknownVectorName) {
  EXPECT_THAT(
      upsert_error({1, 2, 3}, Json::object(), "image").message,
      HasSubstr("points[1] (id 2).vector.image: the collection has no vector named 'image'"));
  SearchRequest s;
  s.vector_name = "image";
  s.vector = {1, 2, 3};
  EXPECT_THAT(search_error(s).message,
              HasSubstr("vector.name: the collection has no vector named 'image'"));
}

TEST_F(BadInput, UnknownOrDuplicateCollection) {
  EXPECT_EQ(catalog_.get("nope").error().code, Errc::not_found);
  EXPECT_THAT(catalog_.get("nope").error().message,
              HasSubstr("collection_name: no collection named 'nope'"));
  const Status dup = catalog_.create_collection(
      "c", Json::parse(R"({"vectors": {"size": 1, "distance": "Dot"}})"));
  EXPECT_EQ(dup.code(), Errc::already_exists);
}

TEST_F(BadInput, CollectionNamesThatWouldBecomePaths) {
  for (const char* name : {"", "../etc", "a/b", "a\\b", ".hidden", "a..b", "x\ny", "co:lon"}) {
    const Status s = catalog_.create_collection(
        name, Json::parse(R"({"vectors": {"size": 1, "distance": "Dot"}})"));
    EXPECT_EQ(s.code(), Errc::invalid_argument) << name;
    EXPECT_THAT(s.message(), HasSubstr("collection_name")) << name;
  }
  EXPECT_EQ(catalog_
                .create_collection(std::string(256, 'a'),
                                   Json::parse(R"({"vectors": {"size": 1, "distance": "Dot"}})"))
                .code(),
            Errc::invalid_argument);
  EXPECT_TRUE(catalog_
                  .create_collection("ok-name_1.v2",
                                     Json::parse(R"({"vectors": {"size": 1, "distance": "Dot"}})"))
                  .ok());
}

TEST_F(BadInput, BadCollectionConfig) {
  const auto error_of = [&](const char* body) {
    return catalog_.create_collection("d", Json::parse(body)).message();
  };
  EXPECT_THAT(error_of(R"({"vectors": {"size": 0, "distance": "Dot"}})"),
              HasSubstr("collection.vectors.size: must be an integer in 1..65536"));
  EXPECT_THAT(error_of(R"({"vectors": {"size": 70000, "distance": "Dot"}})"),
              HasSubstr("collection.vectors.size"));
  EXPECT_THAT(error_of(R"({"vectors": {"size": 4, "distance": "Hamming"}})"),
              HasSubstr("collection.vectors.distance"));
  EXPECT_THAT(error_of(R"({"vectors": {"img": {"size": 4}}})"),
              HasSubstr("collection.vectors.img.distance: is required"));
  EXPECT_THAT(
      error_of(R"({"vectors": {"size": 4, "distance": "Dot"}, "hnsw_config": {"m": "16"}})"),
      HasSubstr("collection.hnsw_config.m"));
  EXPECT_THAT(
      error_of(
          R"({"vectors": {"size": 4, "distance": "Dot"}, "optimizers_config": {"deleted_threshold": 2}})"),
      HasSubstr("collection.optimizers_config.deleted_threshold: must be a number in 0..1"));
  EXPECT_THAT(error_of(R"({"vectors": {"size": 4, "distance": "Dot"}, "shards": 2})"),
              HasSubstr("collection.shards: unknown field"));
  EXPECT_THAT(
      error_of(
          R"({"vectors": {"size": 4, "distance": "Dot"}, "quantization_config": {"scalar": {"type": "int4"}}})"),
      HasSubstr("collection.quantization_config.scalar.type"));
  EXPECT_EQ(catalog_.list().size(), 1U);
}

TEST_F(BadInput, LimitZeroOrAboveTheMaximum) {
  SearchRequest s;
  s.vector = {1, 0, 0};
  s.limit = 0;
  EXPECT_THAT(search_error(s).message, HasSubstr("limit: must be in 1..100"));
  s.limit = 101;
  EXPECT_THAT(search_error(s).message, HasSubstr("limit: must be in 1..100"));
  s.limit = 50;
  s.offset = 51;
  EXPECT_THAT(search_error(s).message, HasSubstr("offset: limit + offset must be at most 100"));
  ScrollRequest scroll;
  scroll.limit = 0;
  EXPECT_THAT(c_->scroll(scroll).error().message, HasSubstr("limit"));
}

TEST_F(BadInput, MalformedIds) {
  EXPECT_THAT(parse_point_id(Json(-1), "points[0].id").error().message,
              HasSubstr("points[0].id: a point id is an unsigned 64-bit integer or a UUID string"));
  EXPECT_FALSE(parse_point_id(Json(1.5)).ok());
  EXPECT_FALSE(parse_point_id(Json(true)).ok());
  EXPECT_THAT(parse_point_id(Json("not-a-uuid"), "ids[2]").error().message, HasSubstr("ids[2]"));
}

TEST_F(BadInput, MalformedOrTooDeepFilters) {
  const auto error_of = [&](const char* json) {
    auto f = parse_filter(Json::parse(json), limits().filter);
    EXPECT_FALSE(f.ok()) << json;
    return f ? std::string() : f.error().message;
  };
  EXPECT_THAT(error_of(R"({"must": [{"must": [{"must": [{"must": []}]}]}]})"),
              HasSubstr("deeper than the limit of 3"));
  EXPECT_THAT(error_of(R"({"must": {"key": "a", "range": {}}})"),
              HasSubstr("filter.must.range: give at least one of gt, gte, lt, lte"));
  EXPECT_THAT(error_of(R"({"must": {"key": "a", "range": {"between": 1}}})"),
              HasSubstr("filter.must.range.between: unknown bound"));
  EXPECT_THAT(error_of(R"({"must": {"key": "a", "match": {"like": "x"}}})"),
              HasSubstr("filter.must.match.like"));
  EXPECT_THAT(error_of(R"({"must": 5})"),
              HasSubstr("filter.must: a condition must be a JSON object"));
}

TEST_F(BadInput, PayloadThatIsNotAnObject) {
  EXPECT_THAT(upsert_error({1, 2, 3}, Json::array({1, 2})).message,
              HasSubstr("points[1] (id 2).payload: must be a JSON object, got array"));
  EXPECT_THAT(
      c_->set_payload(Json("x"), std::vector<PointId>{PointId::from_number(1)}).error().message,
      HasSubstr("payload: must be a JSON object"));
  EXPECT_THAT(parse_payload("[1]").error().message, HasSubstr("payload: must be a JSON object"));
  EXPECT_THAT(parse_payload("{").error().message, HasSubstr("payload: not valid JSON"));
}

TEST_F(BadInput, KeysOrStringsThatAreNotUtf8) {
  EXPECT_THAT(upsert_error({1, 2, 3}, Json{{"name", "caf\xC3"}}).message,
              HasSubstr("points[1] (id 2).payload.name: the string is not valid UTF-8"));
  EXPECT_THAT(upsert_error({1, 2, 3}, Json{{"k\xFF", 1}}).message,
              HasSubstr("a key is not valid UTF-8"));
  EXPECT_THAT(upsert_error({1, 2, 3}, Json{{"list", {"ok", "\xED\xA0\x80"}}}).message,
              HasSubstr("payload.list[1]: the string is not valid UTF-8"));
}

TEST_F(BadInput, PayloadAboveTheConfiguredSize) {
  EXPECT_THAT(upsert_error({1, 2, 3}, Json{{"big", std::string(300, 'x')}}).message,
              HasSubstr("points[1] (id 2).payload: 310 bytes as JSON, more than the limit of 256"));
  // Growing a stored payload past the limit is refused too.
  auto r = c_->set_payload(Json{{"big", std::string(245, 'x')}},
                           std::vector<PointId>{PointId::from_number(1)});
  EXPECT_THAT(r.error().message, HasSubstr("larger than the limit of 256"));
}

TEST_F(BadInput, BatchesAboveTheLimit) {
  EngineLimits l = limits();
  l.max_batch_size = 2;
  Catalog small(test::engine_context("auto", l), CollectionConfig{});
  ASSERT_TRUE(
      small.create_collection("s", Json::parse(R"({"vectors": {"size": 1, "distance": "Dot"}})"))
          .ok());
  std::vector<PointStruct> three(3,
                                 PointStruct{PointId::from_number(1), {{"", {1}}}, Json::object()});
  EXPECT_THAT((*small.get("s"))->upsert(three).error().message,
              HasSubstr("points: 3 points in one request; the limit is 2"));
}

} // namespace
} // namespace vdb
