#pragma once
// Scalar references for pooling over channels-last input.
// Max pooling ignores padded taps (as if padded with -inf); average pooling divides by the
// number of taps inside the input (PyTorch count_include_pad=False, TFLite, ONNX default).
// Taps past the input's end (ceil mode's last window) are skipped the same way. A window with
// no tap inside the input cannot occur: layers reject such geometry at compile time.

#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>

#include "mote/arch/isa.hpp"
#include "mote/kernels/geometry.hpp"

namespace mote::kernels {

namespace detail {
template <class Visit>
inline void for_each_window(const WindowGeometry& g, Visit&& visit) {
  for (std::size_t oy = 0; oy < g.out_h; ++oy) {
    for (std::size_t ox = 0; ox < g.out_w; ++ox) {
      const long y0 = static_cast<long>(oy * g.stride_h) - static_cast<long>(g.pad_top);
      const long x0 = static_cast<long>(ox * g.stride_w) - static_cast<long>(g.pad_left);
      visit(oy, ox, y0, x0);
    }
  }
}
}  // namespace detail

inline void max_pool2d(isa::Scalar, const WindowGeometry& g, const float* in, float* out) noexcept {
  detail::for_each_window(g, [&](std::size_t oy, std::size_t ox, long y0, long x0) {
    float* out_pixel = out + (oy * g.out_w + ox) * g.out_c;
    for (std::size_t c = 0; c < g.in_c; ++c) out_pixel[c] = -std::numeric_limits<float>::infinity();
    for (std::size_t ky = 0; ky < g.kernel_h; ++ky) {
      const long iy = y0 + static_cast<long>(ky * g.dilation_h);
      if (iy < 0 || iy >= static_cast<long>(g.in_h)) continue;
      for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
        const long ix = x0 + static_cast<long>(kx * g.dilation_w);
        if (ix < 0 || ix >= static_cast<long>(g.in_w)) continue;
        const float* in_pixel = in + (static_cast<std::size_t>(iy) * g.in_w + static_cast<std::size_t>(ix)) * g.in_c;
        // A NaN tap wins and then stays (no later comparison with NaN is true), as in PyTorch.
        for (std::size_t c = 0; c < g.in_c; ++c)
          if (in_pixel[c] > out_pixel[c] || std::isnan(in_pixel[c])) out_pixel[c] = in_pixel[c];
      }
    }
  });
}

inline void avg_pool2d(isa::Scalar, const WindowGeometry& g, const float* in, float* out) noexcept {
  detail::for_each_window(g, [&](std::size_t oy, std::size_t ox, long y0, long x0) {
    float* out_pixel = out + (oy * g.out_w + ox) * g.out_c;
    for (std::size_t c = 0; c < g.in_c; ++c) out_pixel[c] = 0.0f;
    std::size_t taps = 0;
    for (std::size_t ky = 0; ky < g.kernel_h; ++ky) {
      const long iy = y0 + static_cast<long>(ky * g.dilation_h);
      if (iy < 0 || iy >= static_cast<long>(g.in_h)) continue;
      for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
        const long ix = x0 + static_cast<long>(kx * g.dilation_w);
        if (ix < 0 || ix >= static_cast<long>(g.in_w)) continue;
        const float* in_pixel = in + (static_cast<std::size_t>(iy) * g.in_w + static_cast<std::size_t>(ix)) * g.in_c;
        for (std::size_t c = 0; c < g.in_c; ++c) out_pixel[c] += in_pixel[c];
        ++taps;
      }
    }
    const float inverse = 1.0f / static_cast<float>(taps);
    for (std::size_t c = 0; c < g.in_c; ++c) out_pixel[c] *= inverse;
  });
}

/// Copies an h x w x channels input into the middle of a (top + h + bottom) x (left + w + right)
/// x channels output whose border is +0: how AvgPool2D<..., CountPad> makes padded taps count
/// (the average pooling kernels then see no padding). memcpy/memset already run at the speed
/// of memory, so every ISA uses this one.
inline void pad_with_zeros(isa::Scalar, const float* in, std::size_t h, std::size_t w, std::size_t channels,
                           std::size_t top, std::size_t left, std::size_t bottom, std::size_t right,
                           float* out) noexcept {
  const std::size_t out_w = left + w + right, row = out_w * channels;
  std::memset(out, 0, top * row * sizeof(float));
  float* y = out + top * row;
  for (std::size_t r = 0; r < h; ++r, y += row) {
    std::memset(y, 0, left * channels * sizeof(float));
    std::memcpy(y + left * channels, in + r * w * channels, w * channels * sizeof(float));
    std::memset(y + (left + w) * channels, 0, right * channels * sizeof(float));
  }
  std::memset(y, 0, bottom * row * sizeof(float));
}

/// Mean over all pixels of an pixels x channels input.
inline void global_avg_pool(isa::Scalar, std::size_t pixels, std::size_t channels, const float* in,
                            float* out) noexcept {
  for (std::size_t c = 0; c < channels; ++c) out[c] = 0.0f;
  for (std::size_t p = 0; p < pixels; ++p)
    for (std::size_t c = 0; c < channels; ++c) out[c] += in[p * channels + c];
  const float inverse = 1.0f / static_cast<float>(pixels);
  for (std::size_t c = 0; c < channels; ++c) out[c] *= inverse;
}

}  // namespace mote::kernels
