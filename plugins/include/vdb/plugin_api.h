/*
 * VDB plugin C ABI.
 *
 * This header is the whole contract between the VDB server (the "host") and a plugin shared
 * library. It is plain C so a plugin can be written in any language that produces a C-callable
 * shared object. See docs/plugins.md for the author's guide.
 *
 * Rules of the ABI:
 *  - A plugin exports exactly one symbol, `vdb_plugin_init` (VDB_PLUGIN_INIT_SYMBOL).
 *  - Every struct that crosses the boundary starts with `struct_size`, the size the producer
 *    compiled with. Structs are append-only: new fields are only ever added at the end, and a
 *    reader uses a field only when `struct_size` covers it (VDB_HAS_FIELD).
 *  - The major version changes only when an existing field changes meaning; the host refuses a
 *    plugin whose major version differs from its own. The minor version grows when fields are
 *    appended; any minor version loads.
 *  - Every function returns a vdb_status. Error text goes back through vdb_host_api.report_error
 *    before the non-OK status is returned. No C++ type and no exception crosses the boundary.
 */
#ifndef VDB_PLUGIN_API_H
#define VDB_PLUGIN_API_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VDB_PLUGIN_ABI_MAJOR 1u
#define VDB_PLUGIN_ABI_MINOR 3u

#define VDB_PLUGIN_INIT_SYMBOL "vdb_plugin_init"

#if defined(_WIN32)
#define VDB_PLUGIN_EXPORT __declspec(dllexport)
#else
#define VDB_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/* True when a struct received with `struct_size` includes `field`. */
#define VDB_HAS_FIELD(ptr, type, field)                                                            \
  ((ptr)->struct_size >= offsetof(type, field) + sizeof(((type*)0)->field))

/* Result of every call across the boundary. Values are stable; new ones are appended. */
typedef enum vdb_status {
  VDB_OK = 0,
  VDB_ERR_INVALID_ARGUMENT = 1, /* a caller-supplied value is out of range or malformed */
  VDB_ERR_OUT_OF_RANGE = 2,     /* a record index past the end */
  VDB_ERR_IO = 3,               /* the operating system reported an I/O error */
  VDB_ERR_NO_SPACE = 4,         /* the disk or the address space is full */
  VDB_ERR_CORRUPT = 5,          /* stored data failed a check (magic, version, checksum, size) */
  VDB_ERR_UNSUPPORTED = 6,      /* the operation or format version is not supported */
  VDB_ERR_OUT_OF_MEMORY = 7,
  VDB_ERR_INTERNAL = 8, /* a bug in the plugin */
  VDB_ERR_NOT_FOUND = 9 /* the thing to open does not exist */
} vdb_status;

typedef enum vdb_log_level {
  VDB_LOG_DEBUG = 0,
  VDB_LOG_INFO = 1,
  VDB_LOG_WARN = 2,
  VDB_LOG_ERROR = 3
} vdb_log_level;

/*
 * Services the host offers to plugins. The host keeps this struct alive and unchanged for as
 * long as any plugin is loaded; a plugin may keep the pointer it receives in vdb_plugin_init.
 * Both callbacks are thread-safe and may be called from any thread.
 */
typedef struct vdb_host_api {
  uint32_t struct_size;
  uint32_t abi_major;
  uint32_t abi_minor;
  uint32_t reserved;
  /* Hands error text for the current call back to the host. Call it, then return the same
   * non-OK status. `message` is copied; it need not outlive the call. */
  void (*report_error)(vdb_status status, const char* message);
  /* Writes one line to the host's log. */
  void (*log)(vdb_log_level level, const char* message);
} vdb_host_api;

/* ---------------------------------------------------------------------------------------- */
/* Distance kernels                                                                          */
/* ---------------------------------------------------------------------------------------- */

/*
 * Float32 kernels. Each comes in three shapes:
 *  - pair:   one result for vectors `a` and `b` of `dim` floats;
 *  - batch:  one query against `n` vectors stored contiguously from `base`, vector i starting at
 *            base + i * stride (stride in floats, stride >= dim); out[i] gets the result;
 *  - gather: one query against `n` vectors given by pointers; out[i] gets the result.
 * Pointers need no particular alignment. `dim` may be any value >= 1. Results:
 *   dot  = sum a[i]*b[i];   l2sq = sum (a[i]-b[i])^2;   l1 = sum |a[i]-b[i]|.
 * Kernels are pure and thread-safe. They fail only on null pointers or dim == 0
 * (VDB_ERR_INVALID_ARGUMENT); hosts validate arguments before the hot path, so plugins may skip
 * those checks in release builds.
 */
