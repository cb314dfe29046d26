#pragma once
// Activation functions as stateless functors: `apply(x)` is the scalar definition that every
// vectorised form is tested against. NaN inputs propagate (as in PyTorch), which is why the
// comparisons below are written `x < 0 ? ... : x` and not `x > 0 ? x : ...`.

#include <cmath>
#include <cstddef>

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

/// Activations made of comparisons and multiplications by constants: exact in every
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

}  // namespace mote::activation
