#pragma once
// Heap storage aligned for the widest vector register mote targets (AVX-512: 64 bytes).
// Allocation happens only when a buffer is created or resized, never during forward().

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <type_traits>

namespace mote {

/// Alignment of every buffer mote allocates, and the granularity of workspace offsets.
inline constexpr std::size_t buffer_alignment = 64;

/// Rounds `bytes` up to a multiple of buffer_alignment.
constexpr std::size_t align_up(std::size_t bytes) noexcept {
  return (bytes + buffer_alignment - 1) / buffer_alignment * buffer_alignment;
}

/// A fixed-size, zero-initialised, 64-byte aligned heap array of trivially copyable T.
/// Copyable (deep copy) and movable; the size is chosen at construction.
template <class T>
class AlignedBuffer {
  static_assert(std::is_trivially_copyable_v<T>,
                "AlignedBuffer holds raw numbers: its element type must be trivially copyable.");

 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(std::size_t count) : data_(allocate(count)), size_(count) {}
  AlignedBuffer(const AlignedBuffer& other) : AlignedBuffer(other.size_) {
    if (size_ != 0) std::memcpy(data_.get(), other.data_.get(), size_ * sizeof(T));
  }
  AlignedBuffer& operator=(const AlignedBuffer& other) {
    if (this != &other) *this = AlignedBuffer(other);
    return *this;
  }
  AlignedBuffer(AlignedBuffer&&) noexcept = default;
  AlignedBuffer& operator=(AlignedBuffer&&) noexcept = default;

  T* data() noexcept { return data_.get(); }
  const T* data() const noexcept { return data_.get(); }
  std::size_t size() const noexcept { return size_; }
  T& operator[](std::size_t i) noexcept { return data_[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }
  std::span<T> span() noexcept { return {data(), size_}; }
  std::span<const T> span() const noexcept { return {data(), size_}; }
  T* begin() noexcept { return data(); }
  T* end() noexcept { return data() + size_; }
  const T* begin() const noexcept { return data(); }
  const T* end() const noexcept { return data() + size_; }

 private:
  struct Deleter {
    void operator()(T* p) const noexcept {
      ::operator delete[](static_cast<void*>(p), std::align_val_t{buffer_alignment});
    }
  };
  static std::unique_ptr<T[], Deleter> allocate(std::size_t count) {
    if (count == 0) return nullptr;
    void* raw = ::operator new[](align_up(count * sizeof(T)), std::align_val_t{buffer_alignment});
    std::memset(raw, 0, align_up(count * sizeof(T)));
    return std::unique_ptr<T[], Deleter>(static_cast<T*>(raw));
  }

  std::unique_ptr<T[], Deleter> data_;
  std::size_t size_ = 0;
};

}  // namespace mote
