#pragma once
// Activation functions as stateless functors: `apply(x)` is the scalar definition that every
// vectorised form is tested against. NaN inputs propagate (as in PyTorch), which is why the
// comparisons below are written `x < 0 ? ... : x` and not `x > 0 ? x : ...`.

#include <charconv>
#include <cmath>
#include <cstddef>
#include <string>
#include <type_traits>

// MOTE_NO_CONTRACT(x): x, rounded where it stands. GCC contracts a product feeding an addition
// into one FMA across statements wherever the ISA has FMA (the AVX2 and AVX-512 regions), which
// rounds once instead of twice; passing the product through this keeps the two roundings that
// ONNX's definitions (and the scalar references compiled without FMA) have. Clang contracts
// only within one expression by default, so writing the product and the sum as two statements
// is enough there.
// GCC's vectoriser drops the barrier on AArch64, where FMA is in the baseline and contraction is
// on by default (measured: fmla in a vectorised scalar loop); an empty asm that keeps the product
// in a register does not let it through.
#if defined(__GNUC__) && !defined(__clang__) && defined(__aarch64__)
#define MOTE_NO_CONTRACT(x)            \
  ([&]() {                             \
    auto mote_rounded_ = (x);          \
    __asm__("" : "+w"(mote_rounded_)); \
    return mote_rounded_;              \
  }())
#endif
#if !defined(MOTE_NO_CONTRACT) && defined(__has_builtin)
#if __has_builtin(__builtin_assoc_barrier)
#define MOTE_NO_CONTRACT(x) __builtin_assoc_barrier(x)
#endif
#endif
#if !defined(MOTE_NO_CONTRACT)
#define MOTE_NO_CONTRACT(x) (x)
#endif

