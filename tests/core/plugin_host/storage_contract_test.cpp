// Every storage plugin through the same record-store contract (append, read back, overwrite,
// stable pointers while growing), plus what only a persistent store promises: reopen finds what
// was flushed, and a wrong or damaged file is refused, never read as garbage.
#include "core/common/crc32c.hpp"
#include "support/temp_dir.hpp"
#include "support/test_plugins.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>
#include <vector>

namespace vdb {
namespace {

using ::testing::HasSubstr;

constexpr std::uint64_t kRecordSize = 12;
constexpr std::uint64_t kPerChunk = 5; // small, so every test crosses chunk boundaries

struct TestRecord {
  std::uint32_t a, b, c;
  bool operator==(const TestRecord& o) const { return a == o.a && b == o.b && c == o.c; }
};
static_assert(sizeof(TestRecord) == kRecordSize);

TestRecord make_record(std::uint32_t i) { return {i, i * 7U + 1U, ~i}; }

TestRecord read(const RecordStore& store, std::uint64_t i) {
  auto p = store.get(i);
  EXPECT_TRUE(p.ok()) << p.error().message;
  TestRecord r{};
  std::memcpy(&r, *p, sizeof r);
  return r;
}

class StorageContract : public ::testing::TestWithParam<const char*> {
protected:
  std::unique_ptr<RecordStore> open(bool create = true, std::uint64_t record_size = kRecordSize) {
    auto store = try_open(create, record_size);
    EXPECT_TRUE(store.ok()) << store.error().message;
    return store.ok() ? std::move(*store) : nullptr;
  }
  Expected<std::unique_ptr<RecordStore>> try_open(bool create = true,
                                                  std::uint64_t record_size = kRecordSize) {
    RecordStoreOptions options;
    options.path = path_;
    options.record_size = record_size;
    options.records_per_chunk = kPerChunk;
    options.create = create;
    return test::built_plugins().open_store(GetParam(), options);
  }
  void append_records(RecordStore& store, std::uint32_t from, std::uint32_t to) {
    std::vector<TestRecord> batch;
    for (std::uint32_t i = from; i < to; ++i) {
      batch.push_back(make_record(i));
    }
    auto first = store.append(batch.data(), batch.size());
    ASSERT_TRUE(first.ok()) << first.error().message;
    EXPECT_EQ(*first, from);
  }

