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
#include "mote/kernels/dense/int4_reference.hpp"
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

/// 16-row panels of floats in scratch, read like WeightMatrix<F32, DenseStorage> by the f32
/// convolution kernels: value (r, k) at data[(r / 16 * cols + k) * 16 + r % 16].
struct F32PanelView {
  static constexpr std::size_t panel_rows = 16;
  const float* data = nullptr;
  std::size_t cols = 0;
  std::size_t panels = 0;
  const float* panel(std::size_t p) const noexcept { return data + p * cols * panel_rows; }
  std::size_t panel_count() const noexcept { return panels; }
  std::size_t bytes() const noexcept { return panels * cols * panel_rows * sizeof(float); }
};

/// Convolutions whose receptive field (kernel area x input channels) is at most this long sum in
/// f32 on integer-valued floats (kernels/conv2d/int8-inl.hpp): with so few columns the integer
/// GEMM's gathering and tiles cost more than the multiply-adds (W4's first layer: 9 columns).
/// Exact: each partial sum is an integer of magnitude at most 16 x 255 x 255 < 2^24.
inline constexpr std::size_t conv_int8_float_max_field = 16;
static_assert(conv_int8_float_max_field * 255 * 255 < (std::size_t{1} << 24));

/// Scratch bytes of the f32 path (conv_int8_float_max_field): the input as centred codes in
/// floats, the weights as centred floats in panels, a zero bias, the per-channel multipliers and
/// corrections (int4), and one input row of the ISA's activation codes.
constexpr std::size_t conv_int8_float_scratch_bytes(const WindowGeometry& g,
                                                    std::size_t padded_rows,
                                                    std::size_t cols) noexcept {
  return align_up(g.in_h * g.in_w * g.in_c * sizeof(float)) +
         align_up(padded_rows * cols * sizeof(float)) + 3 * align_up(padded_rows * sizeof(float)) +
         align_up(g.in_w * g.in_c * sizeof(std::int16_t) + 64);
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
  return std::max({simd, reference, conv_int8_float_scratch_bytes(g, padded_rows, padded_cols)});
}

/// The receptive field of output pixel (oy, ox) in (ky, kx, c) order, `padding` where the window
/// covers padding: floats (0, which quantises to the input zero point, as ONNX pads) or the codes
/// handed over by the previous layer (the code of 0). What the integer convolution references
/// multiply.
template <class Value>
inline void conv_gather_patch(const WindowGeometry& g, const Value* in, std::size_t oy, std::size_t ox, Value padding,
                              Value* patch) noexcept {
  Value* value = patch;
  for (std::size_t ky = 0; ky < g.kernel_h; ++ky) {
    const long iy =
        static_cast<long>(oy * g.stride_h + ky * g.dilation_h) - static_cast<long>(g.pad_top);
    for (std::size_t kx = 0; kx < g.kernel_w; ++kx, value += g.in_c) {
      const long ix =
          static_cast<long>(ox * g.stride_w + kx * g.dilation_w) - static_cast<long>(g.pad_left);
      if (iy < 0 || ix < 0 || iy >= static_cast<long>(g.in_h) || ix >= static_cast<long>(g.in_w)) {
        std::fill(value, value + g.in_c, padding);
      } else {
        const Value* source =
            in + (static_cast<std::size_t>(iy) * g.in_w + static_cast<std::size_t>(ix)) * g.in_c;
        std::copy(source, source + g.in_c, value);
      }
    }
  }
}
inline void conv_gather_float_patch(const WindowGeometry& g, const float* in, std::size_t oy,
                                    std::size_t ox, float* patch) noexcept {
  conv_gather_patch(g, in, oy, ox, 0.0f, patch);
}

/// What padding contributes to an integer convolution's patch: a float 0, or its code.
inline float conv_padding_value(const float*, const Int8InputQuant&) noexcept { return 0.0f; }
inline std::uint8_t conv_padding_value(const std::uint8_t*, const Int8InputQuant& input) noexcept {
  return static_cast<std::uint8_t>(quantize(0.0f, input.params, input.low, input.high));
}

/// Output pixel p's part of a convolution's output (floats or codes, one per output channel).
inline float* conv_output_at(float* out, std::size_t offset) noexcept { return out + offset; }
inline Int8CodesOut conv_output_at(const Int8CodesOut& out, std::size_t offset) noexcept {
  return Int8CodesOut{out.codes + offset, out.rows};
}

/// The integer convolution references: per output pixel, the patch (conv_gather_patch) through
/// the format's scalar Dense reference, which quantises it (or takes its codes).
template <class Matrix, class In, class Out, class Activation>
inline void conv_integer_reference(const WindowGeometry& g, const Matrix& weights,
                                   const float* bias, const In* in, Out out,
                                   const Int8InputQuant& input, Activation activation,
                                   std::byte* scratch) noexcept {
  auto* patch = reinterpret_cast<In*>(scratch);
  std::byte* dense_scratch = scratch + align_up(weights.padded_cols() * sizeof(float));
  for (std::size_t oy = 0; oy < g.out_h; ++oy)
    for (std::size_t ox = 0; ox < g.out_w; ++ox) {
      conv_gather_patch(g, in, oy, ox, conv_padding_value(in, input), patch);
      const Out pixel_out = conv_output_at(out, (oy * g.out_w + ox) * weights.rows());
      if constexpr (is_int4_format_v<typename Matrix::format>)
        dense_int4(isa::Scalar{}, weights, bias, patch, pixel_out, 1, input, activation, dense_scratch);
      else
        dense_int8(isa::Scalar{}, weights, bias, patch, pixel_out, 1, input, activation, dense_scratch);
    }
}

template <class G, class S, class In, class Out, class Activation = activation::Identity>
inline void conv2d_int8(isa::Scalar, const WindowGeometry& g,
                        const WeightMatrix<Int8<G, S>, DenseStorage>& weights, const float* bias,
                        const In* in, Out out, const Int8InputQuant& input,
                        Activation activation, std::byte* scratch) noexcept {
  conv_integer_reference(g, weights, bias, in, out, input, activation, scratch);
}

}  // namespace mote::kernels
