// The write-ahead log: records come back in order; a torn or corrupt tail, at any byte and for
// any single flipped bit, is cut at the last good record, never replayed; checked files refuse
// corruption and newer format versions.
#include "core/common/crc32c.hpp"
#include "core/storage/files.hpp"
#include "core/storage/wal.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <fstream>
#include <iterator>
#include <thread>

namespace vdb {
namespace {

using Records = std::vector<std::pair<std::uint64_t, std::string>>;

std::string body_of(std::uint64_t op) { return "operation " + std::to_string(op * 7919); }

// Opens the log in `dir` and returns what it replays after `after`.
Records replay(const fs::path& dir, std::uint64_t after = 0, Wal::Recovered* found = nullptr) {
  Records out;
  auto wal = Wal::open(
      dir, after,
      [&](std::uint64_t op, std::string_view body) {
        out.emplace_back(op, std::string(body));
        return Status();
      },
      found);
  EXPECT_TRUE(wal.ok()) << wal.error().message;
  return out;
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

fs::path only_file(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    files.push_back(e.path());
  }
  EXPECT_EQ(files.size(), 1U);
  return files.empty() ? fs::path() : files[0];
}

TEST(Crc32c, MatchesTheStandardCheckValue) {
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283U);
  // Extending over pieces gives the checksum of the whole, on both sides of 8-byte words.
  const std::string text = "The quick brown fox jumps over the lazy dog";
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    EXPECT_EQ(crc32c(text.data() + cut, text.size() - cut, crc32c(text.data(), cut)),
              crc32c(text.data(), text.size()));
  }
}

TEST(Wal, ReplaysRecordsAfterTheCheckpointInOrder) {
  test::TempDir dir;
  {
    auto wal = Wal::open(dir.path(), 0, [](auto, auto) { return Status(); });
    ASSERT_TRUE(wal.ok()) << wal.error().message;
    for (std::uint64_t op = 1; op <= 20; ++op) {
      ASSERT_TRUE((*wal)->append(op, body_of(op)).ok());
    }
    ASSERT_TRUE((*wal)->wait_durable(20).ok());
    EXPECT_EQ((*wal)->last_op(), 20U);
  }
  const Records all = replay(dir.path());
  ASSERT_EQ(all.size(), 20U);
  for (std::uint64_t op = 1; op <= 20; ++op) {
    EXPECT_EQ(all[op - 1], std::make_pair(op, body_of(op)));
  }
  const Records after = replay(dir.path(), 15);
  ASSERT_EQ(after.size(), 5U);
  EXPECT_EQ(after.front().first, 16U);
}

TEST(Wal, RotationKeepsOrderAndOldFilesGoOnlyWhenAsked) {
  test::TempDir dir;
  {
    auto wal = Wal::open(dir.path(), 0, [](auto, auto) { return Status(); });
    ASSERT_TRUE(wal.ok());
    for (std::uint64_t op = 1; op <= 10; ++op) {
      ASSERT_TRUE((*wal)->append(op, body_of(op)).ok());
      if (op == 4) {
        ASSERT_TRUE((*wal)->rotate(5).ok());
      }
    }
  }
  EXPECT_EQ(replay(dir.path()).size(), 10U);
  {
    auto wal = Wal::open(dir.path(), 4, [](auto, auto) { return Status(); });
    ASSERT_TRUE(wal.ok());
    ASSERT_TRUE((*wal)->remove_covered_files(4).ok());
  }
  const Records rest = replay(dir.path(), 4);
  ASSERT_EQ(rest.size(), 6U);
  EXPECT_EQ(rest.front().first, 5U);
}

