#include "core/engine/snapshots.hpp"

#include "core/storage/archive.hpp"

#include <algorithm>
#include <ctime>

namespace vdb {
namespace {

std::string utc_now(const char* format) {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[64];
  std::strftime(text, sizeof text, format, &tm);
  return text;
}

SnapshotInfo info_of(const fs::path& file) {
  SnapshotInfo info;
  info.name = file.filename().string();
  std::error_code ec;
  info.size = fs::file_size(file, ec);
  const auto written = fs::last_write_time(file, ec);
  const auto system = std::chrono::time_point_cast<std::chrono::system_clock::duration>(
      written - fs::file_time_type::clock::now() + std::chrono::system_clock::now());
  const std::time_t t = std::chrono::system_clock::to_time_t(system);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[64];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  info.creation_time = text;
  return info;
}

} // namespace

Expected<SnapshotInfo> create_snapshot(Collection& collection, const fs::path& root) {
  const fs::path dir = root / collection.name();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return Error{Errc::io_error, "create " + dir.string() + ": " + ec.message()};
  }
  const std::string name = collection.name() + "-" +
                           std::to_string(collection.info().last_operation) + "-" +
                           utc_now("%Y-%m-%d-%H-%M-%S") + ".snapshot";
  auto size = collection.snapshot(dir / name);
  VDB_TRY(size);
  return info_of(dir / name);
}

Expected<std::vector<SnapshotInfo>> list_snapshots(const fs::path& root,
                                                   const std::string& collection) {
  std::vector<SnapshotInfo> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root / collection, ec)) {
    if (entry.path().extension() == ".snapshot" && entry.is_regular_file()) {
      out.push_back(info_of(entry.path()));
    }
  }
  std::sort(out.begin(), out.end(), [](const SnapshotInfo& a, const SnapshotInfo& b) {
    return a.creation_time != b.creation_time ? a.creation_time < b.creation_time : a.name < b.name;
  });
  return out;
}

Expected<fs::path> snapshot_file(const fs::path& root, const std::string& collection,
                                 const std::string& name) {
  const std::string path = name.find('/') == std::string::npos ? collection + "/" + name : name;
  const bool one_slash = std::count(path.begin(), path.end(), '/') == 1;
  if (!one_slash || !safe_archive_path(path) || path.size() < 9 ||
      path.compare(path.size() - 9, 9, ".snapshot") != 0) {
    return Error{Errc::invalid_argument,
                 "snapshot: '" + name.substr(0, 128) +
                     "' is not a snapshot name (NAME.snapshot or COLLECTION/NAME.snapshot, no "
                     "'..' or absolute paths)"};
  }
  const fs::path file = root / path;
  std::error_code ec;
  if (!fs::is_regular_file(fs::symlink_status(file, ec))) {
    return Error{Errc::not_found, "snapshot: no snapshot '" + path + "'"};
  }
  return file;
}

Status delete_snapshot(const fs::path& root, const std::string& collection,
                       const std::string& name) {
  auto file = snapshot_file(root, collection, name);
  VDB_TRY(file);
  std::error_code ec;
  fs::remove(*file, ec);
  if (ec) {
    return Error{Errc::io_error, "delete " + file->string() + ": " + ec.message()};
  }
  return {};
}

} // namespace vdb
