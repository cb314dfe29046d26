// Vector math for the element-wise kernels: exp, sigmoid, tanh, erf, written once against `Vec`.
// Code only (no #include, no #pragma once): elementwise/simd-inl.hpp includes it, so it is
// expanded once per ISA inside that ISA's namespace and target region (see arch/targets.hpp).
// The functions live in a nested namespace `math` so that they never hide std::exp and friends
// from the other kernel files compiled into the same per-ISA namespace.
//
// Accuracy, measured against glibc's correctly-rounded-or-nearly expf/tanhf/erff (which the
// scalar reference kernels call), on every float of the range given (exhaustively, or on all
// floats in steps of a few ulp where noted), with FMA (AVX2) and without (SSE4: Vec::fma is a
// multiply then an add):
//
//   exp      <= 1 ulp (AVX2), <= 2 ulp (SSE4) on normal results; results below FLT_MIN
//            (x < -87.34) are denormal and rounded once more when scaled, <= 1 denormal
//            ulp (2^-149) off. Overflow (x > 88.7228) gives +inf, x < -103.97 gives +0,
//            -inf gives +0, NaN gives NaN.
//            Why: Cephes' expf: n = round(x log2 e), r = x - n ln 2 with ln 2 in two parts
//            (n * 0.693359375 is exact for |n| < 2^15), |r| <= ln(2)/2, degree-5 minimax
//            polynomial for (e^r - 1 - r) / r^2 (relative error 2e-8 on that range), then
//            y * 2^n with the power split in two factors 2^h 2^(n-h) so that each stays a
//            normal float for n in [-152, 129] (the clamped input range): the first product
//            is exact, the second is exact or rounds once into the denormals.
//   sigmoid  1 / (1 + exp(-x)), the reference's formula: exp's error times e/(1+e) <= 1, plus
//            two roundings: <= 2 ulp (AVX2), <= 3 ulp (SSE4).
//   tanh     <= 2 ulp (AVX2), <= 3 ulp (SSE4). Cephes' tanhf: |x| < 0.625: x + x^3 P(x^2),
//            degree-4 P (relative error 1e-8 of the result); else 1 - 2 / (exp(2|x|) + 1)
//            with the sign of x: exp's error is damped by 2/(e+1) <= 0.45, and the final
//            subtraction from 1 adds about 1 ulp (the result is >= 0.555, no cancellation).
//            tanh(+-inf) = +-1, tanh(-0) = -0, NaN gives NaN.
//   erf      <= 2 ulp (AVX2), <= 3 ulp (SSE4). Our own fits (mpmath, Chebyshev, coefficients
//            rounded to float): |x| < 1: x + x P(x^2), degree-6 P (approximation error
//            1.3e-9 absolute on (erf(x) - x)/x); 1 <= |x| < 3.9375:
//            erf = 1 - exp(-x^2 + G(x - 2.46875)), degree-8 G fitting log(erfc(x)) + x^2
//            (approximation error 1.3e-8 absolute in the exponent, i.e. relative on erfc,
//            which is <= 0.157 there: at most 2e-9 absolute on erf); |x| >= 3.9375 gives
//            exactly +-1 (erfc(3.9375) = 2.6e-8 < 2^-25: erf rounds to 1 there in float).
//            erf(+-inf) = +-1, NaN gives NaN.
// (The measured figures are printed by tests/unit/kernels/test_elementwise_simd.cpp.)

