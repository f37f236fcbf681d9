// The vdb command-line client, run in-process against an embedded database: every command,
// the three import formats, tables and --json, and the exit codes.
#include "core/actors/database.hpp"
#include "support/engine.hpp"
#include "support/temp_dir.hpp"
#include "tools/vdb/cli.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace vdb {
namespace {

using ::testing::HasSubstr;

class VdbCli : public ::testing::Test {
protected:
  void SetUp() override {
    ServiceOptions options(test::engine_context());
    options.threads = 2;
    db_ = std::move(Database::open(std::move(options)).value());
  }

  /// Runs `vdb ARGS` and keeps what it printed.
  int vdb(std::vector<std::string> args) {
    out_.str("");
    err_.str("");
    auto options = cli::parse_options(args);
    EXPECT_TRUE(options.ok());
    options->progress = false;
    return cli::run(*db_, *options, args, out_, err_);
  }
  std::string out() const { return out_.str(); }
  std::string err() const { return err_.str(); }

  std::string write(const std::string& name, const std::string& text) {
    const std::string path = dir_.file(name);
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  test::TempDir dir_;
  std::unique_ptr<Database> db_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(VdbCli, CollectionsImportSearchScrollCountAndIndexes) {
  ASSERT_EQ(vdb({"collections", "create", "docs", "--size", "2", "--distance", "Euclid"}), 0)
      << err();
  ASSERT_EQ(vdb({"--json", "collections", "list"}), 0);
  EXPECT_EQ(Json::parse(out()), Json::array({"docs"}));

  const std::string jsonl =
      write("p.jsonl", R"({"id": 1, "vector": [0, 0], "payload": {"city": "Oslo"}}
{"id": 2, "vector": [1, 0], "payload": {"city": "Rome"}}

{"id": 3, "vector": [5, 5], "payload": {"city": "Oslo"}}
)");
  ASSERT_EQ(vdb({"import", "docs", jsonl}), 0) << err();
  EXPECT_THAT(out(), HasSubstr("imported 3 points"));
  const std::string csv =
      write("p.csv", "id,vector,city,stars\n4,9 9,\"Paris, FR\",5\n5;6;7,1 1,x,1\n");
  EXPECT_EQ(vdb({"import", "docs", csv}), 2) << out(); // "5;6;7" is not an id
  EXPECT_THAT(err(), HasSubstr("line 3.id"));
  write("q.csv", "id,vector,city,stars\n4,9 9,\"Paris, FR\",5\n");
  ASSERT_EQ(vdb({"import", "docs", dir_.file("q.csv")}), 0) << err();
  {
    std::ofstream f(dir_.file("v.fvecs"), std::ios::binary);
    for (int i = 0; i < 3; ++i) {
      const std::int32_t dim = 2;
      const float v[2] = {100.0F + static_cast<float>(i), 0};
      f.write(reinterpret_cast<const char*>(&dim), 4);
      f.write(reinterpret_cast<const char*>(v), 8);
    }
  }
  ASSERT_EQ(vdb({"import", "docs", dir_.file("v.fvecs"), "--start-id", "10"}), 0) << err();
  ASSERT_EQ(vdb({"--json", "count", "docs"}), 0);
  EXPECT_EQ(Json::parse(out())["count"], 7);

  ASSERT_EQ(
      vdb({"--json", "search", "docs", "--vector", "0.9,0.1", "--limit", "2", "--with-payload"}), 0)
      << err();
  const Json hits = Json::parse(out());
  ASSERT_EQ(hits.size(), 2U);
  EXPECT_EQ(hits[0]["id"], 2);
  EXPECT_EQ(hits[0]["payload"]["city"], "Rome");
  ASSERT_EQ(vdb({"search", "docs", "--vector", "0,0", "--filter",
                 R"({"must": {"key": "city", "match": {"value": "Oslo"}}})"}),
            0);
  EXPECT_THAT(out(), HasSubstr("score"));
  EXPECT_THAT(out(), HasSubstr("\n1 "));

  // The quantization parameters reach the server: it checks the oversampling's range.
  ASSERT_EQ(vdb({"--json", "search", "docs", "--vector", "0.9,0.1", "--limit", "2",
                 "--oversampling", "2", "--rescore", "--ignore-quantization"}),
            0)
      << err();
  EXPECT_EQ(Json::parse(out())[0]["id"], 2);
  EXPECT_EQ(vdb({"search", "docs", "--vector", "0.9,0.1", "--oversampling", "0.5"}), 1);
  EXPECT_THAT(err(), HasSubstr("oversampling"));
  EXPECT_EQ(vdb({"search", "docs", "--vector", "0.9,0.1", "--oversampling", "x"}), 2);

  ASSERT_EQ(vdb({"index", "create", "docs", "city", "keyword"}), 0) << err();
  ASSERT_EQ(vdb({"count", "docs", "--filter",
                 R"({"must": {"key": "city", "match": {"value": "Oslo"}}})"}),
            0);
  EXPECT_EQ(out(), "2\n");
  ASSERT_EQ(vdb({"--json", "scroll", "docs", "--limit", "2"}), 0);
  EXPECT_EQ(Json::parse(out())["next_page_offset"], 3);
  ASSERT_EQ(vdb({"retrieve", "docs", "4"}), 0);
  EXPECT_THAT(out(), HasSubstr("Paris, FR"));
  ASSERT_EQ(vdb({"delete", "docs", "10", "11"}), 0);
  ASSERT_EQ(vdb({"count", "docs"}), 0);
  EXPECT_EQ(out(), "5\n");
  ASSERT_EQ(vdb({"index", "drop", "docs", "city"}), 0);
  ASSERT_EQ(vdb({"collections", "describe", "docs"}), 0);
  EXPECT_THAT(out(), HasSubstr("\"points_count\": 5"));
  ASSERT_EQ(vdb({"collections", "delete", "docs"}), 0);
}

TEST_F(VdbCli, MistakesExitWithTwoAndRefusalsWithOne) {
  EXPECT_EQ(vdb({}), 2);
  EXPECT_EQ(vdb({"frobnicate"}), 2);
  EXPECT_EQ(vdb({"search", "docs"}), 2);
  EXPECT_THAT(err(), HasSubstr("--vector"));
  EXPECT_EQ(vdb({"search", "docs", "--vector", "1,x"}), 2);
  EXPECT_EQ(vdb({"count", "docs", "--filter", "{"}), 2);
  EXPECT_EQ(vdb({"count", "nope"}), 1);
  EXPECT_THAT(err(), HasSubstr("nope"));
  EXPECT_EQ(vdb({"--json", "collections", "describe", "nope"}), 1);
  EXPECT_EQ(Json::parse(err())["error"], "not found");
  EXPECT_EQ(vdb({"snapshot", "create", "docs"}), 1);
  EXPECT_EQ(vdb({"snapshot", "frobnicate", "docs"}), 2);
}

TEST_F(VdbCli, SnapshotsCreateListRecoverAndDelete) {
  ServiceOptions options(test::engine_context());
  options.threads = 2;
  options.storage = dir_.path() / "data";
  db_ = std::move(Database::open(std::move(options)).value());
  ASSERT_EQ(vdb({"collections", "create", "docs", "--size", "2"}), 0) << err();
  const std::string jsonl = write("p.jsonl", R"({"id": 1, "vector": [0, 1]}
{"id": 2, "vector": [1, 0]}
)");
  ASSERT_EQ(vdb({"import", "docs", jsonl}), 0) << err();
  ASSERT_EQ(vdb({"--json", "snapshot", "create", "docs"}), 0) << err();
  const std::string name = Json::parse(out())["name"];
  EXPECT_THAT(name, ::testing::StartsWith("docs-"));
  ASSERT_EQ(vdb({"--json", "snapshot", "list", "docs"}), 0);
  EXPECT_EQ(Json::parse(out())[0]["name"], name);
  ASSERT_EQ(vdb({"delete", "docs", "1"}), 0);
  ASSERT_EQ(vdb({"snapshot", "recover", "docs", name}), 0) << err();
  ASSERT_EQ(vdb({"--json", "count", "docs"}), 0);
  EXPECT_THAT(out(), HasSubstr("2"));
  // Into another collection, by "COLLECTION/NAME".
  ASSERT_EQ(vdb({"snapshot", "recover", "copy", "docs/" + name}), 0) << err();
  ASSERT_EQ(vdb({"--json", "collections", "list"}), 0);
  EXPECT_EQ(Json::parse(out()), Json::array({"copy", "docs"}));
  EXPECT_EQ(vdb({"snapshot", "recover", "docs", "../../etc/passwd"}), 1);
  EXPECT_THAT(err(), HasSubstr("not a snapshot name"));
  ASSERT_EQ(vdb({"snapshot", "delete", "docs", name}), 0);
  ASSERT_EQ(vdb({"--json", "snapshot", "list", "docs"}), 0);
  EXPECT_EQ(Json::parse(out()), Json::array());
}

} // namespace
} // namespace vdb
