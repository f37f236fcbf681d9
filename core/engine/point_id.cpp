#include "core/engine/point_id.hpp"

#include <nlohmann/json.hpp>

#include <cstring>

namespace vdb {
namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

bool strip(std::string_view& text, std::string_view prefix, std::string_view suffix) noexcept {
  if (text.size() >= prefix.size() + suffix.size() && text.substr(0, prefix.size()) == prefix &&
      text.substr(text.size() - suffix.size()) == suffix) {
    text = text.substr(prefix.size(), text.size() - prefix.size() - suffix.size());
    return true;
  }
  return false;
}

} // namespace

static_assert(sizeof(PointId) == 17, "a segment keeps one PointId per point: keep it packed");

PointId PointId::from_number(std::uint64_t number) noexcept {
  PointId id;
  std::memcpy(id.bytes_.data(), &number, sizeof number);
  return id;
}

PointId PointId::from_uuid(const Uuid& bytes) noexcept {
  PointId id;
  id.is_uuid_ = true;
  id.bytes_ = bytes;
  return id;
}

Expected<PointId> PointId::parse_uuid(std::string_view text, std::string_view field) {
  const auto not_an_id = [&] {
    return invalid(field, "'" + std::string(text.substr(0, 64)) +
                              "' is neither an unsigned integer nor a UUID");
  };
  std::string_view body = text;
  if (!strip(body, "urn:uuid:", "")) {
    strip(body, "{", "}");
  }
  // Hyphens are allowed only at the canonical positions 8, 13, 18 and 23.
  const bool hyphenated = body.size() == 36;
  if (!hyphenated && body.size() != 32) {
    return not_an_id();
  }
  Uuid bytes{};
  std::size_t digit = 0;
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (hyphenated && (i == 8 || i == 13 || i == 18 || i == 23)) {
      if (body[i] != '-') {
        return not_an_id();
      }
      continue;
    }
    const int v = hex_value(body[i]);
    if (v < 0) {
      return not_an_id();
    }
    bytes[digit / 2] =
        static_cast<std::uint8_t>(bytes[digit / 2] | (v << (digit % 2 == 0 ? 4 : 0)));
    ++digit;
  }
  return from_uuid(bytes);
}

std::string PointId::to_string() const {
  if (!is_uuid_) {
    return std::to_string(number());
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < bytes_.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) {
      out.push_back('-');
    }
    out.push_back(kHex[bytes_[i] >> 4]);
    out.push_back(kHex[bytes_[i] & 0xF]);
  }
  return out;
}

std::size_t PointId::hash() const noexcept {
  // splitmix64 finalizer over the id's bits: cheap and well mixed.
  std::uint64_t x = number();
  if (is_uuid_) {
    std::uint64_t hi = 0;
    std::uint64_t lo = 0;
    std::memcpy(&hi, bytes_.data(), 8);
    std::memcpy(&lo, bytes_.data() + 8, 8);
    x = hi ^ (lo * 0x9E3779B97F4A7C15ULL) ^ 0xA5A5A5A5A5A5A5A5ULL;
  }
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return static_cast<std::size_t>(x ^ (x >> 31));
}

Expected<PointId> parse_point_id(const nlohmann::json& j, std::string_view field) {
  if (j.is_number_unsigned() || (j.is_number_integer() && j.get<std::int64_t>() >= 0)) {
    return PointId::from_number(j.get<std::uint64_t>());
  }
  if (j.is_string()) {
    return PointId::parse_uuid(j.get_ref<const std::string&>(), field);
  }
  return invalid(field, "a point id is an unsigned 64-bit integer or a UUID string, got " +
                            (j.is_number() ? std::string("a negative or fractional number")
                                           : std::string(j.type_name())));
}

nlohmann::json point_id_json(const PointId& id) {
  if (id.is_uuid()) {
    return id.to_string();
  }
  return id.number();
}

} // namespace vdb
