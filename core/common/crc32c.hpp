// CRC-32C (Castagnoli), the checksum of every file header and log record VDB writes.
// Header-only and dependency-free so plugins can use it too.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace vdb {

namespace detail {
constexpr std::array<std::uint32_t, 256> make_crc32c_table() noexcept {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) {
      c = (c & 1U) != 0 ? (c >> 1) ^ 0x82F63B78U : c >> 1;
    }
    table[i] = c;
  }
  return table;
}
inline constexpr std::array<std::uint32_t, 256> kCrc32cTable = make_crc32c_table();
} // namespace detail

/// Extends `crc` (the value returned for the bytes before) over `size` more bytes. Start with 0.
inline std::uint32_t crc32c(const void* data, std::size_t size, std::uint32_t crc = 0) noexcept {
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  for (std::size_t i = 0; i < size; ++i) {
    crc = detail::kCrc32cTable[(crc ^ p[i]) & 0xFFU] ^ (crc >> 8);
  }
  return ~crc;
}

} // namespace vdb
