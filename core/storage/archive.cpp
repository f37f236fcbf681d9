#include "core/storage/archive.hpp"

#include "core/common/crc32c.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <optional>
#include <set>

namespace vdb {
namespace {

constexpr std::size_t kBlock = 512;
constexpr std::size_t kChunk = 1 << 20;
constexpr const char* kManifest = "manifest.json";
constexpr std::uint64_t kMaxManifest = 64U << 20;

using Header = std::array<char, kBlock>;

// A size field: 11 octal digits, or base-256 (GNU) past 8 GiB.
void put_size(char* field, std::uint64_t size) {
  if (size < (std::uint64_t{1} << 33)) {
    std::snprintf(field, 12, "%011llo", static_cast<unsigned long long>(size));
    return;
  }
  std::memset(field, 0, 12);
  field[0] = static_cast<char>(0x80);
  for (int i = 11; i >= 4; --i, size >>= 8) {
    field[i] = static_cast<char>(size & 0xFF);
  }
}

std::optional<std::uint64_t> get_octal(const char* field, std::size_t n) {
  if ((static_cast<unsigned char>(field[0]) & 0x80) != 0) { // base-256
    std::uint64_t v = 0;
    for (std::size_t i = 1; i < n; ++i) {
      if (v >> 56 != 0) {
        return std::nullopt;
      }
      v = (v << 8) | static_cast<unsigned char>(field[i]);
    }
    return v;
  }
  std::uint64_t v = 0;
  std::size_t i = 0;
  while (i < n && field[i] == ' ') {
    ++i;
  }
  bool any = false;
  for (; i < n && field[i] >= '0' && field[i] <= '7'; ++i) {
    v = v * 8 + static_cast<std::uint64_t>(field[i] - '0');
    any = true;
  }
  for (; i < n; ++i) {
    if (field[i] != '\0' && field[i] != ' ') {
      return std::nullopt;
    }
  }
  return any ? std::optional<std::uint64_t>(v) : std::nullopt;
}

unsigned checksum(const Header& h) {
  unsigned sum = 0;
  for (std::size_t i = 0; i < kBlock; ++i) {
    sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(h[i]);
  }
  return sum;
}

Header header_for(const std::string& path, std::uint64_t size) {
  Header h{};
  std::memcpy(h.data(), path.data(), path.size());
  std::snprintf(h.data() + 100, 8, "%07o", 0644);
  std::snprintf(h.data() + 108, 8, "%07o", 0);
  std::snprintf(h.data() + 116, 8, "%07o", 0);
  put_size(h.data() + 124, size);
  std::snprintf(h.data() + 136, 12, "%011llo", static_cast<unsigned long long>(std::time(nullptr)));
  h[156] = '0';
  std::memcpy(h.data() + 257, "ustar", 6);
  std::memcpy(h.data() + 263, "00", 2);
  std::snprintf(h.data() + 148, 8, "%06o", checksum(h));
  h[155] = ' ';
  return h;
}

Status pad(File& out, std::uint64_t size) {
  static const std::array<char, kBlock> kZeros{};
  const std::size_t rest = (kBlock - size % kBlock) % kBlock;
  return out.write_all(std::string_view(kZeros.data(), rest));
}

// Reads a whole source file in chunks, calling `use` on each.
template <class Use> Status read_chunks(const fs::path& path, Use&& use) {
  auto in = File::open(path, O_RDONLY);
  VDB_TRY(in);
  auto size = (*in)->size();
  VDB_TRY(size);
  std::string buffer;
  for (std::uint64_t at = 0; at < *size; at += kChunk) {
    buffer.resize(static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, *size - at)));
    VDB_TRY((*in)->read_at(at, buffer));
    VDB_TRY(use(std::string_view(buffer)));
  }
  return {};
}

} // namespace

bool safe_archive_path(std::string_view path) noexcept {
  if (path.empty() || path.size() > 99 || path.front() == '/' || path.back() == '/') {
    return false;
  }
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    const std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") {
      return false;
    }
    for (const char c : part) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-';
      if (!ok) {
        return false;
      }
    }
    start = end + 1;
  }
  return true;
}

