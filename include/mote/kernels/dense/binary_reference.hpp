#pragma once
// Scalar reference for Dense with binary weights (numeric/binary.hpp states the semantics), and
// what every binary kernel shares: the XNOR kernels' scratch size and their epilogue.
//  * f32 activations (`dense`, `dense_batch`): sum_k of +-x_k in input order in f32, then
//    fma(sum, scale_r, b_r). SIMD kernels reorder the sum (bound: dot_bound in the tests).
//  * binary activations (`dense_xnor`): the exact integer sum_k sign(w_rk) sign(x_k) by XNOR-
//    popcount of 32-bit words (std::popcount), then binary_xnor_epilogue, which every ISA runs
//    as is: outputs are bit-identical.

#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "mote/arch/isa.hpp"
#include "mote/core/aligned.hpp"
#include "mote/kernels/elementwise/activations.hpp"
#include "mote/layout/dense_binary.hpp"

namespace mote::kernels {

using BinaryMatrix = WeightMatrix<Binary, DenseStorage>;

/// Scratch bytes per sample of the XNOR kernels: the input's signs, one 32-bit word per 32
/// values (zero padded), as for the weights.
constexpr std::size_t binary_xnor_scratch_bytes(std::size_t cols) noexcept {
  return align_up((cols + Binary::values_per_word - 1) / Binary::values_per_word * sizeof(std::uint32_t));
}

/// out[r] = Activation(fma(float(d_r), scale_r, bias[r])) for rows [first, first + count), with
/// dots[i] = d_(first + i), the exact integer dot product of signs (|d| <= cols: exact in f32
/// for cols < 2^24).
template <class Activation>
inline void binary_xnor_epilogue(const BinaryMatrix& weights, const float* bias, const std::int32_t* dots,
                                 std::size_t first, std::size_t count, float* out, Activation) noexcept {
  for (std::size_t i = 0; i < count; ++i)
    out[first + i] = Activation::apply(std::fma(static_cast<float>(dots[i]), weights.scale(first + i), bias[first + i]));
}

/// f32 activations. `Activation` is applied to each output (fused epilogue; Identity by default).
template <class Activation = activation::Identity>
inline void dense(isa::Scalar, const BinaryMatrix& weights, const float* bias, const float* in, float* out,
                  Activation = {}) noexcept {
  for (std::size_t o = 0; o < weights.rows(); ++o) {
    float sum = 0.0f;
    for (std::size_t i = 0; i < weights.cols(); ++i) sum += weights.negative(o, i) ? -in[i] : in[i];
    out[o] = Activation::apply(std::fma(sum, weights.scale(o), bias[o]));
  }
}

/// `batch` rows of inputs (each weights.cols() long) to `batch` rows of outputs.
template <class Activation = activation::Identity>
inline void dense_batch(isa::Scalar, const BinaryMatrix& weights, const float* bias, const float* in, float* out,
                        std::size_t batch, Activation activation = {}) noexcept {
  for (std::size_t b = 0; b < batch; ++b)
    dense(isa::Scalar{}, weights, bias, in + b * weights.cols(), out + b * weights.rows(), activation);
}

/// Binary activations: `batch` inputs binarised by sign (Binary::negative), packed to 32-bit
/// words in `scratch` (binary_xnor_scratch_bytes(cols) per sample, as the SIMD kernels), and
/// dot products d_r = cols - 2 sum_g popcount(w_rg XOR x_g) with std::popcount (the column
/// padding is 0 in both, so it never counts). Tests check it against sums of sign products.
template <class Activation = activation::Identity>
inline void dense_xnor(isa::Scalar, const BinaryMatrix& weights, const float* bias, const float* in, float* out,
                       std::size_t batch, Activation activation, std::byte* scratch) noexcept {
  const std::size_t cols = weights.cols(), rows = weights.rows(), groups = weights.group_count();
  auto* words = reinterpret_cast<std::uint32_t*>(scratch);
  for (std::size_t b = 0; b < batch; ++b) {
    const float* x = in + b * cols;
    for (std::size_t g = 0; g < groups; ++g) {
      std::uint32_t bits = 0;
      for (std::size_t t = 0; t < Binary::values_per_word && g * Binary::values_per_word + t < cols; ++t)
        if (Binary::negative(x[g * Binary::values_per_word + t])) bits |= std::uint32_t{1} << t;
      words[g] = bits;
    }
    for (std::size_t r = 0; r < rows; ++r) {
      std::int32_t differing = 0;
      for (std::size_t g = 0; g < groups; ++g) differing += std::popcount(weights.word(r, g) ^ words[g]);
      const std::int32_t dot = static_cast<std::int32_t>(cols) - 2 * differing;
      binary_xnor_epilogue(weights, bias, &dot, r, 1, out + b * rows, activation);
    }
  }
}

}  // namespace mote::kernels
