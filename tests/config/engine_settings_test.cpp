// The engine's limits and new collections' defaults come from the settings.
#include "config/engine_settings.hpp"
#include "core/actors/database.hpp"
#include "support/engine.hpp"
#include "support/test_plugins.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace vdb {
namespace {

using ::testing::HasSubstr;

TEST(EngineSettings, NewCollectionsStartFromTheStorageSettings) {
  auto settings =
      load_settings({"",
                     {{"VDB__STORAGE__HNSW_INDEX__M", "32"}},
                     {"storage.quantization.kind=scalar", "limits.max_search_limit=50"}});
  ASSERT_TRUE(settings.ok()) << settings.error().message;
  const EngineContext base = test::engine_context();
  Catalog catalog(EngineContext{base.distance, base.vector_storage, engine_limits(*settings)},
                  collection_defaults(*settings));
  ASSERT_TRUE(catalog
                  .create_collection("c", Json::parse(R"({"vectors": {"size": 2, "distance": "Dot"},
                                                         "optimizers_config": {"flush_interval_sec": 1}})"))
                  .ok());
  const Json config = to_json((*catalog.get("c"))->info().config);
  EXPECT_EQ(config["hnsw_config"]["m"], 32);                            // environment
  EXPECT_EQ(config["hnsw_config"]["ef_construct"], 100);                // defaults.yaml
  EXPECT_EQ(config["optimizers_config"]["indexing_threshold"], 10000);  // defaults.yaml
  EXPECT_EQ(config["optimizers_config"]["flush_interval_sec"], 1);      // the request
  EXPECT_EQ(config["optimizers_config"]["memmap_threshold"], Json());   // 0 in YAML: unset
  EXPECT_EQ(config["quantization_config"]["scalar"]["quantile"], 0.99); // flag turned it on
  SearchRequest s;
  s.vector = {1, 0};
  s.limit = 51;
  EXPECT_THAT((*catalog.get("c"))->search(s).error().message, HasSubstr("limit: must be in 1..50"));
}

TEST(EngineSettings, TheServerTakesAsyncScorerAndTheMmapStoreFromTheSettings) {
  for (const bool on : {false, true}) {
    auto settings = load_settings(
        {"", {}, {std::string("storage.performance.async_scorer=") + (on ? "true" : "false")}});
    ASSERT_TRUE(settings.ok()) << settings.error().message;
    auto options = service_options(*settings, test::built_plugins());
    ASSERT_TRUE(options.ok()) << options.error().message;
    EXPECT_EQ(options->context.async_scorer, on);
    ASSERT_NE(options->context.mmap_storage, nullptr) << "on-disk segments need the mmap plugin";
    EXPECT_EQ(options->context.mmap_storage->name(), "mmap");
  }
}

} // namespace
} // namespace vdb
