#include "core/engine/bitmap_builder.hpp"

#include <gtest/gtest.h>

#include <random>

namespace vdb {
namespace {

TEST(BitmapBuilder, MatchesRoaringForSparseDenseAndEmptyChunks) {
  std::mt19937 gen(7);
  BitmapBuilder builder(10);
  Roaring expected;
  const auto add = [&](std::uint32_t offset) {
    builder.add(offset);
    expected.add(offset);
  };
  // Chunk 0: dense (a bitset container); chunk 1: empty; chunk 2: sparse (an array container);
  // chunk 3: exactly 4,096 values (still an array); chunk 5: a few values past a gap.
  for (int i = 0; i < 30000; ++i) {
    add(gen() % 65536);
  }
  for (int i = 0; i < 100; ++i) {
    add(2 * 65536 + gen() % 65536);
  }
  for (std::uint32_t i = 0; i < 4096; ++i) {
    add(3 * 65536 + 16 * i);
  }
  add(5 * 65536 + 65535);
  add(5 * 65536);
  add(5 * 65536); // duplicates count once
  Roaring built = builder.build();
  EXPECT_EQ(built.cardinality(), expected.cardinality());
  EXPECT_TRUE(built == expected);
  // The result is an ordinary bitmap: operations and copies work on it.
  Roaring copy = built;
  copy.remove(5 * 65536);
  EXPECT_EQ(copy.cardinality() + 1, expected.cardinality());
  EXPECT_EQ((built & expected).cardinality(), expected.cardinality());
  EXPECT_TRUE(BitmapBuilder().build().isEmpty());
}

TEST(BitmapBuilder, AnyNumberOfOffsetsGivesTheSameBitmapAsRoaring) {
  std::mt19937 gen(3);
  // Empty, sparse and dense, over a range of 1 << 20 values.
  for (const int n : {0, 1, 100, 16000, 40000}) {
    BitmapBuilder builder(1U << 20);
    Roaring expected;
    for (int i = 0; i < n; ++i) {
      const std::uint32_t offset = gen() % (1U << 20);
      builder.add(offset);
      builder.add(offset); // duplicates count once
      expected.add(offset);
    }
    const Roaring built = builder.build();
    EXPECT_TRUE(built == expected) << n;
    EXPECT_EQ(built.cardinality(), expected.cardinality()) << n;
  }
}

} // namespace
} // namespace vdb
