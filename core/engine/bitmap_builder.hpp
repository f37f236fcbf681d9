// Builds a roaring bitmap from offsets in any order, in time linear in their number and in the
// offsets' range: the offsets go into a plain bit array first, which is then cut into roaring's
// 2^16-value containers directly (a bitset container when a chunk holds more than 4,096 values,
// an array container otherwise). Adding unsorted offsets one by one costs a container search
// each; sorting them first costs n log n. Ranges over a numeric index use this.
#pragma once

#include <roaring/roaring.hh>

#include <cstdint>
#include <vector>

namespace vdb {

class BitmapBuilder {
public:
  /// Offsets below `universe` (larger ones grow the array).
  explicit BitmapBuilder(std::uint32_t universe = 0) { words_.reserve((universe + 63) / 64); }

  void add(std::uint32_t offset) {
    const std::size_t word = offset / 64;
    if (word >= words_.size()) {
      words_.resize(word + 1, 0);
    }
    words_[word] |= std::uint64_t{1} << (offset % 64);
  }

  /// The bitmap of every offset added (the builder is left empty).
  Roaring build();

private:
  std::vector<std::uint64_t> words_;
};

} // namespace vdb
