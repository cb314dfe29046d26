#pragma once
// Scalar reference for int4 Conv2D over channels-last input, and the scratch every ISA's int4
// convolution needs. Each output pixel's receptive field is gathered as floats
// (conv_gather_float_patch) and multiplied by the int4 Dense reference; the SIMD kernels
// (kernels/conv2d/int4-inl.hpp) quantise the input once instead and must equal this bit for bit.

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "mote/arch/isa.hpp"
#include "mote/core/aligned.hpp"
#include "mote/kernels/conv2d/int8_reference.hpp"
#include "mote/kernels/dense/int4_reference.hpp"
#include "mote/kernels/geometry.hpp"
#include "mote/layout/dense_int4.hpp"

namespace mote::kernels {

/// Scratch bytes of an int4 convolution on any ISA, for weights of `padded_rows` x `padded_cols`
/// (a multiple of 32). SIMD: the input's centred codes in a bordered image, one chunk of
/// conv_int8_pixel_chunk gathered rows (and the 4 padding codes the gather may write past the
/// last one), then the Dense kernel's block sums and group sums per row. The reference: one
/// float patch and the Dense reference's scratch.
constexpr std::size_t conv_int4_scratch_bytes(const WindowGeometry& g, std::size_t padded_rows,
                                              std::size_t padded_cols) noexcept {
  const std::size_t simd =
      align_up(conv_int8_bordered_h(g) * conv_int8_bordered_w(g) * g.in_c) +
      align_up(conv_int8_pixel_chunk * padded_cols + 4) +
      conv_int8_pixel_chunk * (align_up(padded_cols / 32 * sizeof(std::int32_t)) +
                               align_up(padded_rows * sizeof(float)));
  const std::size_t reference =
      align_up(padded_cols * sizeof(float)) + int4_dense_scratch_bytes(padded_rows, padded_cols);
  const std::size_t in_floats = conv_int8_float_scratch_bytes(g, padded_rows, padded_cols);
  return std::max({simd, reference, in_floats});
}

template <std::size_t G, class Activation = activation::Identity>
inline void conv2d_int4(isa::Scalar, const WindowGeometry& g,
                        const WeightMatrix<Int4<G>, DenseStorage>& weights, const float* bias,
                        const float* in, float* out, const Int8InputQuant& input,
                        Activation activation, std::byte* scratch) noexcept {
  conv_integer_reference(g, weights, bias, in, out, input, activation, scratch);
}

}  // namespace mote::kernels
