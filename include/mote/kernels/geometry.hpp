#pragma once
// Run-time descriptions of sliding-window geometry shared by the conv, depthwise and pool
// kernels. Layers build them as constexpr values, so after inlining the kernels see constants.

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

}  // namespace mote::kernels
