// A zero-initialised array for large, randomly accessed data (graph links, vectors, codes):
// allocated 2 MiB-aligned, with its whole 2 MiB pages advised to the kernel as transparent huge
// pages, so a random walk over it misses the TLB far less often than over 4 KiB pages. The tail
// after the last whole huge page stays in small pages, so a buffer holds no more resident memory
// than its size. Where huge pages are unavailable the advice is ignored and the buffer behaves
// as plain memory.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

namespace vdb {

template <class T> class HugeBuffer {
public:
  static constexpr std::size_t kHugePage = std::size_t{2} << 20;

  HugeBuffer() = default;
  explicit HugeBuffer(std::size_t n) : size_(n) {
    if (n == 0) {
      return;
    }
    const std::size_t bytes = n * sizeof(T);
    void* memory = nullptr;
    // Smaller buffers get no huge page: cache-line alignment, no 2 MiB hole in the heap.
    if (posix_memalign(&memory, bytes >= kHugePage ? kHugePage : 64, bytes) != 0) {
      throw std::bad_alloc();
    }
    data_ = static_cast<T*>(memory);
    if (bytes >= kHugePage) {
      madvise(data_, bytes / kHugePage * kHugePage, MADV_HUGEPAGE);
    }
    std::memset(memory, 0, bytes);
  }
  ~HugeBuffer() { std::free(data_); }
  HugeBuffer(HugeBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  HugeBuffer& operator=(HugeBuffer&& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    return *this;
  }
  HugeBuffer(const HugeBuffer&) = delete;
  HugeBuffer& operator=(const HugeBuffer&) = delete;

  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  T& operator[](std::size_t i) noexcept { return data_[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }
  std::size_t size_bytes() const noexcept { return size_ * sizeof(T); }

private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

} // namespace vdb
