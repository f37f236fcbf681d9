// The `mmap` storage backend: one file per store, a 4 KiB header followed by the records, mapped
// chunk by chunk with Boost.Interprocess. Growth reserves disk space for a new chunk and maps it
// separately, so existing mappings never move. Persistent: flush syncs the records and then the
// header, whose record count is what a reopen trusts.
//
// File layout (little-endian):
//   [0, 4096)  header: magic "VDBRECS\0", format version, header size, record size,
//              records per chunk, record count, CRC-32C of the fields before it
//   [4096, …)  record i at 4096 + i * record_size; the file is allocated a whole chunk at a time
//
// read_many reads records with the file's I/O, not through the mapping: one io_uring submission
// per batch (a ring per reading thread), pread where the kernel refuses io_uring. Rescoring
// reads its candidates' originals this way (storage.performance.async_scorer), so they stay out
// of the process's resident memory and a cold batch waits for the disk once.
#include "chunked_records.hpp"

#include "core/common/crc32c.hpp"

#include <boost/interprocess/file_mapping.hpp>
#include <boost/interprocess/mapped_region.hpp>

#include <liburing.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

namespace bip = boost::interprocess;
using vdb::sdk::fail;
using vdb::storage::ChunkedRecords;

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the mmap store format is little-endian");

constexpr char kMagic[8] = {'V', 'D', 'B', 'R', 'E', 'C', 'S', '\0'};
constexpr std::uint32_t kFormatVersion = 1;
constexpr std::uint64_t kHeaderSize = 4096;

struct FileHeader {
  char magic[8];
  std::uint32_t format_version;
  std::uint32_t header_size;
  std::uint64_t record_size;
  std::uint64_t records_per_chunk;
  std::uint64_t count;
  std::uint32_t reserved;
  std::uint32_t crc; // CRC-32C of every byte before this field
};
static_assert(sizeof(FileHeader) == 48);

std::uint32_t header_crc(const FileHeader& h) noexcept {
  return vdb::crc32c(&h, offsetof(FileHeader, crc));
}

std::string errno_text(const std::string& what, const std::string& path, int err) {
  return "mmap store " + path + ": " + what + ": " + std::strerror(err);
}

vdb_status errno_status(int err) noexcept {
  return err == ENOSPC || err == EDQUOT || err == EFBIG ? VDB_ERR_NO_SPACE : VDB_ERR_IO;
}

/// An owned file descriptor.
class Fd {
public:
  explicit Fd(int fd = -1) noexcept : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  int get() const noexcept { return fd_; }

private:
  int fd_;
};

/// Reads exactly `size` bytes at `offset` (retrying short reads and EINTR); false with errno set.
bool pread_full(int fd, std::byte* out, std::uint64_t size, std::uint64_t offset) noexcept {
  while (size != 0) {
    const ssize_t got = ::pread(fd, out, size, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got <= 0) {
      if (got == 0) {
        errno = EIO; // the file ends before the record: it was cut short
      }
      return false;
    }
    out += got;
    size -= static_cast<std::uint64_t>(got);
    offset += static_cast<std::uint64_t>(got);
  }
  return true;
}

/// The calling thread's io_uring, set up on its first batch read. Null where the kernel refuses
/// io_uring (a sysctl or a container's seccomp profile) or VDB_IO_URING=0 is set: reads then
/// fall back to pread.
class ThreadRing {
public:
  static constexpr unsigned kDepth = 64; // reads in flight per submission: one bit each in a mask
  static constexpr std::uint64_t kMaxRingRead = std::uint64_t{1} << 30;

  static io_uring* get() noexcept {
    ThreadRing& ring = own();
    return ring.ok_ ? &ring.ring_ : nullptr;
  }
  /// After an error the ring's state is unknown: this thread reads with pread from now on.
  static void retire() noexcept {
    ThreadRing& ring = own();
    if (ring.ok_) {
      io_uring_queue_exit(&ring.ring_);
      ring.ok_ = false;
    }
  }

  ThreadRing(const ThreadRing&) = delete;
  ThreadRing& operator=(const ThreadRing&) = delete;
  ~ThreadRing() {
    if (ok_) {
      io_uring_queue_exit(&ring_);
    }
  }

private:
  ThreadRing() noexcept {
    const char* env = std::getenv("VDB_IO_URING");
    ok_ = !(env != nullptr && std::strcmp(env, "0") == 0) &&
          io_uring_queue_init(kDepth, &ring_, 0) == 0;
  }
  static ThreadRing& own() noexcept {
    thread_local ThreadRing ring;
    return ring;
  }

