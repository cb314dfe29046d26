#pragma once
// Scalar reference for int8 depthwise Conv2D, and the scratch every ISA's kernel needs.
// out[p, o] = Activation(fma(float(acc), input scale x weight scale_o, bias_o)) with
// acc = sum over the taps inside the input of (w_o,t - zw_o)(u - zu): padding contributes nothing,
// as ONNX's QLinearConv pads with the input zero point. Every product is at most 255 x 255 in
// magnitude, so acc is exact in int32 for up to 33025 taps (int8_max_cols).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "mote/arch/isa.hpp"
#include "mote/core/aligned.hpp"
#include "mote/kernels/conv2d/int8_reference.hpp"
#include "mote/kernels/dense/int8_reference.hpp"
#include "mote/kernels/geometry.hpp"

namespace mote::kernels {

/// Kernels with multiplier 1 and at most this many taps sum in f32 on integer-valued floats
/// (kernels/depthwise/int8-inl.hpp): each partial sum is an integer of magnitude at most
/// 49 x 255 x 255 < 2^24, so every multiply-add is exact, in any order, on every ISA.
inline constexpr std::size_t depthwise_int8_float_max_taps = 49;
static_assert(depthwise_int8_float_max_taps * 255 * 255 < (std::size_t{1} << 24));

/// Scratch bytes of an int8 depthwise convolution on any ISA, the larger of its two paths.
/// Summing in f32: conv_int8_float_scratch_bytes. Summing in int32 (multipliers above 1, larger
/// kernels): the input as centred int16 codes in an image bordered by zeros, the weights
/// tap-major as centred int16, then one input row of activation codes or one pixel's int32 sums.
constexpr std::size_t depthwise_int8_scratch_bytes(const WindowGeometry& g) noexcept {
  const std::size_t padded_rows = (g.out_c + 15) / 16 * 16, taps = g.kernel_h * g.kernel_w;
  const std::size_t in_floats = conv_int8_float_scratch_bytes(g, padded_rows, taps);
  const std::size_t in_int32 =
      align_up(conv_int8_bordered_h(g) * conv_int8_bordered_w(g) * g.in_c * sizeof(std::int16_t)) +
      align_up(taps * g.out_c * sizeof(std::int16_t)) +
      align_up(std::max(g.in_w * g.in_c * sizeof(std::int16_t), g.out_c * sizeof(std::int32_t)) +
               64);
  return std::max(in_floats, in_int32);
}

template <class G, class S, class In, class Out, class Activation = activation::Identity>
inline void depthwise_int8(isa::Scalar, const WindowGeometry& g,
                           const WeightMatrix<Int8<G, S>, DenseStorage>& weights, const float* bias,
                           const In* in, Out out, const Int8InputQuant& input, Activation,
                           std::byte*) noexcept {
  const std::size_t multiplier = g.out_c / g.in_c;
  const std::int32_t zu = input.params.zero_point;
  for (std::size_t oy = 0; oy < g.out_h; ++oy) {
    for (std::size_t ox = 0; ox < g.out_w; ++ox) {
      const std::size_t pixel = (oy * g.out_w + ox) * g.out_c;
      for (std::size_t oc = 0; oc < g.out_c; ++oc) {
        const std::size_t ic = oc / multiplier;
        const std::int32_t zw = weights.params(oc).zero_point;
        std::int64_t acc = 0;
        for (std::size_t ky = 0; ky < g.kernel_h; ++ky) {
          const long iy =
              static_cast<long>(oy * g.stride_h + ky * g.dilation_h) - static_cast<long>(g.pad_top);
          if (iy < 0 || iy >= static_cast<long>(g.in_h)) continue;
          for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
            const long ix = static_cast<long>(ox * g.stride_w + kx * g.dilation_w) -
                            static_cast<long>(g.pad_left);
            if (ix < 0 || ix >= static_cast<long>(g.in_w)) continue;
            const std::int32_t u = input_code(
                in, (static_cast<std::size_t>(iy) * g.in_w + static_cast<std::size_t>(ix)) * g.in_c + ic, input);
            acc += std::int64_t{weights.at(oc, ky * g.kernel_w + kx) - zw} * (u - zu);
          }
        }
        if constexpr (is_codes_out_v<Out>) {
          out.codes[pixel + oc] =
              static_cast<std::uint8_t>(requantize_row(out.rows, oc, static_cast<std::int32_t>(acc)));
        } else {
          const float multiplier_o = input.params.scale * weights.params(oc).scale;
          out[pixel + oc] = Activation::apply(std::fma(static_cast<float>(acc), multiplier_o, bias[oc]));
        }
      }
    }
  }
}

}  // namespace mote::kernels
