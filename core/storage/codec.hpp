// Little-endian binary encoding of the records and files VDB writes (WAL records, segment
// state, graphs). A ByteWriter appends to a string; a ByteReader reads a span and fails, never
// reads past its end, when the bytes run out: every length it reads is checked against what is
// left before anything is allocated, so a corrupt length cannot make it allocate gigabytes.
#pragma once

#include "core/common/error.hpp"

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace vdb {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "VDB's files are little-endian");

class ByteWriter {
public:
  explicit ByteWriter(std::string& out) : out_(out) {}

  template <class T> void put(T value) {
    static_assert(std::is_arithmetic_v<T> || std::is_enum_v<T>);
    out_.append(reinterpret_cast<const char*>(&value), sizeof(T));
  }
  /// Raw bytes with no length in front.
  void put_raw(const void* data, std::size_t size) {
    if (size != 0) { // data may be null then (an empty vector's)
      out_.append(static_cast<const char*>(data), size);
    }
  }
  /// A u64 length, then the bytes.
  void put_bytes(std::string_view bytes) {
    put<std::uint64_t>(bytes.size());
    put_raw(bytes.data(), bytes.size());
  }
  /// A u64 count, then the elements.
  template <class T> void put_array(const T* data, std::size_t n) {
    static_assert(std::is_arithmetic_v<T>);
    put<std::uint64_t>(n);
    put_raw(data, n * sizeof(T));
  }

private:
  std::string& out_;
};

class ByteReader {
public:
  /// `what` names the file or record in errors.
  ByteReader(std::string_view bytes, std::string what) : bytes_(bytes), what_(std::move(what)) {}

  template <class T> Expected<T> get() {
    static_assert(std::is_arithmetic_v<T>);
    if (left() < sizeof(T)) {
      return truncated();
    }
    T value;
    std::memcpy(&value, bytes_.data() + at_, sizeof(T));
    at_ += sizeof(T);
    return value;
  }
  /// `size` raw bytes, borrowed from the input.
  Expected<std::string_view> get_raw(std::size_t size) {
    if (left() < size) {
      return truncated();
    }
    const std::string_view out = bytes_.substr(at_, size);
    at_ += size;
    return out;
  }
  Expected<std::string_view> get_bytes() {
    auto n = get<std::uint64_t>();
    VDB_TRY(n);
    return get_raw(*n);
  }
  /// A u64 count then that many elements, appended to `out`; at most `max` elements.
  template <class T> Status get_array(std::vector<T>& out, std::uint64_t max = ~std::uint64_t{0}) {
    static_assert(std::is_arithmetic_v<T>);
    auto n = get<std::uint64_t>();
    VDB_TRY(n);
    if (*n > max || *n > left() / sizeof(T)) {
      return corrupt("an array of " + std::to_string(*n) + " elements does not fit");
    }
    if (*n == 0) {
      return {};
    }
    const std::size_t before = out.size();
    out.resize(before + *n);
    std::memcpy(out.data() + before, bytes_.data() + at_, *n * sizeof(T));
    at_ += *n * sizeof(T);
    return {};
  }

  std::size_t left() const noexcept { return bytes_.size() - at_; }
  std::size_t position() const noexcept { return at_; }
  bool done() const noexcept { return at_ == bytes_.size(); }
  /// What the errors name.
  const std::string& what() const noexcept { return what_; }

  Error corrupt(const std::string& why) const {
    return Error{Errc::corrupt, what_ + ": " + why + " (at byte " + std::to_string(at_) + ")"};
  }

private:
  Error truncated() const { return corrupt("ends early"); }

  std::string_view bytes_;
  std::string what_;
  std::size_t at_ = 0;
};

} // namespace vdb