  io_uring ring_{};
  bool ok_ = false;
};

class MmapStore final : public ChunkedRecords {
public:
  MmapStore(std::string path, Fd fd, std::uint64_t record_size, std::uint64_t per_chunk)
      : ChunkedRecords(record_size, per_chunk), path_(std::move(path)), fd_(std::move(fd)) {}

  static vdb_status open(const vdb_store_options& options, std::unique_ptr<MmapStore>* out) {
    if (options.path == nullptr || options.path[0] == '\0') {
      return fail(VDB_ERR_INVALID_ARGUMENT, "mmap store: a path is required");
    }
    const std::string path = options.path;
    const bool create = (options.flags & VDB_STORE_CREATE) != 0;
    Fd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0644));
    if (fd.get() < 0) {
      return fail(errno == ENOENT ? VDB_ERR_NOT_FOUND : errno_status(errno),
                  errno_text("cannot open", path, errno));
    }
    // One process at a time: a second writer would corrupt the count in the header.
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
      return fail(VDB_ERR_IO, errno_text("is in use by another process", path, errno));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
      return fail(errno_status(errno), errno_text("cannot stat", path, errno));
    }
    FileHeader header{};
    if (st.st_size == 0) {
      if (!create) {
        return fail(VDB_ERR_CORRUPT, "mmap store " + path + ": the file is empty");
      }
      std::memcpy(header.magic, kMagic, sizeof kMagic);
      header.format_version = kFormatVersion;
      header.header_size = kHeaderSize;
      header.record_size = options.record_size;
      header.records_per_chunk = options.records_per_chunk != 0
                                     ? options.records_per_chunk
                                     : vdb::storage::default_records_per_chunk(options.record_size);
      header.count = 0;
      const vdb_status status = write_new_header(fd.get(), path, header);
      if (status != VDB_OK) {
        return status;
      }
    } else {
      const vdb_status status =
          read_header(fd.get(), path, static_cast<std::uint64_t>(st.st_size), options, &header);
      if (status != VDB_OK) {
        return status;
      }
    }
    auto store = std::make_unique<MmapStore>(path, std::move(fd), header.record_size,
                                             header.records_per_chunk);
    const vdb_status status = store->map_existing(header.count);
    if (status != VDB_OK) {
      return status;
    }
    *out = std::move(store);
    return VDB_OK;
  }

  vdb_status flush() override {
    for (std::uint64_t k = 0; k < dirty_.size(); ++k) {
      if (dirty_[k] != 0) {
        try {
          regions_[k].flush(0, 0, /*async=*/false);
        } catch (const bip::interprocess_exception& e) {
          return fail(VDB_ERR_IO, "mmap store " + path_ + ": msync failed: " + e.what());
        }
        dirty_[k] = 0;
      }
    }
    FileHeader header{};
    std::memcpy(header.magic, kMagic, sizeof kMagic);
    header.format_version = kFormatVersion;
    header.header_size = kHeaderSize;
    header.record_size = record_size();
    header.records_per_chunk = records_per_chunk();
    header.count = count();
    header.crc = header_crc(header);
    if (::pwrite(fd_.get(), &header, sizeof header, 0) != static_cast<ssize_t>(sizeof header)) {
      return fail(errno_status(errno), errno_text("cannot write the header", path_, errno));
    }
    if (::fdatasync(fd_.get()) != 0) {
      return fail(errno_status(errno), errno_text("fdatasync failed", path_, errno));
    }
    return VDB_OK;
  }

