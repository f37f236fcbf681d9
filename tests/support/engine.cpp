#include "support/engine.hpp"

#include "support/test_plugins.hpp"

#include <gtest/gtest.h>

#include <set>

namespace vdb::test {

EngineContext engine_context(std::string_view distance, EngineLimits limits) {
  const PluginRegistry& registry = built_plugins();
  auto backend = registry.choose_distance(distance);
  if (!backend) {
    ADD_FAILURE() << backend.error().message;
    std::abort();
  }
  EngineContext context{*backend, registry.find(VDB_PLUGIN_STORAGE, "ram"), limits};
  context.mmap_storage = registry.find(VDB_PLUGIN_STORAGE, "mmap");
  return context;
}

Filter filter_of(std::string_view json) {
  auto filter = parse_filter(Json::parse(json));
  if (!filter) {
    ADD_FAILURE() << filter.error().message;
    return {};
  }
  return std::move(*filter);
}

std::vector<float> gaussian_vector(std::mt19937& gen, std::size_t dim) {
  std::normal_distribution<float> normal;
  std::vector<float> v(dim);
  for (float& x : v) {
    x = normal(gen);
  }
  return v;
}

double recall_of(const Collection& c, SearchRequest s,
                 const std::function<void(const ScoredPoint&)>& each) {
  auto approximate = c.search(s);
  s.exact = true;
  auto exact = c.search(s);
  EXPECT_TRUE(approximate.ok() && exact.ok());
  if (!approximate.ok() || !exact.ok()) {
    return 0;
  }
  std::set<PointId> want;
  for (const ScoredPoint& p : *exact) {
    want.insert(p.id);
  }
  std::size_t hit = 0;
  for (const ScoredPoint& p : *approximate) {
    hit += want.count(p.id);
    if (each) {
      each(p);
    }
  }
  return want.empty() ? 1.0 : static_cast<double>(hit) / static_cast<double>(want.size());
}

} // namespace vdb::test
