// A filter compiled once per request against a collection: every condition an index can serve
// becomes a bitmap of matching offsets, conditions under one filter that are all bitmaps fold
// into one, and the rest are checked on payloads. The plan borrows the Filter and the
// PointSource: both must outlive it.
#pragma once

#include "core/engine/payload_index.hpp"

namespace vdb {

class FilterPlan {
public:
  /// How index-served conditions are compiled. `bitmaps`: each becomes the bitmap of its
  /// matches (best when every candidate is visited: exact scans, counts). `checks`: a condition
  /// matching many points is checked per point against the index's copy of the point's values
  /// instead (best for graph search, which visits few points), and only small ones become
  /// bitmaps.
  enum class Mode { bitmaps, checks };

  /// Compiles `filter`; a null filter matches every live point.
  static FilterPlan compile(const Filter* filter, const PayloadIndex& index,
                            const PointSource& source, Mode mode = Mode::bitmaps);

  /// The array the plan's first per-point check reads (see FieldIndex::check_data), for
  /// prefetching; {nullptr, 0} when there is none.
  std::pair<const char*, std::size_t> check_data() const noexcept;

  /// Whether the live point at `offset` matches. (The plan never checks liveness itself.)
  bool matches(PointOffset offset) const;

  /// Every match, when the plan folded into one bitmap (live points only).
  const Bitmap* exact() const noexcept {
    if (all_) {
      return &source_->live();
    }
    return root_.kind == Node::Kind::bitmap ? &root_.set() : nullptr;
  }
  /// A set that holds every match, to iterate instead of all live points: the exact set, or the
  /// smallest bitmap among the top-level `must` conditions, or the live points.
  const Bitmap& candidates() const noexcept {
    if (all_) {
      return source_->live();
    }
    if (root_.kind == Node::Kind::bitmap) {
      return root_.set();
    }
    return narrowest_must_ ? root_.must[*narrowest_must_].set() : source_->live();
  }

private:
  struct Node {
    enum class Kind { bitmap, condition, index_check, filter };
    Kind kind = Kind::bitmap;
    // Kind::bitmap: exact matches among live points, in `shared` (an index's cached bitmap)
    // when set, in `bits` otherwise.
    std::shared_ptr<const Bitmap> shared;
    Bitmap bits;
    const Condition* condition = nullptr; // Kind::condition / index_check: what to check
    const FieldIndex* index = nullptr;    // Kind::index_check: the index that checks it
    std::vector<Node> must, should, must_not, min_should;
    std::size_t min_count = 0;
    bool has_min_should = false;

    const Bitmap& set() const noexcept { return shared ? *shared : bits; }
    /// The bitmap, to change: moved out of `bits`, or copied from `shared`.
    Bitmap take() {
      if (shared) {
        Bitmap copy = *shared;
        shared.reset();
        return copy;
      }
      return std::move(bits);
    }
  };

  FilterPlan(const PayloadIndex& index, const PointSource& source)
      : index_(&index), source_(&source) {}
  Node compile_filter(const Filter& filter) const;
  Node compile_condition(const Condition& condition) const;
  static bool fold(Node& node, const Bitmap& live);
  bool matches(const Node& node, PointOffset offset) const;
  bool check_condition(const Condition& condition, PointOffset offset) const;

  const PayloadIndex* index_;
  const PointSource* source_;
  Mode mode_ = Mode::bitmaps;
  Node root_;
  std::optional<std::size_t> narrowest_must_; // the smallest bitmap in root_.must
  bool all_ = false;
};

} // namespace vdb
