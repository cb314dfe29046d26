#pragma once
// Compile-time tensor shapes. Activations are stored channels-last (NHWC without the batch
// dimension): a feature map is Shape<H, W, C>, a 1-D signal Shape<L, C>, a vector Shape<N>.
// Channels-last keeps the innermost loop of convolution, depthwise, pooling and per-channel
// epilogues contiguous, which is what SIMD kernels want (the layout of XNNPACK and TFLite).

#include <array>
#include <concepts>
#include <cstddef>
#include <string>

namespace mote {

/// A compile-time shape. `Shape<28, 28, 1>` is a 28x28 single-channel image (H, W, C).
template <std::size_t... Dims>
struct Shape {
  static constexpr std::size_t rank = sizeof...(Dims);
  static constexpr std::array<std::size_t, rank> dims{Dims...};
  /// Number of elements.
  static constexpr std::size_t size = (std::size_t{1} * ... * Dims);
  /// Size of the innermost dimension (channels for feature maps).
  static constexpr std::size_t channels = rank == 0 ? 1 : dims[rank == 0 ? 0 : rank - 1];
  static constexpr bool has_zero_dim = ((Dims == 0) || ...);
  /// "[28, 28, 1]" for messages.
  static std::string to_string() {
    std::string text = "[";
    bool first = true;
    for (std::size_t dim : dims) {
      if (!first) text += ", ";
      text += std::to_string(dim);
      first = false;
    }
    return text + "]";
  }
};

/// The 1-D shape produced by Flatten from `Origin`; it remembers the origin so that a Dense
/// layer loading PyTorch weights (flattened in NCHW order) can reorder its columns to NHWC.
template <class Origin>
struct FlatShape : Shape<Origin::size> {
  using origin = Origin;
};

/// Anything with the static members of Shape.
template <class S>
concept ShapeType = requires {
  { S::rank } -> std::convertible_to<std::size_t>;
  { S::size } -> std::convertible_to<std::size_t>;
  S::dims;
};

namespace detail {
template <class S>
struct FlatOrigin {
  using type = void;
};
template <class Origin>
struct FlatOrigin<FlatShape<Origin>> {
  using type = Origin;
};
}  // namespace detail

/// The shape a 1-D shape was flattened from, or void.
template <class S>
using flat_origin_t = typename detail::FlatOrigin<S>::type;

/// Shapes compare by dimensions only (a FlatShape equals the plain Shape of the same size).
template <class A, class B>
inline constexpr bool same_dims_v = A::rank == B::rank && [] {
  for (std::size_t i = 0; i < A::rank; ++i)
    if (A::dims[i] != B::dims[i]) return false;
  return true;
}();

}  // namespace mote
