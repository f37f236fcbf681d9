// The loader refuses what it cannot trust (another ABI, a missing entry point, a failing init,
// incomplete tables, files that are not libraries) with a message naming the plugin and the
// reason, and picks the distance backend the CPU can run.
#include "core/plugin_host/record_store.hpp"
#include "support/temp_dir.hpp"
#include "support/test_plugins.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace vdb {
namespace {

using ::testing::HasSubstr;

void expect_refused(const std::string& flaw, const std::string& reason) {
  const std::string path = test::broken_plugin(flaw);
  auto plugin = Plugin::load(path);
  ASSERT_FALSE(plugin.ok()) << flaw << " was loaded";
  EXPECT_THAT(plugin.error().message, HasSubstr(path));
  EXPECT_THAT(plugin.error().message, HasSubstr(reason));
}

TEST(PluginLoader, RefusesAnotherAbiMajorVersion) {
  const std::string minor = std::to_string(VDB_PLUGIN_ABI_MINOR);
  expect_refused("bad_abi", "built for plugin ABI 99." + minor + ", this host implements " +
                                std::to_string(VDB_PLUGIN_ABI_MAJOR) + "." + minor);
}

TEST(PluginLoader, RefusesALibraryWithoutTheInitSymbol) {
  expect_refused("no_init", "does not export vdb_plugin_init");
}

TEST(PluginLoader, RefusesAPluginWhoseInitReportsAnError) {
  expect_refused("init_error", "its init failed: cannot reach the license server");
}

TEST(PluginLoader, RefusesATableSmallerThanTheAbiRequires) {
  expect_refused("short_table", "vdb_distance_api.struct_size is 8");
}

TEST(PluginLoader, RefusesATableWithANullFunction) {
  expect_refused("null_kernel", "(broken) refused: vdb_distance_api has a null kernel");
}

TEST(PluginLoader, LoadsAPluginFromANewerMinorAbiWithLongerTables) {
  auto plugin = Plugin::load(test::broken_plugin("future_minor"));
  ASSERT_TRUE(plugin.ok()) << plugin.error().message;
  EXPECT_EQ((*plugin)->name(), "future");
  EXPECT_EQ((*plugin)->abi_minor(), 7U);
  DistanceBackend backend(*plugin);
  const float x[2] = {1, 2};
  EXPECT_EQ(backend.dot(x, x, 2), 0.0F); // its dummy kernel, called through the 1.0 table
}

TEST(PluginLoader, AStoreFromAbi12WithoutReadManyIsReadThroughGet) {
  auto plugin = Plugin::load(std::string(VDB_TEST_PLUGIN_DIR) + "/libvdb_storage_old.so");
  ASSERT_TRUE(plugin.ok()) << plugin.error().message;
  RecordStoreOptions options;
  options.record_size = sizeof(std::uint64_t);
  auto store = RecordStore::open(*plugin, options);
  ASSERT_TRUE(store.ok()) << store.error().message;
  EXPECT_FALSE((*store)->reads_many()) << "the table ends before read_many: never read";
  const std::uint64_t values[] = {10, 11, 12, 13};
  ASSERT_TRUE((*store)->append(values, 4).ok());
  const std::uint64_t indices[] = {3, 0, 3};
  std::uint64_t got[3] = {};
  ASSERT_TRUE((*store)->read_many(indices, 3, got).ok());
  EXPECT_EQ(got[0], 13U);
  EXPECT_EQ(got[1], 10U);
  EXPECT_EQ(got[2], 13U);
  const std::uint64_t past[] = {4};
  const Status status = (*store)->read_many(past, 1, got);
  EXPECT_EQ(status.code(), Errc::out_of_range);
  EXPECT_THAT(status.error().message,
              HasSubstr("storage old: get: old store: record past the end"));
}

TEST(PluginLoader, LoadsAPluginFromAbi10AndGivesItTheHostsInt8Kernels) {
  auto plugin = Plugin::load(test::broken_plugin("old_minor"));
  ASSERT_TRUE(plugin.ok()) << plugin.error().message;
  EXPECT_EQ((*plugin)->abi_minor(), 0U);
  DistanceBackend backend(*plugin);
  EXPECT_FALSE(backend.has_int8_kernels()); // past its struct_size: never read, never called
  const std::uint8_t a[5] = {1, 2, 3, 127, 0};
  const std::uint8_t b[5] = {4, 5, 6, 127, 9};
  EXPECT_EQ(backend.int8_dot(a, b, 5), 4 + 10 + 18 + 127 * 127);
  const std::uint8_t* codes[2] = {a, b};
  std::int32_t out[2] = {};
  ASSERT_TRUE(backend.int8_dot_gather(a, codes, 2, 5, out).ok());
  EXPECT_EQ(out[0], 1 + 4 + 9 + 127 * 127);
  EXPECT_EQ(out[1], 4 + 10 + 18 + 127 * 127);
  EXPECT_FALSE(backend.has_code_kernels()); // ABI 1.2's: the host's loop again
  const std::int8_t q[5] = {-1, 2, -128, 127, 0};
  const std::uint8_t c[5] = {255, 5, 255, 255, 9};
  EXPECT_EQ(backend.code_dot(q, c, 5), -255 + 10 - 128 * 255 + 127 * 255);
}

TEST(PluginLoader, RefusesAFileThatIsNotALibrary) {
  test::TempDir dir;
  const std::string path = dir.file("libvdb_distance_garbage.so");
  std::ofstream(path) << "this is not an ELF file";
  auto plugin = Plugin::load(path);
  ASSERT_FALSE(plugin.ok());
  EXPECT_THAT(plugin.error().message, HasSubstr("cannot load " + path));
}

TEST(PluginLoader, LoadsTheCExamplePluginAndDescribesIt) {
  auto plugin = Plugin::load(VDB_EXAMPLE_PLUGIN);
  ASSERT_TRUE(plugin.ok()) << plugin.error().message;
  EXPECT_EQ((*plugin)->name(), "example");
  EXPECT_EQ((*plugin)->kind(), VDB_PLUGIN_DISTANCE);
  EXPECT_EQ((*plugin)->version(), "1.0.0");
  EXPECT_NE((*plugin)->distance(), nullptr);
  EXPECT_EQ((*plugin)->storage(), nullptr);
}

TEST(PluginRegistry, DiscoveryLoadsTheGoodPluginsAndRecordsTheRefusedOnes) {
  test::TempDir dir;
  namespace fs = std::filesystem;
  fs::copy_file(std::string(VDB_PLUGIN_DIR) + "/libvdb_distance_scalar.so",
                dir.file("libvdb_distance_scalar.so"));
  fs::copy_file(test::broken_plugin("bad_abi"), dir.file("libvdb_distance_broken_bad_abi.so"));
  std::ofstream(dir.file("README.txt")) << "not a plugin, ignored";
  PluginRegistry registry;
  ASSERT_TRUE(registry.discover(dir.path().string(), {}).ok());
  EXPECT_NE(registry.find(VDB_PLUGIN_DISTANCE, "scalar"), nullptr);
  ASSERT_EQ(registry.refused().size(), 1U);
  EXPECT_THAT(registry.refused()[0].reason, HasSubstr("built for plugin ABI 99"));
}

TEST(PluginRegistry, AnExplicitlyListedPluginThatFailsIsAnError) {
  PluginRegistry registry;
  const Status s = registry.discover(VDB_PLUGIN_DIR, {test::broken_plugin("init_error")});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("plugins.load: plugin "));
  EXPECT_THAT(s.message(), HasSubstr("cannot reach the license server"));
}

