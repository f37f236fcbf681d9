// How many points a condition or a filter matches, estimated without running it: a guaranteed
// range [min, max] and an expected value. The query planner (and users, through count with
// exact=false) read it; `min <= true count <= max` always holds.
#pragma once

#include <cstdint>
#include <vector>

namespace vdb {

struct CardinalityEstimate {
  std::uint64_t min = 0;
  std::uint64_t expected = 0;
  std::uint64_t max = 0;

  static CardinalityEstimate exact(std::uint64_t n) noexcept { return {n, n, n}; }
  /// Nothing is known: anything between none and all of `total`.
  static CardinalityEstimate unknown(std::uint64_t total) noexcept { return {0, total / 2, total}; }
  friend bool operator==(const CardinalityEstimate& a, const CardinalityEstimate& b) noexcept {
    return a.min == b.min && a.expected == b.expected && a.max == b.max;
  }
};

/// All of `parts` (AND): expected by independence, max the smallest max, min by
/// inclusion–exclusion (sum of mins minus (k-1)·total, at least 0). Empty: all of `total`.
CardinalityEstimate estimate_all(const std::vector<CardinalityEstimate>& parts,
                                 std::uint64_t total);
/// Any of `parts` (OR): expected 1 − Π(1 − p_i), min the largest min, max the sum of maxes
/// (at most `total`). Empty: all of `total` (an empty `should` does not constrain).
CardinalityEstimate estimate_any(const std::vector<CardinalityEstimate>& parts,
                                 std::uint64_t total);
/// At least `k` of `parts`: expected from the Poisson-binomial distribution of independent
/// parts; max = min(total, Σmax / k); min = (Σmin − (k−1)·total) / (n−k+1), at least 0.
CardinalityEstimate estimate_at_least(const std::vector<CardinalityEstimate>& parts, std::size_t k,
                                      std::uint64_t total);
/// The complement (NOT): total − the estimate, bounds swapped.
CardinalityEstimate estimate_not(const CardinalityEstimate& part, std::uint64_t total) noexcept;

} // namespace vdb