protected:
  vdb_status allocate_chunk(std::uint64_t k, std::byte** out) override {
    const std::uint64_t offset = kHeaderSize + k * chunk_bytes();
    // posix_fallocate reserves the blocks now, so a full disk is an error here rather than a
    // SIGBUS when the mapping is first written.
    const int err =
        ::posix_fallocate(fd_.get(), static_cast<off_t>(offset), static_cast<off_t>(chunk_bytes()));
    if (err != 0) {
      return fail(errno_status(err), errno_text("cannot grow the file", path_, err));
    }
    return map_chunk(k, out);
  }

  void mark_dirty(std::uint64_t k) override { dirty_[k] = 1; }

  vdb_status read_records(const std::uint64_t* indices, std::uint64_t n,
                          std::byte* out) const override {
    const std::uint64_t size = record_size();
    std::uint64_t done = 0;
    // io_uring reports a read's length as an int; larger records (none the host makes) use pread.
    io_uring* ring = size <= ThreadRing::kMaxRingRead ? ThreadRing::get() : nullptr;
    while (ring != nullptr && done < n) {
      const auto batch =
          static_cast<unsigned>(std::min<std::uint64_t>(n - done, ThreadRing::kDepth));
      std::uint64_t redo = 0; // bit j: read j of the batch failed or came back short
      if (!ring_batch(*ring, indices + done, batch, out + done * size, redo)) {
        ThreadRing::retire(); // the ring's state is unknown: pread reads this batch again
        break;
      }
      for (unsigned j = 0; j < batch; ++j) {
        if ((redo >> j & 1U) != 0 && !read_one(indices[done + j], out + (done + j) * size)) {
          return read_failed(indices[done + j]);
        }
      }
      done += batch;
    }
    for (; done < n; ++done) {
      if (!read_one(indices[done], out + done * size)) {
        return read_failed(indices[done]);
      }
    }
    return VDB_OK;
  }

