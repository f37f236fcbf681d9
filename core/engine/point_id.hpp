// A point's id: an unsigned 64-bit integer or a UUID, as in Qdrant. UUIDs are accepted in any
// common text form and always written back in the canonical lowercase hyphenated form.
#pragma once

#include "core/common/error.hpp"

#include <nlohmann/json_fwd.hpp>

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace vdb {

class PointId {
public:
  using Uuid = std::array<std::uint8_t, 16>;

  /// The id 0.
  PointId() = default;
  static PointId from_number(std::uint64_t number) noexcept;
  static PointId from_uuid(const Uuid& bytes) noexcept;
  /// Parses a UUID: hyphenated ("550e8400-e29b-41d4-a716-446655440000"), simple (32 hex digits),
  /// braced ("{...}") or URN ("urn:uuid:..."); hex digits in either case. `field` names the
  /// request field in the error.
  static Expected<PointId> parse_uuid(std::string_view text, std::string_view field = "id");

  bool is_uuid() const noexcept { return is_uuid_; }
  /// The integer; 0 for a UUID.
  std::uint64_t number() const noexcept {
    std::uint64_t n = 0;
    if (!is_uuid_) {
      std::memcpy(&n, bytes_.data(), sizeof n);
    }
    return n;
  }
  /// The UUID's bytes; meaningless for an integer id.
  const Uuid& uuid() const noexcept { return bytes_; }

  /// "42", or the canonical "550e8400-e29b-41d4-a716-446655440000".
  std::string to_string() const;

  /// Integers order before UUIDs; integers by value, UUIDs by their bytes. Scroll pages and
  /// tie-breaks between equal scores follow this order.
  friend bool operator<(const PointId& a, const PointId& b) noexcept {
    if (a.is_uuid_ != b.is_uuid_) {
      return !a.is_uuid_;
    }
    return a.is_uuid_ ? a.bytes_ < b.bytes_ : a.number() < b.number();
  }
  friend bool operator==(const PointId& a, const PointId& b) noexcept {
    return a.is_uuid_ == b.is_uuid_ && a.bytes_ == b.bytes_; // an integer's other bytes are 0
  }
  friend bool operator!=(const PointId& a, const PointId& b) noexcept { return !(a == b); }

  /// A hash for unordered containers.
  std::size_t hash() const noexcept;

private:
  // 17 bytes with no padding (segments keep one per point): the UUID, or the integer in the
  // first 8 bytes in the machine's order and zeros after.
  Uuid bytes_{};
  bool is_uuid_ = false;
};

/// Reads a point id from JSON: a non-negative integer or a UUID string. Errors name `field`.
Expected<PointId> parse_point_id(const nlohmann::json& j, std::string_view field = "id");

/// The id as JSON: a number, or the canonical UUID string.
nlohmann::json point_id_json(const PointId& id);

struct PointIdHash {
  std::size_t operator()(const PointId& id) const noexcept { return id.hash(); }
};

} // namespace vdb
