#pragma once
// Run-time descriptions of sliding-window geometry shared by the conv, depthwise and pool
// kernels. Layers build them as constexpr values, so after inlining the kernels see constants.

#include <algorithm>
#include <cstddef>

namespace mote::kernels {

/// A 2-D window sliding over an H x W x C channels-last input.
struct WindowGeometry {
  std::size_t in_h = 1, in_w = 1, in_c = 1;
  std::size_t out_h = 1, out_w = 1, out_c = 1;
  std::size_t kernel_h = 1, kernel_w = 1;
  std::size_t stride_h = 1, stride_w = 1;
  std::size_t dilation_h = 1, dilation_w = 1;
  std::size_t pad_top = 0, pad_left = 0;
};

/// Output columns [begin, end) whose every horizontal tap lies inside the input: SIMD kernels
/// run them without bounds checks.
struct ColumnRange {
  std::size_t begin = 0, end = 0;
};

inline ColumnRange interior_columns(const WindowGeometry& g) noexcept {
  const std::size_t reach = (g.kernel_w - 1) * g.dilation_w;
  ColumnRange range;
  range.begin = std::min(g.out_w, (g.pad_left + g.stride_w - 1) / g.stride_w);
  if (g.in_w + g.pad_left > reach) range.end = std::min(g.out_w, (g.in_w + g.pad_left - reach - 1) / g.stride_w + 1);
  range.end = std::max(range.end, range.begin);
  return range;
}

}  // namespace mote::kernels