private:
  static vdb_status write_new_header(int fd, const std::string& path, FileHeader& header) {
    header.crc = header_crc(header);
    std::vector<char> page(kHeaderSize, 0);
    std::memcpy(page.data(), &header, sizeof header);
    if (::pwrite(fd, page.data(), page.size(), 0) != static_cast<ssize_t>(page.size()) ||
        ::fdatasync(fd) != 0) {
      return fail(errno_status(errno), errno_text("cannot write the header", path, errno));
    }
    return VDB_OK;
  }

  static vdb_status read_header(int fd, const std::string& path, std::uint64_t file_size,
                                const vdb_store_options& options, FileHeader* header) {
    const std::string where = "mmap store " + path + ": ";
    if (file_size < kHeaderSize ||
        ::pread(fd, header, sizeof *header, 0) != static_cast<ssize_t>(sizeof *header)) {
      return fail(VDB_ERR_CORRUPT,
                  where + "file too short for a header (" + std::to_string(file_size) + " bytes)");
    }
    if (std::memcmp(header->magic, kMagic, sizeof kMagic) != 0) {
      return fail(VDB_ERR_CORRUPT, where + "not a VDB record store (bad magic)");
    }
    if (header->format_version > kFormatVersion) {
      return fail(VDB_ERR_UNSUPPORTED, where + "format version " +
                                           std::to_string(header->format_version) +
                                           " is newer than this build supports (" +
                                           std::to_string(kFormatVersion) + ")");
    }
    if (header_crc(*header) != header->crc) {
      return fail(VDB_ERR_CORRUPT, where + "header checksum mismatch");
    }
    if (header->format_version == 0 || header->header_size != kHeaderSize ||
        header->record_size == 0 || header->records_per_chunk == 0) {
      return fail(VDB_ERR_CORRUPT, where + "header fields out of range");
    }
    if (header->record_size != options.record_size) {
      return fail(VDB_ERR_INVALID_ARGUMENT, where + "record size mismatch: the file has " +
                                                std::to_string(header->record_size) +
                                                " bytes, the caller expects " +
                                                std::to_string(options.record_size));
    }
    const std::uint64_t needed = kHeaderSize + header->count * header->record_size;
    if (header->count > (file_size - kHeaderSize) / header->record_size || file_size < needed) {
      return fail(VDB_ERR_CORRUPT, where + "truncated: the header counts " +
                                       std::to_string(header->count) + " records (" +
                                       std::to_string(needed) + " bytes) but the file has " +
                                       std::to_string(file_size) + " bytes");
    }
    return VDB_OK;
  }

  vdb_status map_existing(std::uint64_t count) {
    try {
      mapping_ = bip::file_mapping(path_.c_str(), bip::read_write);
    } catch (const bip::interprocess_exception& e) {
      return fail(VDB_ERR_IO, "mmap store " + path_ + ": cannot map: " + e.what());
    }
    const std::uint64_t chunks = (count + records_per_chunk() - 1) / records_per_chunk();
    for (std::uint64_t k = 0; k < chunks; ++k) {
      // The last chunk may have been cut short after its records; give it its full size back.
      const vdb_status status = allocate_or_adopt(k);
      if (status != VDB_OK) {
        return status;
      }
    }
    set_count(count);
    return VDB_OK;
  }

  vdb_status allocate_or_adopt(std::uint64_t k) {
    std::byte* chunk = nullptr;
    const vdb_status status = allocate_chunk(k, &chunk);
    if (status == VDB_OK) {
      adopt_chunk(k, chunk);
    }
    return status;
  }

  vdb_status map_chunk(std::uint64_t k, std::byte** out) {
    try {
      bip::mapped_region region(mapping_, bip::read_write,
                                static_cast<bip::offset_t>(kHeaderSize + k * chunk_bytes()),
                                chunk_bytes());
      // Records are read at random (graph searches, rescoring): readahead would page in the
      // neighbours of every record read, and soon the whole file.
      (void)region.advise(bip::mapped_region::advice_random);
      *out = static_cast<std::byte*>(region.get_address());
      regions_.push_back(std::move(region));
      dirty_.push_back(0);
    } catch (const bip::interprocess_exception& e) {
      return fail(VDB_ERR_NO_SPACE, "mmap store " + path_ + ": cannot map chunk " +
                                        std::to_string(k) + ": " + e.what());
    }
    return VDB_OK;
  }

  std::uint64_t offset_of(std::uint64_t index) const noexcept {
    return kHeaderSize + index * record_size();
  }
  bool read_one(std::uint64_t index, std::byte* out) const noexcept {
    return pread_full(fd_.get(), out, record_size(), offset_of(index));
  }
  /// Submits `batch` reads (at most kDepth) and reaps every completion, so the ring is empty
  /// again. A read that failed or came back short sets its bit in `redo`. False when the ring
  /// itself failed (submission or wait).
  bool ring_batch(io_uring& ring, const std::uint64_t* indices, unsigned batch, std::byte* out,
                  std::uint64_t& redo) const noexcept {
    const std::uint64_t size = record_size();
    for (unsigned j = 0; j < batch; ++j) {
      io_uring_sqe* sqe = io_uring_get_sqe(&ring); // never null: the ring is empty
      io_uring_prep_read(sqe, fd_.get(), out + j * size, static_cast<unsigned>(size),
                         offset_of(indices[j]));
      io_uring_sqe_set_data64(sqe, j);
    }
    int submitted = io_uring_submit(&ring);
    while (submitted == -EINTR) {
      submitted = io_uring_submit(&ring);
    }
    if (submitted != static_cast<int>(batch)) {
      return false;
    }
    for (unsigned j = 0; j < batch; ++j) {
      io_uring_cqe* cqe = nullptr;
      int waited = io_uring_wait_cqe(&ring, &cqe);
      while (waited == -EINTR) {
        waited = io_uring_wait_cqe(&ring, &cqe);
      }
      if (waited != 0) {
        return false;
      }
      if (cqe->res != static_cast<int>(size)) {
        redo |= std::uint64_t{1} << io_uring_cqe_get_data64(cqe);
      }
      io_uring_cqe_seen(&ring, cqe);
    }
    return true;
  }
  vdb_status read_failed(std::uint64_t index) const {
    return fail(errno_status(errno),
                errno_text("cannot read record " + std::to_string(index), path_, errno));
  }

  std::string path_;
  Fd fd_;
  bip::file_mapping mapping_;
  std::vector<bip::mapped_region> regions_; // region k maps chunk k
  std::vector<std::uint8_t> dirty_;         // dirty_[k]: chunk k changed since the last flush
};

using Table = vdb::storage::StorageTable<MmapStore>;
constexpr vdb_storage_api kApi = Table::api(VDB_STORAGE_PERSISTENT);
constexpr vdb_plugin_info kInfo =
    Table::info("mmap", "records in a memory-mapped file (Boost.Interprocess), persistent", &kApi);

} // namespace

extern "C" VDB_PLUGIN_EXPORT vdb_status vdb_plugin_init(const vdb_host_api* host,
                                                        const vdb_plugin_info** info) {
  return vdb::sdk::init(host, &kInfo, info);
}
