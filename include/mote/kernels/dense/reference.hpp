#pragma once
// Scalar reference for Dense: out[o] = bias[o] + sum_i W[o][i] * in[i].
// Accumulates in input order in f32, the order every SIMD kernel is compared against.

#include <cstddef>

#include "mote/arch/isa.hpp"
#include "mote/layout/dense.hpp"

namespace mote::kernels {

inline void dense(isa::Scalar, const WeightMatrix<F32, DenseStorage>& weights, const float* bias,
                  const float* in, float* out) noexcept {
  for (std::size_t o = 0; o < weights.rows(); ++o) {
    float sum = 0.0f;
    for (std::size_t i = 0; i < weights.cols(); ++i) sum += weights.at(o, i) * in[i];
    out[o] = sum + bias[o];
  }
}

/// `batch` rows of inputs (each weights.cols() long) to `batch` rows of outputs.
inline void dense_batch(isa::Scalar, const WeightMatrix<F32, DenseStorage>& weights, const float* bias,
                        const float* in, float* out, std::size_t batch) noexcept {
  for (std::size_t b = 0; b < batch; ++b)
    dense(isa::Scalar{}, weights, bias, in + b * weights.cols(), out + b * weights.rows());
}

}  // namespace mote::kernels
