// Files on disk: an owned descriptor with the writes and syncs durability needs, and the
// checked file format every VDB file but the WAL uses:
//
//   magic (8 bytes) | format version (u32) | reserved (u32) | body size (u64) |
//   body CRC-32C (u32) | header CRC-32C (u32, over the 28 bytes before it) | body
//
// A file is written whole to "<name>.tmp", synced, renamed over the old one and its directory
// synced, so a reader finds the old file or the new one, never a mix. Reading checks the magic,
// refuses a newer format version with a message saying so, and checks both checksums.
#pragma once

#include "core/common/error.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace vdb {

namespace fs = std::filesystem;

/// An error for errno `err` while doing `what`: no_space for ENOSPC and EDQUOT, else io_error.
Error os_error(int err, const std::string& what);

class File {
public:
  /// Opens `path` with open(2) flags (O_CLOEXEC is added); mode 0644 when created.
  static Expected<std::unique_ptr<File>> open(const fs::path& path, int flags);
  ~File();
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  /// Writes all of `data` at the end (or the current position); partial writes are retried.
  /// On failure the bytes already written stay: the caller truncates them away.
  Status write_all(std::string_view data);
  /// fdatasync(2).
  Status sync();
  Status truncate(std::uint64_t size);
  Expected<std::uint64_t> size() const;
  /// The whole file.
  Expected<std::string> read_all() const;
  /// Fills `buffer` (its size) from `offset`; corrupt when the file ends first.
  Status read_at(std::uint64_t offset, std::string& buffer) const;
  const fs::path& path() const noexcept { return path_; }
  int fd() const noexcept { return fd_; }

private:
  File(int fd, fs::path path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  fs::path path_;
};

/// fsync(2) on a directory, so a rename or a new file in it survives power loss.
Status sync_dir(const fs::path& dir);

/// A file's magic: 8 letters naming its kind, e.g. "VDBSEGMT".
using FileMagic = std::string_view;

/// Writes `body` under the header above, atomically replacing `path`.
Status write_checked_file(const fs::path& path, FileMagic magic, std::uint32_t version,
                          std::string_view body);

/// Reads a file written by write_checked_file and returns its body. Refuses another magic,
/// a version above `max_version`, a bad checksum or a wrong size, naming the file. The file's
/// version goes to `version` when given (a reader of several versions).
Expected<std::string> read_checked_file(const fs::path& path, FileMagic magic,
                                        std::uint32_t max_version,
                                        std::uint32_t* version = nullptr);

/// A file written by write_checked_file, mapped read-only: its body is read where it lies, page
/// by page as it is touched, rather than copied into memory. Opening checks the header and the
/// checksum like read_checked_file (one pass over the file), then releases the pages it read.
class MappedFile {
public:
  static Expected<std::unique_ptr<MappedFile>> open(const fs::path& path, FileMagic magic,
                                                    std::uint32_t max_version);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::string_view body() const noexcept;
  std::uint32_t version() const noexcept { return version_; }
  /// Lets the kernel drop the pages read so far (after a pass over the body): they are read
  /// again from the file when touched.
  void release() const noexcept;
  /// The whole file's size.
  std::uint64_t size() const noexcept { return size_; }

private:
  MappedFile() = default;
  void* data_ = nullptr;
  std::uint64_t size_ = 0;
  std::uint32_t version_ = 0;
};

/// Tests only: while set to an errno value, every File::write_all and File::sync fails with it
/// (a full disk: ENOSPC; a failing one: EIO). 0 restores normal writes.
void inject_write_fault(int err) noexcept;
/// Tests only: while set, every File::sync fails with this errno value (writes succeed): a disk
/// that loses data it had accepted. 0 restores normal syncs.
void inject_sync_fault(int err) noexcept;

} // namespace vdb
