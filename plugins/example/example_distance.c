/*
 * A complete third-party distance plugin in plain C, the example of docs/plugins.md.
 * Build:  cc -O2 -shared -fPIC -fvisibility=hidden -I<vdb>/plugins/include \
 *            example_distance.c -o libvdb_distance_example.so
 * Use:    plugins: {load: [/path/to/libvdb_distance_example.so], distance_backend: example}
 */
#include <vdb/plugin_api.h>

#include <math.h>

static const vdb_host_api* g_host = NULL;

static vdb_status bad_argument(const char* what) {
  if (g_host != NULL) {
    g_host->report_error(VDB_ERR_INVALID_ARGUMENT, what);
  }
  return VDB_ERR_INVALID_ARGUMENT;
}

/* The three kernels, written once. */
static float dot(const float* a, const float* b, size_t dim) {
  float sum = 0.0f;
  for (size_t i = 0; i < dim; ++i) {
    sum += a[i] * b[i];
  }
  return sum;
}
static float l2sq(const float* a, const float* b, size_t dim) {
  float sum = 0.0f;
  for (size_t i = 0; i < dim; ++i) {
    float d = a[i] - b[i];
    sum += d * d;
  }
  return sum;
}
static float l1(const float* a, const float* b, size_t dim) {
  float sum = 0.0f;
  for (size_t i = 0; i < dim; ++i) {
    sum += fabsf(a[i] - b[i]);
  }
  return sum;
}

typedef float (*kernel_fn)(const float*, const float*, size_t);

/* The three call shapes the ABI asks for, for any kernel. */
static vdb_status pair(kernel_fn k, const float* a, const float* b, size_t dim, float* out) {
  if (a == NULL || b == NULL || out == NULL || dim == 0) {
    return bad_argument("example: null pointer or dim == 0");
  }
  *out = k(a, b, dim);
  return VDB_OK;
}
static vdb_status batch(kernel_fn k, const float* q, const float* base, size_t stride, size_t n,
                        size_t dim, float* out) {
  if (q == NULL || out == NULL || dim == 0 || stride < dim || (base == NULL && n != 0)) {
    return bad_argument("example: null pointer, dim == 0 or stride < dim");
  }
  for (size_t i = 0; i < n; ++i) {
    out[i] = k(q, base + i * stride, dim);
  }
  return VDB_OK;
}
static vdb_status gather(kernel_fn k, const float* q, const float* const* v, size_t n, size_t dim,
                         float* out) {
  if (q == NULL || out == NULL || dim == 0 || (v == NULL && n != 0)) {
    return bad_argument("example: null pointer or dim == 0");
  }
  for (size_t i = 0; i < n; ++i) {
    if (v[i] == NULL) {
      return bad_argument("example: null vector pointer");
    }
    out[i] = k(q, v[i], dim);
  }
  return VDB_OK;
}

static vdb_status dot_pair(const float* a, const float* b, size_t dim, float* out) {
  return pair(dot, a, b, dim, out);
}
static vdb_status l2sq_pair(const float* a, const float* b, size_t dim, float* out) {
  return pair(l2sq, a, b, dim, out);
}
static vdb_status l1_pair(const float* a, const float* b, size_t dim, float* out) {
  return pair(l1, a, b, dim, out);
}
static vdb_status dot_batch(const float* q, const float* base, size_t stride, size_t n, size_t dim,
                            float* out) {
  return batch(dot, q, base, stride, n, dim, out);
}
static vdb_status l2sq_batch(const float* q, const float* base, size_t stride, size_t n, size_t dim,
                             float* out) {
  return batch(l2sq, q, base, stride, n, dim, out);
}
static vdb_status l1_batch(const float* q, const float* base, size_t stride, size_t n, size_t dim,
                           float* out) {
  return batch(l1, q, base, stride, n, dim, out);
}
static vdb_status dot_gather(const float* q, const float* const* v, size_t n, size_t dim,
                             float* out) {
  return gather(dot, q, v, n, dim, out);
}
static vdb_status l2sq_gather(const float* q, const float* const* v, size_t n, size_t dim,
                              float* out) {
  return gather(l2sq, q, v, n, dim, out);
}
static vdb_status l1_gather(const float* q, const float* const* v, size_t n, size_t dim,
                            float* out) {
  return gather(l1, q, v, n, dim, out);
}

static const vdb_distance_api kDistance = {sizeof(vdb_distance_api), 0, dot_pair, l2sq_pair,
                                           l1_pair, dot_batch, l2sq_batch, l1_batch, dot_gather,
                                           l2sq_gather, l1_gather,
                                           /* ABI 1.1's int8 kernels and 1.2's code kernels
                                              are optional: without them the host uses its
                                              own portable loops. */
                                           NULL, NULL, NULL, NULL, NULL, NULL};

static const vdb_plugin_info kInfo = {sizeof(vdb_plugin_info),
                                      VDB_PLUGIN_ABI_MAJOR,
                                      VDB_PLUGIN_ABI_MINOR,
                                      VDB_PLUGIN_DISTANCE,
                                      "example",
                                      "1.0.0",
                                      "example third-party distance plugin in C",
                                      &kDistance,
                                      NULL};

VDB_PLUGIN_EXPORT vdb_status vdb_plugin_init(const vdb_host_api* host,
                                             const vdb_plugin_info** info) {
  if (host == NULL || info == NULL) {
    return VDB_ERR_INVALID_ARGUMENT;
  }
  if (host->abi_major != VDB_PLUGIN_ABI_MAJOR) {
    host->report_error(VDB_ERR_UNSUPPORTED, "example: built for another plugin ABI");
    return VDB_ERR_UNSUPPORTED;
  }
  g_host = host;
  *info = &kInfo;
  return VDB_OK;
}
