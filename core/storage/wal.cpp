#include "core/storage/wal.hpp"

#include "core/common/crc32c.hpp"
#include "core/common/log.hpp"
#include "core/storage/codec.hpp"

#include <fcntl.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace vdb {
namespace {

constexpr std::string_view kMagic{"VDBWAL\0\0", 8};
constexpr std::uint32_t kVersion = 1;
constexpr std::size_t kWalHeaderSize = 28;
constexpr std::size_t kRecordHead = 8;
// A record larger than this is refused when written and taken for corruption when read.
constexpr std::uint32_t kMaxRecord = 1U << 31;

std::string file_name(std::uint64_t first_op) {
  char name[32];
  std::snprintf(name, sizeof name, "%020llu.wal", static_cast<unsigned long long>(first_op));
  return name;
}

std::string header(std::uint64_t first_op) {
  std::string out;
  ByteWriter w(out);
  w.put_raw(kMagic.data(), kMagic.size());
  w.put<std::uint32_t>(kVersion);
  w.put<std::uint32_t>(0);
  w.put<std::uint64_t>(first_op);
  w.put<std::uint32_t>(crc32c(out.data(), out.size()));
  return out;
}

Expected<std::shared_ptr<File>> create_file(const fs::path& dir, std::uint64_t first_op) {
  auto file = File::open(dir / file_name(first_op), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND);
  VDB_TRY(file);
  VDB_TRY((*file)->write_all(header(first_op)));
  VDB_TRY((*file)->sync());
  VDB_TRY(sync_dir(dir));
  return std::shared_ptr<File>(std::move(*file));
}

struct LogFile {
  fs::path path;
  std::uint64_t first_op;
};

// The log's files in order, by the first op in their names.
Expected<std::vector<LogFile>> list_files(const fs::path& dir) {
  std::vector<LogFile> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() != 24 || name.compare(20, 4, ".wal") != 0 ||
        !std::all_of(name.begin(), name.begin() + 20,
                     [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    out.push_back(LogFile{entry.path(), std::stoull(name.substr(0, 20))});
  }
  if (ec) {
    return Error{Errc::io_error, "list " + dir.string() + ": " + ec.message()};
  }
  std::sort(out.begin(), out.end(),
            [](const LogFile& a, const LogFile& b) { return a.first_op < b.first_op; });
  return out;
}

} // namespace

Wal::Wal(fs::path dir, std::shared_ptr<File> file, std::uint64_t file_first_op, std::uint64_t end,
         std::uint64_t last_op)
    : dir_(std::move(dir)), file_(std::move(file)), file_first_op_(file_first_op), end_(end),
      written_op_(last_op), synced_op_(last_op) {
  syncer_ = std::thread([this] { sync_loop(); });
}

Expected<std::unique_ptr<Wal>> Wal::open(const fs::path& dir, std::uint64_t after_op,
                                         const Replay& replay, Recovered* recovered) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return Error{Errc::io_error, "create " + dir.string() + ": " + ec.message()};
  }
  auto files = list_files(dir);
  VDB_TRY(files);
  Recovered found;
  found.last_op = after_op;
  std::uint64_t old_bytes = 0;
  std::shared_ptr<File> current;
  std::uint64_t current_first = 0;
  std::uint64_t current_end = 0;
  for (std::size_t f = 0; f < files->size(); ++f) {
    const LogFile& log_file = (*files)[f];
    auto file = File::open(log_file.path, O_RDWR | O_APPEND);
    VDB_TRY(file);
    auto bytes = (*file)->read_all();
    VDB_TRY(bytes);
    const std::string name = log_file.path.string();
    std::uint64_t good = 0; // bytes up to the last good record
    std::string why;
    if (bytes->size() < kWalHeaderSize ||
        std::string_view(*bytes).substr(0, kWalHeaderSize) != header(log_file.first_op)) {
      why =
          bytes->size() < kWalHeaderSize ? "the file header is torn" : "the file header is corrupt";
    } else {
      good = kWalHeaderSize;
      ByteReader r(*bytes, name);
      (void)r.get_raw(kWalHeaderSize);
      while (!r.done()) {
        const std::size_t at = r.position();
        const auto length = r.get<std::uint32_t>();
        const auto crc = r.get<std::uint32_t>();
        if (!length || !crc || *length < 8 || *length > kMaxRecord) {
          why = !length || !crc ? "a record header is torn" : "a record length is impossible";
          break;
        }
        const auto payload = r.get_raw(*length);
        if (!payload) {
          why = "the last record is torn (" + std::to_string(r.left()) + " of " +
                std::to_string(*length) + " bytes)";
          break;
        }
        if (crc32c(payload->data(), payload->size()) != *crc) {
          why = "a record fails its checksum";
          break;
        }
        std::uint64_t op = 0;
        std::memcpy(&op, payload->data(), 8);
        if (op <= found.last_op && op > after_op) {
          why = "operations go backwards (" + std::to_string(op) + " after " +
                std::to_string(found.last_op) + ")";
          break;
        }
        if (op > after_op) {
          if (const Status s = replay(op, payload->substr(8)); !s.ok()) {
            return Error{s.code(),
                         name + ": replaying operation " + std::to_string(op) + ": " + s.message()};
          }
          ++found.replayed;
          found.last_op = op;
        }
        good = at + kRecordHead + *length;
      }
    }
    if (!why.empty()) {
      found.cut = name + " at byte " + std::to_string(good) + ": " + why + "; cut " +
                  std::to_string(bytes->size() - good) + " bytes";
      if (good < kWalHeaderSize) { // no usable header: start the file over
        VDB_TRY((*file)->truncate(0));
        VDB_TRY((*file)->write_all(header(log_file.first_op)));
        good = kWalHeaderSize;
      } else {
        VDB_TRY((*file)->truncate(good));
      }
      VDB_TRY((*file)->sync());
      for (std::size_t later = f + 1; later < files->size(); ++later) {
        fs::path aside = (*files)[later].path;
        aside += ".corrupt";
        fs::rename((*files)[later].path, aside, ec);
        found.cut += "; set aside " + aside.string();
      }
      log::warn("WAL " + found.cut + " (the log ends at operation " +
                std::to_string(found.last_op) + ")");
    }
    if (current) {
      old_bytes += current_end;
    }
    current = std::shared_ptr<File>(std::move(*file));
    current_first = log_file.first_op;
    current_end = good;
    if (!why.empty()) {
      break;
    }
  }
  if (!current) {
    auto created = create_file(dir, after_op + 1);
    VDB_TRY(created);
    current = std::move(*created);
    current_first = after_op + 1;
    current_end = kWalHeaderSize;
  }
  if (recovered != nullptr) {
    *recovered = found;
  }
  std::unique_ptr<Wal> wal(
      new Wal(dir, std::move(current), current_first, current_end, found.last_op));
  wal->old_bytes_ = old_bytes;
  return wal;
}