  test::TempDir dir_;
  std::string path_ = dir_.file("records.vdb");
};

TEST_P(StorageContract, AppendsAndReadsBackAcrossChunks) {
  auto store = open();
  EXPECT_EQ(store->count(), 0U);
  append_records(*store, 0, 1);
  append_records(*store, 1, 24);
  ASSERT_EQ(store->count(), 24U);
  for (std::uint32_t i = 0; i < 24; ++i) {
    EXPECT_EQ(read(*store, i), make_record(i)) << "record " << i;
  }
}

TEST_P(StorageContract, ReportsContiguousRunsUpToTheChunkEnd) {
  auto plugin = test::built_plugins().find(VDB_PLUGIN_STORAGE, GetParam());
  ASSERT_NE(plugin, nullptr);
  const vdb_storage_api* api = plugin->storage();
  // The C table directly: the C++ wrapper does not expose `contiguous`.
  vdb_store_options raw{sizeof raw, VDB_STORE_CREATE, path_.c_str(), kRecordSize, kPerChunk};
  vdb_store* s = nullptr;
  ASSERT_EQ(api->open(&raw, &s), VDB_OK);
  std::vector<TestRecord> records;
  for (std::uint32_t i = 0; i < 12; ++i) {
    records.push_back(make_record(i));
  }
  std::uint64_t first = 0;
  ASSERT_EQ(api->append(s, records.data(), records.size(), &first), VDB_OK);
  const void* p = nullptr;
  std::uint64_t run = 0;
  ASSERT_EQ(api->get(s, 0, &p, &run), VDB_OK);
  EXPECT_EQ(run, kPerChunk);
  ASSERT_EQ(api->get(s, 7, &p, &run), VDB_OK);
  EXPECT_EQ(run, 3U); // records 7, 8, 9 end the second chunk
  ASSERT_EQ(api->get(s, 11, &p, &run), VDB_OK);
  EXPECT_EQ(run, 1U);
  EXPECT_EQ(api->close(s), VDB_OK);
}

TEST_P(StorageContract, OverwriteChangesOnlyThatRecord) {
  auto store = open();
  append_records(*store, 0, 10);
  const TestRecord replacement{1, 2, 3};
  ASSERT_TRUE(store->overwrite(6, &replacement).ok());
  for (std::uint32_t i = 0; i < 10; ++i) {
    EXPECT_EQ(read(*store, i), i == 6 ? replacement : make_record(i));
  }
}

TEST_P(StorageContract, IndexPastTheEndIsAnErrorNamingIt) {
  auto store = open();
  append_records(*store, 0, 3);
  auto missing = store->get(3);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::out_of_range);
  EXPECT_THAT(missing.error().message, HasSubstr("get: record 3 is past the end (count 3)"));
  const TestRecord r{};
  EXPECT_EQ(store->overwrite(3, &r).code(), Errc::out_of_range);
  EXPECT_EQ(store->count(), 3U);
}

// Reads `indices` with read_many, which the mmap plugin serves from the file (io_uring, or
// pread), not from the mapping the writes went through.
std::vector<TestRecord> read_many(const RecordStore& store,
                                  const std::vector<std::uint64_t>& indices) {
  std::vector<TestRecord> out(indices.size(), TestRecord{0xdead, 0xdead, 0xdead});
  const Status status = store.read_many(indices.data(), indices.size(), out.data());
  EXPECT_TRUE(status.ok()) << status.error().message;
  return out;
}

void expect_read_many_matches(const RecordStore& store, std::uint32_t count) {
  std::vector<std::uint64_t> indices; // backwards, with repeats, across chunks and batches
  for (std::uint32_t i = count; i-- > 0;) {
    indices.push_back(i);
    if (i % 7 == 0) {
      indices.push_back(i);
    }
  }
  const std::vector<TestRecord> got = read_many(store, indices);
  for (std::size_t j = 0; j < indices.size(); ++j) {
    EXPECT_EQ(got[j], make_record(static_cast<std::uint32_t>(indices[j]))) << "index " << j;
  }
}

TEST_P(StorageContract, ReadManyCopiesTheRecordsInTheOrderAsked) {
  auto store = open();
  EXPECT_TRUE(store->reads_many()) << "both built-in plugins implement ABI 1.3's read_many";
  append_records(*store, 0, 200); // more than one io_uring batch of 64
  expect_read_many_matches(*store, 200);
  EXPECT_TRUE(store->read_many(nullptr, 0, nullptr).ok()) << "nothing to read";
  // A record overwritten through the mapping reads back new from the file, not yet flushed.
  const TestRecord replacement{4, 5, 6};
  ASSERT_TRUE(store->overwrite(130, &replacement).ok());
  EXPECT_EQ(read_many(*store, {130, 0}), (std::vector<TestRecord>{replacement, make_record(0)}));
}

TEST_P(StorageContract, ReadManyWithPreadWhereIoUringIsTurnedOff) {
  auto store = open();
  append_records(*store, 0, 150);
  // The switch is read when a thread first reads: a new thread sees it.
  ::setenv("VDB_IO_URING", "0", 1);
  std::thread reader([&] { expect_read_many_matches(*store, 150); });
  reader.join();
  ::unsetenv("VDB_IO_URING");
}

TEST_P(StorageContract, ReadManyPastTheEndFailsAndReadsNothing) {
  auto store = open();
  append_records(*store, 0, 3);
  std::vector<TestRecord> out(2, TestRecord{7, 7, 7});
  const std::uint64_t indices[] = {1, 3};
  const Status status = store->read_many(indices, 2, out.data());
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), Errc::out_of_range);
  EXPECT_THAT(status.error().message, HasSubstr("read_many: record 3 is past the end (count 3)"));
  EXPECT_EQ(out[0], (TestRecord{7, 7, 7})) << "nothing is copied before every index is checked";
}

