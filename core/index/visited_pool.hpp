// Visited sets for graph searches: an epoch per node, so clearing a set is one increment, and a
// pool so a search never allocates. A lease returns its set to the pool when it goes away.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace vdb {

class VisitedSet {
public:
  explicit VisitedSet(std::size_t n) : marks_(n, 0) {}

  /// Forgets every mark (O(1) except once every 2^16 - 1 uses).
  void clear() {
    if (++epoch_ == 0) {
      std::fill(marks_.begin(), marks_.end(), 0);
      epoch_ = 1;
    }
  }
  bool visited(std::uint32_t i) const noexcept { return marks_[i] == epoch_; }
  void mark(std::uint32_t i) noexcept { marks_[i] = epoch_; }
  /// Marks `i`; returns whether it was marked already.
  bool test_and_mark(std::uint32_t i) noexcept {
    const bool was = marks_[i] == epoch_;
    marks_[i] = epoch_;
    return was;
  }
  const void* address(std::uint32_t i) const noexcept { return &marks_[i]; }
  std::size_t size() const noexcept { return marks_.size(); }

private:
  std::vector<std::uint16_t> marks_;
  std::uint16_t epoch_ = 0;
};

class VisitedPool {
public:
  explicit VisitedPool(std::size_t n) : n_(n) {}

  class Lease {
  public:
    Lease(VisitedPool& pool, std::unique_ptr<VisitedSet> set)
        : pool_(&pool), set_(std::move(set)) {}
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&&) noexcept = default;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() {
      if (set_) {
        pool_->give_back(std::move(set_));
      }
    }
    VisitedSet& operator*() const noexcept { return *set_; }
    VisitedSet* operator->() const noexcept { return set_.get(); }

  private:
    VisitedPool* pool_;
    std::unique_ptr<VisitedSet> set_;
  };

  /// A cleared set, from the pool or new.
  Lease take() {
    std::unique_ptr<VisitedSet> set;
    {
      std::lock_guard lock(mutex_);
      if (!free_.empty()) {
        set = std::move(free_.back());
        free_.pop_back();
      }
    }
    if (!set) {
      set = std::make_unique<VisitedSet>(n_);
    }
    set->clear();
    return Lease(*this, std::move(set));
  }

private:
  void give_back(std::unique_ptr<VisitedSet> set) {
    std::lock_guard lock(mutex_);
    free_.push_back(std::move(set));
  }

  std::size_t n_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<VisitedSet>> free_;
};

} // namespace vdb
