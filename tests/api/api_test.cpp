// One set of API tests, run against the embedded vdb::Database and against vdb::RemoteClient
// talking to a real vdbd on loopback (started by the test): both must answer alike.
#include "core/actors/database.hpp"
#include "protocol/remote_client.hpp"
#include "support/engine.hpp"
#include "support/temp_dir.hpp"
#include "support/vdbd_process.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>

#include <memory>
#include <string>

namespace vdb {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

PointStruct point(std::uint64_t id, std::vector<float> v, Json payload = Json::object()) {
  return PointStruct{PointId::from_number(id), {{"", std::move(v)}}, std::move(payload)};
}

std::vector<std::uint64_t> ids_of(const std::vector<ScoredPoint>& hits) {
  std::vector<std::uint64_t> out;
  for (const ScoredPoint& h : hits) {
    out.push_back(h.id.number());
  }
  return out;
}

class Api : public ::testing::TestWithParam<std::string> {
protected:
  void SetUp() override {
    if (GetParam() == "embedded") {
      ServiceOptions options(test::engine_context());
      options.threads = 2;
      db_ = std::move(Database::open(std::move(options)).value());
      client_ = db_.get();
    } else {
      server_ = std::make_unique<test::VdbdProcess>(test::vdbd_args(dir_.path().string()));
      const std::uint16_t port = server_->wait_listening(20s);
      ASSERT_NE(port, 0) << server_->log();
      auto remote = RemoteClient::connect(RemoteOptions{"127.0.0.1", port, "", 32U << 20});
      ASSERT_TRUE(remote.ok()) << remote.error().message;
      remote_ = std::move(*remote);
      client_ = remote_.get();
    }
    ASSERT_TRUE(
        client_->create_collection("c", {{"vectors", {{"size", 2}, {"distance", "Euclid"}}}}).ok());
  }

  void TearDown() override {
    remote_.reset();
    db_.reset();
    if (server_) {
      server_->signal(SIGTERM);
      EXPECT_EQ(server_->wait_exit(10s), 0) << server_->log();
    }
  }

  Client& db() { return *client_; }

  void load_grid() {
    std::vector<PointStruct> points;
    for (std::uint64_t i = 0; i < 100; ++i) {
      points.push_back(
          point(i, {static_cast<float>(i % 10), static_cast<float>(i / 10)},
                {{"row", i / 10}, {"even", i % 2 == 0}, {"name", "p" + std::to_string(i)}}));
    }
    auto done = db().upsert("c", std::move(points), true);
    ASSERT_TRUE(done.ok()) << done.error().message;
    EXPECT_TRUE(done->completed);
    EXPECT_GT(done->operation_id, 0U);
  }

  test::TempDir dir_;
  std::unique_ptr<test::VdbdProcess> server_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<RemoteClient> remote_;
  Client* client_ = nullptr;
};

TEST_P(Api, CollectionsAreCreatedListedDescribedAndDeleted) {
  EXPECT_EQ(db().create_collection("c", {{"vectors", {{"size", 2}, {"distance", "Dot"}}}}).code(),
            Errc::already_exists);
  const Status bad = db().create_collection("d", {{"vectors", {{"size", 0}, {"distance", "Dot"}}}});
  EXPECT_EQ(bad.code(), Errc::invalid_argument);
  EXPECT_THAT(bad.message(), HasSubstr("collection.vectors.size"));
  ASSERT_TRUE(db().create_collection("d", {{"vectors", {{"size", 3}, {"distance", "Dot"}}}}).ok());
  EXPECT_EQ(*db().list_collections(), (std::vector<std::string>{"c", "d"}));
  auto info = db().collection_info("d");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ((*info)["points_count"], 0);
  EXPECT_EQ((*info)["config"]["vectors"]["size"], 3);
  ASSERT_TRUE(db().delete_collection("d").ok());
  EXPECT_EQ(db().delete_collection("d").code(), Errc::not_found);
  EXPECT_EQ(db().collection_info("d").error().code, Errc::not_found);
  EXPECT_EQ(db().health()->collections, 1U);
}

TEST_P(Api, UpsertSearchRetrieveScrollAndCount) {
  load_grid();
  Query q;
  q.vector = {2.1F, 3.0F};
  q.limit = 3;
  auto hits = db().search("c", q);
  ASSERT_TRUE(hits.ok()) << hits.error().message;
  EXPECT_EQ(ids_of(*hits), (std::vector<std::uint64_t>{32, 33, 22}));
  EXPECT_NEAR((*hits)[0].score, 0.1F, 1e-5);

  q.filter = Json{{"must", {{{"key", "row"}, {"match", {{"value", 7}}}}}}};
  q.with_payload = PayloadSelector::all();
  q.with_vector = VectorSelector::every();
  hits = db().search("c", q);
  ASSERT_TRUE(hits.ok());
  EXPECT_EQ(ids_of(*hits), (std::vector<std::uint64_t>{72, 73, 71}));
  EXPECT_EQ((*hits)[0].payload->at("name"), "p72");
  EXPECT_EQ((*hits)[0].vectors.at(""), (std::vector<float>{2, 7}));

  auto records = db().retrieve("c", {PointId::from_number(5), PointId::from_number(500)},
                               PayloadSelector::all(), VectorSelector::none());
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1U);
  EXPECT_EQ((*records)[0].payload->at("row"), 0);