Wal::~Wal() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  syncer_.join();
}

Status Wal::append(std::uint64_t op, std::string_view body) {
  if (body.size() > kMaxRecord - 8) {
    return Error{Errc::invalid_argument, "the operation is too large for one log record (" +
                                             std::to_string(body.size()) + " bytes)"};
  }
  std::string record;
  record.reserve(kRecordHead + 8 + body.size());
  ByteWriter w(record);
  w.put<std::uint32_t>(static_cast<std::uint32_t>(8 + body.size()));
  w.put<std::uint32_t>(0); // the checksum, once the payload is in place
  w.put<std::uint64_t>(op);
  w.put_raw(body.data(), body.size());
  const std::uint32_t crc = crc32c(record.data() + kRecordHead, record.size() - kRecordHead);
  std::memcpy(record.data() + 4, &crc, 4);

  std::unique_lock lock(mutex_);
  if (failed_) {
    return Error{failed_->code, "the write-ahead log is unusable after a failed sync (" +
                                    failed_->message + "); writes are refused until a restart"};
  }
  if (capacity_ != 0 && end_ > capacity_ && end_ > kWalHeaderSize) {
    VDB_TRY(rotate_locked(lock, op));
  }
  std::shared_ptr<File> file = file_;
  const std::uint64_t end = end_;
  lock.unlock();
  // Only this writer appends, so the write can run without the lock (the sync thread keeps
  // syncing meanwhile).
  const Status s = file->write_all(record);
  lock.lock();
  if (!s.ok()) {
    if (const Status undo = file->truncate(end); !undo.ok()) {
      failed_ = undo.error();
    }
    return Error{s.code(), "write-ahead log: " + s.message()};
  }
  end_ = end + record.size();
  written_op_ = op;
  return {};
}

void Wal::when_durable(std::uint64_t op, std::function<void(Status)> done) {
  std::unique_lock lock(mutex_);
  if (failed_) {
    const Error e = *failed_;
    lock.unlock();
    done(e);
    return;
  }
  if (op <= synced_op_) {
    lock.unlock();
    done(Status());
    return;
  }
  waiters_.push_back(Waiter{op, std::move(done)});
  lock.unlock();
  wake_.notify_one();
}