typedef vdb_status (*vdb_f32_pair_fn)(const float* a, const float* b, size_t dim, float* out);
typedef vdb_status (*vdb_f32_batch_fn)(const float* query, const float* base, size_t stride,
                                       size_t n, size_t dim, float* out);
typedef vdb_status (*vdb_f32_gather_fn)(const float* query, const float* const* vectors, size_t n,
                                        size_t dim, float* out);

/*
 * Int8 kernels (ABI 1.1), for scalar-quantized codes. A code is a byte holding 0..127, which
 * reads the same as a signed and as an unsigned byte: that is what lets an ISA multiply unsigned
 * by signed bytes (x86's VNNI vpdpbusd, AVX2's vpmaddubsw) with no overflow and no correction.
 * The result is the exact integer sum a[i]*b[i], at most 127*127*dim (it fits int32 for any
 * dim <= 133,000; the host allows 65,536). Bytes above 127 give unspecified results. The three
 * shapes are those of the float32 kernels, with stride counted in bytes.
 */
typedef vdb_status (*vdb_i8_pair_fn)(const uint8_t* a, const uint8_t* b, size_t dim, int32_t* out);
typedef vdb_status (*vdb_i8_batch_fn)(const uint8_t* query, const uint8_t* base, size_t stride,
                                      size_t n, size_t dim, int32_t* out);
typedef vdb_status (*vdb_i8_gather_fn)(const uint8_t* query, const uint8_t* const* vectors,
                                       size_t n, size_t dim, int32_t* out);

/*
 * 8-bit code kernels (ABI 1.2), what the host scores scalar-quantized vectors with since 1.2. A
 * stored code is an unsigned byte (0..255), a query code a signed one (-128..127), the pair x86's
 * VNNI vpdpbusd multiplies. The result is the exact integer sum query[i]*code[i]; its magnitude
 * is at most 128*255*dim, which fits int32 for dim <= 65,793 (the host allows 65,536). The three
 * shapes are those of the float32 kernels, with stride counted in bytes.
 */
typedef vdb_status (*vdb_u8_pair_fn)(const int8_t* query, const uint8_t* code, size_t dim,
                                     int32_t* out);
typedef vdb_status (*vdb_u8_batch_fn)(const int8_t* query, const uint8_t* base, size_t stride,
                                      size_t n, size_t dim, int32_t* out);
typedef vdb_status (*vdb_u8_gather_fn)(const int8_t* query, const uint8_t* const* codes, size_t n,
                                       size_t dim, int32_t* out);

/*
 * A distance backend. ABI 1.0 has the float32 kernels; 1.1 appends the int8 kernels (7-bit
 * codes), 1.2 the 8-bit code kernels. A reader uses an appended field only under VDB_HAS_FIELD.
 * The integer kernels are optional, each group of three together: a plugin may leave them null
 * (or be built for an older minor version), and the host then uses its own portable loop.
 */
typedef struct vdb_distance_api {
  uint32_t struct_size;
  uint32_t reserved;
  vdb_f32_pair_fn dot;
  vdb_f32_pair_fn l2sq;
  vdb_f32_pair_fn l1;
  vdb_f32_batch_fn dot_batch;
  vdb_f32_batch_fn l2sq_batch;
  vdb_f32_batch_fn l1_batch;
  vdb_f32_gather_fn dot_gather;
  vdb_f32_gather_fn l2sq_gather;
  vdb_f32_gather_fn l1_gather;
  /* ABI 1.1 */
  vdb_i8_pair_fn int8_dot;
  vdb_i8_batch_fn int8_dot_batch;
  vdb_i8_gather_fn int8_dot_gather;
  /* ABI 1.2 */
  vdb_u8_pair_fn code_dot;
  vdb_u8_batch_fn code_dot_batch;
  vdb_u8_gather_fn code_dot_gather;
} vdb_distance_api;

/* ---------------------------------------------------------------------------------------- */
/* Record stores                                                                             */
/* ---------------------------------------------------------------------------------------- */

/* An open store, owned by the plugin; the host holds it only through this opaque pointer. */
typedef struct vdb_store vdb_store;

/* vdb_store_options.flags */
#define VDB_STORE_CREATE 0x1u /* create the store when it does not exist yet */

typedef struct vdb_store_options {
  uint32_t struct_size;
  uint32_t flags;
  /* Where the store lives: a file path for persistent stores; ignored by memory stores. */
  const char* path;
  /* Size of every record in bytes, >= 1. A persistent store refuses to reopen with another. */
  uint64_t record_size;
  /* Records per allocation chunk; 0 lets the plugin choose (about 1 MiB per chunk). A
   * persistent store uses the value it was created with. */
  uint64_t records_per_chunk;
} vdb_store_options;