Expected<std::uint64_t> write_archive(const fs::path& out, const std::vector<ArchiveEntry>& entries,
                                      const Json& manifest_fields) {
  Json manifest = manifest_fields;
  manifest["format"] = 1;
  manifest["files"] = Json::array();
  for (const ArchiveEntry& e : entries) {
    if (!safe_archive_path(e.path) || e.path == kManifest) {
      return Error{Errc::internal, "archive: bad entry path " + e.path};
    }
    std::uint32_t crc = 0;
    std::uint64_t size = 0;
    VDB_TRY(read_chunks(e.source, [&](std::string_view chunk) {
      crc = crc32c(chunk.data(), chunk.size(), crc);
      size += chunk.size();
      return Status();
    }));
    manifest["files"].push_back({{"path", e.path}, {"size", size}, {"crc32c", crc}});
  }
  fs::path tmp = out;
  tmp += ".tmp";
  std::uint64_t total = 0;
  {
    auto file = File::open(tmp, O_WRONLY | O_CREAT | O_TRUNC);
    VDB_TRY(file);
    File& f = **file;
    const std::string text = manifest.dump(2);
    const Header mh = header_for(kManifest, text.size());
    VDB_TRY(f.write_all(std::string_view(mh.data(), kBlock)));
    VDB_TRY(f.write_all(text));
    VDB_TRY(pad(f, text.size()));
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const std::uint64_t size = manifest["files"][i]["size"].get<std::uint64_t>();
      const Header h = header_for(entries[i].path, size);
      VDB_TRY(f.write_all(std::string_view(h.data(), kBlock)));
      std::uint64_t copied = 0;
      VDB_TRY(read_chunks(entries[i].source, [&](std::string_view chunk) {
        copied += chunk.size();
        return f.write_all(chunk);
      }));
      if (copied != size) {
        return Error{Errc::internal,
                     "archive: " + entries[i].source.string() + " changed while it was archived"};
      }
      VDB_TRY(pad(f, size));
    }
    static const std::array<char, 2 * kBlock> kEnd{};
    VDB_TRY(f.write_all(std::string_view(kEnd.data(), kEnd.size())));
    VDB_TRY(f.sync());
    auto size = f.size();
    VDB_TRY(size);
    total = *size;
  }
  std::error_code ec;
  fs::rename(tmp, out, ec);
  if (ec) {
    return Error{Errc::io_error, "rename " + tmp.string() + ": " + ec.message()};
  }
  VDB_TRY(sync_dir(out.parent_path()));
  return total;
}

