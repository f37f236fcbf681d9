// The distance kernels of the backend chosen at start-up, as cheap C++ calls. Callers validate
// their arguments once per request (non-null vectors, dim >= 1); the per-distance calls here
// then skip status checks, since a kernel fails only on such arguments.
#pragma once

#include "core/common/error.hpp"
#include "core/plugin_host/plugin.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace vdb {

class DistanceBackend {
public:
  /// `plugin` must be a distance plugin (Plugin::load checked its table).
  explicit DistanceBackend(std::shared_ptr<const Plugin> plugin);

  const std::string& name() const noexcept { return plugin_->name(); }
  const Plugin& plugin() const noexcept { return *plugin_; }

  float dot(const float* a, const float* b, std::size_t dim) const noexcept {
    float out = 0.0F;
    api_->dot(a, b, dim, &out);
    return out;
  }
  float l2sq(const float* a, const float* b, std::size_t dim) const noexcept {
    float out = 0.0F;
    api_->l2sq(a, b, dim, &out);
    return out;
  }
  float l1(const float* a, const float* b, std::size_t dim) const noexcept {
    float out = 0.0F;
    api_->l1(a, b, dim, &out);
    return out;
  }

  /// One query against n vectors, vector i at base + i * stride (in floats).
  Status dot_batch(const float* q, const float* base, std::size_t stride, std::size_t n,
                   std::size_t dim, float* out) const;
  Status l2sq_batch(const float* q, const float* base, std::size_t stride, std::size_t n,
                    std::size_t dim, float* out) const;
  Status l1_batch(const float* q, const float* base, std::size_t stride, std::size_t n,
                  std::size_t dim, float* out) const;

  /// One query against n vectors given by pointers.
  Status dot_gather(const float* q, const float* const* vectors, std::size_t n, std::size_t dim,
                    float* out) const;
  Status l2sq_gather(const float* q, const float* const* vectors, std::size_t n, std::size_t dim,
                     float* out) const;
  Status l1_gather(const float* q, const float* const* vectors, std::size_t n, std::size_t dim,
                   float* out) const;

  /// Int8 codes (bytes 0..127): the exact sum a[i]*b[i]. From the plugin when it has the ABI 1.1
  /// kernels, else from the host's portable loop.
  std::int32_t int8_dot(const std::uint8_t* a, const std::uint8_t* b,
                        std::size_t dim) const noexcept {
    std::int32_t out = 0;
    int8_dot_(a, b, dim, &out);
    return out;
  }
  /// One query against n codes, code i at base + i * stride (in bytes).
  Status int8_dot_batch(const std::uint8_t* q, const std::uint8_t* base, std::size_t stride,
                        std::size_t n, std::size_t dim, std::int32_t* out) const;
  Status int8_dot_gather(const std::uint8_t* q, const std::uint8_t* const* codes, std::size_t n,
                         std::size_t dim, std::int32_t* out) const;
  /// Whether the int8 kernels are the plugin's own (false: the host's portable loop).
  bool has_int8_kernels() const noexcept { return int8_native_; }

  /// 8-bit codes (unsigned) against a signed query: the exact sum q[i]*code[i]. From the plugin
  /// when it has the ABI 1.2 kernels, else from the host's portable loop.
  std::int32_t code_dot(const std::int8_t* q, const std::uint8_t* code,
                        std::size_t dim) const noexcept {
    std::int32_t out = 0;
    code_dot_(q, code, dim, &out);
    return out;
  }
  /// One query against n codes, code i at base + i * stride (in bytes).
  Status code_dot_batch(const std::int8_t* q, const std::uint8_t* base, std::size_t stride,
                        std::size_t n, std::size_t dim, std::int32_t* out) const;
  Status code_dot_gather(const std::int8_t* q, const std::uint8_t* const* codes, std::size_t n,
                         std::size_t dim, std::int32_t* out) const;
  /// Whether the code kernels are the plugin's own (false: the host's portable loop).
  bool has_code_kernels() const noexcept { return code_native_; }

  const vdb_distance_api& api() const noexcept { return *api_; }

private:
  std::shared_ptr<const Plugin> plugin_;
  const vdb_distance_api* api_;
  vdb_i8_pair_fn int8_dot_ = nullptr;
  vdb_i8_batch_fn int8_dot_batch_ = nullptr;
  vdb_i8_gather_fn int8_dot_gather_ = nullptr;
  bool int8_native_ = false;
  vdb_u8_pair_fn code_dot_ = nullptr;
  vdb_u8_batch_fn code_dot_batch_ = nullptr;
  vdb_u8_gather_fn code_dot_gather_ = nullptr;
  bool code_native_ = false;
};

} // namespace vdb
