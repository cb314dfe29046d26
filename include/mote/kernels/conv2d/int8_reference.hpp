#pragma once
// Scalar reference for int8 Conv2D over channels-last input, and the scratch every ISA's int8
// convolution needs. The reference gathers each output pixel's receptive field as floats (zeros
// where the window covers padding: zero quantises to the clamped zero point, as ONNX's
// QLinearConv pads with the input zero point) and runs the int8 Dense reference on it; the SIMD
// kernels (kernels/conv2d/int8-inl.hpp) quantise each input value once instead and must produce
// the same bits.

#include <algorithm>
#include <cstddef>

#include "mote/arch/isa.hpp"
#include "mote/core/aligned.hpp"
#include "mote/kernels/dense/int8_reference.hpp"
#include "mote/kernels/geometry.hpp"

namespace mote::kernels {

/// Output pixels per integer GEMM of an int8 convolution (their receptive fields are gathered
/// as codes into scratch).
inline constexpr std::size_t conv_int8_pixel_chunk = 64;

/// Height and width of the input with every tap's padding around it: the SIMD kernels quantise
/// the input into such a bordered image so that gathering needs no bounds checks.
constexpr std::size_t conv_int8_bordered_h(const WindowGeometry& g) noexcept {
  return std::max(g.pad_top + g.in_h,
                  (g.out_h - 1) * g.stride_h + (g.kernel_h - 1) * g.dilation_h + 1);
}
constexpr std::size_t conv_int8_bordered_w(const WindowGeometry& g) noexcept {
  return std::max(g.pad_left + g.in_w,
                  (g.out_w - 1) * g.stride_w + (g.kernel_w - 1) * g.dilation_w + 1);
}

/// Scratch bytes of an int8 convolution on any ISA, for weights of `padded_rows` x `padded_cols`:
/// SIMD: the bordered image and one chunk's patches (codes of at most 2 bytes), then int32 dots;
/// the reference: one float patch and the Dense reference's scratch.
constexpr std::size_t conv_int8_scratch_bytes(const WindowGeometry& g, std::size_t padded_rows,
                                              std::size_t padded_cols) noexcept {
  const std::size_t simd =
      align_up(conv_int8_bordered_h(g) * conv_int8_bordered_w(g) * g.in_c * 2) +
      align_up(conv_int8_pixel_chunk * padded_cols * 2) +
      align_up(conv_int8_pixel_chunk * padded_rows * sizeof(std::int32_t));
  const std::size_t reference = align_up(padded_cols * sizeof(float)) +
                                int8_dense_reference_scratch_bytes(padded_rows, padded_cols);
  return std::max(simd, reference);
}

template <class G, class S, class Activation = activation::Identity>
inline void conv2d_int8(isa::Scalar, const WindowGeometry& g,
                        const WeightMatrix<Int8<G, S>, DenseStorage>& weights, const float* bias,
                        const float* in, float* out, const Int8InputQuant& input,
                        Activation activation, std::byte* scratch) noexcept {
  auto* patch = reinterpret_cast<float*>(scratch);
  std::byte* dense_scratch = scratch + align_up(weights.padded_cols() * sizeof(float));
  for (std::size_t oy = 0; oy < g.out_h; ++oy) {
    for (std::size_t ox = 0; ox < g.out_w; ++ox) {
      float* value = patch;
      for (std::size_t ky = 0; ky < g.kernel_h; ++ky) {
        const long iy =
            static_cast<long>(oy * g.stride_h + ky * g.dilation_h) - static_cast<long>(g.pad_top);
        for (std::size_t kx = 0; kx < g.kernel_w; ++kx, value += g.in_c) {
          const long ix = static_cast<long>(ox * g.stride_w + kx * g.dilation_w) -
                          static_cast<long>(g.pad_left);
          if (iy < 0 || ix < 0 || iy >= static_cast<long>(g.in_h) ||
              ix >= static_cast<long>(g.in_w)) {
            std::fill(value, value + g.in_c, 0.0f);
          } else {
            const float* source =
                in +
                (static_cast<std::size_t>(iy) * g.in_w + static_cast<std::size_t>(ix)) * g.in_c;
            std::copy(source, source + g.in_c, value);
          }
        }
      }
      dense_int8(isa::Scalar{}, weights, bias, patch, out + (oy * g.out_w + ox) * g.out_c, 1, input,
                 activation, dense_scratch);
    }
  }
}

}  // namespace mote::kernels