Expected<Json> extract_archive(const fs::path& archive, const fs::path& dir) {
  auto in = File::open(archive, O_RDONLY);
  VDB_TRY(in);
  auto archive_size = (*in)->size();
  VDB_TRY(archive_size);
  const std::string name = archive.string();
  const auto bad = [&](const std::string& why) {
    std::error_code ec;
    fs::remove_all(dir, ec);
    return Error{Errc::invalid_argument, "snapshot " + name + ": " + why};
  };
  if (::mkdir(dir.c_str(), 0755) != 0) {
    return os_error(errno, "create " + dir.string());
  }
  std::uint64_t at = 0;
  Json manifest;
  std::map<std::string, std::pair<std::uint64_t, std::uint32_t>> expected; // size, crc
  std::set<std::string> seen;
  std::string buffer;
  while (true) {
    Header h{};
    if (at + kBlock > *archive_size) {
      return bad("ends without the end-of-archive blocks");
    }
    std::string block(kBlock, '\0');
    VDB_TRY((*in)->read_at(at, block));
    at += kBlock;
    std::memcpy(h.data(), block.data(), kBlock);
    if (std::all_of(h.begin(), h.end(), [](char c) { return c == '\0'; })) {
      break; // the end
    }
    const auto sum = get_octal(h.data() + 148, 8);
    if (!sum || *sum != checksum(h)) {
      return bad("an entry header fails its checksum (at byte " + std::to_string(at - kBlock) +
                 ")");
    }
    std::string path(h.data(), strnlen(h.data(), 100));
    const std::string prefix(h.data() + 345, strnlen(h.data() + 345, 155));
    if (!prefix.empty()) {
      path = prefix + "/" + path;
    }
    const char type = h[156];
    if (type != '0' && type != '\0') {
      return bad("entry '" + path.substr(0, 100) + "' is not a regular file (type '" +
                 std::string(1, type) + "'): links, folders and devices are refused");
    }
    if (!safe_archive_path(path)) {
      return bad("entry '" + path.substr(0, 100) +
                 "' has an unsafe path (absolute, '..', or unexpected characters)");
    }
    const auto size = get_octal(h.data() + 124, 12);
    if (!size || *size > *archive_size - at) {
      return bad("entry '" + path + "' is larger than the rest of the file");
    }
    if (!seen.insert(path).second) {
      return bad("entry '" + path + "' appears twice");
    }
    if (seen.size() == 1) {
      if (path != kManifest || *size > kMaxManifest) {
        return bad("the first entry is not a manifest.json");
      }
      std::string text(static_cast<std::size_t>(*size), '\0');
      VDB_TRY((*in)->read_at(at, text));
      manifest = Json::parse(text, nullptr, false);
      if (manifest.is_discarded() || !manifest.is_object() || manifest.value("format", 0) != 1 ||
          !manifest.contains("files") || !manifest["files"].is_array()) {
        return bad("the manifest is not a format 1 manifest");
      }
      for (const Json& f : manifest["files"]) {
        if (!f.is_object() || !f.contains("path") || !f["path"].is_string() ||
            !f.contains("size") || !f["size"].is_number_unsigned() || !f.contains("crc32c") ||
            !f["crc32c"].is_number_unsigned()) {
          return bad("a manifest entry lacks its path, size or crc32c");
        }
        expected[f["path"].get<std::string>()] = {f["size"].get<std::uint64_t>(),
                                                  f["crc32c"].get<std::uint32_t>()};
      }
    } else {
      const auto want = expected.find(path);
      if (want == expected.end()) {
        return bad("entry '" + path + "' is not in the manifest");
      }
      if (want->second.first != *size) {
        return bad("entry '" + path + "' has " + std::to_string(*size) +
                   " bytes, the manifest says " + std::to_string(want->second.first));
      }
      // Folders are made one component at a time inside `dir`, files with O_EXCL|O_NOFOLLOW:
      // nothing an entry names can lead outside.
      fs::path target = dir;
      std::size_t start = 0;
      for (std::size_t slash = path.find('/'); slash != std::string::npos;
           slash = path.find('/', start)) {
        target /= path.substr(start, slash - start);
        if (::mkdir(target.c_str(), 0755) != 0 && errno != EEXIST) {
          const int err = errno;
          fs::remove_all(dir);
          return os_error(err, "create " + target.string());
        }
        struct stat st {};
        if (::lstat(target.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
          return bad("entry '" + path + "' goes through something that is not a folder");
        }
        start = slash + 1;
      }
      target /= path.substr(start);
      auto out = File::open(target, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW);
      if (!out) {
        fs::remove_all(dir);
        return out.error();
      }
      std::uint32_t crc = 0;
      for (std::uint64_t done = 0; done < *size; done += kChunk) {
        buffer.resize(static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, *size - done)));
        VDB_TRY((*in)->read_at(at + done, buffer));
        crc = crc32c(buffer.data(), buffer.size(), crc);
        if (const Status s = (*out)->write_all(buffer); !s.ok()) {
          fs::remove_all(dir);
          return s.error();
        }
      }
      if (crc != want->second.second) {
        return bad("entry '" + path + "' fails its checksum");
      }
      if (const Status s = (*out)->sync(); !s.ok()) {
        fs::remove_all(dir);
        return s.error();
      }
    }
    at += (*size + kBlock - 1) / kBlock * kBlock;
  }
  if (manifest.is_null()) {
    return bad("the archive is empty");
  }
  for (const auto& [path, want] : expected) {
    if (seen.count(path) == 0) {
      return bad("'" + path + "' is in the manifest but not in the archive");
    }
  }
  return manifest;
}

} // namespace vdb
