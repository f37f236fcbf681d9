// A payload key path, as Qdrant writes them: `a.b.c` descends into objects, `a[]` stands for
// every element of the array `a`, `a[2]` for one element, and `"a.b"` quotes a key that holds
// special characters. A condition on a path that reaches several values (through `[]`, or
// through an array it meets on the way) matches when any of them matches.
#pragma once

#include "core/common/error.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace vdb {

class JsonPath {
public:
  struct Segment {
    enum class Kind { key, every_element, element };
    Kind kind = Kind::key;
    std::string key;       ///< for Kind::key
    std::size_t index = 0; ///< for Kind::element

    friend bool operator==(const Segment& a, const Segment& b) {
      return a.kind == b.kind && a.key == b.key && a.index == b.index;
    }
  };

  /// Longest path text accepted.
  static constexpr std::size_t kMaxLength = 1024;

  /// Parses `text`; errors name `field` (the request field holding the path) and the position.
  static Expected<JsonPath> parse(std::string_view text, std::string_view field = "key");

  const std::vector<Segment>& segments() const noexcept { return segments_; }
  /// The path in canonical form (keys quoted only where they must be), kept from parsing:
  /// payload index lookups on the query path read it without building it.
  const std::string& to_string() const noexcept { return text_; }
  /// The path with `prefix` in front: nested conditions resolve their keys inside the parent's.
  JsonPath under(const JsonPath& prefix) const;

  friend bool operator==(const JsonPath& a, const JsonPath& b) {
    return a.segments_ == b.segments_;
  }
  friend bool operator<(const JsonPath& a, const JsonPath& b) { return a.text_ < b.text_; }

private:
  std::string render() const;

  std::vector<Segment> segments_;
  std::string text_;
};

} // namespace vdb
