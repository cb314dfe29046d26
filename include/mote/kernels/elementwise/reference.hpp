#pragma once
// Scalar references for element-wise and per-channel ops. `in` and `out` may alias exactly
// (in-place), never partially.

#include <cmath>
#include <cstddef>

#include "mote/arch/isa.hpp"
#include "mote/kernels/elementwise/activations.hpp"

namespace mote::kernels {

template <class Activation>
inline void activate(isa::Scalar, Activation, const float* in, float* out, std::size_t count) noexcept {
  for (std::size_t i = 0; i < count; ++i) out[i] = Activation::apply(in[i]);
}

/// out[p][c] = in[p][c] * scale[c] + shift[c] (inference BatchNorm that could not be folded).
inline void channel_affine(isa::Scalar, const float* scale, const float* shift, const float* in,
                           float* out, std::size_t pixels, std::size_t channels) noexcept {
  for (std::size_t p = 0; p < pixels; ++p)
    for (std::size_t c = 0; c < channels; ++c)
      out[p * channels + c] = in[p * channels + c] * scale[c] + shift[c];
}

/// out = a + b, element-wise; out may alias a or b.
inline void add(isa::Scalar, const float* a, const float* b, float* out, std::size_t count) noexcept {
  for (std::size_t i = 0; i < count; ++i) out[i] = a[i] + b[i];
}

/// Softmax over the last axis of a rows x channels input. Subtracting the row maximum keeps
/// exp() finite; a row containing NaN yields NaN.
inline void softmax(isa::Scalar, const float* in, float* out, std::size_t rows,
                    std::size_t channels) noexcept {
  for (std::size_t r = 0; r < rows; ++r) {
    const float* x = in + r * channels;
    float* y = out + r * channels;
    float maximum = x[0];
    for (std::size_t c = 1; c < channels; ++c) maximum = std::fmax(maximum, x[c]);
    bool has_nan = false;
    for (std::size_t c = 0; c < channels; ++c) has_nan = has_nan || std::isnan(x[c]);
    float sum = 0.0f;
    for (std::size_t c = 0; c < channels; ++c) {
      y[c] = std::exp(x[c] - maximum);
      sum += y[c];
    }
    const float inverse = has_nan ? std::nanf("") : 1.0f / sum;
    for (std::size_t c = 0; c < channels; ++c) y[c] *= inverse;
  }
}

}  // namespace mote::kernels
