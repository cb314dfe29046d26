#pragma once
// Scalar reference for int8 Dense, and what every int8 dense kernel shares: the description of
// the input quantisation, the scratch size, and the epilogue that turns exact int32
// accumulators into outputs. The epilogue is scalar and identical on every ISA, so float outputs
// are bit-exact across ISAs too (std::fma, never a compiler's choice of contraction).

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "mote/arch/isa.hpp"
#include "mote/core/aligned.hpp"
#include "mote/kernels/elementwise/activations.hpp"
#include "mote/layout/dense_int8.hpp"
#include "mote/layout/sparse_int8.hpp"
#include "mote/numeric/quantization.hpp"

namespace mote::kernels {

/// How a layer's float input is quantised, in the unsigned code domain u = code + offset
/// (offset 128 for int8 activations, 0 for uint8), so that every kernel sees codes in [0, 255].
struct Int8InputQuant {
  QuantParams params;      ///< scale and zero point (the zero point in the u domain)
  std::int32_t low = 0;    ///< smallest code (u domain)
  std::int32_t high = 255; ///< largest code (u domain)
};

/// Where a requantising int8 kernel writes (integer hand-over between layers, model/chain.hpp):
/// one code per output, in the next layer's unsigned domain, at `codes`, which starts an area
/// that can hold one float per output (4-byte aligned): the kernels that sum in floats put their
/// sums there first and turn them into codes in place.
struct Int8CodesOut {
  std::uint8_t* codes = nullptr;
  RequantizationRows rows;
};

/// An integer kernel's output: floats (the layer's own quantisation undone) or the next layer's
/// codes.
template <class Out>
inline constexpr bool is_codes_out_v = std::is_same_v<Out, Int8CodesOut>;

/// Input value i as a code of `input` (u domain): floats are quantised (mote::quantize), codes
/// handed over by the previous layer's requantisation are taken as they are.
inline std::int32_t input_code(const float* in, std::size_t i, const Int8InputQuant& input) noexcept {
  return quantize(in[i], input.params, input.low, input.high);
}
inline std::int32_t input_code(const std::uint8_t* in, std::size_t i, const Int8InputQuant&) noexcept {
  return in[i];
}

/// Largest input length of a layer that requantises its sums: |acc| <= K x 128 x 255 < 2^30,
/// so that acc plus a bias of at most 2^30 (requantize_max_bias) stays inside int32.
inline constexpr std::size_t int8_requantize_max_cols = 32896;
static_assert(int8_requantize_max_cols * 128 * 255 < (std::size_t{1} << 30));

/// Scratch bytes an int8 dense kernel needs per sample (activation codes of at most 2 bytes, then
/// int32 accumulators), for every ISA.
constexpr std::size_t int8_dense_scratch_bytes(std::size_t padded_rows, std::size_t padded_cols) noexcept {
  return align_up(padded_cols * sizeof(std::int16_t)) + align_up(padded_rows * sizeof(std::int32_t));
}

/// Largest input length for which every int8 accumulator fits in int32:
/// |sum (w - zw)(u - zu)| <= K * 255 * 255 < 2^31.
inline constexpr std::size_t int8_max_cols = 33025;

/// out[r] = Activation(acc_r * (input scale * weight scale_r) + bias[r]) where acc_r is the exact
/// sum over k of (w_rk - zw_r)(u_k - zu), given dot_r = sum_k w_rk * (u_k - activation_offset).
/// `sum_u` (sum of the input's u codes) is only read for asymmetric weights.
template <class Matrix, class Activation>
inline void int8_dense_epilogue(const Matrix& weights, const float* bias, const std::int32_t* dots,
                                const Int8InputQuant& input, std::int32_t activation_offset, std::int64_t sum_u,
                                float* out, Activation) noexcept {
  const std::int64_t zu = input.params.zero_point;
  const std::int64_t k = static_cast<std::int64_t>(weights.cols());
  for (std::size_t r = 0; r < weights.rows(); ++r) {
    const QuantParams& w = weights.params(r);
    std::int64_t acc = dots[r] + (activation_offset - zu) * weights.row_sum(r);
    if constexpr (!Matrix::format::symmetric) acc += w.zero_point * (zu * k - sum_u);
    const float multiplier = input.params.scale * w.scale;
    out[r] = Activation::apply(std::fma(static_cast<float>(acc), multiplier, bias[r]));
  }
}

/// The requantising epilogue: code_r = requantize_row(acc_r), acc_r the exact sum of
/// int8_dense_epilogue.
template <class Matrix>
inline void int8_dense_requantize(const Matrix& weights, const std::int32_t* dots, const Int8InputQuant& input,
                                  std::int32_t activation_offset, std::int64_t sum_u, const RequantizationRows& rows,
                                  std::uint8_t* out) noexcept {
  const std::int64_t zu = input.params.zero_point;
  const std::int64_t k = static_cast<std::int64_t>(weights.cols());
  for (std::size_t r = 0; r < weights.rows(); ++r) {
    std::int64_t acc = dots[r] + (activation_offset - zu) * weights.row_sum(r);
    if constexpr (!Matrix::format::symmetric) acc += weights.params(r).zero_point * (zu * k - sum_u);
    out[r] = static_cast<std::uint8_t>(requantize_row(rows, r, static_cast<std::int32_t>(acc)));
  }
}

/// The reference: quantise the input exactly as mote::quantize (or take the codes handed over),
/// multiply in int64, then the float epilogue or the requantising one.
template <class G, class S, class In, class Out, class Activation = activation::Identity>
inline void dense_int8(isa::Scalar, const WeightMatrix<Int8<G, S>, DenseStorage>& weights, const float* bias,
                       const In* in, Out out, std::size_t batch, const Int8InputQuant& input,
                       Activation activation, std::byte* scratch) noexcept {
  auto* dots = reinterpret_cast<std::int32_t*>(scratch);
  auto* codes = reinterpret_cast<std::int32_t*>(scratch + align_up(weights.padded_rows() * sizeof(std::int32_t)));
  for (std::size_t b = 0; b < batch; ++b) {
    const In* x = in + b * weights.cols();
    std::int64_t sum_u = 0;
    for (std::size_t i = 0; i < weights.cols(); ++i) {
      codes[i] = input_code(x, i, input);
      sum_u += codes[i];
    }
    for (std::size_t r = 0; r < weights.rows(); ++r) {
      std::int64_t dot = 0;
      for (std::size_t i = 0; i < weights.cols(); ++i) dot += std::int64_t{weights.at(r, i)} * codes[i];
      dots[r] = static_cast<std::int32_t>(dot);
    }
    if constexpr (is_codes_out_v<Out>)
      int8_dense_requantize(weights, dots, input, 0, sum_u, out.rows, out.codes + b * weights.rows());
    else
      int8_dense_epilogue(weights, bias, dots, input, 0, sum_u, out + b * weights.rows(), activation);
  }
}

/// The reference for block-sparse int8 weights: the same as the dense reference, reading codes
/// through the stored groups (skipped groups are zero codes).
template <class G, class S, std::size_t R, std::size_t C, class Activation = activation::Identity>
  requires(Int8<G, S>::symmetric)
inline void dense_int8(isa::Scalar, const WeightMatrix<Int8<G, S>, Sparse<Block<R, C>>>& weights,
                       const float* bias, const float* in, float* out, std::size_t batch, const Int8InputQuant& input,
                       Activation activation, std::byte* scratch) noexcept {
  auto* dots = reinterpret_cast<std::int32_t*>(scratch);
  auto* codes = reinterpret_cast<std::int32_t*>(scratch + align_up(weights.padded_rows() * sizeof(std::int32_t)));
  constexpr std::size_t panel_rows = WeightMatrix<Int8<G, S>, Sparse<Block<R, C>>>::panel_rows;
  for (std::size_t b = 0; b < batch; ++b) {
    const float* x = in + b * weights.cols();
    std::int64_t sum_u = 0;
    for (std::size_t i = 0; i < weights.cols(); ++i) {
      codes[i] = quantize(x[i], input.params, input.low, input.high);
      sum_u += codes[i];
    }
    for (std::size_t r = 0; r < weights.rows(); ++r) dots[r] = 0;
    for (std::size_t p = 0; p < weights.panel_count(); ++p)
      for (std::size_t j = weights.panel_begin(p); j < weights.panel_begin(p + 1); ++j)
        for (std::size_t i = 0; i < panel_rows && p * panel_rows + i < weights.rows(); ++i)
          for (std::size_t k = 0; k < 4 && weights.group_index()[j] * 4 + k < weights.cols(); ++k)
            dots[p * panel_rows + i] += std::int32_t{weights.group_codes(j)[i * 4 + k]} * codes[weights.group_index()[j] * 4 + k];
    int8_dense_epilogue(weights, bias, dots, input, 0, sum_u, out + b * weights.rows(), activation);
  }
}

/// Scratch the reference needs per sample (int32 accumulators and int32 codes).
constexpr std::size_t int8_dense_reference_scratch_bytes(std::size_t padded_rows, std::size_t padded_cols) noexcept {
  return align_up(padded_rows * sizeof(std::int32_t)) + align_up(padded_cols * sizeof(std::int32_t));
}

}  // namespace mote::kernels
