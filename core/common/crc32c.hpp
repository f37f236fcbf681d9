// CRC-32C (Castagnoli), the checksum of every file header and log record VDB writes.
// Header-only and dependency-free so plugins can use it too.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

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

namespace detail {
inline std::uint32_t crc32c_table(const unsigned char* p, std::size_t size,
                                  std::uint32_t crc) noexcept {
  for (std::size_t i = 0; i < size; ++i) {
    crc = kCrc32cTable[(crc ^ p[i]) & 0xFFU] ^ (crc >> 8);
  }
  return crc;
}

#if defined(__x86_64__)
// The SSE 4.2 instruction computes the same polynomial 8 bytes at a time (about 20x the table).
__attribute__((target("sse4.2"))) inline std::uint32_t
crc32c_sse42(const unsigned char* p, std::size_t size, std::uint32_t crc) noexcept {
  std::uint64_t c = crc;
  for (; size >= 8; p += 8, size -= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    c = _mm_crc32_u64(c, word);
  }
  crc = static_cast<std::uint32_t>(c);
  for (; size > 0; ++p, --size) {
    crc = _mm_crc32_u8(crc, *p);
  }
  return crc;
}
#endif
} // namespace detail

/// Extends `crc` (the value returned for the bytes before) over `size` more bytes. Start with 0.
inline std::uint32_t crc32c(const void* data, std::size_t size, std::uint32_t crc = 0) noexcept {
  const auto* p = static_cast<const unsigned char*>(data);
#if defined(__x86_64__)
  static const bool kHardware = __builtin_cpu_supports("sse4.2");
  if (kHardware) {
    return ~detail::crc32c_sse42(p, size, ~crc);
  }
#endif
  return ~detail::crc32c_table(p, size, ~crc);
}

} // namespace vdb
