// Engine contexts for tests: the built plugins, a chosen distance backend, the RAM store.
#pragma once

#include "core/engine/catalog.hpp"

#include <functional>
#include <random>
#include <string_view>
#include <vector>

namespace vdb::test {

/// A context whose distance backend is `distance` ("auto" picks the best for this CPU) and whose
/// vectors live in the `ram` storage plugin (`mmap` for segments placed in files).
EngineContext engine_context(std::string_view distance = "auto", EngineLimits limits = {});

/// A filter from its JSON text; the test fails when it does not parse.
Filter filter_of(std::string_view json);

/// `dim` values drawn from a standard normal distribution.
std::vector<float> gaussian_vector(std::mt19937& gen, std::size_t dim);

/// Recall@k of `c`'s planned search for `s` against its exact search for the same request
/// (1.0 when the exact one finds nothing); `each` is called with every point the planned search
/// returned. A failed search fails the test and counts as 0.
double recall_of(const Collection& c, SearchRequest s,
                 const std::function<void(const ScoredPoint&)>& each = {});

} // namespace vdb::test
