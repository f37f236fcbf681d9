// Snapshots: an archive taken while writes go on holds a consistent state (a prefix of the
// writes), recovers into a collection that answers the same, and hostile archives (paths with
// "..", absolute paths, links, files outside the manifest, bad checksums) are refused without
// writing anything outside the data folder or touching the existing collection.
#include "core/common/crc32c.hpp"
#include "core/engine/snapshots.hpp"
#include "core/storage/archive.hpp"
#include "support/engine.hpp"
#include "support/temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstring>
#include <fstream>
#include <thread>

namespace vdb {
namespace {

PointStruct point(std::uint64_t id) {
  return PointStruct{PointId::from_number(id),
                     {{"", {static_cast<float>(id % 13), static_cast<float>(id % 7), 1.0F}}},
                     Json{{"id", id}}};
}

Json config() {
  return Json::parse(R"({"vectors": {"size": 3, "distance": "Euclid"},
                         "optimizers_config": {"indexing_threshold": 1}})");
}

TEST(Snapshots, ASnapshotTakenDuringWritesIsAConsistentPrefixAndRecovers) {
  test::TempDir tmp;
  Catalog catalog(test::engine_context(), CollectionConfig{}, tmp.path() / "storage");
  ASSERT_TRUE(catalog.open_existing().ok());
  ASSERT_TRUE(catalog.create_collection("c", config()).ok());
  auto c = *catalog.get("c");
  ASSERT_TRUE(c->create_payload_index(*JsonPath::parse("id"), PayloadFieldType::integer).ok());
  // Batches of 10 new ids, in order: a consistent state holds ids 1..10k for some k.
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (std::uint64_t b = 0; !stop; ++b) {
      std::vector<PointStruct> batch;
      for (std::uint64_t i = 1; i <= 10; ++i) {
        batch.push_back(point(b * 10 + i));
      }
      ASSERT_TRUE(c->upsert(batch).ok());
      if (b % 20 == 0) {
        (void)c->optimize_now();
      }
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto snap = create_snapshot(*c, tmp.path() / "snapshots");
  // Let the writer go on past the snapshot (however slow this build is).
  const std::uint64_t after_snapshot = *c->count(nullptr);
  for (int i = 0; i < 2000 && *c->count(nullptr) < after_snapshot + 20; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stop = true;
  writer.join();
  ASSERT_TRUE(snap.ok()) << snap.error().message;
  EXPECT_GT(snap->size, 0U);
  auto listed = list_snapshots(tmp.path() / "snapshots", "c");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1U);
  EXPECT_EQ((*listed)[0].name, snap->name);

  auto file = snapshot_file(tmp.path() / "snapshots", "copy", "c/" + snap->name);
  ASSERT_TRUE(file.ok()) << file.error().message;
  auto copy = catalog.recover_snapshot("copy", *file);
  ASSERT_TRUE(copy.ok()) << copy.error().message;
  const std::uint64_t n = *(*copy)->count(nullptr);
  EXPECT_GT(n, 0U);
  EXPECT_EQ(n % 10, 0U);
  EXPECT_LT(n, *c->count(nullptr)); // writes went on after the snapshot
  auto all = (*copy)->retrieve(
      {PointId::from_number(1), PointId::from_number(n), PointId::from_number(n + 1)},
      PayloadSelector::all(), VectorSelector::every());
  ASSERT_EQ(all->size(), 2U); // a prefix: 1..n, nothing after
  EXPECT_EQ((*all)[1].payload->at("id"), n);
  EXPECT_EQ((*all)[1].vectors.at(""), point(n).vectors.at(""));
  EXPECT_EQ((*copy)->info().payload_schema.count("id"), 1U);
  SearchRequest q;
  q.vector = point(5).vectors.at("");
  q.limit = 3;
  EXPECT_FALSE((*copy)->search(q)->empty());

  // It survives a restart like any collection, and the snapshot can be deleted.
  EXPECT_TRUE(delete_snapshot(tmp.path() / "snapshots", "c", snap->name).ok());
  EXPECT_TRUE(list_snapshots(tmp.path() / "snapshots", "c")->empty());
  EXPECT_EQ(delete_snapshot(tmp.path() / "snapshots", "c", snap->name).code(), Errc::not_found);
}

TEST(Snapshots, NamesThatLeaveTheSnapshotFolderAreRefused) {
  test::TempDir tmp;
  for (const char* name : {"../x.snapshot", "/etc/passwd", "c/../../x.snapshot", "a/b/c.snapshot",
                           "x.tar", "", ".snapshot/..", "c/.."}) {
    EXPECT_EQ(snapshot_file(tmp.path(), "c", name).error().code, Errc::invalid_argument) << name;
  }
}

// ---- hostile archives ------------------------------------------------------------------------

struct TarEntry {
  std::string path;
  std::string data;
  char type = '0';
  std::string link = {};
};

std::string tar_of(const std::vector<TarEntry>& entries) {
  std::string out;
  for (const TarEntry& e : entries) {
    std::array<char, 512> h{};
    std::memcpy(h.data(), e.path.data(), std::min<std::size_t>(e.path.size(), 100));
    std::snprintf(h.data() + 100, 8, "%07o", 0644);
    std::snprintf(h.data() + 124, 12, "%011llo", static_cast<unsigned long long>(e.data.size()));
    h[156] = e.type;
    std::memcpy(h.data() + 157, e.link.data(), std::min<std::size_t>(e.link.size(), 100));
    std::memcpy(h.data() + 257, "ustar", 6);
    std::memcpy(h.data() + 263, "00", 2);
    unsigned sum = 0;
    for (std::size_t i = 0; i < 512; ++i) {
      sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(h[i]);
    }
    std::snprintf(h.data() + 148, 8, "%06o", sum);
    out.append(h.data(), 512);
    out += e.data;
    out.append((512 - e.data.size() % 512) % 512, '\0');
  }
  out.append(1024, '\0');
  return out;
}

std::string manifest_for(const std::vector<TarEntry>& files) {
  Json m = {{"format", 1}, {"kind", "vdb-collection-snapshot"}, {"files", Json::array()}};
  for (const TarEntry& f : files) {
    m["files"].push_back({{"path", f.path},
                          {"size", f.data.size()},
                          {"crc32c", crc32c(f.data.data(), f.data.size())}});
  }
  return m.dump();
}

TEST(Snapshots, HostileArchivesAreRefusedAndWriteNothingOutside) {
  test::TempDir tmp;
  const fs::path storage = tmp.path() / "storage";
  Catalog catalog(test::engine_context(), CollectionConfig{}, storage);
  ASSERT_TRUE(catalog.open_existing().ok());
  ASSERT_TRUE(catalog.create_collection("c", config()).ok());
  ASSERT_TRUE((*catalog.get("c"))->upsert({point(1), point(2)}).ok());

  const TarEntry evil{"../../../evil.txt", "pwned"};
  const TarEntry plain{"state.vdb", "not really a state"};
  struct Case {
    const char* what;
    std::vector<TarEntry> entries;
  };
  std::vector<Case> cases = {
      {"dot-dot path", {{"manifest.json", manifest_for({evil})}, evil}},
      {"absolute path",
       {{"manifest.json", manifest_for({{"/tmp/evil.txt", "x"}})}, {"/tmp/evil.txt", "x"}}},
      {"symlink", {{"manifest.json", manifest_for({})}, {"segments", "", '2', "/tmp"}}},
      {"hard link", {{"manifest.json", manifest_for({})}, {"state.vdb", "", '1', "/etc/passwd"}}},
      {"folder entry", {{"manifest.json", manifest_for({})}, {"segments", "", '5'}}},
      {"file outside the manifest", {{"manifest.json", manifest_for({})}, plain}},
      {"bad checksum",
       {{"manifest.json", manifest_for({plain})}, {"state.vdb", "not really a statE"}}},
      {"manifest not first", {plain, {"manifest.json", manifest_for({plain})}}},
      {"missing file", {{"manifest.json", manifest_for({plain})}}},
      {"not a collection", {{"manifest.json", manifest_for({plain})}, plain}},
  };
  for (const Case& test_case : cases) {
    const fs::path archive = tmp.path() / "hostile.snapshot";
    std::ofstream(archive, std::ios::binary | std::ios::trunc) << tar_of(test_case.entries);
    auto recovered = catalog.recover_snapshot("c", archive);
    ASSERT_FALSE(recovered.ok()) << test_case.what;
    EXPECT_NE(recovered.error().code, Errc::ok);
    // Nothing outside, nothing left behind, the collection untouched.
    EXPECT_FALSE(fs::exists(tmp.path() / "evil.txt")) << test_case.what;
    EXPECT_FALSE(fs::exists(storage.parent_path().parent_path() / "evil.txt")) << test_case.what;
    EXPECT_FALSE(fs::exists("/tmp/evil.txt")) << test_case.what;
    std::size_t hidden = 0;
    for (const auto& e : fs::directory_iterator(storage / "collections")) {
      hidden += e.path().filename().string().front() == '.' ? 1 : 0;
    }
    EXPECT_EQ(hidden, 0U) << test_case.what;
    EXPECT_EQ(*(*catalog.get("c"))->count(nullptr), 2U) << test_case.what;
  }
  // A truncated real snapshot is refused too.
  auto real = create_snapshot(**catalog.get("c"), tmp.path() / "snapshots");
  ASSERT_TRUE(real.ok()) << real.error().message;
  const fs::path file = tmp.path() / "snapshots" / "c" / real->name;
  fs::resize_file(file, fs::file_size(file) - 1536);
  EXPECT_FALSE(catalog.recover_snapshot("c", file).ok());
  EXPECT_EQ(*(*catalog.get("c"))->count(nullptr), 2U);
}

} // namespace
} // namespace vdb
