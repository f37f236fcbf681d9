// The configuration layers (defaults -> file -> environment -> flags) and the errors a user sees
// for a wrong key or value: each names the key path and where the value came from.
#include "config/settings.hpp"
#include "support/temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

namespace vdb {
namespace {

using ::testing::HasSubstr;

class SettingsTest : public ::testing::Test {
protected:
  std::string write_file(const std::string& yaml) {
    const std::string path = dir_.file("config.yaml");
    std::ofstream(path) << yaml;
    return path;
  }
  Error load_error(const SettingsSources& sources) {
    auto settings = load_settings(sources);
    EXPECT_FALSE(settings.ok()) << "the settings were accepted";
    return settings.ok() ? Error{} : settings.error();
  }
  test::TempDir dir_;
};

TEST_F(SettingsTest, DefaultsDecodeToTheDocumentedValues) {
  auto s = load_settings({});
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->service.host, "127.0.0.1");
  EXPECT_EQ(s->service.rpc_port, 6334);
  EXPECT_EQ(s->storage.storage_path, "./storage");
  EXPECT_EQ(s->storage.hnsw_index.m, 16U);
  EXPECT_EQ(s->storage.hnsw_index.ef_construct, 100U);
  EXPECT_EQ(s->storage.optimizers.indexing_threshold_kb, 10000U);
  EXPECT_DOUBLE_EQ(s->storage.optimizers.deleted_threshold, 0.2);
  EXPECT_EQ(s->storage.quantization.kind, QuantizationSettings::Kind::none);
  EXPECT_DOUBLE_EQ(s->storage.quantization.scalar.quantile, 0.99);
  EXPECT_EQ(s->plugins.distance_backend, "auto");
  EXPECT_TRUE(s->plugins.load.empty());
  EXPECT_EQ(s->logging.level, log::Level::info);
  EXPECT_EQ(s->limits.max_filter_depth, 32U);
  EXPECT_FALSE(s->storage.performance.async_scorer);
}

TEST_F(SettingsTest, TheShippedDefaultsFileIsAValidConfigFile) {
  auto s = load_settings({std::string(VDB_SOURCE_DIR) + "/config/defaults.yaml", {}, {}});
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->service.rpc_port, 6334);
}

TEST_F(SettingsTest, LaterLayersWin) {
  const std::string file = write_file(R"(
service:
  rpc_port: 7000
  host: 0.0.0.0
storage:
  hnsw_index: {m: 32}
)");
  SettingsSources sources{file,
                          {{"VDB__SERVICE__RPC_PORT", "7001"},
                           {"VDB__PLUGINS__DISTANCE_BACKEND", "scalar"},
                           {"PATH", "/usr/bin"}},
                          {"service.rpc_port=7002"}};
  auto s = load_settings(sources);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->service.rpc_port, 7002);                // flag over environment over file
  EXPECT_EQ(s->service.host, "0.0.0.0");               // file over defaults
  EXPECT_EQ(s->storage.hnsw_index.m, 32U);             // file, nested
  EXPECT_EQ(s->storage.hnsw_index.ef_construct, 100U); // sibling keeps its default
  EXPECT_EQ(s->plugins.distance_backend, "scalar");    // environment
}

TEST_F(SettingsTest, EnvironmentSetsNestedKeysAndLists) {
  auto s = load_settings({"",
                          {{"VDB__STORAGE__OPTIMIZERS__INDEXING_THRESHOLD_KB", "0"},
                           {"VDB__PLUGINS__LOAD", "[distance_example, /opt/libvdb_storage_x.so]"},
                           {"VDB__STORAGE__HNSW_INDEX__ON_DISK", "true"},
                           {"VDB__STORAGE__PERFORMANCE__ASYNC_SCORER", "true"}},
                          {}});
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_TRUE(s->storage.performance.async_scorer);
  EXPECT_EQ(s->storage.optimizers.indexing_threshold_kb, 0U);
  EXPECT_TRUE(s->storage.hnsw_index.on_disk);
  EXPECT_EQ(s->plugins.load,
            (std::vector<std::string>{"distance_example", "/opt/libvdb_storage_x.so"}));
}

