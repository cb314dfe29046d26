#pragma once
// Scalar kernels for sparse f32 weights (layout/sparse.hpp): y = W x + b reading only the stored
// weights. Each output channel accumulates its weights in column order, as the dense reference
// does, so on finite inputs the result equals the dense reference on the same (pruned) matrix
// bit for bit, apart from the sign of a zero sum. Skipped zeros are not multiplied: an infinite
// or NaN input that meets only pruned weights does not reach the output. Also the kernels of
// ISAs without sparse SIMD kernels (SSE4).

#include <algorithm>
#include <cstddef>

#include "mote/arch/isa.hpp"
#include "mote/kernels/elementwise/activations.hpp"
#include "mote/layout/sparse.hpp"

namespace mote::kernels {

namespace sparse_detail {

/// Writes tile t's 8 sums (plus bias, through the activation) to the rows that exist.
template <class Activation>
inline void store_tile(const float* sums, std::size_t first_row, std::size_t tile, std::size_t rows, const float* bias,
                       float* out) noexcept {
  for (std::size_t i = 0; i < tile && first_row + i < rows; ++i)
    out[first_row + i] = Activation::apply(sums[i] + bias[first_row + i]);
}

}  // namespace sparse_detail

template <std::size_t N, std::size_t M, class Activation = activation::Identity>
inline void dense(isa::Scalar, const WeightMatrix<F32, Sparse<NM<N, M>>>& weights, const float* bias, const float* in,
                  float* out, Activation = {}) noexcept {
  using Matrix = WeightMatrix<F32, Sparse<NM<N, M>>>;
  constexpr std::size_t tile = Matrix::tile_rows;
  for (std::size_t t = 0; t < weights.tiles(); ++t) {
    float sums[tile] = {};
    for (std::size_t g = 0; g < weights.groups(); ++g)
      for (std::size_t s = 0; s < N; ++s)
        for (std::size_t i = 0; i < tile; ++i) {
          const float w = weights.values(t, g)[s * tile + i];
          if (w == 0.0f) continue;
          sums[i] += w * in[g * M + (weights.positions(t, g)[s] >> (i * Matrix::index_bits) & (M - 1))];
        }
    sparse_detail::store_tile<Activation>(sums, t * tile, tile, weights.rows(), bias, out);
  }
}

template <class Activation = activation::Identity>
inline void dense(isa::Scalar, const WeightMatrix<F32, Sparse<Unstructured>>& weights, const float* bias,
                  const float* in, float* out, Activation = {}) noexcept {
  using Matrix = WeightMatrix<F32, Sparse<Unstructured>>;
  constexpr std::size_t tile = Matrix::tile_rows;
  for (std::size_t t = 0; t < weights.tiles(); ++t) {
    float sums[tile] = {};
    for (std::size_t s = weights.tile_begin(t); s < weights.tile_begin(t + 1); ++s) {
      const Matrix::Step step = weights.steps()[s];
      for (std::size_t i = 0; i < tile; ++i) {
        const float w = weights.values()[s * tile + i];
        if (w != 0.0f) sums[i] += w * in[step.base + (step.positions >> (i * Matrix::index_bits) & 7u)];
      }
    }
    sparse_detail::store_tile<Activation>(sums, t * tile, tile, weights.rows(), bias, out);
  }
}

template <std::size_t R, std::size_t C, class Activation = activation::Identity>
inline void dense(isa::Scalar, const WeightMatrix<F32, Sparse<Block<R, C>>>& weights, const float* bias,
                  const float* in, float* out, Activation = {}) noexcept {
  constexpr std::size_t tile = WeightMatrix<F32, Sparse<Block<R, C>>>::block_rows;
  for (std::size_t t = 0; t < weights.tiles(); ++t) {
    float sums[tile] = {};
    for (std::size_t b = weights.tile_begin(t); b < weights.tile_begin(t + 1); ++b) {
      const std::size_t first = weights.block_columns()[b];
      for (std::size_t c = 0; c < C && first + c < weights.cols(); ++c)
        for (std::size_t i = 0; i < tile; ++i) sums[i] += weights.values()[(b * C + c) * tile + i] * in[first + c];
    }
    sparse_detail::store_tile<Activation>(sums, t * tile, tile, weights.rows(), bias, out);
  }
}

/// The SIMD kernels' sparse GEMM runs this many samples in the lanes of one 8-row tile, and is
/// used for groups of at least sparse_gemm_min_samples (fewer run faster in shared-load tiles).
inline constexpr std::size_t sparse_gemm_samples = 8, sparse_gemm_min_samples = 6;

/// Scratch of a sparse f32 dense_batch of `batch` samples of `cols` inputs: the GEMM's
/// transposed inputs of one group (cols rounded up to 8, 4 bytes each), none below the GEMM's
/// smallest group.
inline constexpr std::size_t sparse_batch_scratch_bytes(std::size_t cols, std::size_t batch) noexcept {
  return batch >= sparse_gemm_min_samples ? sparse_gemm_samples * ((cols + 7) / 8 * 8) * sizeof(float) : 0;
}
/// What a layer reserves per sample so that `batch` times it covers sparse_batch_scratch_bytes
/// for any batch (the workspace scales a layer's scratch by the batch).
inline constexpr std::size_t sparse_batch_scratch_bytes_per_sample(std::size_t cols) noexcept {
  return (sparse_batch_scratch_bytes(cols, sparse_gemm_samples) + sparse_gemm_min_samples - 1) /
         sparse_gemm_min_samples;
}

/// One sample at a time (`scratch` unused: the SIMD kernels' signature).
template <class Pattern, class Activation>
inline void dense_batch(isa::Scalar, const WeightMatrix<F32, Sparse<Pattern>>& weights, const float* bias,
                        const float* in, float* out, std::size_t batch, Activation activation,
                        std::byte* /*scratch*/) noexcept {
  for (std::size_t b = 0; b < batch; ++b)
    dense(isa::Scalar{}, weights, bias, in + b * weights.cols(), out + b * weights.rows(), activation);
}

}  // namespace mote::kernels
