// A collection kept in a folder: after a restart (a clean one, or one where only the log holds
// the last writes) every point, payload, payload index and graph is back, searches answer the
// same, and the files on disk are the ones the layout promises.
#include "core/storage/files.hpp"
#include "support/engine.hpp"
#include "support/temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <random>

namespace vdb {
namespace {

using test::filter_of;

PointId id(std::uint64_t n) { return PointId::from_number(n); }

std::vector<float> vec(std::uint64_t i, std::size_t dim = 8) {
  std::mt19937 gen(static_cast<unsigned>(i));
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> v(dim);
  for (float& x : v) {
    x = u(gen);
  }
  return v;
}

const char* kConfig = R"({
  "vectors": {"size": 8, "distance": "Cosine"},
  "hnsw_config": {"m": 8, "ef_construct": 32},
  "optimizers_config": {"indexing_threshold": 4, "default_segment_number": 2}})";

CollectionConfig config_of(const char* json) {
  auto c = parse_collection_config(Json::parse(json));
  EXPECT_TRUE(c.ok());
  return *c;
}

// Everything a user can read from the collection, for comparing before and after a restart.
struct Snapshot {
  std::vector<Record> points;
  std::vector<std::vector<ScoredPoint>> searches;
  std::uint64_t filtered_count;
  std::map<std::string, PayloadIndex::FieldInfo> schema;
};

Snapshot read_all(const Collection& c) {
  Snapshot s;
  ScrollRequest scroll;
  scroll.limit = 10'000;
  scroll.with_vector = VectorSelector::every();
  s.points = c.scroll(scroll)->points;
  for (std::uint64_t q = 0; q < 20; ++q) {
    SearchRequest r;
    r.vector = vec(1000 + q);
    r.limit = 5;
    r.with_payload = PayloadSelector::all();
    s.searches.push_back(*c.search(r));
  }
  const Filter f = filter_of(R"({"must": [{"key": "group", "match": {"value": "a"}}]})");
  s.filtered_count = *c.count(&f);
  s.schema = c.info().payload_schema;
  return s;
}

void expect_same(const Snapshot& a, const Snapshot& b) {
  ASSERT_EQ(a.points.size(), b.points.size());
  for (std::size_t i = 0; i < a.points.size(); ++i) {
    EXPECT_EQ(a.points[i].id, b.points[i].id);
    EXPECT_EQ(a.points[i].version, b.points[i].version);
    EXPECT_EQ(a.points[i].payload, b.points[i].payload);
    EXPECT_EQ(a.points[i].vectors, b.points[i].vectors);
  }
  ASSERT_EQ(a.searches.size(), b.searches.size());
  for (std::size_t q = 0; q < a.searches.size(); ++q) {
    ASSERT_EQ(a.searches[q].size(), b.searches[q].size());
    for (std::size_t i = 0; i < a.searches[q].size(); ++i) {
      EXPECT_EQ(a.searches[q][i].id, b.searches[q][i].id);
      EXPECT_FLOAT_EQ(a.searches[q][i].score, b.searches[q][i].score);
    }
  }
  EXPECT_EQ(a.filtered_count, b.filtered_count);
  EXPECT_EQ(a.schema.size(), b.schema.size());
  for (const auto& [key, field] : a.schema) {
    EXPECT_EQ(b.schema.at(key).type, field.type) << key;
    EXPECT_EQ(b.schema.at(key).points, field.points) << key;
  }
}