/* vdb_storage_api.capabilities */
#define VDB_STORAGE_PERSISTENT 0x1u /* flush makes data durable and open finds it again */

/*
 * A store of fixed-size records addressed by index 0..count-1 (vectors, quantized codes, graph
 * links). Records are appended at the end and may be overwritten in place; they are never
 * removed.
 *
 * Concurrency: one writer (append, overwrite, flush) at a time, any number of concurrent readers
 * (get, count). A pointer returned by `get` stays valid and never moves until `close`: growth
 * allocates new chunks and never moves existing ones. A reader sees every record appended before
 * the `count` it read. Overwriting a record that a reader is reading at the same moment is the
 * caller's race to avoid.
 *
 * Durability: after `flush` returns VDB_OK, a persistent store reopens with every record
 * appended or overwritten before it. What was written after the last flush may or may not be
 * there after a crash; the count in the file never covers records that were not flushed.
 */
typedef struct vdb_storage_api {
  uint32_t struct_size;
  uint32_t capabilities;
  vdb_status (*open)(const vdb_store_options* options, vdb_store** out);
  /* Flushes nothing; releases the store. Always succeeds for a valid store. */
  vdb_status (*close)(vdb_store* store);
  /* Appends `n` records from `records` (n * record_size bytes); *first_index receives the index
   * of the first one. All or nothing: on failure the count is unchanged. */
  vdb_status (*append)(vdb_store* store, const void* records, uint64_t n, uint64_t* first_index);
  /* *out receives a pointer to record `index`; *contiguous (may be null) receives how many
   * records, this one included, follow it contiguously in memory. */
  vdb_status (*get)(vdb_store* store, uint64_t index, const void** out, uint64_t* contiguous);
  vdb_status (*overwrite)(vdb_store* store, uint64_t index, const void* record);
  vdb_status (*count)(vdb_store* store, uint64_t* out);
  vdb_status (*flush)(vdb_store* store);
  /* ABI 1.3, optional (null, or a table too short for it: the host copies through `get`).
   * Copies the records `indices[0..n)` into `out` (n * record_size bytes), in that order;
   * indices may repeat and come in any order. A store kept in a file may read them with the
   * file's I/O instead of through its mapping (the mmap plugin batches them into one io_uring
   * submission), so records read this way are not mapped into the caller and need not stay in
   * its resident memory, and a cold read of many records waits for the disk once rather than
   * once per record. Any index past the end fails the call (VDB_ERR_OUT_OF_RANGE) before
   * anything is read. Safe to call concurrently with readers and with one writer appending;
   * overwriting a record being read is the caller's race, as with `get`. */
  vdb_status (*read_many)(vdb_store* store, const uint64_t* indices, uint64_t n, void* out);
} vdb_storage_api;

/* ---------------------------------------------------------------------------------------- */
/* The plugin                                                                                */
/* ---------------------------------------------------------------------------------------- */

typedef enum vdb_plugin_kind { VDB_PLUGIN_DISTANCE = 1, VDB_PLUGIN_STORAGE = 2 } vdb_plugin_kind;

/* What a plugin tells the host about itself. It must stay valid until the library is unloaded
 * (a static const struct is the usual choice). */
typedef struct vdb_plugin_info {
  uint32_t struct_size;
  uint32_t abi_major; /* VDB_PLUGIN_ABI_MAJOR the plugin was built with */
  uint32_t abi_minor; /* VDB_PLUGIN_ABI_MINOR the plugin was built with */
  uint32_t kind;      /* a vdb_plugin_kind */
  const char* name;   /* short, unique per kind: "scalar", "avx2", "ram", "mmap", ... */
  const char* version;
  const char* description;
  const vdb_distance_api* distance; /* non-null exactly when kind == VDB_PLUGIN_DISTANCE */
  const vdb_storage_api* storage;   /* non-null exactly when kind == VDB_PLUGIN_STORAGE */
} vdb_plugin_info;

/*
 * The one exported entry point. The host calls it once after dlopen. A plugin checks
 * `host->abi_major`, may keep `host`, and sets *info. Returning non-OK (after report_error) makes
 * the host refuse the plugin with that message.
 */
typedef vdb_status (*vdb_plugin_init_fn)(const vdb_host_api* host, const vdb_plugin_info** info);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* VDB_PLUGIN_API_H */
