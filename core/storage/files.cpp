#include "core/storage/files.hpp"

#include "core/common/crc32c.hpp"
#include "core/storage/codec.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace vdb {
namespace {

std::atomic<int> g_write_fault{0};
std::atomic<int> g_sync_fault{0};

constexpr std::size_t kHeaderSize = 32;

} // namespace

void inject_write_fault(int err) noexcept { g_write_fault = err; }
void inject_sync_fault(int err) noexcept { g_sync_fault = err; }

Error os_error(int err, const std::string& what) {
  const Errc code = err == ENOSPC || err == EDQUOT ? Errc::no_space : Errc::io_error;
  return Error{code, what + ": " + std::strerror(err)};
}

Expected<std::unique_ptr<File>> File::open(const fs::path& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) {
      return Error{Errc::not_found, path.string() + ": no such file"};
    }
    return os_error(err, "open " + path.string());
  }
  return std::unique_ptr<File>(new File(fd, path));
}

File::~File() { ::close(fd_); }

Status File::write_all(std::string_view data) {
  if (const int fault = g_write_fault.load(std::memory_order_relaxed); fault != 0) {
    return os_error(fault, "write " + path_.string());
  }
  while (!data.empty()) {
    const ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return os_error(errno, "write " + path_.string());
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

Status File::sync() {
  int fault = g_write_fault.load(std::memory_order_relaxed);
  if (fault == 0) {
    fault = g_sync_fault.load(std::memory_order_relaxed);
  }
  if (fault != 0) {
    return os_error(fault, "fdatasync " + path_.string());
  }
  if (::fdatasync(fd_) != 0) {
    return os_error(errno, "fdatasync " + path_.string());
  }
  return {};
}

Status File::truncate(std::uint64_t size) {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
    return os_error(errno, "truncate " + path_.string());
  }
  if (::lseek(fd_, static_cast<off_t>(size), SEEK_SET) < 0) {
    return os_error(errno, "seek " + path_.string());
  }
  return {};
}

Expected<std::uint64_t> File::size() const {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    return os_error(errno, "stat " + path_.string());
  }
  return static_cast<std::uint64_t>(st.st_size);
}

Expected<std::string> File::read_all() const {
  auto size = this->size();
  VDB_TRY(size);
  std::string out(*size, '\0');
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return os_error(errno, "read " + path_.string());
    }
    if (n == 0) {
      out.resize(done); // shrank while reading
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  return out;
}

Status File::read_at(std::uint64_t offset, std::string& buffer) const {
  std::size_t done = 0;
  while (done < buffer.size()) {
    const ssize_t n =
        ::pread(fd_, buffer.data() + done, buffer.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return os_error(errno, "read " + path_.string());
    }
    if (n == 0) {
      return Error{Errc::corrupt, path_.string() + ": ends early"};
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

Status sync_dir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return os_error(errno, "open directory " + dir.string());
  }
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) {
    return os_error(err, "fsync directory " + dir.string());
  }
  return {};
}

