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
} // namespace

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
