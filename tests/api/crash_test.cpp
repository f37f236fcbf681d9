// Crash safety as a user would check it: a vdbd that is ingesting with wait = true is killed
// with SIGKILL at random moments, 50 times over the same data folder (15 under the sanitizers).
// After every restart each acknowledged point is there with its exact vector and payload, each
// acknowledged delete has stayed deleted, nothing appears that was never sent, the count agrees
// with a scroll, and search answers.
#include "protocol/remote_client.hpp"
#include "support/temp_dir.hpp"
#include "support/vdbd_process.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

namespace vdb {
namespace {

// 50 in the release suite, 15 in the sanitizer build (where a round costs about 3 s, against
// 1 s: the 50 rounds were the last test running, for over two minutes); tools/crash_loop.sh sets
// VDB_CRASH_ROUNDS (1,000 by default) for the long run.
#ifdef VDB_TEST_REDUCED
constexpr int kSuiteRounds = 15;
#else
constexpr int kSuiteRounds = 50;
#endif
int rounds() {
  const char* env = std::getenv("VDB_CRASH_ROUNDS");
  return env != nullptr && std::atoi(env) > 0 ? std::atoi(env) : kSuiteRounds;
}
constexpr std::size_t kDim = 16;

struct Sent {
  std::vector<float> vector;
  Json payload;
};

// What the writer sent and what the server acknowledged, shared with the checker.
struct Ledger {
  std::mutex mutex;
  std::map<std::uint64_t, Sent> sent;    // every upsert sent (ids are never reused)
  std::set<std::uint64_t> acked;         // upserts acknowledged and not deleted since
  std::set<std::uint64_t> deleted;       // deletes acknowledged
  std::set<std::uint64_t> maybe_deleted; // deletes sent, not acknowledged
  std::uint64_t next_id = 1;
  std::uint64_t acknowledged_writes = 0;
};

Expected<std::unique_ptr<RemoteClient>> try_connect(std::uint16_t port) {
  RemoteOptions options;
  options.port = port;
  return RemoteClient::connect(options);
}

std::unique_ptr<RemoteClient> connect(std::uint16_t port) {
  auto client = try_connect(port);
  EXPECT_TRUE(client.ok()) << client.error().message;
  return client.ok() ? std::move(*client) : nullptr;
}

// Upserts batches of new points with wait = true, and now and then deletes an acknowledged one,
// until a call fails (the server was killed).
void ingest(std::uint16_t port, Ledger& ledger, unsigned seed) {
  // The round may end before this thread gets to connect (a short round on a loaded machine):
  // the server is then gone, which is no failure. The main thread has already connected to it.
  auto connected = try_connect(port);
  if (!connected.ok()) {
    return;
  }
  std::unique_ptr<RemoteClient> client = std::move(*connected);
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  for (int batch = 0;; ++batch) {
    if (batch % 4 == 3) {
      std::uint64_t victim = 0;
      {
        std::lock_guard lock(ledger.mutex);
        if (!ledger.acked.empty()) {
          victim = *std::next(ledger.acked.begin(), gen() % ledger.acked.size());
          ledger.maybe_deleted.insert(victim);
        }
      }
      if (victim != 0) {
        auto done = client->delete_points(
            "crash", Selector{std::vector<PointId>{PointId::from_number(victim)}, std::nullopt},
            true);
        if (!done.ok()) {
          return;
        }
        std::lock_guard lock(ledger.mutex);
        ledger.acked.erase(victim);
        ledger.maybe_deleted.erase(victim);
        ledger.deleted.insert(victim);
        ++ledger.acknowledged_writes;
      }
      continue;
    }
    std::vector<PointStruct> points;
    {
      std::lock_guard lock(ledger.mutex);
      for (int i = 0; i < 20; ++i) {
        const std::uint64_t id = ledger.next_id++;
        Sent s;
        s.vector.resize(kDim);
        for (float& x : s.vector) {
          x = u(gen);
        }
        s.payload = Json{{"id", id}, {"group", id % 7 == 0 ? "seven" : "other"}, {"w", u(gen)}};
        ledger.sent[id] = s;
        points.push_back(PointStruct{PointId::from_number(id), {{"", s.vector}}, s.payload});
      }
    }
    auto done = client->upsert("crash", points, true);
    if (!done.ok()) {
      return;
    }
    std::lock_guard lock(ledger.mutex);
    for (const PointStruct& p : points) {
      ledger.acked.insert(p.id.number());
    }
    ++ledger.acknowledged_writes;
  }
}

// Every promise holds on the restarted server.
void check(RemoteClient& client, Ledger& ledger, int round) {
  std::lock_guard lock(ledger.mutex);
  std::map<std::uint64_t, Record> found;
  ScrollQuery q;
  q.limit = 1000;
  q.with_vector = VectorSelector::every();
  while (true) {
    auto page = client.scroll("crash", q);
    ASSERT_TRUE(page.ok()) << page.error().message;
    for (Record& r : page->points) {
      found.emplace(r.id.number(), std::move(r));
    }
    if (!page->next_page_offset) {
      break;
    }
    q.offset = page->next_page_offset;
  }
  for (const std::uint64_t id : ledger.acked) {
    const auto it = found.find(id);
    if (it == found.end() && ledger.maybe_deleted.count(id) != 0) {
      continue; // a delete that was sent but not acknowledged may have landed
    }
    ASSERT_NE(it, found.end()) << "round " << round << ": acknowledged point " << id << " is lost";
    EXPECT_EQ(it->second.vectors.at(""), ledger.sent.at(id).vector) << "point " << id;
    EXPECT_EQ(*it->second.payload, ledger.sent.at(id).payload) << "point " << id;
  }
  for (const std::uint64_t id : ledger.deleted) {
    EXPECT_EQ(found.count(id), 0U) << "round " << round << ": deleted point " << id << " is back";
  }
  for (const auto& [id, record] : found) {
    const auto sent = ledger.sent.find(id);
    ASSERT_NE(sent, ledger.sent.end()) << "point " << id << " was never sent";
    EXPECT_EQ(record.vectors.at(""), sent->second.vector) << "point " << id;
    EXPECT_EQ(*record.payload, sent->second.payload) << "point " << id;
  }
  // Writes that were sent but not acknowledged may have landed: from now on they count as sent
  // (and, when present, as acknowledged, so a later loss of them is caught too).
  for (const auto& [id, record] : found) {
    if (ledger.deleted.count(id) == 0) {
      ledger.acked.insert(id);
    }
  }
  for (const std::uint64_t id : ledger.maybe_deleted) {
    if (found.count(id) == 0) {
      ledger.acked.erase(id);
      ledger.deleted.insert(id);
    }
  }
  ledger.maybe_deleted.clear();
  auto counted = client.count("crash", std::nullopt, true);
  ASSERT_TRUE(counted.ok());
  EXPECT_EQ(*counted, found.size());
  // Keep the collection small, so long runs stay quick: a big acknowledged delete of the oldest
  // points (which also exercises vacuum).
  if (ledger.acked.size() > 20'000) {
    std::vector<PointId> oldest;
    for (auto it = ledger.acked.begin(); oldest.size() < 10'000; ++it) {
      oldest.push_back(PointId::from_number(*it));
    }
    ASSERT_TRUE(client.delete_points("crash", Selector::of(oldest), true).ok());
    for (const PointId& id : oldest) {
      ledger.acked.erase(id.number());
      ledger.deleted.insert(id.number());
      found.erase(id.number());
    }
  }
  auto sevens = client.count("crash", Json::parse(R"({"must": [{"key": "group",
                                                     "match": {"value": "seven"}}]})"),
                             true);
  ASSERT_TRUE(sevens.ok());
  std::uint64_t expected_sevens = 0;
  for (const auto& [id, record] : found) {
    expected_sevens += record.payload->at("group") == "seven" ? 1 : 0;
  }
  EXPECT_EQ(*sevens, expected_sevens);
  if (!found.empty()) {
    Query query;
    query.vector = found.begin()->second.vectors.at("");
    query.limit = 3;
    auto hits = client.search("crash", query);
    ASSERT_TRUE(hits.ok()) << hits.error().message;
    ASSERT_FALSE(hits->empty());
    EXPECT_EQ((*hits)[0].id.number(), found.begin()->first); // a point is nearest to itself
  }
}

