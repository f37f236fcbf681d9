#include "core/engine/json_path.hpp"

namespace vdb {
namespace {

bool is_special(char c) noexcept { return c == '.' || c == '[' || c == ']' || c == '"'; }

} // namespace

Expected<JsonPath> JsonPath::parse(std::string_view text, std::string_view field) {
  const auto fail = [&](std::size_t at, const std::string& what) {
    return invalid(field, "invalid key path '" + std::string(text.substr(0, 80)) +
                              "' at position " + std::to_string(at) + ": " + what);
  };
  if (text.empty()) {
    return invalid(field, "the key path is empty");
  }
  if (text.size() > kMaxLength) {
    return invalid(field,
                   "the key path is longer than " + std::to_string(kMaxLength) + " characters");
  }
  JsonPath path;
  std::size_t i = 0;
  bool expect_key = true; // at the start and after '.'
  while (i < text.size()) {
    const char c = text[i];
    if (expect_key) {
      Segment key;
      if (c == '"') {
        const std::size_t close = text.find('"', i + 1);
        if (close == std::string_view::npos) {
          return fail(i, "unterminated quoted key");
        }
        key.key = std::string(text.substr(i + 1, close - i - 1));
        i = close + 1;
      } else {
        const std::size_t start = i;
        while (i < text.size() && !is_special(text[i])) {
          ++i;
        }
        key.key = std::string(text.substr(start, i - start));
      }
      if (key.key.empty()) {
        return fail(i, "empty key");
      }
      path.segments_.push_back(std::move(key));
      expect_key = false;
    } else if (c == '.') {
      expect_key = true;
      ++i;
      if (i == text.size()) {
        return fail(i, "the path ends with '.'");
      }
    } else if (c == '[') {
      const std::size_t close = text.find(']', i);
      if (close == std::string_view::npos) {
        return fail(i, "'[' without ']'");
      }
      const std::string_view inside = text.substr(i + 1, close - i - 1);
      Segment segment;
      if (inside.empty()) {
        segment.kind = Segment::Kind::every_element;
      } else {
        segment.kind = Segment::Kind::element;
        if (inside.size() > 9) {
          return fail(i + 1, "array index too large");
        }
        for (const char d : inside) {
          if (d < '0' || d > '9') {
            return fail(i + 1, "expected [] or [N] with N a number");
          }
          segment.index = segment.index * 10 + static_cast<std::size_t>(d - '0');
        }
      }
      path.segments_.push_back(std::move(segment));
      i = close + 1;
    } else {
      return fail(i, std::string("unexpected '") + c + "'");
    }
  }
  path.text_ = path.render();
  return path;
}

std::string JsonPath::render() const {
  std::string out;
  for (const Segment& s : segments_) {
    switch (s.kind) {
    case Segment::Kind::key: {
      if (!out.empty()) {
        out += '.';
      }
      bool quote = false;
      for (const char c : s.key) {
        quote = quote || is_special(c);
      }
      out += quote ? '"' + s.key + '"' : s.key;
      break;
    }
    case Segment::Kind::every_element:
      out += "[]";
      break;
    case Segment::Kind::element:
      out += '[' + std::to_string(s.index) + ']';
      break;
    }
  }
  return out;
}

JsonPath JsonPath::under(const JsonPath& prefix) const {
  JsonPath out = prefix;
  out.segments_.insert(out.segments_.end(), segments_.begin(), segments_.end());
  out.text_ = out.render();
  return out;
}

} // namespace vdb