Status Wal::wait_durable(std::uint64_t op) {
  auto promise = std::make_shared<std::pair<std::mutex, std::condition_variable>>();
  std::optional<Status> result;
  when_durable(op, [&, promise](Status s) {
    std::lock_guard lock(promise->first);
    result = std::move(s);
    promise->second.notify_one();
  });
  std::unique_lock lock(promise->first);
  promise->second.wait(lock, [&] { return result.has_value(); });
  return *result;
}

void Wal::sync_loop() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] {
      return stop_ || (!waiters_.empty() &&
                       (failed_ || written_op_ > synced_op_ || waiters_.front().op <= synced_op_));
    });
    // Sync everything written so far: the waiters that arrive meanwhile share the next sync.
    std::shared_ptr<File> file = file_;
    const std::uint64_t target = written_op_;
    Status s;
    if (!failed_ && target > synced_op_) {
      lock.unlock();
      s = file->sync();
      lock.lock();
      ++syncs_;
    }
    if (!s.ok()) {
      failed_ = s.error();
      log::error("write-ahead log: " + s.message() + "; writes are refused until a restart");
    } else if (file == file_) {
      synced_op_ = std::max(synced_op_, target);
    }
    std::vector<Waiter> ready;
    auto keep = waiters_.begin();
    for (auto& waiter : waiters_) {
      if (failed_ || waiter.op <= synced_op_) {
        ready.push_back(std::move(waiter));
      } else {
        *keep++ = std::move(waiter);
      }
    }
    waiters_.erase(keep, waiters_.end());
    if (!ready.empty()) {
      const Status result = failed_ ? Status(*failed_) : Status();
      lock.unlock();
      for (Waiter& waiter : ready) {
        waiter.done(result);
      }
      lock.lock();
    }
    if (stop_) {
      std::vector<Waiter> rest = std::move(waiters_); // waiting for operations never written
      waiters_.clear();
      lock.unlock();
      for (Waiter& waiter : rest) {
        waiter.done(Error{Errc::unavailable, "the write-ahead log closed"});
      }
      return;
    }
  }
}

void Wal::set_capacity(std::uint64_t bytes) {
  std::lock_guard lock(mutex_);
  capacity_ = bytes;
}

Status Wal::rotate(std::uint64_t next_op) {
  std::unique_lock lock(mutex_);
  VDB_TRY(rotate_locked(lock, next_op));
  lock.unlock();
  wake_.notify_one(); // waiters covered by the sync of the old file
  return {};
}

Status Wal::rotate_locked(std::unique_lock<std::mutex>& lock, std::uint64_t next_op) {
  (void)lock;
  if (failed_) {
    return *failed_;
  }
  if (next_op == file_first_op_) {
    return {}; // the current file starts there already (nothing was written since)
  }
  VDB_TRY(file_->sync());
  synced_op_ = written_op_;
  auto fresh = create_file(dir_, next_op);
  VDB_TRY(fresh);
  old_bytes_ += end_;
  file_ = std::move(*fresh);
  file_first_op_ = next_op;
  end_ = kWalHeaderSize;
  return {};
}

Status Wal::remove_covered_files(std::uint64_t covered_op) {
  std::uint64_t current = 0;
  {
    std::lock_guard lock(mutex_);
    current = file_first_op_;
  }
  auto files = list_files(dir_);
  VDB_TRY(files);
  std::uint64_t removed = 0;
  // File i holds ops below the first op of file i + 1: it is covered when that is at most
  // covered_op + 1.
  for (std::size_t i = 0; i + 1 < files->size(); ++i) {
    const LogFile& f = (*files)[i];
    if (f.first_op >= current || (*files)[i + 1].first_op > covered_op + 1) {
      break;
    }
    std::error_code ec;
    const std::uint64_t size = fs::file_size(f.path, ec);
    fs::remove(f.path, ec);
    if (ec) {
      return Error{Errc::io_error, "remove " + f.path.string() + ": " + ec.message()};
    }
    removed += size;
  }
  {
    std::lock_guard lock(mutex_);
    old_bytes_ -= std::min(old_bytes_, removed);
  }
  return sync_dir(dir_);
}

std::uint64_t Wal::last_op() const {
  std::lock_guard lock(mutex_);
  return written_op_;
}

std::uint64_t Wal::syncs() const {
  std::lock_guard lock(mutex_);
  return syncs_;
}

std::uint64_t Wal::bytes() const {
  std::lock_guard lock(mutex_);
  return old_bytes_ + end_;
}

} // namespace vdb