TEST(Crash, KillNineDuringIngestLosesNoAcknowledgedWrite) {
  test::TempDir dir;
  Ledger ledger;
  std::mt19937 gen(20261124);
  std::vector<std::string> args = test::vdbd_args(dir.path().string());
  const int total = rounds();
  for (int round = 0; round < total; ++round) {
    test::VdbdProcess vdbd(args);
    const std::uint16_t port = vdbd.wait_listening(std::chrono::seconds(20));
    ASSERT_NE(port, 0) << vdbd.log();
    auto client = connect(port);
    ASSERT_NE(client, nullptr);
    if (round == 0) {
      ASSERT_TRUE(client
                      ->create_collection("crash", Json::parse(R"({
        "vectors": {"size": 16, "distance": "Euclid"},
        "optimizers_config": {"indexing_threshold": 40, "flush_interval_sec": 1}})"))
                      .ok());
      ASSERT_TRUE(client->create_payload_index("crash", "group", "keyword", true).ok());
    }
    check(*client, ledger, round);
    if (HasFatalFailure() || HasFailure()) {
      FAIL() << "after round " << round << "; server log:\n" << vdbd.log();
    }
    std::thread writer(ingest, port, std::ref(ledger), static_cast<unsigned>(gen()));
    // Mostly short rounds; every fifth one outlives the checkpoint interval (1 s), so kills
    // also land during and after checkpoints, seals and index builds.
    const unsigned ms = round % 5 == 4 ? 1000 + gen() % 1500 : 20 + gen() % 280;
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    vdbd.signal(SIGKILL);
    EXPECT_EQ(vdbd.wait_exit(std::chrono::seconds(10)), -1);
    writer.join();
  }
  test::VdbdProcess vdbd(args);
  const std::uint16_t port = vdbd.wait_listening(std::chrono::seconds(20));
  ASSERT_NE(port, 0);
  auto client = connect(port);
  ASSERT_NE(client, nullptr);
  check(*client, ledger, total);
  const auto info = client->collection_info("crash");
  ASSERT_TRUE(info.ok());
  std::cout << "kills: " << total << ", acknowledged writes: " << ledger.acknowledged_writes
            << ", points: " << ledger.acked.size() << ", segments: " << (*info)["segments"].size()
            << "\n";
  std::lock_guard lock(ledger.mutex);
  EXPECT_GT(ledger.acknowledged_writes, 50U); // the kills landed while writes were going on
  RecordProperty("acknowledged_writes", static_cast<int>(ledger.acknowledged_writes));
  RecordProperty("points", static_cast<int>(ledger.acked.size()));
}

} // namespace
} // namespace vdb
