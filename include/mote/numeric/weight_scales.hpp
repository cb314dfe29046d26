#pragma once
// How the integer weight formats (Int8, Int7, Int4) choose a group's scale and zero point when
// they convert float weights, once, when the weights are set. Nothing here runs at inference.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "mote/numeric/quantization.hpp"

namespace mote {

/// How a layer fits the quantisation range of each group of its weights (a row, a group of an
/// Int4 row's columns, or the whole tensor), chosen per layer with the WeightScales option.
enum class ScaleFit {
  /// The group's whole range: max |w| over the top code (symmetric) or [min, max]
  /// (asymmetric), widened to include 0. Nothing is clipped: PyTorch's and ONNX's weight rule.
  full_range,
  /// The whole range shrunk by the factor among 1.00, 0.99, ..., 0.50 whose codes reconstruct
  /// the group with the least squared error (ties keep the wider range). A few clipped outliers
  /// buy a finer step for the rest: what 4-bit codes with one scale per row need most.
  mse,
};

namespace detail {

/// The shrink factors ScaleFit::mse tries: 1 - i / 100 for i in [0, 50].
inline constexpr int scale_fit_candidates = 51;

/// Sum over the finite values of (value - dequantize(quantize(value)))^2, in double.
inline double reconstruction_error(const float* values, std::size_t count, const QuantParams& params,
                                   std::int32_t min_code, std::int32_t max_code) noexcept {
  double error = 0.0;
  for (std::size_t i = 0; i < count; ++i) {
    if (!std::isfinite(values[i])) continue;
    const double gap = static_cast<double>(values[i]) -
                       static_cast<double>(dequantize(quantize(values[i], params, min_code, max_code), params));
    error += gap * gap;
  }
  return error;
}

}  // namespace detail

/// The quantisation parameters of a group of `count` weights for codes [min_code, max_code]
/// (choose_quant_params over the range `fit` picks). Non-finite weights take no part in the range
/// or the error: they saturate to the end codes (NaN to the zero point) when quantised.
inline QuantParams fit_weight_params(const float* values, std::size_t count, std::int32_t min_code,
                                     std::int32_t max_code, bool symmetric, ScaleFit fit) noexcept {
  float low = 0.0f, high = 0.0f;
  for (std::size_t i = 0; i < count; ++i) {
    if (!std::isfinite(values[i])) continue;
    low = std::min(low, values[i]);
    high = std::max(high, values[i]);
  }
  QuantParams best = choose_quant_params(low, high, min_code, max_code, symmetric);
  if (fit == ScaleFit::full_range || (low == 0.0f && high == 0.0f)) return best;
  double best_error = detail::reconstruction_error(values, count, best, min_code, max_code);
  for (int i = 1; i < detail::scale_fit_candidates; ++i) {
    const float shrink = static_cast<float>(100 - i) / 100.0f;
    const QuantParams candidate = choose_quant_params(low * shrink, high * shrink, min_code, max_code, symmetric);
    if (!(candidate.scale > 0.0f) || !std::isfinite(candidate.scale)) continue;  // a range shrunk to subnormals
    const double error = detail::reconstruction_error(values, count, candidate, min_code, max_code);
    if (error < best_error) {
      best = candidate;
      best_error = error;
    }
  }
  return best;
}

}  // namespace mote
