#pragma once
// The integer arithmetic every quantised path in mote shares, defined once here and documented
// in docs/quantization.md:
//  * quantize:   q = saturate(round_half_to_even(x / scale) + zero_point)   (ONNX QuantizeLinear)
//  * dequantize: x = (q - zero_point) * scale                               (ONNX DequantizeLinear)
//  * requantize: an int32 accumulator times a real multiplier M in (0, 1) (and above, with a left
//    shift) is computed as gemmlowp/TFLite do: M = m * 2^-shift with m a Q31 fixed-point value,
//    SaturatingRoundingDoublingHighMul then RoundingDivideByPOT (round half away from zero).
// Every kernel of every ISA calls these scalar functions or reproduces them bit for bit.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

#include "mote/core/error.hpp"

namespace mote {

/// Scale and zero point of a quantised tensor (or of one channel of it).
struct QuantParams {
  float scale = 1.0f;
  std::int32_t zero_point = 0;
};

/// Checks that `params` can quantise to codes in [min_code, max_code]: the scale must be finite
/// and positive, the zero point inside the code range. `what` names the tensor in the message.
inline Status validate_quant_params(const QuantParams& params, std::int32_t min_code, std::int32_t max_code,
                                    const std::string& what) {
  if (!(params.scale > 0.0f) || !std::isfinite(params.scale))
    return make_error(ErrorCode::invalid_value, what + ": quantisation scale " + std::to_string(params.scale) +
                                                    " is not a finite positive number");
  if (params.zero_point < min_code || params.zero_point > max_code)
    return make_error(ErrorCode::invalid_value, what + ": zero point " + std::to_string(params.zero_point) +
                                                    " is outside the code range [" + std::to_string(min_code) +
                                                    ", " + std::to_string(max_code) + "]");
  return Status::ok();
}

/// Round half to even of a float, as ONNX QuantizeLinear (and IEEE roundTiesToEven) does,
/// independent of the current floating-point rounding mode.
inline float round_half_to_even(float x) noexcept {
  const float r = std::round(x);  // half away from zero
  if (std::fabs(x - std::trunc(x)) == 0.5f) return 2.0f * std::round(x * 0.5f);
  return r;
}

/// ONNX QuantizeLinear of one value; NaN maps to the zero point (as ONNX Runtime does).
inline std::int32_t quantize(float x, const QuantParams& params, std::int32_t min_code,
                             std::int32_t max_code) noexcept {
  const float scaled = x / params.scale;
  if (std::isnan(scaled)) return std::clamp(params.zero_point, min_code, max_code);
  const float rounded = round_half_to_even(std::clamp(scaled, -3.0e9f, 3.0e9f));
  const std::int64_t q = static_cast<std::int64_t>(rounded) + params.zero_point;
  return static_cast<std::int32_t>(std::clamp<std::int64_t>(q, min_code, max_code));
}

/// ONNX DequantizeLinear of one code.
inline float dequantize(std::int32_t q, const QuantParams& params) noexcept {
  return static_cast<float>(q - params.zero_point) * params.scale;
}

/// Scale and zero point covering [min_value, max_value] (widened to include 0, so that zero is
/// exact, as zero padding and ReLU need) with codes [min_code, max_code]. Symmetric: zero point
/// (min_code + max_code + 1) / 2 rounded toward zero, i.e. 0 for int8 and 128 for uint8, and the
/// range is [-max|x|, max|x|]. The zero point is ONNX DynamicQuantizeLinear's:
/// round_half_to_even(min_code - min / scale), saturated.
inline QuantParams choose_quant_params(float min_value, float max_value, std::int32_t min_code,
                                       std::int32_t max_code, bool symmetric) noexcept {
  min_value = std::min(min_value, 0.0f);
  max_value = std::max(max_value, 0.0f);
  QuantParams params;
  if (symmetric) {
    const float bound = std::max(-min_value, max_value);
    const std::int32_t zero = min_code < 0 ? 0 : (max_code + 1) / 2;
    const std::int32_t half_range = std::min(max_code - zero, zero - min_code);
    params.scale = bound > 0.0f ? bound / static_cast<float>(half_range) : 1.0f;
    params.zero_point = zero;
    return params;
  }
  const float range = max_value - min_value;
  params.scale = range > 0.0f ? range / static_cast<float>(max_code - min_code) : 1.0f;
  const float zero = round_half_to_even(static_cast<float>(min_code) - min_value / params.scale);
  params.zero_point = static_cast<std::int32_t>(std::clamp(zero, static_cast<float>(min_code),
                                                           static_cast<float>(max_code)));
  return params;
}

/// A positive real multiplier as a Q31 mantissa and a power-of-two exponent:
/// real ≈ mantissa * 2^(exponent - 31), mantissa in [2^30, 2^31).
struct FixedPointMultiplier {
  std::int32_t mantissa = 0;
  int exponent = 0;  ///< positive: shift left before the high multiply; negative: round right after
};

/// TFLite's QuantizeMultiplier: frexp, round the mantissa to 31 bits, renormalise on carry.
/// Multipliers too small to represent become 0; a non-finite or negative one is a caller bug
/// rejected earlier by validate_quant_params (scales are positive and finite).
inline FixedPointMultiplier make_fixed_point_multiplier(double real) noexcept {
  FixedPointMultiplier result;
  if (!(real > 0.0) || !std::isfinite(real)) return result;
  int exponent = 0;
  const double fraction = std::frexp(real, &exponent);
  std::int64_t mantissa = static_cast<std::int64_t>(std::llround(fraction * (1LL << 31)));
  if (mantissa == (1LL << 31)) {
    mantissa /= 2;
    ++exponent;
  }
  if (exponent < -31) return FixedPointMultiplier{};
  if (exponent > 30) {
    exponent = 30;
    mantissa = (1LL << 31) - 1;
  }
  result.mantissa = static_cast<std::int32_t>(mantissa);
  result.exponent = exponent;
  return result;
}

/// gemmlowp SaturatingRoundingDoublingHighMul: (a * b * 2 + 2^31 rounding) >> 32, with the one
/// overflowing case (both INT32_MIN) saturated.
inline std::int32_t saturating_rounding_doubling_high_mul(std::int32_t a, std::int32_t b) noexcept {
  if (a == b && a == std::numeric_limits<std::int32_t>::min()) return std::numeric_limits<std::int32_t>::max();
  const std::int64_t product = static_cast<std::int64_t>(a) * static_cast<std::int64_t>(b);
  const std::int64_t nudge = product >= 0 ? (1LL << 30) : (1 - (1LL << 30));
  return static_cast<std::int32_t>((product + nudge) / (1LL << 31));
}

/// gemmlowp RoundingDivideByPOT: x / 2^exponent rounded half away from zero.
inline std::int32_t rounding_divide_by_pot(std::int32_t x, int exponent) noexcept {
  if (exponent <= 0) return x;
  const std::int32_t mask = static_cast<std::int32_t>((1LL << exponent) - 1);
  const std::int32_t remainder = x & mask;
  const std::int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/// TFLite MultiplyByQuantizedMultiplier: x * real multiplier, rounded as above. The left shift
/// saturates instead of wrapping.
inline std::int32_t multiply_by_quantized_multiplier(std::int32_t x, FixedPointMultiplier m) noexcept {
  const int left = m.exponent > 0 ? m.exponent : 0;
  const int right = m.exponent > 0 ? 0 : -m.exponent;
  const std::int64_t shifted = static_cast<std::int64_t>(x) * (std::int64_t{1} << left);
  const std::int32_t saturated = static_cast<std::int32_t>(
      std::clamp<std::int64_t>(shifted, std::numeric_limits<std::int32_t>::min(),
                               std::numeric_limits<std::int32_t>::max()));
  return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(saturated, m.mantissa), right);
}

/// Requantises an int32 accumulator to a code: zero_point + acc * multiplier, clamped to
/// [low, high] (the code range narrowed by a fused ReLU/ReLU6).
inline std::int32_t requantize(std::int32_t acc, FixedPointMultiplier multiplier, std::int32_t zero_point,
                               std::int32_t low, std::int32_t high) noexcept {
  const std::int64_t value = static_cast<std::int64_t>(multiply_by_quantized_multiplier(acc, multiplier)) + zero_point;
  return static_cast<std::int32_t>(std::clamp<std::int64_t>(value, low, high));
}

/// How a layer's exact int32 sums become the next layer's input codes, one entry per output row
/// (arrays, so that vector kernels load 8 or 16 rows at once): code_r = requantize(acc_r + bias[r],
/// {mantissa[r], left[r] - right[r]}, zero_point, low, high). The bias is the layer's float bias in
/// units of its sums (round(bias / (s_in * s_w,r)), saturated to +-2^30), the multiplier
/// s_in * s_w,r / s_next. Codes are in the kernels' unsigned domain (code + 128 for int8
/// activations), and [low, high] is the next layer's code range narrowed by a fused ReLU or
/// ReLU6. Built by RequantizationTable (layers/weighted.hpp).
struct RequantizationRows {
  const std::int32_t* bias = nullptr;
  const std::int32_t* mantissa = nullptr;
  const std::int32_t* left = nullptr;   ///< left shift before the high multiply (exponent > 0)
  const std::int32_t* right = nullptr;  ///< rounding right shift after it (exponent < 0)
  std::int32_t zero_point = 0;
  std::int32_t low = 0;
  std::int32_t high = 255;
  bool any_left_shift = true;  ///< false: every left[r] is 0 (vector kernels skip that step)
};

/// Largest magnitude of a requantised layer's bias in units of its sums: with |acc| < 2^30 (see
/// int8_requantize_max_cols) the int32 sum acc + bias cannot overflow.
inline constexpr std::int32_t requantize_max_bias = std::int32_t{1} << 30;

/// Row r's code for the exact sum `acc` (see RequantizationRows): the definition every ISA's
/// vector requantisation reproduces bit for bit.
inline std::int32_t requantize_row(const RequantizationRows& rows, std::size_t r, std::int32_t acc) noexcept {
  return requantize(acc + rows.bias[r], FixedPointMultiplier{rows.mantissa[r], rows.left[r] - rows.right[r]},
                    rows.zero_point, rows.low, rows.high);
}

}  // namespace mote
