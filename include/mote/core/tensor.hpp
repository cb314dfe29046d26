#pragma once
// Tensors with compile-time shapes, channels-last (see shape.hpp).
//  * Tensor<S, T>      owns its elements inline (no heap), 64-byte aligned; for inputs, outputs
//                      and small activations. Large tensors belong on the heap (make_unique).
//  * TensorView<S, T>  a non-owning pointer plus the shape; T may be const.

#include <array>
#include <cassert>
#include <cstddef>
#include <span>
#include <type_traits>

#include "mote/core/aligned.hpp"
#include "mote/core/shape.hpp"

namespace mote {

namespace detail {
template <class S, class... Index>
constexpr std::size_t linear_index(Index... index) noexcept {
  static_assert(sizeof...(Index) == S::rank,
                "A tensor element is addressed with one index per dimension of its shape.");
  const std::array<std::size_t, sizeof...(Index)> at{static_cast<std::size_t>(index)...};
  std::size_t offset = 0;
  for (std::size_t d = 0; d < S::rank; ++d) {
    assert(at[d] < S::dims[d]);
    offset = offset * S::dims[d] + at[d];
  }
  return offset;
}
}  // namespace detail

/// A non-owning view of `S::size` elements of T laid out row-major (last index fastest).
template <ShapeType S, class T = float>
class TensorView {
 public:
  using shape = S;
  using element_type = T;
  static constexpr std::size_t size = S::size;

  constexpr TensorView() = default;
  constexpr explicit TensorView(T* data) noexcept : data_(data) {}
  constexpr TensorView(std::span<T, S::size> elements) noexcept  // NOLINT: implicit by design
      : data_(elements.data()) {}
  /// A view of mutable elements converts to a view of const elements.
  template <class U>
    requires std::is_same_v<const U, T> && (!std::is_same_v<U, T>)
  constexpr TensorView(TensorView<S, U> other) noexcept : data_(other.data()) {}  // NOLINT

  constexpr T* data() const noexcept { return data_; }
  constexpr std::span<T, S::size> span() const noexcept { return std::span<T, S::size>(data_, S::size); }
  constexpr T& operator[](std::size_t i) const noexcept { return data_[i]; }
  template <class... Index>
  constexpr T& operator()(Index... index) const noexcept {
    return data_[detail::linear_index<S>(index...)];
  }

 private:
  T* data_ = nullptr;
};

/// An owning tensor with inline, 64-byte aligned storage; zero-initialised.
template <ShapeType S, class T = float>
class Tensor {
 public:
  using shape = S;
  using element_type = T;
  static constexpr std::size_t size = S::size;

  constexpr T* data() noexcept { return values_.data(); }
  constexpr const T* data() const noexcept { return values_.data(); }
  constexpr std::span<T, S::size> span() noexcept { return values_; }
  constexpr std::span<const T, S::size> span() const noexcept { return values_; }
  constexpr T& operator[](std::size_t i) noexcept { return values_[i]; }
  constexpr const T& operator[](std::size_t i) const noexcept { return values_[i]; }
  template <class... Index>
  constexpr T& operator()(Index... index) noexcept {
    return values_[detail::linear_index<S>(index...)];
  }
  template <class... Index>
  constexpr const T& operator()(Index... index) const noexcept {
    return values_[detail::linear_index<S>(index...)];
  }
  constexpr TensorView<S, T> view() noexcept { return TensorView<S, T>(data()); }
  constexpr TensorView<S, const T> view() const noexcept { return TensorView<S, const T>(data()); }
  constexpr operator TensorView<S, T>() noexcept { return view(); }              // NOLINT
  constexpr operator TensorView<S, const T>() const noexcept { return view(); }  // NOLINT
  constexpr auto begin() noexcept { return values_.begin(); }
  constexpr auto end() noexcept { return values_.end(); }
  constexpr auto begin() const noexcept { return values_.begin(); }
  constexpr auto end() const noexcept { return values_.end(); }

 private:
  alignas(buffer_alignment) std::array<T, S::size> values_{};
};

}  // namespace mote
