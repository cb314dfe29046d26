#pragma once
// Scalar reference for int4 Dense, and the epilogue every int4 kernel shares. Per block of 32
// columns the kernels compute dot_rb = sum_k w_rk * s_k exactly in integers, with
// s_k = u_k - 128 the input codes centred on 128; per group they convert the integer sum to f32
// and accumulate F_r = fma(float(sum_g), scale_rg, F_r) in group order. Then
//     y_r = Activation(fma(s_in, fma(128 - zu, scaled_row_sum_r, F_r), bias_r)),
// the same operations in the same order on every ISA, so outputs are bit-identical across ISAs.

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "mote/arch/isa.hpp"
#include "mote/core/aligned.hpp"
#include "mote/kernels/dense/int8_reference.hpp"
#include "mote/kernels/elementwise/activations.hpp"
#include "mote/layout/dense_int4.hpp"
#include "mote/numeric/quantization.hpp"

namespace mote::kernels {

/// Scratch bytes per sample of every int4 dense kernel: centred codes, block sums, group sums.
constexpr std::size_t int4_dense_scratch_bytes(std::size_t padded_rows, std::size_t padded_cols) noexcept {
  return align_up(padded_cols) + align_up(padded_cols / 32 * sizeof(std::int32_t)) +
         align_up(padded_rows * sizeof(float));
}

/// The shared epilogue: `f` holds F_r (see above) for the rows of one sample.
template <class Matrix, class Activation>
inline void int4_dense_epilogue(const Matrix& weights, const float* bias, const float* f, const Int8InputQuant& input,
                                float* out, Activation) noexcept {
  const float centre = static_cast<float>(128 - input.params.zero_point);
  for (std::size_t r = 0; r < weights.rows(); ++r)
    out[r] = Activation::apply(
        std::fma(input.params.scale, std::fma(centre, weights.scaled_row_sums()[r], f[r]), bias[r]));
}

template <std::size_t G, class Activation = activation::Identity>
inline void dense_int4(isa::Scalar, const WeightMatrix<Int4<G>, DenseStorage>& weights, const float* bias,
                       const float* in, float* out, std::size_t batch, const Int8InputQuant& input,
                       Activation activation, std::byte* scratch) noexcept {
  const std::size_t cols = weights.cols(), padded_cols = weights.padded_cols();
  auto* centred = reinterpret_cast<std::int8_t*>(scratch);
  auto* f = reinterpret_cast<float*>(scratch + align_up(padded_cols) + align_up(padded_cols / 32 * sizeof(std::int32_t)));
  for (std::size_t b = 0; b < batch; ++b) {
    for (std::size_t k = 0; k < padded_cols; ++k)
      centred[k] = static_cast<std::int8_t>(k < cols ? quantize(in[b * cols + k], input.params, input.low, input.high) - 128 : 0);
    const std::size_t group_cols = weights.blocks_per_group() * 32;
    for (std::size_t r = 0; r < weights.rows(); ++r) {
      float sum = 0.0f;
      for (std::size_t g = 0; g < weights.group_count(); ++g) {
        std::int32_t dot = 0;
        for (std::size_t k = g * group_cols; k < std::min(padded_cols, (g + 1) * group_cols); ++k)
          dot += (k < cols ? weights.at(r, k) : 0) * centred[k];
        sum = std::fma(static_cast<float>(dot), weights.scale(r, g * group_cols), sum);
      }
      f[r] = sum;
    }
    int4_dense_epilogue(weights, bias, f, input, out + b * weights.rows(), activation);
  }
}

}  // namespace mote::kernels
