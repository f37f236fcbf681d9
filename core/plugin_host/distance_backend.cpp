#include "core/plugin_host/distance_backend.hpp"

#include "core/plugin_host/host_api.hpp"

namespace vdb {
namespace {
Status checked(vdb_status status, const DistanceBackend& backend, const char* kernel) {
  if (status == VDB_OK) {
    return {};
  }
  return plugin_error(status, "distance backend " + backend.name() + ", " + kernel);
}

// The host's integer kernels, for plugins built for an older minor ABI or without integer
// kernels of their own: Q is the query's byte type (uint8_t for the int8 kernels, int8_t for the
// code kernels), the codes are unsigned.
template <class Q>
std::int32_t portable_dot(const Q* q, const std::uint8_t* code, std::size_t dim) {
  std::int32_t sum = 0;
  for (std::size_t i = 0; i < dim; ++i) {
    sum += static_cast<std::int32_t>(q[i]) * static_cast<std::int32_t>(code[i]);
  }
  return sum;
}
template <class Q>
vdb_status portable_pair(const Q* q, const std::uint8_t* code, std::size_t dim, std::int32_t* out) {
  *out = portable_dot(q, code, dim);
  return VDB_OK;
}
template <class Q>
vdb_status portable_batch(const Q* q, const std::uint8_t* base, std::size_t stride, std::size_t n,
                          std::size_t dim, std::int32_t* out) {
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = portable_dot(q, base + i * stride, dim);
  }
  return VDB_OK;
}
template <class Q>
vdb_status portable_gather(const Q* q, const std::uint8_t* const* codes, std::size_t n,
                           std::size_t dim, std::int32_t* out) {
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = portable_dot(q, codes[i], dim);
  }
  return VDB_OK;
}
} // namespace

DistanceBackend::DistanceBackend(std::shared_ptr<const Plugin> plugin)
    : plugin_(std::move(plugin)), api_(plugin_->distance()) {
  int8_native_ = VDB_HAS_FIELD(api_, vdb_distance_api, int8_dot_gather) &&
                 api_->int8_dot != nullptr && api_->int8_dot_batch != nullptr &&
                 api_->int8_dot_gather != nullptr;
  int8_dot_ = int8_native_ ? api_->int8_dot : &portable_pair<std::uint8_t>;
  int8_dot_batch_ = int8_native_ ? api_->int8_dot_batch : &portable_batch<std::uint8_t>;
  int8_dot_gather_ = int8_native_ ? api_->int8_dot_gather : &portable_gather<std::uint8_t>;
  code_native_ = VDB_HAS_FIELD(api_, vdb_distance_api, code_dot_gather) &&
                 api_->code_dot != nullptr && api_->code_dot_batch != nullptr &&
                 api_->code_dot_gather != nullptr;
  code_dot_ = code_native_ ? api_->code_dot : &portable_pair<std::int8_t>;
  code_dot_batch_ = code_native_ ? api_->code_dot_batch : &portable_batch<std::int8_t>;
  code_dot_gather_ = code_native_ ? api_->code_dot_gather : &portable_gather<std::int8_t>;
}

Status DistanceBackend::code_dot_batch(const std::int8_t* q, const std::uint8_t* base,
                                       std::size_t stride, std::size_t n, std::size_t dim,
                                       std::int32_t* out) const {
  return checked(code_dot_batch_(q, base, stride, n, dim, out), *this, "code_dot_batch");
}
Status DistanceBackend::code_dot_gather(const std::int8_t* q, const std::uint8_t* const* codes,
                                        std::size_t n, std::size_t dim, std::int32_t* out) const {
  return checked(code_dot_gather_(q, codes, n, dim, out), *this, "code_dot_gather");
}

Status DistanceBackend::int8_dot_batch(const std::uint8_t* q, const std::uint8_t* base,
                                       std::size_t stride, std::size_t n, std::size_t dim,
                                       std::int32_t* out) const {
  return checked(int8_dot_batch_(q, base, stride, n, dim, out), *this, "int8_dot_batch");
}
Status DistanceBackend::int8_dot_gather(const std::uint8_t* q, const std::uint8_t* const* codes,
                                        std::size_t n, std::size_t dim, std::int32_t* out) const {
  return checked(int8_dot_gather_(q, codes, n, dim, out), *this, "int8_dot_gather");
}

Status DistanceBackend::dot_batch(const float* q, const float* base, std::size_t stride,
                                  std::size_t n, std::size_t dim, float* out) const {
  return checked(api_->dot_batch(q, base, stride, n, dim, out), *this, "dot_batch");
}
Status DistanceBackend::l2sq_batch(const float* q, const float* base, std::size_t stride,
                                   std::size_t n, std::size_t dim, float* out) const {
  return checked(api_->l2sq_batch(q, base, stride, n, dim, out), *this, "l2sq_batch");
}
Status DistanceBackend::l1_batch(const float* q, const float* base, std::size_t stride,
                                 std::size_t n, std::size_t dim, float* out) const {
  return checked(api_->l1_batch(q, base, stride, n, dim, out), *this, "l1_batch");
}
Status DistanceBackend::dot_gather(const float* q, const float* const* vectors, std::size_t n,
                                   std::size_t dim, float* out) const {
  return checked(api_->dot_gather(q, vectors, n, dim, out), *this, "dot_gather");
}
Status DistanceBackend::l2sq_gather(const float* q, const float* const* vectors, std::size_t n,
                                    std::size_t dim, float* out) const {
  return checked(api_->l2sq_gather(q, vectors, n, dim, out), *this, "l2sq_gather");
}
Status DistanceBackend::l1_gather(const float* q, const float* const* vectors, std::size_t n,
                                  std::size_t dim, float* out) const {
  return checked(api_->l1_gather(q, vectors, n, dim, out), *this, "l1_gather");
}

} // namespace vdb
