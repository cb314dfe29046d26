#pragma once
// Scalar reference for depthwise Conv2D with a channel multiplier M: output channel
// o = c * M + m filters input channel c alone (PyTorch groups = in_channels ordering).
// Weights: one row per output channel holding its kernel_h x kernel_w taps.

#include <cstddef>

#include "mote/arch/isa.hpp"
#include "mote/kernels/elementwise/activations.hpp"
#include "mote/kernels/geometry.hpp"
#include "mote/layout/dense.hpp"

namespace mote::kernels {

template <class Activation = activation::Identity>
inline void depthwise_conv2d(isa::Scalar, const WindowGeometry& g,
                             const WeightMatrix<F32, DenseStorage>& weights, const float* bias,
                             const float* in, float* out, Activation = {}) noexcept {
  const std::size_t multiplier = g.out_c / g.in_c;
  for (std::size_t oy = 0; oy < g.out_h; ++oy) {
    for (std::size_t ox = 0; ox < g.out_w; ++ox) {
      float* out_pixel = out + (oy * g.out_w + ox) * g.out_c;
      for (std::size_t oc = 0; oc < g.out_c; ++oc) {
        const std::size_t ic = oc / multiplier;
        float sum = 0.0f;
        for (std::size_t ky = 0; ky < g.kernel_h; ++ky) {
          const long iy = static_cast<long>(oy * g.stride_h + ky * g.dilation_h) -
                          static_cast<long>(g.pad_top);
          if (iy < 0 || iy >= static_cast<long>(g.in_h)) continue;
          for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
            const long ix = static_cast<long>(ox * g.stride_w + kx * g.dilation_w) -
                            static_cast<long>(g.pad_left);
            if (ix < 0 || ix >= static_cast<long>(g.in_w)) continue;
            sum += weights.at(oc, ky * g.kernel_w + kx) *
                   in[(static_cast<std::size_t>(iy) * g.in_w + static_cast<std::size_t>(ix)) * g.in_c + ic];
          }
        }
        out_pixel[oc] = Activation::apply(sum + bias[oc]);
      }
    }
  }
}

}  // namespace mote::kernels