namespace mote::activation {

struct Identity {
  static constexpr const char* name = "Identity";
  static float apply(float x) noexcept { return x; }
};
struct Relu {
  static constexpr const char* name = "ReLU";
  static float apply(float x) noexcept { return x < 0.0f ? 0.0f : x; }
};
struct Relu6 {
  static constexpr const char* name = "ReLU6";
  static float apply(float x) noexcept { return x < 0.0f ? 0.0f : (x > 6.0f ? 6.0f : x); }
};
/// max(x, 0) + Numerator/Denominator * min(x, 0).
template <int Numerator, int Denominator>
struct LeakyRelu {
  static_assert(Denominator > 0, "LeakyReLU's slope is Numerator/Denominator: the denominator must be positive.");
  static constexpr const char* name = "LeakyReLU";
  static constexpr float slope = static_cast<float>(Numerator) / static_cast<float>(Denominator);
  static float apply(float x) noexcept { return x < 0.0f ? x * slope : x; }
};
struct Sigmoid {
  static constexpr const char* name = "Sigmoid";
  static float apply(float x) noexcept { return 1.0f / (1.0f + std::exp(-x)); }
};
struct Tanh {
  static constexpr const char* name = "Tanh";
  static float apply(float x) noexcept { return std::tanh(x); }
};
/// x * ReLU6(x + 3) / 6 (MobileNetV3).
struct HardSwish {
  static constexpr const char* name = "HardSwish";
  static float apply(float x) noexcept { return x * Relu6::apply(x + 3.0f) * (1.0f / 6.0f); }
};
/// The exact (erf) GELU, PyTorch's default: x * Phi(x).
struct Gelu {
  static constexpr const char* name = "GELU";
  /// Below -8, 1 + erf(x / sqrt 2) is exactly 0 in float; clamping x in the first factor there
  /// makes GELU(-inf) = -0 instead of -inf * 0 = NaN.
  static float apply(float x) noexcept {
    const float clamped = x < -8.0f ? -8.0f : x;
    return 0.5f * clamped * (1.0f + std::erf(x * 0.70710678118654752440f));
  }
};

namespace detail {
/// A template argument of Clip/LeakyReLUAlpha/HardSigmoidWith: any arithmetic value but a bool.
template <auto Value>
inline constexpr bool is_number_argument_v =
    std::is_arithmetic_v<decltype(Value)> && !std::is_same_v<decltype(Value), bool>;
/// The shortest decimal that reads back as `value` ("6", "0.2", "-inf"), for descriptions.
inline std::string shortest(float value) {
  char text[32];
  const auto end = std::to_chars(text, text + sizeof text, value).ptr;
  return std::string(text, end);
}
}  // namespace detail

/// min(max(x, Lo), Hi), ONNX Clip, with Lo and Hi converted to float; NaN propagates, -0 stays.
template <auto Lo, auto Hi>
struct Clip {
  static_assert(detail::is_number_argument_v<Lo> && detail::is_number_argument_v<Hi>,
                "Clip<Lo, Hi>: the bounds must be numbers (Clip<0, 6>, or Clip<-0.5f, 1.5f> where the "
                "compiler accepts floating-point template arguments).");
  static constexpr float lo = static_cast<float>(Lo), hi = static_cast<float>(Hi);
  static_assert(lo <= hi,
                "Clip<Lo, Hi>: the lower bound Lo must not exceed the upper bound Hi (and neither may be NaN).");
  static constexpr const char* name = "Clip";
  static std::string describe() { return "Clip<" + detail::shortest(lo) + ", " + detail::shortest(hi) + ">"; }
  static float apply(float x) noexcept { return x < lo ? lo : (x > hi ? hi : x); }
};
/// x for x >= 0, Alpha * x otherwise, with Alpha converted to float (ONNX LeakyRelu(alpha)).
template <auto Alpha>
struct LeakyReluAlpha {
  static_assert(detail::is_number_argument_v<Alpha>,
                "LeakyReLUAlpha<Alpha>: Alpha must be a number (a float where the compiler accepts "
                "floating-point template arguments, e.g. LeakyReLUAlpha<0.1f>).");
  static constexpr const char* name = "LeakyReLU";
  static constexpr float slope = static_cast<float>(Alpha);
  static std::string describe() { return "LeakyReLU<" + detail::shortest(slope) + ">"; }
  static float apply(float x) noexcept { return x < 0.0f ? x * slope : x; }
};
/// ONNX HardSigmoid: max(0, min(1, alpha * x + beta)), the product and the sum rounded to float
/// one after the other (never fused into an FMA), as ONNX's reference computes it. `Parameters` holds the
/// float constants `alpha` and `beta`.
template <class Parameters>
struct HardSigmoid {
  static constexpr float alpha = Parameters::alpha, beta = Parameters::beta;
  static constexpr const char* name = "HardSigmoid";
  static std::string describe() {
    return "HardSigmoid<" + detail::shortest(alpha) + ", " + detail::shortest(beta) + ">";
  }
  static float apply(float x) noexcept {
    const float product = MOTE_NO_CONTRACT(x * alpha);
    const float y = product + beta;
    return y < 0.0f ? 0.0f : (y > 1.0f ? 1.0f : y);
  }
};
/// ONNX HardSigmoid's default attributes: alpha 0.2, beta 0.5.
struct OnnxHardSigmoidDefaults {
  static constexpr float alpha = 0.2f, beta = 0.5f;
};
/// HardSigmoid attributes given as template arguments, converted to float.
template <auto Alpha, auto Beta>
struct HardSigmoidValues {
  static_assert(detail::is_number_argument_v<Alpha> && detail::is_number_argument_v<Beta>,
                "HardSigmoidWith<Alpha, Beta>: Alpha and Beta must be numbers (floats where the "
                "compiler accepts floating-point template arguments, e.g. HardSigmoidWith<1.0f / 6, 0.5f>).");
  static constexpr float alpha = static_cast<float>(Alpha), beta = static_cast<float>(Beta);
};

/// Activations made of comparisons, multiplications and additions by constants: exact in every
/// vectorised form, so epilogues may apply them lane by lane without changing a bit.
template <class F>
inline constexpr bool is_piecewise_linear_v = false;
template <>
inline constexpr bool is_piecewise_linear_v<Identity> = true;
template <>
inline constexpr bool is_piecewise_linear_v<Relu> = true;
template <>
inline constexpr bool is_piecewise_linear_v<Relu6> = true;
template <int N, int D>
inline constexpr bool is_piecewise_linear_v<LeakyRelu<N, D>> = true;
template <auto Lo, auto Hi>
inline constexpr bool is_piecewise_linear_v<Clip<Lo, Hi>> = true;
template <auto Alpha>
inline constexpr bool is_piecewise_linear_v<LeakyReluAlpha<Alpha>> = true;
/// A product and a sum by constants, each rounded on its own in the scalar and vector forms
/// alike (MOTE_NO_CONTRACT).
template <class Parameters>
inline constexpr bool is_piecewise_linear_v<HardSigmoid<Parameters>> = true;

}  // namespace mote::activation
