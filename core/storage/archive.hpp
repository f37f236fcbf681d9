// Snapshot archives: a POSIX tar file (ustar; `tar tf` lists it) whose first entry is
// "manifest.json" naming every other entry with its size and CRC-32C:
//
//   {"format": 1, "kind": "vdb-collection-snapshot", "collection": "...", "operation": N,
//    "files": [{"path": "state.vdb", "size": 123, "crc32c": 456}, ...]}
//
// Extraction trusts nothing in the file: only regular-file entries are accepted (no links,
// devices or directories), paths must be relative, made of [A-Za-z0-9._-] components joined by
// '/', with no "." or ".." component; every file must be in the manifest with its size and
// checksum, and every manifest file present exactly once. Files are created with O_EXCL and
// O_NOFOLLOW inside a fresh folder, so nothing is ever written outside it.
#pragma once

#include "core/common/error.hpp"
#include "core/storage/files.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace vdb {

using Json = nlohmann::json;

struct ArchiveEntry {
  std::string path; ///< inside the archive (and under the folder it came from)
  fs::path source;  ///< the file to copy in
};

/// Writes `entries` into a new archive at `out` (replacing it atomically), with a manifest
/// holding `manifest_fields` plus "format" and "files". Returns the archive's size.
Expected<std::uint64_t> write_archive(const fs::path& out, const std::vector<ArchiveEntry>& entries,
                                      const Json& manifest_fields);

/// Checks the archive at `archive` and extracts its files into `dir`, which must not exist
/// yet (it is created). Returns the manifest. On any failure `dir` is removed again.
Expected<Json> extract_archive(const fs::path& archive, const fs::path& dir);

/// Whether `path` is an archive path extraction accepts (see above).
bool safe_archive_path(std::string_view path) noexcept;

} // namespace vdb