TEST(Wal, FilesPastTheCapacityRollOverAndGoOnlyOnceCovered) {
  test::TempDir dir;
  {
    auto wal = Wal::open(dir.path(), 0, [](auto, auto) { return Status(); });
    ASSERT_TRUE(wal.ok());
    (*wal)->set_capacity(100); // a new file every few records
    for (std::uint64_t op = 1; op <= 30; ++op) {
      ASSERT_TRUE((*wal)->append(op, body_of(op)).ok());
    }
    std::size_t files = 0;
    for (const auto& e : fs::directory_iterator(dir.path())) {
      files += e.path().extension() == ".wal" ? 1 : 0;
    }
    EXPECT_GT(files, 5U);
    ASSERT_TRUE((*wal)->remove_covered_files(12).ok());
  }
  const Records rest = replay(dir.path(), 12);
  ASSERT_EQ(rest.size(), 18U); // 13..30 are all still there
  EXPECT_EQ(rest.front().first, 13U);
  EXPECT_GT(replay(dir.path()).front().first, 1U); // files wholly before 13 went
  EXPECT_LE(replay(dir.path()).front().first, 13U);
}

TEST(Wal, GroupCommitAnswersEveryWaiter) {
  test::TempDir dir;
  auto wal = Wal::open(dir.path(), 0, [](auto, auto) { return Status(); });
  ASSERT_TRUE(wal.ok());
  std::atomic<int> answered{0};
  for (std::uint64_t op = 1; op <= 200; ++op) {
    ASSERT_TRUE((*wal)->append(op, body_of(op)).ok());
    (*wal)->when_durable(op, [&](Status s) {
      EXPECT_TRUE(s.ok());
      ++answered;
    });
  }
  ASSERT_TRUE((*wal)->wait_durable(200).ok());
  // Waiters are answered before (or with) the last one.
  for (int i = 0; i < 100 && answered < 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(answered.load(), 200);
}

// Writes ops 1..n into a fresh log and returns its file's bytes and each record's end offset.
std::pair<std::string, std::vector<std::size_t>> make_log(const fs::path& dir, std::uint64_t n) {
  std::vector<std::size_t> ends;
  {
    auto wal = Wal::open(dir, 0, [](auto, auto) { return Status(); });
    EXPECT_TRUE(wal.ok());
    for (std::uint64_t op = 1; op <= n; ++op) {
      EXPECT_TRUE((*wal)->append(op, body_of(op)).ok());
      ends.push_back(static_cast<std::size_t>((*wal)->bytes()));
    }
  }
  return {read_bytes(only_file(dir)), ends};
}

TEST(Wal, EveryTruncationOfTheLastRecordsRecoversToTheLastWholeRecord) {
  test::TempDir dir;
  const auto [bytes, ends] = make_log(dir.path(), 6);
  const fs::path file = only_file(dir.path());
  // Every cut from the end of record 3 to the full file.
  for (std::size_t cut = ends[2]; cut <= bytes.size(); ++cut) {
    write_bytes(file, bytes.substr(0, cut));
    Wal::Recovered found;
    const Records got = replay(dir.path(), 0, &found);
    std::size_t whole = 0;
    while (whole < ends.size() && ends[whole] <= cut) {
      ++whole;
    }
    ASSERT_EQ(got.size(), whole) << "cut at " << cut;
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i], std::make_pair(std::uint64_t{i + 1}, body_of(i + 1)));
    }
    EXPECT_EQ(found.cut.empty(), cut == ends[whole - 1]) << "cut at " << cut << ": " << found.cut;
    // The torn bytes are gone: the file ends at the last whole record, and the log appends
    // after it.
    EXPECT_EQ(fs::file_size(file), ends[whole - 1]);
  }
}

TEST(Wal, EveryBitFlipInTheLastRecordsEndsTheLogBeforeThem) {
  test::TempDir dir;
  const auto [bytes, ends] = make_log(dir.path(), 5);
  const fs::path file = only_file(dir.path());
  for (std::size_t byte = ends[2]; byte < bytes.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string flipped = bytes;
      flipped[byte] = static_cast<char>(flipped[byte] ^ (1 << bit));
      write_bytes(file, flipped);
      Wal::Recovered found;
      const Records got = replay(dir.path(), 0, &found);
      std::size_t record = 0; // the record holding the flipped byte
      while (ends[record] <= byte) {
        ++record;
      }
      ASSERT_EQ(got.size(), record) << "byte " << byte << " bit " << bit;
      for (std::size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].second, body_of(i + 1));
      }
      EXPECT_FALSE(found.cut.empty());
    }
  }
}