// Upserts, deletes and payload edits of every kind, spread over sealed and appendable segments.
void write_history(Collection& c, std::uint64_t from, std::uint64_t to) {
  for (std::uint64_t i = from; i < to; i += 10) {
    std::vector<PointStruct> batch;
    for (std::uint64_t j = i; j < i + 10; ++j) {
      batch.push_back(
          PointStruct{id(j), {{"", vec(j)}}, Json{{"group", j % 3 == 0 ? "a" : "b"}, {"n", j}}});
    }
    ASSERT_TRUE(c.upsert(batch).ok());
  }
  ASSERT_TRUE(c.delete_points(std::vector<PointId>{id(from + 1), id(from + 2)}).ok());
  const Filter f = filter_of(R"({"must": [{"key": "n", "range": {"gte": 7, "lt": 9}}]})");
  ASSERT_TRUE(c.delete_points(f).ok());
  ASSERT_TRUE(c.set_payload(Json{{"tag", "x"}}, std::vector<PointId>{id(from + 3)}).ok());
  ASSERT_TRUE(c.set_payload(Json{{"deep", 1}}, std::vector<PointId>{id(from + 4)},
                            *JsonPath::parse("meta.inner"))
                  .ok());
  ASSERT_TRUE(c.overwrite_payload(Json{{"group", "a"}}, std::vector<PointId>{id(from + 5)}).ok());
  ASSERT_TRUE(c.delete_payload({*JsonPath::parse("n")}, std::vector<PointId>{id(from + 6)}).ok());
  ASSERT_TRUE(c.clear_payload(std::vector<PointId>{id(from + 9)}).ok());
  ASSERT_TRUE(c.update_vectors({PointVectors{id(from + 10), {{"", vec(77)}}}}).ok());
  ASSERT_TRUE(c.upsert({PointStruct{id(from + 11), {{"", vec(5)}}, Json{{"group", "a"}}}}).ok());
}

std::unique_ptr<Collection> reopen(const fs::path& dir) {
  auto c = Collection::open("c", dir, test::engine_context());
  EXPECT_TRUE(c.ok()) << c.error().message;
  return c.ok() ? std::move(*c) : nullptr;
}

TEST(Persistence, ACleanRestartGivesBackEverything) {
  test::TempDir tmp;
  const fs::path dir = tmp.path() / "c";
  Snapshot before;
  {
    auto c = Collection::create("c", config_of(kConfig), test::engine_context(), dir);
    ASSERT_TRUE(c.ok()) << c.error().message;
    ASSERT_TRUE(
        (*c)->create_payload_index(*JsonPath::parse("group"), PayloadFieldType::keyword).ok());
    write_history(**c, 0, 600);
    ASSERT_TRUE((*c)->optimize_now().ok());
    write_history(**c, 600, 700); // in the appendable segment
    before = read_all(**c);
    ASSERT_GT((*c)->info().segments.size(), 1U);
  }
  // The files the layout promises.
  EXPECT_TRUE(fs::exists(dir / "config.vdb"));
  EXPECT_TRUE(fs::exists(dir / "state.vdb"));
  std::size_t graphs = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir / "segments")) {
    graphs += e.path().filename() == "graph-0.vdb" ? 1 : 0;
  }
  EXPECT_GE(graphs, 1U);
  auto c = reopen(dir);
  ASSERT_NE(c, nullptr);
  expect_same(before, read_all(*c));
  const CollectionInfo info = c->info();
  EXPECT_TRUE(info.segments.front().indexed); // the graph came back, not rebuilt
  EXPECT_EQ(info.payload_schema.at("group").type, PayloadFieldType::keyword);
  // It keeps working: writes after the restart, and another restart.
  write_history(*c, 700, 760);
  before = read_all(*c);
  c.reset();
  c = reopen(dir);
  ASSERT_NE(c, nullptr);
  expect_same(before, read_all(*c));
}

std::uint64_t payload_links(const Collection& c) {
  std::uint64_t links = 0;
  for (const SegmentInfo& s : c.info().segments) {
    links += s.payload_links;
  }
  return links;
}

