#pragma once
// Scalar reference for Dense with codebook weights: each weight is its table value (at(r, k)),
// then the f32 reference's arithmetic: out[o] = bias[o] + sum_i W[o][i] * in[i], accumulated in
// input order in f32. The SIMD kernels (codebook-inl.hpp) are compared against it.

#include <cstddef>

#include "mote/arch/isa.hpp"
#include "mote/kernels/elementwise/activations.hpp"
#include "mote/layout/dense_codebook.hpp"

namespace mote::kernels {

/// `Activation` is applied to each output (fused epilogue; Identity by default).
template <std::size_t Bits, class Granularity, class Activation = activation::Identity>
inline void dense(isa::Scalar, const WeightMatrix<Codebook<Bits, Granularity>, DenseStorage>& weights,
                  const float* bias, const float* in, float* out, Activation = {}) noexcept {
  for (std::size_t o = 0; o < weights.rows(); ++o) {
    float sum = 0.0f;
    for (std::size_t i = 0; i < weights.cols(); ++i) sum += weights.at(o, i) * in[i];
    out[o] = Activation::apply(sum + bias[o]);
  }
}

/// `batch` rows of inputs (each weights.cols() long) to `batch` rows of outputs.
template <std::size_t Bits, class Granularity, class Activation = activation::Identity>
inline void dense_batch(isa::Scalar, const WeightMatrix<Codebook<Bits, Granularity>, DenseStorage>& weights,
                        const float* bias, const float* in, float* out, std::size_t batch,
                        Activation activation = {}) noexcept {
  for (std::size_t b = 0; b < batch; ++b)
    dense(isa::Scalar{}, weights, bias, in + b * weights.cols(), out + b * weights.rows(), activation);
}

}  // namespace mote::kernels
