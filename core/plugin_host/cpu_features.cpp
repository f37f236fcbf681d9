#include "core/plugin_host/cpu_features.hpp"

#if defined(__aarch64__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace vdb {

CpuFeatures CpuFeatures::detect() noexcept {
  CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  f.avx2 = __builtin_cpu_supports("avx2") != 0;
  f.fma = __builtin_cpu_supports("fma") != 0;
  f.avx512f = __builtin_cpu_supports("avx512f") != 0;
  f.avx512bw = __builtin_cpu_supports("avx512bw") != 0;
  f.avx512vl = __builtin_cpu_supports("avx512vl") != 0;
  f.avx512dq = __builtin_cpu_supports("avx512dq") != 0;
  f.avx512vnni = __builtin_cpu_supports("avx512vnni") != 0;
#elif defined(__aarch64__)
  f.neon = (getauxval(AT_HWCAP) & HWCAP_ASIMD) != 0;
#endif
  return f;
}

std::vector<std::string> required_features(std::string_view backend) {
  if (backend == "avx2") {
    return {"avx2", "fma"};
  }
  if (backend == "avx512") {
    return {"avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512vnni"};
  }
  if (backend == "neon") {
    return {"neon"};
  }
  return {};
}

std::vector<std::string> missing_features(std::string_view backend, const CpuFeatures& cpu) {
  const std::pair<const char*, bool> table[] = {{"avx2", cpu.avx2},
                                                {"fma", cpu.fma},
                                                {"avx512f", cpu.avx512f},
                                                {"avx512bw", cpu.avx512bw},
                                                {"avx512vl", cpu.avx512vl},
                                                {"avx512dq", cpu.avx512dq},
                                                {"avx512vnni", cpu.avx512vnni},
                                                {"neon", cpu.neon}};
  std::vector<std::string> missing;
  for (const std::string& need : required_features(backend)) {
    for (const auto& [name, present] : table) {
      if (need == name && !present) {
        missing.push_back(need);
      }
    }
  }
  return missing;
}

const std::vector<std::string>& builtin_distance_preference() {
  static const std::vector<std::string> kOrder = {"avx512", "avx2", "neon", "scalar"};
  return kOrder;
}

} // namespace vdb