TEST_P(StorageContract, PointersStayPutWhileAConcurrentWriterGrowsTheStore) {
  auto store = open();
  append_records(*store, 0, 1);
  const void* first = *store->get(0);
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> mismatches{0};
  std::thread reader([&] {
    while (!done.load()) {
      const std::uint64_t n = store->count();
      for (std::uint64_t i = 0; i < n; i += 37) {
        TestRecord r{};
        std::memcpy(&r, *store->get(i), sizeof r);
        if (!(r == make_record(static_cast<std::uint32_t>(i)))) {
          mismatches.fetch_add(1);
        }
      }
    }
  });
  for (std::uint32_t i = 1; i < 5000; i += 50) {
    append_records(*store, i, i + 50);
  }
  done = true;
  reader.join();
  EXPECT_EQ(mismatches.load(), 0U);
  EXPECT_EQ(*store->get(0), first);
  EXPECT_EQ(read(*store, 0), make_record(0));
  EXPECT_EQ(store->count(), 5001U);
  EXPECT_EQ(read(*store, 5000), make_record(5000));
}

TEST_P(StorageContract, FlushSucceedsAndReopenKeepsFlushedRecordsWhenPersistent) {
  {
    auto store = open();
    append_records(*store, 0, 17);
    const TestRecord replacement{9, 9, 9};
    ASSERT_TRUE(store->overwrite(4, &replacement).ok());
    ASSERT_TRUE(store->flush().ok());
  }
  auto store = open();
  if (!store->persistent()) {
    EXPECT_EQ(store->count(), 0U) << "a memory store starts empty";
    return;
  }
  ASSERT_EQ(store->count(), 17U);
  for (std::uint32_t i = 0; i < 17; ++i) {
    EXPECT_EQ(read(*store, i), (i == 4 ? TestRecord{9, 9, 9} : make_record(i)));
  }
  append_records(*store, 17, 20); // and it keeps growing after a reopen
  EXPECT_EQ(read(*store, 19), make_record(19));
}

INSTANTIATE_TEST_SUITE_P(Plugins, StorageContract, ::testing::Values("ram", "mmap"),
                         [](const auto& info) { return std::string(info.param); });

// ---- what only the ram store promises ----

// Left to choose, the ram store fills chunks of one 2 MiB page (the graph then computes vector
// addresses, and huge pages back the chunks): records stay contiguous to the page's end, and
// records spread over several such chunks read back whole.
TEST(RamStore, DefaultChunksHoldOneHugePageOfRecords) {
  constexpr std::uint64_t kVector = 512; // 128 floats
  constexpr std::uint64_t kPerPage = (std::uint64_t{2} << 20) / kVector;
  auto plugin = test::built_plugins().find(VDB_PLUGIN_STORAGE, "ram");
  ASSERT_NE(plugin, nullptr);
  const vdb_storage_api* api = plugin->storage();
  vdb_store_options raw{sizeof raw, VDB_STORE_CREATE, nullptr, kVector, 0};
  vdb_store* s = nullptr;
  ASSERT_EQ(api->open(&raw, &s), VDB_OK);
  const std::uint64_t n = 2 * kPerPage + 100;
  std::vector<std::uint8_t> records(n * kVector);
  for (std::size_t i = 0; i < records.size(); ++i) {
    records[i] = static_cast<std::uint8_t>(i * 31 + i / kVector);
  }
  std::uint64_t first = 0;
  ASSERT_EQ(api->append(s, records.data(), n, &first), VDB_OK);
  const void* p = nullptr;
  std::uint64_t run = 0;
  ASSERT_EQ(api->get(s, 0, &p, &run), VDB_OK);
  EXPECT_EQ(run, kPerPage);
  ASSERT_EQ(api->get(s, kPerPage + 1, &p, &run), VDB_OK);
  EXPECT_EQ(run, kPerPage - 1);
  for (const std::uint64_t i : {std::uint64_t{0}, kPerPage - 1, kPerPage, n - 1}) {
    ASSERT_EQ(api->get(s, i, &p, &run), VDB_OK);
    EXPECT_EQ(std::memcmp(p, records.data() + i * kVector, kVector), 0) << "record " << i;
  }
  EXPECT_EQ(api->close(s), VDB_OK);
}

// ---- what only the mmap store promises ----

