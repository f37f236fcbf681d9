// The embedded database on a data folder: what it acknowledged is there after it closes and
// opens again, sealed segments come back indexed, and a full disk fails writes cleanly without
// losing what was acknowledged.
#include "core/actors/database.hpp"
#include "core/storage/files.hpp"
#include "support/engine.hpp"
#include "support/temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <thread>

namespace vdb {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<Database> open_at(const fs::path& dir) {
  ServiceOptions options(test::engine_context());
  options.threads = 2;
  options.storage = dir;
  auto db = Database::open(std::move(options));
  EXPECT_TRUE(db.ok()) << db.error().message;
  return db.ok() ? std::move(*db) : nullptr;
}

PointStruct point(std::uint64_t id) {
  std::vector<float> v(16);
  for (std::size_t j = 0; j < v.size(); ++j) {
    v[j] = static_cast<float>((id * 31 + j * 7) % 101) / 101.0F;
  }
  return PointStruct{PointId::from_number(id), {{"", v}}, Json{{"id", id}}};
}

std::vector<PointStruct> batch(std::uint64_t from, std::uint64_t n) {
  std::vector<PointStruct> out;
  for (std::uint64_t i = from; i < from + n; ++i) {
    out.push_back(point(i));
  }
  return out;
}

Json info_of(Database& db) {
  auto info = db.collection_info("c");
  EXPECT_TRUE(info.ok());
  return info.ok() ? *info : Json();
}

// Waits until the optimizer has sealed and indexed everything it will.
void settle(Database& db) {
  for (int i = 0; i < 200; ++i) {
    const Json info = info_of(db);
    bool busy = info["optimizer_status"].value("running", false);
    for (const Json& s : info["segments"]) {
      busy = busy || (!s.value("appendable", true) && !s.value("indexed", false));
    }
    if (!busy) {
      return;
    }
    std::this_thread::sleep_for(50ms);
  }
}

TEST(Durability, TheDatabaseReopensWithEverythingItAcknowledged) {
  test::TempDir tmp;
  std::vector<ScoredPoint> hits_before;
  {
    auto db = open_at(tmp.path());
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(db->create_collection("c", Json::parse(R"({
      "vectors": {"size": 16, "distance": "Euclid"},
      "optimizers_config": {"indexing_threshold": 20}})"))
                    .ok());
    for (std::uint64_t b = 0; b < 20; ++b) {
      ASSERT_TRUE(db->upsert("c", batch(b * 50, 50), true).ok());
    }
    // wait = false: in the log when answered, so a clean close keeps it.
    auto quick = db->upsert("c", batch(5000, 10), false);
    ASSERT_TRUE(quick.ok());
    EXPECT_FALSE(quick->completed);
    settle(*db);
    const Json info = info_of(*db);
    EXPECT_GT(info["segments"].size(), 1U) << info.dump();
    Query q;
    q.vector = point(7).vectors.at("");
    hits_before = *db->search("c", q);
  }
  auto db = open_at(tmp.path());
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(*db->list_collections(), std::vector<std::string>{"c"});
  EXPECT_EQ(*db->count("c", std::nullopt, true), 1010U);
  const Json info = info_of(*db);
  ASSERT_GT(info["segments"].size(), 1U);
  EXPECT_TRUE(info["segments"][0].value("indexed", false)) << info.dump();
  Query q;
  q.vector = point(7).vectors.at("");
  const auto hits = *db->search("c", q);
  ASSERT_EQ(hits.size(), hits_before.size());
  for (std::size_t i = 0; i < hits.size(); ++i) {
    EXPECT_EQ(hits[i].id, hits_before[i].id);
  }
  auto r = db->retrieve("c", {PointId::from_number(5003)}, PayloadSelector::all(),
                        VectorSelector::every());
  ASSERT_EQ(r->size(), 1U);
  EXPECT_EQ((*r)[0].vectors.at(""), point(5003).vectors.at(""));
}

TEST(Durability, AFullDiskFailsWritesCleanlyAndTheyWorkAgainOnceSpaceReturns) {
  test::TempDir tmp;
  {
    auto db = open_at(tmp.path());
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(
        db->create_collection("c", Json::parse(R"({"vectors": {"size": 16, "distance": "Dot"}})"))
            .ok());
    ASSERT_TRUE(db->upsert("c", batch(0, 10), true).ok());
    inject_write_fault(ENOSPC);
    auto refused = db->upsert("c", batch(100, 10), true);
    auto refused_quick = db->upsert("c", batch(200, 10), false);
    inject_write_fault(0);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, Errc::no_space);
    EXPECT_THAT(refused.error().message, testing::HasSubstr("No space left on device"));
    ASSERT_FALSE(refused_quick.ok());
    // Nothing of the refused writes is visible; the database serves on.
    EXPECT_EQ(*db->count("c", std::nullopt, true), 10U);
    ASSERT_TRUE(db->upsert("c", batch(300, 10), true).ok());
    EXPECT_EQ(*db->count("c", std::nullopt, true), 20U);
  }
  auto db = open_at(tmp.path());
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(*db->count("c", std::nullopt, true), 20U);
  EXPECT_TRUE(
      db->retrieve("c", {PointId::from_number(105)}, PayloadSelector::all(), VectorSelector::none())
          ->empty());
}

TEST(Durability, AFailedSyncFailsItsWritesAndRefusesMoreUntilARestart) {
  test::TempDir tmp;
  {
    auto db = open_at(tmp.path());
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(
        db->create_collection("c", Json::parse(R"({"vectors": {"size": 16, "distance": "Dot"}})"))
            .ok());
    ASSERT_TRUE(db->upsert("c", batch(0, 10), true).ok());
    inject_sync_fault(EIO);
    auto failed = db->upsert("c", batch(100, 10), true);
    inject_sync_fault(0);
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.error().code, Errc::io_error);
    EXPECT_THAT(failed.error().message, testing::HasSubstr("Input/output error"));
    // The kernel may have dropped the pages: the log is not trusted until a restart. Writes are
    // refused with a message saying so; reads go on.
    auto refused = db->upsert("c", batch(200, 10), true);
    ASSERT_FALSE(refused.ok());
    EXPECT_THAT(refused.error().message, testing::HasSubstr("until a restart"));
    EXPECT_GE(*db->count("c", std::nullopt, true), 10U);
  }
  auto db = open_at(tmp.path());
  ASSERT_NE(db, nullptr);
  // What was acknowledged is there; the write whose sync failed may or may not be (its outcome
  // was unknown to the client), the refused one is not.
  const std::uint64_t n = *db->count("c", std::nullopt, true);
  EXPECT_TRUE(n == 10U || n == 20U) << n;
  EXPECT_TRUE(
      db->retrieve("c", {PointId::from_number(205)}, PayloadSelector::all(), VectorSelector::none())
          ->empty());
  ASSERT_TRUE(db->upsert("c", batch(300, 10), true).ok()); // writes work again
}

} // namespace
} // namespace vdb