TEST_F(SettingsTest, AnUnknownKeyInTheFileIsAnErrorNamingItsPath) {
  const Error e = load_error({write_file("storage:\n  hnsw_index:\n    mm: 3\n"), {}, {}});
  EXPECT_EQ(e.code, Errc::invalid_argument);
  EXPECT_THAT(e.message, HasSubstr("unknown config key 'storage.hnsw_index.mm'"));
  EXPECT_THAT(e.message, HasSubstr("config.yaml"));
}

TEST_F(SettingsTest, AnUnknownEnvironmentKeyNamesTheVariable) {
  const Error e = load_error({"", {{"VDB__SERVICE__NOPE", "1"}}, {}});
  EXPECT_THAT(e.message, HasSubstr("unknown config key 'service.nope'"));
  EXPECT_THAT(e.message, HasSubstr("environment VDB__SERVICE__NOPE"));
}

TEST_F(SettingsTest, AWrongTypeNamesThePathAndTheValue) {
  const Error e = load_error({write_file("service:\n  rpc_port: abc\n"), {}, {}});
  EXPECT_THAT(e.message, HasSubstr("config key 'service.rpc_port'"));
  EXPECT_THAT(e.message, HasSubstr("expected an integer, got 'abc'"));
}

TEST_F(SettingsTest, AFractionIsNotAnInteger) {
  const Error e = load_error({"", {}, {"storage.hnsw_index.m=1.5"}});
  EXPECT_THAT(e.message, HasSubstr("'storage.hnsw_index.m' (command line): expected an integer"));
}

TEST_F(SettingsTest, AValueOutOfRangeNamesTheBounds) {
  const Error e = load_error({"", {{"VDB__SERVICE__RPC_PORT", "70000"}}, {}});
  EXPECT_THAT(e.message, HasSubstr("'service.rpc_port' (environment VDB__SERVICE__RPC_PORT): "
                                   "must be between 0 and 65535, got '70000'"));
  const Error q = load_error({"", {}, {"storage.quantization.scalar.quantile=0.2"}});
  EXPECT_THAT(q.message, HasSubstr("must be between 0.5 and 1"));
}

TEST_F(SettingsTest, AScalarWhereASectionBelongsIsAnError) {
  const Error e = load_error({write_file("service: 5\n"), {}, {}});
  EXPECT_THAT(e.message, HasSubstr("config key 'service'"));
  EXPECT_THAT(e.message, HasSubstr("expected a mapping, got '5'"));
}

TEST_F(SettingsTest, EnumeratedValuesAreChecked) {
  EXPECT_THAT(
      load_error({"", {}, {"logging.level=loud"}}).message,
      HasSubstr("'logging.level' (command line): expected debug, info, warn, error or off"));
  EXPECT_THAT(load_error({"", {}, {"storage.quantization.kind=binary"}}).message,
              HasSubstr("expected none or scalar, got 'binary'"));
  EXPECT_THAT(load_error({"", {}, {"plugins.distance_backend=../evil"}}).message,
              HasSubstr("'plugins.distance_backend'"));
}

TEST_F(SettingsTest, TheTwoApiKeysMustDiffer) {
  const Error e =
      load_error({"", {}, {"service.api_key=secret", "service.read_only_api_key=secret"}});
  EXPECT_THAT(e.message, HasSubstr("'service.read_only_api_key'"));
}

TEST_F(SettingsTest, AMissingFileAndBrokenYamlAreErrors) {
  EXPECT_EQ(load_error({dir_.file("absent.yaml"), {}, {}}).code, Errc::not_found);
  const Error e = load_error({write_file("service: [unclosed\n"), {}, {}});
  EXPECT_THAT(e.message, HasSubstr("config file "));
}

TEST_F(SettingsTest, AFlagWithoutAValueIsAnError) {
  EXPECT_THAT(load_error({"", {}, {"service.rpc_port"}}).message,
              HasSubstr("expected --section.key=value"));
}

TEST_F(SettingsTest, AnEmptyFileChangesNothing) {
  auto s = load_settings({write_file(""), {}, {}});
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->service.rpc_port, 6334);
}

} // namespace
} // namespace vdb
