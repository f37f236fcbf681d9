// A collection's write-ahead log: every change is appended here before it is applied, so a
// restart replays what the last flushed state of the segments does not hold yet.
//
// The log is a directory of files named by the first operation they may hold
// ("00000000000000000042.wal"); a new file starts at each checkpoint, and files whose every
// record a durable checkpoint covers are deleted. A file is
//
//   header: "VDBWAL\0\0" | format version (u32) | reserved (u32) | first op (u64) | CRC-32C (u32)
//   records: length (u32) | CRC-32C of the payload (u32) | payload = op (u64) + body
//
// Opening replays the records after the checkpoint's operation, in order. The first record that
// is torn (the file ends inside it) or fails its checksum ends the log: the file is cut there,
// later files are set aside as "*.wal.corrupt", and the cut is logged with what was dropped. A
// bad record is never applied.
//
// Durability (group commit): append() writes a record with write(2), so it survives a crash of
// the process once append returns. when_durable() calls back once an fdatasync covered the
// operation; one background thread syncs for every waiter at once, so concurrent writers share
// syncs. A failed sync fails its waiters and every later append (the kernel may have dropped
// the pages: only a restart, which replays what is really on disk, is safe).
//
// Thread-safety: append and rotate come from one writer at a time (the collection's write
// lock); when_durable and wait_durable from any thread.
#pragma once

#include "core/common/error.hpp"
#include "core/storage/files.hpp"

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

namespace vdb {

class Wal {
public:
  /// Called for each record to replay; an error stops the replay and fails open().
  using Replay = std::function<Status(std::uint64_t op, std::string_view body)>;

  /// What open() found.
  struct Recovered {
    std::uint64_t last_op = 0;  ///< the last operation in the log (or `after_op`)
    std::uint64_t replayed = 0; ///< records applied
    std::string cut;            ///< empty, or what was cut from a torn or corrupt tail
  };

  /// Opens (creating when missing) the log in `dir`, replaying records with op > `after_op`.
  static Expected<std::unique_ptr<Wal>> open(const fs::path& dir, std::uint64_t after_op,
                                             const Replay& replay, Recovered* recovered = nullptr);
  /// Stops the sync thread after answering every waiter (a final sync).
  ~Wal();
  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;

  /// Appends the record of operation `op` (larger than every op before it). When the write
  /// fails, the partial record is cut off again and the log stays usable.
  Status append(std::uint64_t op, std::string_view body);
  /// Calls `done` once `op` is durable (from the sync thread, or at once when it already is).
  void when_durable(std::uint64_t op, std::function<void(Status)> done);
  /// Blocks until `op` is durable.
  Status wait_durable(std::uint64_t op);
  /// Syncs the current file and starts a new one whose first operation is `next_op`.
  Status rotate(std::uint64_t next_op);
  /// Deletes the files whose every record has op <= `covered_op` (a durable checkpoint holds
  /// them). The current file always stays.
  Status remove_covered_files(std::uint64_t covered_op);
  /// Starts a new file once the current one holds more than `bytes` (wal_capacity_mb); 0: only
  /// checkpoints start new files.
  void set_capacity(std::uint64_t bytes);

  std::uint64_t last_op() const;
  /// Bytes in the log's files.
  std::uint64_t bytes() const;
  /// fdatasync calls so far (each may cover many writes).
  std::uint64_t syncs() const;

private:
  struct Waiter {
    std::uint64_t op;
    std::function<void(Status)> done;
  };

  Wal(fs::path dir, std::shared_ptr<File> file, std::uint64_t file_first_op, std::uint64_t end,
      std::uint64_t last_op);
  void sync_loop();
  Status rotate_locked(std::unique_lock<std::mutex>& lock, std::uint64_t next_op);

  const fs::path dir_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::shared_ptr<File> file_; // the file appended to
  std::uint64_t file_first_op_;
  std::uint64_t end_;           // bytes of the current file
  std::uint64_t old_bytes_ = 0; // bytes of the files before it
  std::uint64_t written_op_;    // the last op appended
  std::uint64_t synced_op_;     // the last op known durable
  std::uint64_t syncs_ = 0;
  std::uint64_t capacity_ = 0;
  std::vector<Waiter> waiters_;
  std::optional<Error> failed_; // a failed sync: every later append fails
  bool stop_ = false;
  std::thread syncer_;
};

} // namespace vdb