namespace math {

/// e^x. See the table above for its accuracy and special values.
inline Vec exp(Vec x) noexcept {
  // Clamping keeps n in [-152, 129]: 89 still overflows to +inf, -105 still underflows to +0.
  // Compare-and-select (not min/max) so that NaN passes through on every ISA.
  const Vec hi = Vec::broadcast(89.0f), lo = Vec::broadcast(-105.0f);
  x = Vec::select(Vec::greater(x, hi), hi, x);
  x = Vec::select(Vec::less(x, lo), lo, x);
  const Vec n = Vec::round_nearest(x * Vec::broadcast(1.44269504088896341f));
  Vec r = Vec::fma(n, Vec::broadcast(-0.693359375f), x);  // exact: 9-bit constant, |n| <= 152
  r = Vec::fma(n, Vec::broadcast(2.12194440e-4f), r);     // ln 2 = 0.693359375 - 2.12194440e-4
  Vec p = Vec::broadcast(1.9875691500e-4f);
  p = Vec::fma(p, r, Vec::broadcast(1.3981999507e-3f));
  p = Vec::fma(p, r, Vec::broadcast(8.3334519073e-3f));
  p = Vec::fma(p, r, Vec::broadcast(4.1665795894e-2f));
  p = Vec::fma(p, r, Vec::broadcast(1.6666665459e-1f));
  p = Vec::fma(p, r, Vec::broadcast(5.0000001201e-1f));
  const Vec y = Vec::fma(p, r * r, r) + Vec::broadcast(1.0f);
  // 2^n = 2^h * 2^(n-h) with h = round(n/2): both factors within pow2's [-126, 127]. A NaN input
  // gives a NaN y, and NaN times whatever pow2 makes of NaN is NaN.
  const Vec h = Vec::round_nearest(n * Vec::broadcast(0.5f));
  return (y * Vec::pow2(h)) * Vec::pow2(n - h);
}

/// 1 / (1 + e^-x), the scalar reference's formula: sigmoid(-inf) = 0, sigmoid(+inf) = 1.
inline Vec sigmoid(Vec x) noexcept {
  const Vec one = Vec::broadcast(1.0f);
  return one / (one + exp(Vec::broadcast(-0.0f) - x));
}

/// tanh(x): odd, +-1 at +-inf, -0 at -0.
inline Vec tanh(Vec x) noexcept {
  const Vec a = Vec::abs(x);
  const Vec s = a * a;
  Vec p = Vec::broadcast(-5.70498872745e-3f);
  p = Vec::fma(p, s, Vec::broadcast(2.06390887954e-2f));
  p = Vec::fma(p, s, Vec::broadcast(-5.37397155531e-2f));
  p = Vec::fma(p, s, Vec::broadcast(1.33314422036e-1f));
  p = Vec::fma(p, s, Vec::broadcast(-3.33332819422e-1f));
  const Vec small = Vec::fma(p * s, a, a);
  // exp(2a) = +inf for a > 44.4 (and a = +inf): 2 / inf = 0, the result 1. NaN stays NaN.
  const Vec one = Vec::broadcast(1.0f);
  const Vec large = one - Vec::broadcast(2.0f) / (exp(a + a) + one);
  return Vec::copysign(Vec::select(Vec::less(a, Vec::broadcast(0.625f)), small, large), x);
}

/// erf(x): odd, +-1 for |x| >= 3.9375 and at +-inf.
inline Vec erf(Vec x) noexcept {
  const Vec a = Vec::abs(x);
  // |x| < 1: a + a P(a^2).
  const Vec s = a * a;
  Vec p = Vec::broadcast(7.875874871e-05f);
  p = Vec::fma(p, s, Vec::broadcast(-8.016864303e-04f));
  p = Vec::fma(p, s, Vec::broadcast(5.189087242e-03f));
  p = Vec::fma(p, s, Vec::broadcast(-2.685421146e-02f));
  p = Vec::fma(p, s, Vec::broadcast(1.128359437e-01f));
  p = Vec::fma(p, s, Vec::broadcast(-3.761262596e-01f));
  p = Vec::fma(p, s, Vec::broadcast(1.283791661e-01f));
  const Vec small = Vec::fma(a, p, a);
  // 1 <= |x|: 1 - erfc, erfc = exp(-b^2 + G(b - 2.46875)), b = min(a, 3.9375) (NaN stays).
  const Vec limit = Vec::broadcast(3.9375f);
  const Vec b = Vec::select(Vec::greater(a, limit), limit, a);
  const Vec v = b - Vec::broadcast(2.46875f);  // exact (Sterbenz-like: same binade spacing)
  Vec g = Vec::broadcast(1.663424086e-06f);
  g = Vec::fma(g, v, Vec::broadcast(-1.370350310e-05f));
  g = Vec::fma(g, v, Vec::broadcast(8.014721243e-05f));
  g = Vec::fma(g, v, Vec::broadcast(-4.349613737e-04f));
  g = Vec::fma(g, v, Vec::broadcast(2.232213970e-03f));
  g = Vec::fma(g, v, Vec::broadcast(-1.113328803e-02f));
  g = Vec::fma(g, v, Vec::broadcast(5.713705719e-02f));
  g = Vec::fma(g, v, Vec::broadcast(-3.562194109e-01f));
  g = Vec::fma(g, v, Vec::broadcast(-1.545738816e+00f));
  const Vec large = Vec::broadcast(1.0f) - exp(Vec::fma(Vec::broadcast(-0.0f) - b, b, g));
  return Vec::copysign(Vec::select(Vec::less(a, Vec::broadcast(1.0f)), small, large), x);
}

}  // namespace math
