#pragma once
// Scalar reference for Conv2D over channels-last input. Weights are one row per output channel
// holding the receptive field in (ky, kx, ci) order, the order the input patch has in memory.
// Taps that fall into the padding contribute zero.

#include <cstddef>

#include "mote/arch/isa.hpp"
#include "mote/kernels/elementwise/activations.hpp"
#include "mote/kernels/geometry.hpp"
#include "mote/layout/dense.hpp"

namespace mote::kernels {

template <class Activation = activation::Identity>
inline void conv2d(isa::Scalar, const WindowGeometry& g,
                   const WeightMatrix<F32, DenseStorage>& weights, const float* bias,
                   const float* in, float* out, Activation = {}) noexcept {
  for (std::size_t oy = 0; oy < g.out_h; ++oy) {
    for (std::size_t ox = 0; ox < g.out_w; ++ox) {
      float* out_pixel = out + (oy * g.out_w + ox) * g.out_c;
      for (std::size_t oc = 0; oc < g.out_c; ++oc) {
        float sum = 0.0f;
        for (std::size_t ky = 0; ky < g.kernel_h; ++ky) {
          // Signed arithmetic: padding makes the top/left taps negative.
          const long iy = static_cast<long>(oy * g.stride_h + ky * g.dilation_h) -
                          static_cast<long>(g.pad_top);
          if (iy < 0 || iy >= static_cast<long>(g.in_h)) continue;
          for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
            const long ix = static_cast<long>(ox * g.stride_w + kx * g.dilation_w) -
                            static_cast<long>(g.pad_left);
            if (ix < 0 || ix >= static_cast<long>(g.in_w)) continue;
            const float* in_pixel =
                in + (static_cast<std::size_t>(iy) * g.in_w + static_cast<std::size_t>(ix)) * g.in_c;
            const std::size_t tap = (ky * g.kernel_w + kx) * g.in_c;
            for (std::size_t ic = 0; ic < g.in_c; ++ic) sum += weights.at(oc, tap + ic) * in_pixel[ic];
          }
        }
        out_pixel[oc] = Activation::apply(sum + bias[oc]);
      }
    }
  }
}

}  // namespace mote::kernels
