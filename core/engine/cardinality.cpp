#include "core/engine/cardinality.hpp"

#include <algorithm>
#include <cmath>

namespace vdb {
namespace {

std::uint64_t round_to(double v, std::uint64_t lo, std::uint64_t hi) {
  const auto r = static_cast<std::uint64_t>(std::llround(std::max(0.0, v)));
  return std::clamp(r, lo, hi);
}

double fraction(const CardinalityEstimate& e, std::uint64_t total) {
  return total == 0 ? 0.0 : static_cast<double>(e.expected) / static_cast<double>(total);
}

} // namespace

CardinalityEstimate estimate_all(const std::vector<CardinalityEstimate>& parts,
                                 std::uint64_t total) {
  if (parts.empty()) {
    return CardinalityEstimate::exact(total);
  }
  std::uint64_t max = total;
  double min_sum = 0;
  double p = 1;
  for (const auto& e : parts) {
    max = std::min(max, e.max);
    min_sum += static_cast<double>(e.min);
    p *= fraction(e, total);
  }
  const double excess =
      min_sum - static_cast<double>(parts.size() - 1) * static_cast<double>(total);
  const std::uint64_t min = std::min<std::uint64_t>(round_to(std::floor(excess), 0, total), max);
  return {min, round_to(p * static_cast<double>(total), min, max), max};
}

CardinalityEstimate estimate_any(const std::vector<CardinalityEstimate>& parts,
                                 std::uint64_t total) {
  if (parts.empty()) {
    return CardinalityEstimate::exact(total);
  }
  std::uint64_t min = 0;
  std::uint64_t max = 0;
  double none = 1;
  for (const auto& e : parts) {
    min = std::max(min, e.min);
    max = std::min(total, max + e.max);
    none *= 1 - fraction(e, total);
  }
  return {min, round_to((1 - none) * static_cast<double>(total), min, max), max};
}

CardinalityEstimate estimate_at_least(const std::vector<CardinalityEstimate>& parts, std::size_t k,
                                      std::uint64_t total) {
  const std::size_t n = parts.size();
  if (k == 0) {
    return CardinalityEstimate::exact(total);
  }
  if (k > n) {
    return CardinalityEstimate::exact(0);
  }
  double max_sum = 0;
  double min_sum = 0;
  // dp[j]: probability that exactly j of the parts seen so far hold (capped at k).
  std::vector<double> dp(k + 1, 0.0);
  dp[0] = 1;
  for (const auto& e : parts) {
    max_sum += static_cast<double>(e.max);
    min_sum += static_cast<double>(e.min);
    const double p = fraction(e, total);
    for (std::size_t j = k; j-- > 0;) {
      const double moved = dp[j] * p;
      dp[j] -= moved;
      dp[j + 1] += moved;
    }
  }
  const auto t = static_cast<double>(total);
  const std::uint64_t max = round_to(std::floor(max_sum / static_cast<double>(k)), 0, total);
  const double lower = (min_sum - static_cast<double>(k - 1) * t) / static_cast<double>(n - k + 1);
  const std::uint64_t min = std::min(round_to(std::floor(lower), 0, total), max);
  return {min, round_to(dp[k] * t, min, max), max};
}

CardinalityEstimate estimate_not(const CardinalityEstimate& part, std::uint64_t total) noexcept {
  const auto sub = [total](std::uint64_t v) { return v >= total ? 0 : total - v; };
  return {sub(part.max), sub(part.expected), sub(part.min)};
}

} // namespace vdb
