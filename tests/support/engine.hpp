// Engine contexts for tests: the built plugins, a chosen distance backend, the RAM store.
#pragma once

#include "core/engine/catalog.hpp"

#include <string_view>

namespace vdb::test {

/// A context whose distance backend is `distance` ("auto" picks the best for this CPU) and whose
/// vectors live in the `ram` storage plugin (`mmap` for segments placed in files).
EngineContext engine_context(std::string_view distance = "auto", EngineLimits limits = {});

/// A filter from its JSON text; the test fails when it does not parse.
Filter filter_of(std::string_view json);

} // namespace vdb::test