  ScrollQuery scroll;
  scroll.filter = Json{{"must", {{{"key", "even"}, {"match", {{"value", true}}}}}}};
  scroll.limit = 30;
  auto page = db().scroll("c", scroll);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->points.size(), 30U);
  ASSERT_TRUE(page->next_page_offset.has_value());
  EXPECT_EQ(page->next_page_offset->number(), 60U);

  EXPECT_EQ(*db().count("c", std::nullopt, true), 100U);
  EXPECT_EQ(*db().count("c", scroll.filter, true), 50U);

  std::vector<Query> batch(2, q);
  batch[1].filter.reset();
  auto all = db().search_batch("c", batch);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2U);
  EXPECT_EQ(ids_of((*all)[0]), (std::vector<std::uint64_t>{72, 73, 71}));
  EXPECT_EQ(ids_of((*all)[1]), (std::vector<std::uint64_t>{32, 33, 22}));
}

TEST_P(Api, PayloadOperationsAndIndexes) {
  load_grid();
  const Selector first = Selector::of({PointId::from_number(1)});
  ASSERT_TRUE(db().set_payload("c", {{"tag", "x"}}, first).ok());
  ASSERT_TRUE(db().set_payload("c", {{"deep", 1}}, first, std::string("nested")).ok());
  auto r =
      db().retrieve("c", {PointId::from_number(1)}, PayloadSelector::all(), VectorSelector::none());
  EXPECT_EQ((*r)[0].payload->at("tag"), "x");
  EXPECT_EQ((*r)[0].payload->at("nested")["deep"], 1);
  ASSERT_TRUE(db().delete_payload("c", {"tag"}, first).ok());
  ASSERT_TRUE(db().overwrite_payload("c", {{"only", true}}, first).ok());
  r = db().retrieve("c", {PointId::from_number(1)}, PayloadSelector::all(), VectorSelector::none());
  EXPECT_EQ(*(*r)[0].payload, (Json{{"only", true}}));
  ASSERT_TRUE(db().clear_payload("c", first).ok());

  ASSERT_TRUE(db().create_payload_index("c", "row", "integer").ok());
  auto info = db().collection_info("c");
  EXPECT_EQ((*info)["payload_schema"]["row"]["data_type"], "integer");
  EXPECT_EQ(db().create_payload_index("c", "row", "vector").error().code, Errc::invalid_argument);
  const Json rows = {{"must", {{{"key", "row"}, {"range", {{"gte", 8}}}}}}};
  EXPECT_EQ(*db().count("c", rows, true), 20U);
  const std::uint64_t estimate = *db().count("c", rows, false); // from the histogram, no reads
  EXPECT_GT(estimate, 0U);
  EXPECT_LE(estimate, 100U);
  ASSERT_TRUE(db().delete_points("c", Selector::matching(rows)).ok());
  EXPECT_EQ(*db().count("c", std::nullopt, true), 80U);
  ASSERT_TRUE(db().delete_payload_index("c", "row").ok());
  EXPECT_EQ(db().delete_payload_index("c", "row").error().code, Errc::not_found);

  ASSERT_TRUE(
      db().update_vectors("c", {PointVectors{PointId::from_number(2), {{"", {50, 50}}}}}).ok());
  Query q;
  q.vector = {50, 50};
  q.limit = 1;
  EXPECT_EQ(ids_of(*db().search("c", q)), (std::vector<std::uint64_t>{2}));
}