TEST(Persistence, PayloadAwareLinksComeBackWithTheGraph) {
  test::TempDir tmp;
  const fs::path dir = tmp.path() / "c";
  // full_scan_threshold 1 KB (32 vectors of 8 floats): the groups are big enough to link.
  const char* config = R"({
    "vectors": {"size": 8, "distance": "Cosine"},
    "hnsw_config": {"m": 8, "ef_construct": 32, "full_scan_threshold": 1},
    "optimizers_config": {"indexing_threshold": 4, "default_segment_number": 2}})";
  SearchRequest r;
  r.vector = vec(3);
  r.limit = 5;
  const Filter f = filter_of(R"({"must": [{"key": "group", "match": {"value": "a"}}]})");
  r.filter = &f;
  std::uint64_t links = 0;
  std::vector<ScoredPoint> found;
  {
    auto c = Collection::create("c", config_of(config), test::engine_context(), dir);
    ASSERT_TRUE(c.ok()) << c.error().message;
    ASSERT_TRUE(
        (*c)->create_payload_index(*JsonPath::parse("group"), PayloadFieldType::keyword).ok());
    write_history(**c, 0, 600);
    ASSERT_TRUE((*c)->optimize_now().ok());
    links = payload_links(**c);
    found = *(*c)->search(r);
  }
  EXPECT_GT(links, 0U);
  ASSERT_EQ(found.size(), 5U);
  auto c = reopen(dir);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(payload_links(*c), links); // read from the graph files, not rebuilt
  const auto again = *c->search(r);
  ASSERT_EQ(again.size(), found.size());
  for (std::size_t i = 0; i < found.size(); ++i) {
    EXPECT_EQ(again[i].id, found[i].id);
  }
}

TEST(Persistence, PayloadIndexesAreReadFromTheSegmentFilesNotRebuilt) {
  test::TempDir tmp;
  const fs::path dir = tmp.path() / "c";
  const Filter range = filter_of(R"({"must": [{"key": "n", "range": {"gte": 100, "lt": 450}}]})");
  Snapshot before;
  std::uint64_t in_range = 0;
  {
    auto c = Collection::create("c", config_of(kConfig), test::engine_context(), dir);
    ASSERT_TRUE(c.ok());
    write_history(**c, 0, 600);
    ASSERT_TRUE((*c)->optimize_now().ok());
    ASSERT_TRUE((*c)->flush().ok()); // segment files without indexes ...
    // ... then indexes on data already there: the next checkpoint writes them.
    ASSERT_TRUE((*c)->create_payload_index(*JsonPath::parse("n"), PayloadFieldType::integer).ok());
    ASSERT_TRUE(
        (*c)->create_payload_index(*JsonPath::parse("group"), PayloadFieldType::keyword).ok());
    write_history(**c, 600, 700);
    before = read_all(**c);
    in_range = *(*c)->count(&range);
  }
  // Every points file is format version 2 (the one with indexes).
  std::size_t points_files = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir / "segments")) {
    if (e.path().filename().string().rfind("points-", 0) == 0) {
      std::ifstream in(e.path(), std::ios::binary);
      char header[12] = {};
      in.read(header, sizeof header);
      std::uint32_t version = 0;
      std::memcpy(&version, header + 8, 4);
      EXPECT_EQ(version, 2U) << e.path();
      ++points_files;
    }
  }
  EXPECT_GE(points_files, 2U);
  auto c = reopen(dir);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->info().storage.payload_indexes_built_at_start, 0U);
  expect_same(before, read_all(*c));
  EXPECT_EQ(*c->count(&range), in_range);
  EXPECT_GT(in_range, 0U);
  // A dropped index stays dropped, and nothing is built at the next start either.
  ASSERT_TRUE(c->delete_payload_index(*JsonPath::parse("group")).ok());
  c.reset();
  c = reopen(dir);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->info().payload_schema.count("group"), 0U);
  EXPECT_EQ(c->info().payload_schema.count("n"), 1U);
  EXPECT_EQ(c->info().storage.payload_indexes_built_at_start, 0U);
  EXPECT_EQ(*c->count(&range), in_range);
}