Status write_checked_file(const fs::path& path, FileMagic magic, std::uint32_t version,
                          std::string_view body) {
  if (magic.size() != 8) {
    return Error{Errc::internal, "a file magic has 8 letters: " + std::string(magic)};
  }
  std::string bytes;
  bytes.reserve(kHeaderSize + body.size());
  ByteWriter w(bytes);
  w.put_raw(magic.data(), 8);
  w.put<std::uint32_t>(version);
  w.put<std::uint32_t>(0);
  w.put<std::uint64_t>(body.size());
  w.put<std::uint32_t>(crc32c(body.data(), body.size()));
  w.put<std::uint32_t>(crc32c(bytes.data(), bytes.size()));
  w.put_raw(body.data(), body.size());

  fs::path tmp = path;
  tmp += ".tmp";
  {
    auto file = File::open(tmp, O_WRONLY | O_CREAT | O_TRUNC);
    VDB_TRY(file);
    Status s = (*file)->write_all(bytes);
    if (s.ok()) {
      s = (*file)->sync();
    }
    if (!s.ok()) {
      std::error_code ignored;
      fs::remove(tmp, ignored);
      return s;
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return Error{Errc::io_error, "rename " + tmp.string() + ": " + ec.message()};
  }
  return sync_dir(path.parent_path());
}

namespace {

// Checks a checked file's header and body (`bytes`, the whole file) and returns its version.
Expected<std::uint32_t> check_file(const std::string& name, std::string_view bytes, FileMagic magic,
                                   std::uint32_t max_version) {
  if (bytes.size() < kHeaderSize) {
    return Error{Errc::corrupt, name + ": shorter than a file header (" +
                                    std::to_string(bytes.size()) + " bytes)"};
  }
  if (bytes.substr(0, 8) != magic) {
    return Error{Errc::corrupt, name + ": not a VDB " + std::string(magic) + " file (bad magic)"};
  }
  ByteReader r(bytes, name);
  (void)r.get_raw(8);
  const std::uint32_t version = *r.get<std::uint32_t>();
  (void)r.get<std::uint32_t>();
  const std::uint64_t size = *r.get<std::uint64_t>();
  const std::uint32_t body_crc = *r.get<std::uint32_t>();
  const std::uint32_t header_crc = *r.get<std::uint32_t>();
  if (header_crc != crc32c(bytes.data(), kHeaderSize - 4)) {
    return Error{Errc::corrupt, name + ": the header checksum does not match"};
  }
  if (version > max_version) {
    return Error{Errc::unsupported, name + ": format version " + std::to_string(version) +
                                        " is newer than this build reads (" +
                                        std::to_string(max_version) +
                                        "); upgrade VDB to open this data"};
  }
  if (size != bytes.size() - kHeaderSize) {
    return Error{Errc::corrupt, name + ": the header announces " + std::to_string(size) +
                                    " bytes of data, the file holds " +
                                    std::to_string(bytes.size() - kHeaderSize)};
  }
  if (body_crc != crc32c(bytes.data() + kHeaderSize, size)) {
    return Error{Errc::corrupt, name + ": the data checksum does not match"};
  }
  return version;
}

} // namespace

Expected<std::string> read_checked_file(const fs::path& path, FileMagic magic,
                                        std::uint32_t max_version, std::uint32_t* version_out) {
  auto file = File::open(path, O_RDONLY);
  VDB_TRY(file);
  auto bytes = (*file)->read_all();
  VDB_TRY(bytes);
  auto version = check_file(path.string(), *bytes, magic, max_version);
  VDB_TRY(version);
  bytes->erase(0, kHeaderSize);
  if (version_out != nullptr) {
    *version_out = *version;
  }
  return std::move(*bytes);
}

void MappedFile::release() const noexcept {
  if (data_ != nullptr) {
    (void)::madvise(data_, size_, MADV_DONTNEED);
  }
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) {
    ::munmap(data_, size_);
  }
}

Expected<std::unique_ptr<MappedFile>> MappedFile::open(const fs::path& path, FileMagic magic,
                                                       std::uint32_t max_version) {
  auto file = File::open(path, O_RDONLY);
  VDB_TRY(file);
  auto size = (*file)->size();
  VDB_TRY(size);
  std::unique_ptr<MappedFile> out(new MappedFile());
  if (*size != 0) {
    void* data = ::mmap(nullptr, *size, PROT_READ, MAP_SHARED, (*file)->fd(), 0);
    if (data == MAP_FAILED) {
      return os_error(errno, "mmap " + path.string());
    }
    out->data_ = data;
    out->size_ = *size;
  }
  const std::string_view bytes(static_cast<const char*>(out->data_), out->size_);
  auto version = check_file(path.string(), bytes, magic, max_version);
  VDB_TRY(version);
  out->version_ = *version;
  // The checksum read every page; they stay in the page cache, not in this process's RSS.
  if (out->size_ != 0) {
    (void)::madvise(out->data_, out->size_, MADV_DONTNEED);
  }
  return out;
}

std::string_view MappedFile::body() const noexcept {
  return std::string_view(static_cast<const char*>(data_), size_).substr(kHeaderSize);
}

} // namespace vdb
