#include "core/engine/bitmap_builder.hpp"

#include <roaring/containers/containers.h>

#include <algorithm>
#include <cstring>
#include <new>

namespace vdb {

Roaring BitmapBuilder::build() {
  constexpr std::size_t kChunkWords = (1U << 16) / 64;
  constexpr int kMaxArray = 4096; // roaring's DEFAULT_MAX_SIZE
  Roaring out;
  roaring_array_t* ra = &out.roaring.high_low_container;
  for (std::size_t first = 0; first < words_.size(); first += kChunkWords) {
    const std::size_t n = std::min(kChunkWords, words_.size() - first);
    const std::uint64_t* words = words_.data() + first;
    int count = 0;
    for (std::size_t i = 0; i < n; ++i) {
      count += __builtin_popcountll(words[i]);
    }
    if (count == 0) {
      continue;
    }
    const auto key = static_cast<std::uint16_t>(first / kChunkWords);
    if (count > kMaxArray) {
      bitset_container_t* c = bitset_container_create(); // zeroed
      if (c == nullptr) {
        throw std::bad_alloc();
      }
      std::memcpy(c->array, words, n * sizeof(std::uint64_t));
      c->cardinality = count;
      ra_append(ra, key, c, BITSET_CONTAINER_TYPE_CODE);
    } else {
      array_container_t* c = array_container_create_given_capacity(count);
      if (c == nullptr) {
        throw std::bad_alloc();
      }
      int at = 0;
      for (std::size_t i = 0; i < n; ++i) {
        for (std::uint64_t w = words[i]; w != 0; w &= w - 1) {
          c->array[at++] = static_cast<std::uint16_t>(i * 64 + __builtin_ctzll(w));
        }
      }
      c->cardinality = count;
      ra_append(ra, key, c, ARRAY_CONTAINER_TYPE_CODE);
    }
  }
  words_.clear();
  return out;
}

} // namespace vdb