TEST(PluginRegistry, ExplicitStemsResolveInThePluginFolder) {
  PluginRegistry registry;
  ASSERT_TRUE(registry.discover(VDB_TEST_PLUGIN_DIR "/../examples", {"distance_example"}).ok());
  EXPECT_NE(registry.find(VDB_PLUGIN_DISTANCE, "example"), nullptr);
}

TEST(PluginRegistry, RefusesASecondPluginWithTheSameKindAndName) {
  PluginRegistry registry;
  const std::string scalar = std::string(VDB_PLUGIN_DIR) + "/libvdb_distance_scalar.so";
  ASSERT_TRUE(registry.load(scalar).ok());
  test::TempDir dir;
  std::filesystem::copy_file(scalar, dir.file("libvdb_distance_scalar.so"));
  const Status again = registry.load(dir.file("libvdb_distance_scalar.so"));
  EXPECT_EQ(again.code(), Errc::already_exists);
  EXPECT_THAT(again.message(), HasSubstr("a distance plugin named scalar is already loaded"));
}

TEST(PluginRegistry, SkipsBackendsTheCpuLacksBeforeLoadingThem) {
  PluginRegistry registry(CpuFeatures{}); // a CPU with no SIMD extension at all
  ASSERT_TRUE(registry.discover(VDB_PLUGIN_DIR, {}).ok());
  EXPECT_EQ(registry.find(VDB_PLUGIN_DISTANCE, "avx2"), nullptr);
  EXPECT_EQ(registry.find(VDB_PLUGIN_DISTANCE, "avx512"), nullptr);
  auto chosen = registry.choose_distance("auto");
  ASSERT_TRUE(chosen.ok()) << chosen.error().message;
  EXPECT_EQ(chosen->name(), "scalar");
  auto avx2 = registry.choose_distance("avx2");
  ASSERT_FALSE(avx2.ok());
  EXPECT_EQ(avx2.error().code, Errc::unsupported);
  EXPECT_THAT(avx2.error().message, HasSubstr("this CPU lacks avx2, fma"));
#if defined(__x86_64__)
  ASSERT_FALSE(registry.skipped().empty());
  EXPECT_THAT(registry.skipped()[0].reason, HasSubstr("needs CPU features this machine lacks"));
#endif
}

TEST(PluginRegistry, AutoChoosesTheBestBackendThisCpuSupports) {
  const PluginRegistry& registry = test::built_plugins();
  auto chosen = registry.choose_distance("auto");
  ASSERT_TRUE(chosen.ok()) << chosen.error().message;
  const CpuFeatures cpu = CpuFeatures::detect();
  std::string expected = "scalar";
  for (const std::string& name : builtin_distance_preference()) {
    if (missing_features(name, cpu).empty() && registry.find(VDB_PLUGIN_DISTANCE, name)) {
      expected = name;
      break;
    }
  }
  EXPECT_EQ(chosen->name(), expected);
}

TEST(PluginRegistry, ChoosingAnUnknownBackendListsTheLoadedOnes) {
  auto chosen = test::built_plugins().choose_distance("quantum");
  ASSERT_FALSE(chosen.ok());
  EXPECT_EQ(chosen.error().code, Errc::not_found);
  EXPECT_THAT(chosen.error().message, HasSubstr("no such plugin is loaded (loaded: "));
  EXPECT_THAT(chosen.error().message, HasSubstr("scalar"));
}

TEST(PluginRegistry, OpeningAStoreWithAnUnknownPluginIsNotFound) {
  auto store = test::built_plugins().open_store("tape", {"", 4, 0, true});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, Errc::not_found);
}

} // namespace
} // namespace vdb