class MmapStoreFile : public ::testing::Test {
protected:
  Expected<std::unique_ptr<RecordStore>> open(bool create = false,
                                              std::uint64_t record_size = kRecordSize) {
    RecordStoreOptions options{path_, record_size, kPerChunk, create};
    return test::built_plugins().open_store("mmap", options);
  }
  void write_store(std::uint32_t records) {
    auto store = open(true);
    ASSERT_TRUE(store.ok()) << store.error().message;
    std::vector<TestRecord> batch;
    for (std::uint32_t i = 0; i < records; ++i) {
      batch.push_back(make_record(i));
    }
    ASSERT_TRUE((*store)->append(batch.data(), batch.size()).ok());
    ASSERT_TRUE((*store)->flush().ok());
  }
  std::vector<char> bytes() {
    std::ifstream in(path_, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  void write_bytes(const std::vector<char>& data) {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
  }
  void expect_refused(Errc code, const std::string& reason) {
    auto store = open();
    ASSERT_FALSE(store.ok()) << "a damaged file was opened";
    EXPECT_EQ(store.error().code, code);
    EXPECT_THAT(store.error().message, HasSubstr(reason));
    EXPECT_THAT(store.error().message, HasSubstr(path_));
  }

  test::TempDir dir_;
  std::string path_ = dir_.file("records.vdb");
};

TEST_F(MmapStoreFile, RecordsWrittenAfterTheLastFlushAreNotCountedOnReopen) {
  {
    auto store = open(true);
    ASSERT_TRUE(store.ok());
    const TestRecord r = make_record(1);
    ASSERT_TRUE((*store)->append(&r).ok());
    ASSERT_TRUE((*store)->flush().ok());
    ASSERT_TRUE((*store)->append(&r).ok()); // never flushed
  }
  auto store = open();
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->count(), 1U);
}

TEST_F(MmapStoreFile, StartsWithAHeaderAndKeepsRecordsAtFixedOffsets) {
  write_store(3);
  const auto data = bytes();
  ASSERT_GE(data.size(), 4096U + 3 * kRecordSize);
  EXPECT_EQ(std::string(data.data(), 7), "VDBRECS");
  TestRecord second{};
  std::memcpy(&second, data.data() + 4096 + kRecordSize, sizeof second);
  EXPECT_EQ(second, make_record(1));
}

TEST_F(MmapStoreFile, RefusesAFileWithTheWrongMagic) {
  write_store(3);
  auto data = bytes();
  data[0] = 'X';
  write_bytes(data);
  expect_refused(Errc::corrupt, "bad magic");
}

TEST_F(MmapStoreFile, RefusesAHeaderWithABitFlipped) {
  write_store(3);
  auto data = bytes();
  data[24] ^= 0x01; // inside records_per_chunk
  write_bytes(data);
  expect_refused(Errc::corrupt, "header checksum mismatch");
}

TEST_F(MmapStoreFile, RefusesANewerFormatVersion) {
  write_store(3);
  auto data = bytes();
  const std::uint32_t version = 2;
  std::memcpy(data.data() + 8, &version, sizeof version);
  const std::uint32_t crc = crc32c(data.data(), 44);
  std::memcpy(data.data() + 44, &crc, sizeof crc);
  write_bytes(data);
  expect_refused(Errc::unsupported, "format version 2 is newer");
}

TEST_F(MmapStoreFile, RefusesATruncatedFile) {
  write_store(40);
  auto data = bytes();
  data.resize(4096 + 10 * kRecordSize);
  write_bytes(data);
  expect_refused(Errc::corrupt, "truncated: the header counts 40 records");
}

TEST_F(MmapStoreFile, RefusesAFileShorterThanItsHeader) {
  write_bytes(std::vector<char>(100, 'x'));
  expect_refused(Errc::corrupt, "file too short for a header");
}

TEST_F(MmapStoreFile, RefusesAnotherRecordSize) {
  write_store(3);
  auto store = open(false, 16);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, Errc::invalid_argument);
  EXPECT_THAT(store.error().message, HasSubstr("record size mismatch: the file has 12 bytes"));
}

TEST_F(MmapStoreFile, RefusesASecondOpenWhileTheFirstIsOpen) {
  auto first = open(true);
  ASSERT_TRUE(first.ok());
  auto second = open();
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(second.error().message, HasSubstr("in use by another process"));
}

TEST_F(MmapStoreFile, MissingFileWithoutCreateIsNotFound) {
  auto store = open(false);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, Errc::not_found);
}

} // namespace
} // namespace vdb
