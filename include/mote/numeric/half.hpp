#pragma once
// 16-bit float weights, computed and accumulated in f32: bfloat16 (BF16) and IEEE binary16
// (F16). Half the bytes of f32, which is what a memory-bound GEMV (batch 1) pays for.
// The conversions are exact scalar code (constexpr); kernels widen 16 weights at a time with
// the ISA's instructions (VecF32::load_bf16 / load_f16 in arch/), which agree with them.

#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>

namespace mote {

/// float -> bfloat16 (the top 16 bits of a float), rounded to nearest, ties to even. Overflow
/// gives infinity; NaN stays NaN, made quiet, with its sign and the top of its payload.
constexpr std::uint16_t float_to_bf16(float value) noexcept {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
  if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<std::uint16_t>((bits >> 16) | 0x0040u);
  const std::uint32_t round_to_even = 0x7FFFu + ((bits >> 16) & 1u);
  return static_cast<std::uint16_t>((bits + round_to_even) >> 16);
}

/// bfloat16 -> float: exact (a shift).
constexpr float bf16_to_float(std::uint16_t value) noexcept {
  return std::bit_cast<float>(static_cast<std::uint32_t>(value) << 16);
}

/// float -> IEEE binary16, rounded to nearest, ties to even: |x| >= 65520 gives infinity,
/// values below 2^-14 give subnormals (or zero below 2^-25). NaN stays NaN, made quiet, with its
/// sign and the top of its payload.
constexpr std::uint16_t float_to_f16(float value) noexcept {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
  const auto sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000u);
  const std::uint32_t magnitude = bits & 0x7FFFFFFFu;
  if (magnitude > 0x7F800000u) return static_cast<std::uint16_t>(sign | 0x7E00u | ((magnitude >> 13) & 0x3FFu));
  if (magnitude >= 0x477FF000u) return static_cast<std::uint16_t>(sign | 0x7C00u);  // 65520 and up, inf
  // Normal f16 (>= 2^-14): rebias the exponent (127 -> 15) and round away 13 mantissa bits.
  // Subnormal: the 24-bit significand shifted to units of 2^-24, rounded the same way.
  std::uint32_t kept = 0, dropped = 0, half = 0;
  if (magnitude >= 0x38800000u) {
    const std::uint32_t rebiased = magnitude - 0x38000000u;
    kept = rebiased >> 13, dropped = rebiased & 0x1FFFu, half = 0x1000u;
  } else {
    const std::uint32_t exponent = magnitude >> 23;
    if (exponent < 102) return sign;  // below 2^-25: rounds to zero
    const std::uint32_t significand = (magnitude & 0x7FFFFFu) | 0x800000u;
    const std::uint32_t shift = 126 - exponent;  // 14..24
    kept = significand >> shift, dropped = significand & ((1u << shift) - 1u), half = 1u << (shift - 1);
  }
  if (dropped > half || (dropped == half && (kept & 1u) != 0)) ++kept;  // may carry into the exponent
  return static_cast<std::uint16_t>(sign | kept);
}

/// IEEE binary16 -> float: exact; a signalling NaN comes back quiet (as F16C and NEON do).
constexpr float f16_to_float(std::uint16_t value) noexcept {
  const std::uint32_t sign = static_cast<std::uint32_t>(value & 0x8000u) << 16;
  const std::uint32_t exponent = (value >> 10) & 0x1Fu;
  const std::uint32_t mantissa = value & 0x3FFu;
  if (exponent == 0x1F)
    return std::bit_cast<float>(sign | 0x7F800000u | (mantissa << 13) | (mantissa != 0 ? 0x400000u : 0u));
  if (exponent == 0) {  // zero or subnormal: mantissa x 2^-24, exact in f32
    const float subnormal = static_cast<float>(mantissa) * 0x1p-24f;
    return std::bit_cast<float>(sign | std::bit_cast<std::uint32_t>(subnormal));
  }
  return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

/// bfloat16 weights (8-bit exponent like f32, 8-bit significand), computed in f32. 2 bytes per
/// weight; relative rounding error up to 2^-9, and f32's whole range.
struct BF16 {
  using storage_type = std::uint16_t;
  using accumulator_type = float;
  static constexpr const char* name = "bf16";
  static constexpr std::size_t bits_per_weight = 16;
  static constexpr storage_type encode(float value) noexcept { return float_to_bf16(value); }
  static constexpr float decode(storage_type value) noexcept { return bf16_to_float(value); }
};

/// IEEE binary16 weights (5-bit exponent, 11-bit significand), computed in f32. 2 bytes per
/// weight; relative rounding error up to 2^-11 for |w| in [2^-14, 65504], larger beyond.
struct F16 {
  using storage_type = std::uint16_t;
  using accumulator_type = float;
  static constexpr const char* name = "f16";
  static constexpr std::size_t bits_per_weight = 16;
  static constexpr storage_type encode(float value) noexcept { return float_to_f16(value); }
  static constexpr float decode(storage_type value) noexcept { return f16_to_float(value); }
};

/// BF16 or F16: 16-bit float storage widened to f32 by the kernels.
template <class F>
concept HalfFloatFormat = std::same_as<F, BF16> || std::same_as<F, F16>;

}  // namespace mote