TEST(Persistence, WritesOnlyInTheLogAreReplayed) {
  test::TempDir tmp;
  const fs::path dir = tmp.path() / "c";
  Snapshot before;
  {
    auto c = Collection::create("c", config_of(kConfig), test::engine_context(), dir);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE((*c)->create_payload_index(*JsonPath::parse("n"), PayloadFieldType::integer).ok());
    write_history(**c, 0, 300);
    ASSERT_TRUE((*c)->optimize_now().ok());
    ASSERT_TRUE((*c)->flush().ok()); // a checkpoint ...
    write_history(**c, 300, 500);    // ... and writes after it, only in the log
    ASSERT_TRUE((*c)->delete_payload_index(*JsonPath::parse("n")).ok());
    ASSERT_TRUE(
        (*c)->create_payload_index(*JsonPath::parse("group"), PayloadFieldType::keyword).ok());
    ASSERT_TRUE((*c)->wait_durable((*c)->info().last_operation).ok());
    before = read_all(**c);
    // A crash: the files stay as they are now. Copy them before the destructor checkpoints.
    fs::copy(dir, tmp.path() / "crashed", fs::copy_options::recursive);
  }
  auto c = reopen(tmp.path() / "crashed");
  ASSERT_NE(c, nullptr);
  expect_same(before, read_all(*c));
  EXPECT_EQ(c->info().payload_schema.count("n"), 0U);
}

TEST(Persistence, BigSegmentsAndOnDiskVectorsLiveInMmapFiles) {
  test::TempDir tmp;
  const fs::path dir = tmp.path() / "c";
  Snapshot before;
  {
    auto c = Collection::create("c", config_of(R"({
      "vectors": {"size": 8, "distance": "Cosine"},
      "hnsw_config": {"m": 8, "ef_construct": 32},
      "optimizers_config": {"indexing_threshold": 4, "memmap_threshold": 2,
                            "default_segment_number": 2}})"),
                                test::engine_context(), dir);
    ASSERT_TRUE(c.ok());
    write_history(**c, 0, 600);
    ASSERT_TRUE((*c)->optimize_now().ok());
    before = read_all(**c);
  }
  std::size_t mmap_files = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir / "segments")) {
    mmap_files += e.path().extension() == ".mmap" ? 1 : 0;
  }
  EXPECT_GE(mmap_files, 1U);
  auto c = reopen(dir);
  ASSERT_NE(c, nullptr);
  expect_same(before, read_all(*c));
}

std::vector<fs::path> files_named(const fs::path& dir, const std::string& name) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(dir / "segments")) {
    if (e.path().filename() == name) {
      out.push_back(e.path());
    }
  }
  return out;
}

TEST(Persistence, OnDiskPayloadsAreReadFromTheSegmentsPayloadFiles) {
  for (const bool on_disk : {true, false}) {
    SCOPED_TRACE(on_disk ? "on_disk_payload: true" : "on_disk_payload: false");
    test::TempDir tmp;
    const fs::path dir = tmp.path() / "c";
    Snapshot before;
    {
      auto config = config_of(kConfig);
      config.on_disk_payload = on_disk;
      auto c = Collection::create("c", config, test::engine_context(), dir);
      ASSERT_TRUE(c.ok());
      write_history(**c, 0, 600);
      ASSERT_TRUE((*c)->optimize_now().ok());
      const CollectionInfo info = (*c)->info();
      ASSERT_GT(info.segments.size(), 1U);
      EXPECT_EQ(info.storage.mmap_payload_bytes > 0, on_disk);
      // Changes to points in sealed segments after their payloads went to the file.
      ASSERT_TRUE((*c)->set_payload(Json{{"tag", "late"}}, std::vector<PointId>{id(20)}).ok());
      ASSERT_TRUE((*c)->overwrite_payload(Json{{"group", "a"}}, std::vector<PointId>{id(31)}).ok());
      ASSERT_TRUE((*c)->clear_payload(std::vector<PointId>{id(42)}).ok());
      ASSERT_TRUE((*c)->delete_points(std::vector<PointId>{id(50)}).ok());
      ASSERT_TRUE((*c)->flush().ok());
      ASSERT_TRUE((*c)->set_payload(Json{{"tag", "after"}}, std::vector<PointId>{id(21)}).ok());
      before = read_all(**c); // "group" has no index here: the count reads every payload
      const auto p20 = std::find_if(before.points.begin(), before.points.end(),
                                    [](const Record& r) { return r.id == id(20); });
      ASSERT_NE(p20, before.points.end());
      EXPECT_EQ(p20->payload->at("tag"), "late");
    }
    EXPECT_EQ(files_named(dir, "payloads.vdb").empty(), !on_disk);
    auto c = reopen(dir);
    ASSERT_NE(c, nullptr);
    expect_same(before, read_all(*c));
    EXPECT_EQ(c->info().storage.mmap_payload_bytes > 0, on_disk);
  }
}