TEST(Wal, CorruptionInAnEarlierFileSetsTheLaterOnesAside) {
  test::TempDir dir;
  {
    auto wal = Wal::open(dir.path(), 0, [](auto, auto) { return Status(); });
    ASSERT_TRUE(wal.ok());
    for (std::uint64_t op = 1; op <= 6; ++op) {
      ASSERT_TRUE((*wal)->append(op, body_of(op)).ok());
      if (op == 3) {
        ASSERT_TRUE((*wal)->rotate(4).ok());
      }
    }
  }
  const fs::path first = dir.path() / "00000000000000000001.wal";
  std::string bytes = read_bytes(first);
  bytes[bytes.size() - 3] ^= 0x10; // inside op 3
  write_bytes(first, bytes);
  Wal::Recovered found;
  const Records got = replay(dir.path(), 0, &found);
  ASSERT_EQ(got.size(), 2U);
  EXPECT_NE(found.cut.find("set aside"), std::string::npos) << found.cut;
  EXPECT_TRUE(fs::exists(dir.path() / "00000000000000000004.wal.corrupt"));
}

TEST(Wal, AFailedWriteLeavesNoPartialRecordAndTheLogRecovers) {
  test::TempDir dir;
  {
    auto wal = Wal::open(dir.path(), 0, [](auto, auto) { return Status(); });
    ASSERT_TRUE(wal.ok());
    ASSERT_TRUE((*wal)->append(1, body_of(1)).ok());
    inject_write_fault(ENOSPC);
    const Status s = (*wal)->append(2, body_of(2));
    inject_write_fault(0);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), Errc::no_space);
    EXPECT_NE(s.message().find("No space left"), std::string::npos) << s.message();
    ASSERT_TRUE((*wal)->append(2, body_of(2)).ok());
    ASSERT_TRUE((*wal)->wait_durable(2).ok());
  }
  EXPECT_EQ(replay(dir.path()).size(), 2U);
}

TEST(CheckedFile, RoundTripsAndRefusesCorruptionAndNewerVersions) {
  test::TempDir dir;
  const fs::path path = dir.path() / "state.vdb";
  ASSERT_TRUE(write_checked_file(path, "VDBTESTF", 2, "hello, disk").ok());
  auto body = read_checked_file(path, "VDBTESTF", 2);
  ASSERT_TRUE(body.ok()) << body.error().message;
  EXPECT_EQ(*body, "hello, disk");
  EXPECT_FALSE(fs::exists(dir.path() / "state.vdb.tmp"));

  auto older = read_checked_file(path, "VDBTESTF", 1);
  ASSERT_FALSE(older.ok());
  EXPECT_EQ(older.error().code, Errc::unsupported);
  EXPECT_NE(older.error().message.find("newer"), std::string::npos);

  EXPECT_EQ(read_checked_file(path, "VDBOTHER", 2).error().code, Errc::corrupt);
  const std::string good = read_bytes(path);
  for (std::size_t byte = 0; byte < good.size(); ++byte) {
    std::string bad = good;
    bad[byte] = static_cast<char>(bad[byte] ^ 0x01);
    write_bytes(path, bad);
    auto got = read_checked_file(path, "VDBTESTF", 2);
    ASSERT_FALSE(got.ok()) << "byte " << byte;
  }
  write_bytes(path, good.substr(0, good.size() - 1));
  EXPECT_EQ(read_checked_file(path, "VDBTESTF", 2).error().code, Errc::corrupt);
}

} // namespace
} // namespace vdb
