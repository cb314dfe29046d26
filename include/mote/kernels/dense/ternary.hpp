#pragma once
// Dense with ternary weights (layout/dense_ternary.hpp; semantics: numeric/ternary.hpp) on
// Binary's kernels, for every ISA tag (isa::Dynamic included): each sign plane is a binary
// matrix whose scale, 1/2, halves its sums exactly, and the two halves add up to the ternary
// sum; then the row's scale and bias, and the activation. With binary activations the planes'
// XNOR sums are exact integers, their halves too (|d| < 2^24), so the result is
// fma(float(d), s, b) with the exact ternary integer d, one scalar std::fma: bit-identical on
// every ISA. With f32 activations each plane sums +-x_k in f32 in its own order, and the ISA's
// element-wise kernels add the halves and apply scale, bias and activation: the rounding of two
// sums, an addition and a multiply-add.

#include <cmath>
#include <cstddef>
#include <type_traits>

#include "mote/core/aligned.hpp"
#include "mote/kernels/dispatch.hpp"
#include "mote/kernels/elementwise/activations.hpp"
#include "mote/layout/dense_ternary.hpp"

namespace mote::kernels {

using TernaryMatrix = WeightMatrix<Ternary, DenseStorage>;

/// Scratch bytes per sample of the ternary kernels: plane A's outputs, then, with binary
/// activations, the XNOR kernels' input signs.
constexpr std::size_t ternary_dense_scratch_bytes(std::size_t rows, std::size_t cols,
                                                  bool binary_activations) noexcept {
  return align_up(rows * sizeof(float)) + (binary_activations ? binary_xnor_scratch_bytes(cols) : 0);
}

namespace ternary_detail {

/// out = Activation(fma(first + out, s_r, b_r)) for `batch` rows of outputs, in scalar code: the
/// same operations on every ISA, as Binary's XNOR epilogue (binary_reference.hpp).
template <class Activation>
inline void exact_combine(const TernaryMatrix& weights, const float* bias, const float* first, float* out,
                          std::size_t batch) noexcept {
  const std::size_t rows = weights.rows();
  for (std::size_t b = 0; b < batch; ++b)
    for (std::size_t r = 0; r < rows; ++r)
      out[b * rows + r] =
          Activation::apply(std::fma(first[b * rows + r] + out[b * rows + r], weights.scale(r), bias[r]));
}

}  // namespace ternary_detail

/// f32 activations: `batch` rows of inputs (cols() each) to `batch` rows of outputs; `scratch`
/// holds ternary_dense_scratch_bytes(rows, cols, false) per sample. The halves are added, scaled,
/// biased and activated by the ISA's element-wise kernels (a scalar std::fma is a library call
/// in a baseline build: W1's 394 outputs cost 2.8 us that way).
template <class Isa, class Activation = activation::Identity>
inline void dense_ternary(Isa isa, const TernaryMatrix& weights, const float* bias, const float* in, float* out,
                          std::size_t batch, Activation activation, std::byte* scratch) noexcept {
  auto* first = reinterpret_cast<float*>(scratch);
  const std::size_t rows = weights.rows();
  dense_batch(isa, weights.first_plane(), weights.zero_bias(), in, first, batch, activation::Identity{});
  dense_batch(isa, weights.second_plane(), weights.zero_bias(), in, out, batch, activation::Identity{});
  add(isa, first, out, out, batch * rows);
  channel_affine(isa, weights.scales(), bias, out, out, batch, rows);
  if constexpr (!std::is_same_v<Activation, activation::Identity>) activate(isa, activation, out, out, batch * rows);
}

/// Binary activations (the inputs' signs): exact integer sums, bit-identical on every ISA;
/// `scratch` holds ternary_dense_scratch_bytes(rows, cols, true) per sample. Piecewise-linear
/// activations are applied in the exact epilogue; others (tanh, sigmoid) by the ISA's
/// element-wise kernel afterwards, as for Binary.
template <class Isa, class Activation = activation::Identity>
inline void dense_ternary_xnor(Isa isa, const TernaryMatrix& weights, const float* bias, const float* in,
                               float* out, std::size_t batch, Activation activation, std::byte* scratch) noexcept {
  auto* first = reinterpret_cast<float*>(scratch);
  std::byte* signs = scratch + align_up(batch * weights.rows() * sizeof(float));
  dense_xnor(isa, weights.first_plane(), weights.zero_bias(), in, first, batch, activation::Identity{}, signs);
  dense_xnor(isa, weights.second_plane(), weights.zero_bias(), in, out, batch, activation::Identity{}, signs);
  if constexpr (activation::is_piecewise_linear_v<Activation>) {
    ternary_detail::exact_combine<Activation>(weights, bias, first, out, batch);
  } else {
    ternary_detail::exact_combine<activation::Identity>(weights, bias, first, out, batch);
    activate(isa, activation, out, out, batch * weights.rows());
  }
}

}  // namespace mote::kernels
