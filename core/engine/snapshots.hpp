// Collection snapshots: one archive (see core/storage/archive.hpp) of a checkpoint of the
// collection, kept in "<snapshots root>/<collection>/<collection>-<operation>-<time>.snapshot".
// Writes go on while a snapshot is taken: it holds the collection as of its checkpoint.
#pragma once

#include "core/engine/collection.hpp"

#include <string>
#include <vector>

namespace vdb {

struct SnapshotInfo {
  std::string name;          ///< the file name
  std::uint64_t size = 0;    ///< bytes
  std::string creation_time; ///< UTC, ISO 8601
};

/// Checkpoints `collection` and archives that checkpoint under `root`. unsupported for a
/// collection kept in memory.
Expected<SnapshotInfo> create_snapshot(Collection& collection, const fs::path& root);
/// The snapshots of `collection` under `root`, oldest first.
Expected<std::vector<SnapshotInfo>> list_snapshots(const fs::path& root,
                                                   const std::string& collection);
/// The file of snapshot `name`: a name in the collection's snapshot folder, or
/// "<other collection>/<name>". Names are checked (no "..", no absolute paths); not_found when
/// the file does not exist.
Expected<fs::path> snapshot_file(const fs::path& root, const std::string& collection,
                                 const std::string& name);
Status delete_snapshot(const fs::path& root, const std::string& collection,
                       const std::string& name);

} // namespace vdb
