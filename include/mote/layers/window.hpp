#pragma once
// Compile-time arithmetic of sliding windows (convolution and pooling): effective kernel
// extent, padding resolution and output size along one axis.

#include <cstddef>
#include <type_traits>

#include "mote/layers/options.hpp"

namespace mote::detail {

/// One spatial axis of a sliding window.
struct AxisWindow {
  std::size_t in = 1, kernel = 1, stride = 1, dilation = 1, pad_before = 0, pad_after = 0;
  constexpr std::size_t extent() const { return (kernel - 1) * dilation + 1; }
  constexpr bool fits() const { return kernel > 0 && in + pad_before + pad_after >= extent(); }
  /// Output size; 1 when the window does not fit, so that a failed static_assert is not buried
  /// under follow-up errors from zero-sized shapes.
  constexpr std::size_t out() const {
    return fits() && stride > 0 ? (in + pad_before + pad_after - extent()) / stride + 1 : 1;
  }
  /// Output size rounded up (pooling's ceil mode): ceil((padded - extent) / stride) + 1, less
  /// one if the last window would start past the input and its leading padding (PyTorch's and
  /// ONNX's rule). 1 when the window does not fit, as out().
  constexpr std::size_t out_ceil() const {
    if (!fits() || stride == 0) return 1;
    std::size_t n = (in + pad_before + pad_after - extent() + stride - 1) / stride + 1;
    if ((n - 1) * stride >= in + pad_before) --n;
    return n;
  }
  /// Whether each of the first `count` windows has a tap inside the input (not in the padding).
  constexpr bool every_window_reaches_input(std::size_t count) const {
    for (std::size_t o = 0; o < count; ++o) {
      bool reaches = false;
      for (std::size_t k = 0; k < kernel && !reaches; ++k) {
        const std::size_t position = o * stride + k * dilation;  // in padded coordinates
        reaches = position >= pad_before && position < pad_before + in;
      }
      if (!reaches) return false;
    }
    return true;
  }
};

/// Resolves a padding option for one axis (`axis` 0 = vertical/1-D, 1 = horizontal).
template <class PaddingOption, std::size_t Axis, std::size_t Rank>
constexpr AxisWindow resolve_axis(std::size_t in, std::size_t kernel, std::size_t stride,
                                  std::size_t dilation) {
  AxisWindow axis{in, kernel, stride, dilation, 0, 0};
  if constexpr (std::is_same_v<PaddingOption, Pad::same>) {
    // TensorFlow / ONNX SAME_UPPER: output = ceil(in / stride), extra padding after.
    const std::size_t out = stride == 0 ? 1 : (in + stride - 1) / stride;
    const std::size_t needed = (out - 1) * stride + axis.extent();
    const std::size_t total = needed > in ? needed - in : 0;
    axis.pad_before = total / 2;
    axis.pad_after = total - total / 2;
  } else if constexpr (!std::is_same_v<PaddingOption, Pad::valid>) {
    constexpr auto& p = PaddingOption::values;
    constexpr std::size_t count = sizeof(p) / sizeof(p[0]);
    if constexpr (count == 1) {
      axis.pad_before = axis.pad_after = p[0];
    } else if constexpr (count == 2 && Rank == 1) {  // Conv1D: (left, right)
      axis.pad_before = p[0];
      axis.pad_after = p[1];
    } else if constexpr (count == 2) {  // (vertical, horizontal)
      axis.pad_before = axis.pad_after = p[Axis];
    } else {  // (top, left, bottom, right)
      axis.pad_before = p[Axis];
      axis.pad_after = p[Axis + 2];
    }
  }
  return axis;
}

}  // namespace mote::detail