// hnsw_config.on_disk: the graph's links are read from its mapped file, after indexing and
// after a restart, and answer as they did; a collection in memory keeps them in RAM, and a link
// outside the graph in a file whose checksum is right is still refused.
TEST(Persistence, AnOnDiskGraphIsReadFromItsMappedFile) {
  // full_scan_threshold 1 KB: the groups get payload-aware links, mapped with the rest.
  const char* config = R"({
    "vectors": {"size": 8, "distance": "Cosine"},
    "hnsw_config": {"m": 8, "ef_construct": 32, "full_scan_threshold": 1, "on_disk": true},
    "optimizers_config": {"indexing_threshold": 4, "default_segment_number": 2}})";
  test::TempDir tmp;
  const fs::path dir = tmp.path() / "c";
  Snapshot before;
  MemoryInfo memory;
  {
    auto c = Collection::create("c", config_of(config), test::engine_context(), dir);
    ASSERT_TRUE(c.ok()) << c.error().message;
    ASSERT_TRUE(
        (*c)->create_payload_index(*JsonPath::parse("group"), PayloadFieldType::keyword).ok());
    write_history(**c, 0, 600);
    ASSERT_TRUE((*c)->optimize_now().ok());
    memory = (*c)->info().memory;
    before = read_all(**c);
    EXPECT_GT(payload_links(**c), 0U);
  }
  // Layer 0 alone is 17 links of 4 bytes a node; what stays in RAM is the node tables.
  EXPECT_GT(memory.graph_mmap, 600U * 17 * 4);
  EXPECT_LT(memory.graph_ram * 3, memory.graph_mmap);
  const auto graphs = files_named(dir, "graph-0.vdb");
  ASSERT_FALSE(graphs.empty());
  std::uint64_t file_bytes = 0;
  for (const fs::path& p : graphs) {
    file_bytes += fs::file_size(p);
  }
  EXPECT_GT(file_bytes, memory.graph_mmap);
  {
    auto c = reopen(dir);
    ASSERT_NE(c, nullptr);
    expect_same(before, read_all(*c));
    EXPECT_EQ(c->info().memory.graph_mmap, memory.graph_mmap);
    EXPECT_EQ(c->info().memory.graph_ram, memory.graph_ram);
  }

  // The same collection in memory: there is no file to map, and nothing is written, not even
  // below the working directory (segment folders are relative there: rebuilds made empty ones).
  {
    const fs::path cwd = fs::current_path();
    fs::create_directories(tmp.path() / "cwd");
    fs::current_path(tmp.path() / "cwd");
    auto c = Collection::create("m", config_of(config), test::engine_context());
    ASSERT_TRUE(c.ok());
    write_history(**c, 0, 600);
    ASSERT_TRUE((*c)->optimize_now().ok());
    const MemoryInfo in_ram = (*c)->info().memory;
    fs::current_path(cwd);
    EXPECT_EQ(in_ram.graph_mmap, 0U);
    EXPECT_GT(in_ram.graph_ram, 600U * 17 * 4);
    EXPECT_TRUE(fs::is_empty(tmp.path() / "cwd"));
  }

  // Node 0's first link pointed past the last node, under a checksum that matches.
  auto body = read_checked_file(graphs.front(), "VDBGRAPH", 2);
  ASSERT_TRUE(body.ok()) << body.error().message;
  std::uint64_t n = 0;
  std::memcpy(&n, body->data() + 16, sizeof n); // after m, ef_construct and the seed
  std::size_t level0 = 32 + 2 * n;              // after the header and the node tables
  level0 += (4 - level0 % 4) % 4;
  std::uint32_t count = 0;
  std::memcpy(&count, body->data() + level0, sizeof count);
  ASSERT_GT(count, 0U);
  const auto outside = static_cast<std::uint32_t>(n);
  std::memcpy(body->data() + level0 + 4, &outside, sizeof outside);
  ASSERT_TRUE(write_checked_file(graphs.front(), "VDBGRAPH", 2, *body).ok());
  auto c = Collection::open("c", dir, test::engine_context());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, Errc::corrupt);
  EXPECT_THAT(c.error().message, testing::HasSubstr("graph-0.vdb"));
  EXPECT_THAT(c.error().message, testing::HasSubstr("a link points outside the graph"));
}

