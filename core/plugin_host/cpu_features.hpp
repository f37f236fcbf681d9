// What the CPU this process runs on supports, detected once, so the host can decide which
// distance plugin may be loaded before it calls dlopen on code compiled for another ISA.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vdb {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512dq = false;
  bool avx512vnni = false;
  bool neon = false;

  /// The features of this machine (checked with the OS, so disabled AVX state counts as absent).
  static CpuFeatures detect() noexcept;
};

/// The CPU features a built-in distance backend needs ("avx2" needs {"avx2", "fma"}); empty for
/// "scalar" and for names that are not built in.
std::vector<std::string> required_features(std::string_view backend);

/// The features of `required_features(backend)` that `cpu` lacks; empty when it can run.
std::vector<std::string> missing_features(std::string_view backend, const CpuFeatures& cpu);

/// The built-in distance backends, best first; "auto" picks the first one that is loaded.
const std::vector<std::string>& builtin_distance_preference();

} // namespace vdb