TEST_P(Api, BadRequestsAreRefusedNamingTheFieldAndChangeNothing) {
  load_grid();
  auto wrong_dim = db().upsert("c", {point(1000, {1, 2, 3})});
  ASSERT_FALSE(wrong_dim.ok());
  EXPECT_EQ(wrong_dim.error().code, Errc::invalid_argument);
  EXPECT_THAT(wrong_dim.error().message, HasSubstr("points[0]"));
  auto nan = db().upsert("c", {point(1000, {1, std::nanf("")})});
  EXPECT_EQ(nan.error().code, Errc::invalid_argument);
  EXPECT_EQ(db().upsert("nope", {point(1, {1, 2})}).error().code, Errc::not_found);

  Query q;
  q.vector = {1, 2};
  q.filter = Json{{"must", {{{"key", "row"}, {"match", {{"value", Json::array()}}}}}}};
  auto bad_filter = db().search("c", q);
  EXPECT_EQ(bad_filter.error().code, Errc::invalid_argument);
  EXPECT_THAT(bad_filter.error().message, HasSubstr("filter"));
  Json deep = {{"key", "row"}, {"match", {{"value", 1}}}};
  for (int i = 0; i < 100; ++i) {
    deep = {{"must", {deep}}};
  }
  q.filter = deep;
  EXPECT_EQ(db().search("c", q).error().code, Errc::invalid_argument);
  q.filter.reset();
  q.limit = 0;
  EXPECT_THAT(db().search("c", q).error().message, HasSubstr("limit"));
  q.limit = 10;
  q.vector = {1};
  EXPECT_EQ(db().search("c", q).error().code, Errc::invalid_argument);
  EXPECT_EQ(*db().count("c", std::nullopt, true), 100U);
}

TEST_P(Api, WritesWithoutWaitAreOrderedBeforeLaterWaitedOnes) {
  for (std::uint64_t i = 0; i < 20; ++i) {
    auto queued = db().upsert("c", {point(i, {1, static_cast<float>(i)})}, false);
    ASSERT_TRUE(queued.ok());
    EXPECT_FALSE(queued->completed);
  }
  ASSERT_TRUE(db().upsert("c", {point(100, {0, 0})}, true).ok());
  EXPECT_EQ(*db().count("c", std::nullopt, true), 21U);
  // Bad input is refused even without wait: it is checked before the write is queued.
  const auto bad_filter = db().delete_points("c", Selector::matching({{"must", 5}}), false);
  EXPECT_EQ(bad_filter.error().code, Errc::invalid_argument);
  EXPECT_EQ(db().delete_payload("c", {"a..b"}, Selector::of({PointId::from_number(1)}), false)
                .error()
                .code,
            Errc::invalid_argument);
  EXPECT_EQ(db().create_payload_index("c", "x", "vector", false).error().code,
            Errc::invalid_argument);
  EXPECT_EQ(*db().count("c", std::nullopt, true), 21U);
}

INSTANTIATE_TEST_SUITE_P(Both, Api, ::testing::Values("embedded", "remote"),
                         [](const auto& info) { return info.param; });

} // namespace
} // namespace vdb

namespace vdb {
namespace {

// A request still queued when its timeout has passed is answered, not served: with a zero
// timeout every request that reaches a collection's actors expires there.
TEST(Deadlines, ARequestPastItsTimeoutIsAnsweredDeadlineExceeded) {
  ServiceOptions options(test::engine_context());
  options.threads = 2;
  options.timeout = std::chrono::milliseconds(0);
  auto opened = Database::open(std::move(options));
  ASSERT_TRUE(opened.ok());
  auto& db = *opened;
  ASSERT_TRUE(db->create_collection("c", {{"vectors", {{"size", 2}, {"distance", "Dot"}}}}).ok());
  Client& client = *db;
  auto write = client.upsert("c", {point(1, {1, 2})});
  ASSERT_FALSE(write.ok());
  EXPECT_EQ(write.error().code, Errc::deadline_exceeded);
  Query q;
  q.vector = {1, 2};
  EXPECT_EQ(client.search("c", q).error().code, Errc::deadline_exceeded);
  EXPECT_EQ(client.count("c", std::nullopt, true).error().code, Errc::deadline_exceeded);
  EXPECT_EQ(*client.list_collections(), std::vector<std::string>{"c"}); // the catalog answers
}

} // namespace
} // namespace vdb

namespace vdb {
namespace {

// The README's in-process example, as written there (default settings, plugins found next to
// the binary).
TEST(ReadmeExample, RunsAsWritten) {
  auto db = vdb::Database::open(":memory:");
  ASSERT_TRUE(db.ok()) << db.error().message;
  ASSERT_TRUE(
      (*db)->create_collection("docs", {{"vectors", {{"size", 4}, {"distance", "Cosine"}}}}).ok());
  ASSERT_TRUE((*db)
                  ->upsert("docs", {{vdb::PointId::from_number(1),
                                     {{"", {0.1F, 0.2F, 0.3F, 0.4F}}},
                                     {{"city", "Oslo"}}}})
                  .ok());
  vdb::Query q;
  q.vector = {0.1F, 0.2F, 0.3F, 0.4F};
  auto hits = (*db)->search("docs", q);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 1U);
  EXPECT_NEAR((*hits)[0].score, 1.0F, 1e-5);
}

} // namespace
} // namespace vdb