TEST(Persistence, ACorruptPayloadFileIsRefused) {
  test::TempDir tmp;
  const fs::path dir = tmp.path() / "c";
  {
    auto c = Collection::create("c", config_of(kConfig), test::engine_context(), dir);
    ASSERT_TRUE(c.ok());
    write_history(**c, 0, 600);
    ASSERT_TRUE((*c)->optimize_now().ok());
  }
  const auto files = files_named(dir, "payloads.vdb");
  ASSERT_FALSE(files.empty());
  std::fstream f(files.front(), std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(fs::file_size(files.front()) - 3));
  f.put('\x7f');
  f.close();
  auto c = Collection::open("c", dir, test::engine_context());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, Errc::corrupt);
  EXPECT_THAT(c.error().message, testing::HasSubstr("payloads.vdb"));
}

TEST(Persistence, ANewerFormatIsRefusedWithAClearMessage) {
  test::TempDir tmp;
  const fs::path dir = tmp.path() / "c";
  {
    auto c = Collection::create("c", config_of(kConfig), test::engine_context(), dir);
    ASSERT_TRUE(c.ok());
  }
  // Rewrite the configuration as format version 99.
  std::ifstream in(dir / "config.vdb", std::ios::binary);
  std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  in.close();
  ASSERT_TRUE(write_checked_file(dir / "config.vdb", "VDBCONFG", 99, bytes.substr(32)).ok());
  auto c = Collection::open("c", dir, test::engine_context());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, Errc::unsupported);
  EXPECT_THAT(c.error().message, testing::HasSubstr("format version 99 is newer"));
}

TEST(Persistence, ACatalogDeletesAFolderAndLoadsTheRest) {
  test::TempDir tmp;
  {
    Catalog catalog(test::engine_context(), CollectionConfig{}, tmp.path());
    ASSERT_TRUE(catalog.open_existing().ok());
    const Json body = Json::parse(R"({"vectors": {"size": 8, "distance": "Dot"}})");
    ASSERT_TRUE(catalog.create_collection("keep", body).ok());
    ASSERT_TRUE(catalog.create_collection("drop", body).ok());
    ASSERT_TRUE((*catalog.get("keep"))->upsert({PointStruct{id(1), {{"", vec(1)}}, {}}}).ok());
    ASSERT_TRUE(catalog.delete_collection("drop").ok());
    EXPECT_FALSE(fs::exists(tmp.path() / "collections" / "drop"));
    EXPECT_EQ(catalog.create_collection("keep", body).code(), Errc::already_exists);
  }
  // A folder that is not a collection fails alone.
  fs::create_directories(tmp.path() / "collections" / "broken");
  Catalog catalog(test::engine_context(), CollectionConfig{}, tmp.path());
  auto failed = catalog.open_existing();
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(*failed, std::vector<std::string>{"broken"});
  EXPECT_EQ(catalog.list(), std::vector<std::string>{"keep"});
  EXPECT_EQ(*(*catalog.get("keep"))->count(nullptr), 1U);
  // Its name stays taken: creating it would overwrite what is there.
  const Json body = Json::parse(R"({"vectors": {"size": 8, "distance": "Dot"}})");
  EXPECT_EQ(catalog.create_collection("broken", body).code(), Errc::already_exists);
}

} // namespace
} // namespace vdb
