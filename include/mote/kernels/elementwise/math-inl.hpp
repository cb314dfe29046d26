// Vector math for the element-wise kernels: exp, sigmoid, tanh, erf, written once against `Vec`.
// Code only (no #include, no #pragma once): elementwise/simd-inl.hpp includes it, so it is
// expanded once per ISA inside that ISA's namespace and target region (see arch/targets.hpp).
// The functions live in a nested namespace `math` so that they never hide std::exp and friends
// from the other kernel files compiled into the same per-ISA namespace.
//
// Accuracy. "Measured" is the maximum over every 11th float of the range (about 2e8 inputs
// per function), on AVX2 (with FMA) and SSE4 (Vec::fma is a multiply then an add there),
// against glibc's expf/erff/tanhf (which the scalar reference kernels call) and against the
// true value (double precision); the tests (tests/unit/kernels/test_elementwise_simd.cpp)
// hold every ISA to the bounds in brackets and print their own maxima.
//
//   exp      measured 1 ulp from glibc (AVX2 and SSE4) on [-110, 90], denormal results
//            included (counted in denormal ulps); 1.005 ulp (AVX2), 0.98 ulp (SSE4) from the
//            true value on normal results. [2 ulp]
//            x > 88.7228 gives +inf, x < -103.97 and -inf give +0, NaN gives NaN.
//            Why: Cephes' expf (S. L. Moshier): n = round(x log2 e), r = x - n ln 2 with ln 2 in
//            two parts (n * 0.693359375 is exact: 9-bit constant, |n| <= 152), |r| <= ln(2)/2;
//            e^r = 1 + r + r^2 P(r), degree-5 P whose float coefficients are within 2.7e-9
//            relative of e^r on that range, so the result's error is the last few roundings
//            (about 1 ulp). Then y * 2^n with the power split in two factors 2^h 2^(n-h), each a
//            normal float for n in [-152, 129] (the clamped input range): the first product is
//            exact, the second exact or rounded once into the denormals (or to +inf).
//   sigmoid  1 / (1 + exp(-x)), the reference's formula: measured 4 ulp from the reference,
//            2.47 ulp from the true value (the reference is 2.47 ulp off too: where e^-x is
//            near 2^24, 1 + e rounds by up to 1/2 ulp of e, on top of exp's and the division's
//            errors; the two err in either direction). [6 ulp]
//   tanh     measured 2 ulp from glibc, 1.33 ulp from the true value (glibc's tanhf: 2.17),
//            over every float in (0, 10). Cephes' tanhf: |x| < 0.625: x + x^3 P(x^2), degree-4
//            P (8.6e-9 relative error of the result); else 1 - 2 / (exp(2|x|) + 1) with the
//            sign of x, |x| clamped to 9.5 (where the result rounds to 1): exp's error is damped
//            by 2/(e+1) <= 0.45 and the result is >= 0.555 (no cancellation).
//            tanh(+-inf) = +-1, tanh(-0) = -0, NaN gives NaN. [4 ulp]
//   erf      measured 1 ulp from glibc, 1.08 ulp (AVX2) / 1.27 ulp (SSE4) from the true value.
//            Fitted for mote (mpmath, Chebyshev nodes, coefficients rounded to float):
//            |x| < 1: x + x P(x^2), degree-6 P (approximation error 1.3e-9 absolute on
//            (erf(x) - x)/x); 1 <= |x| < 3.9375: 1 - exp(-x^2 + G(x - 2.46875)), degree-8 G
//            fitting log(erfc(x)) + x^2 to 1.3e-8 absolute, i.e. relative on erfc <= 0.157:
//            at most 2e-9 absolute on erf; |x| >= 3.9375 gives exactly +-1 (erfc(3.9375) =
//            2.6e-8 < 2^-25: erf rounds to 1 there). erf(+-inf) = +-1, NaN gives NaN. [2 ulp]
//   GELU     (elementwise/simd-inl.hpp) 0.5 x (1 + erf(x / sqrt 2)), the reference's formula:
//            measured |d| <= 1.0 (ulp(reference) + |x| 2^-24): for x < 0, 1 + erf cancels, so
//            erf's 1-ulp error near -1 (2^-24) is 0.5 |x| 2^-24 absolute in the result.
//            [2 (ulp(reference) + |x| 2^-24)]

namespace math {

/// Cephes' reduction of e^x: n = round(x log2 e) and e^r - 1 = r + r^2 P(r) for the remainder
/// r = x - n ln 2, |r| <= ln(2)/2, so that e^x = 2^n (1 + expm1_r). Valid for |n| <= 152 (the
/// first step of ln 2 is a 9-bit constant: n times it is exact).
struct ExpReduced {
  Vec n, expm1_r;
};
inline ExpReduced exp_reduce(Vec x) noexcept {
  const Vec n = Vec::round_nearest(x * Vec::broadcast(1.44269504088896341f));
  Vec r = Vec::fma(n, Vec::broadcast(-0.693359375f), x);  // exact: 9-bit constant, |n| <= 152
  r = Vec::fma(n, Vec::broadcast(2.12194440e-4f), r);     // ln 2 = 0.693359375 - 2.12194440e-4
  Vec p = Vec::broadcast(1.9875691500e-4f);
  p = Vec::fma(p, r, Vec::broadcast(1.3981999507e-3f));
  p = Vec::fma(p, r, Vec::broadcast(8.3334519073e-3f));
  p = Vec::fma(p, r, Vec::broadcast(4.1665795894e-2f));
  p = Vec::fma(p, r, Vec::broadcast(1.6666665459e-1f));
  p = Vec::fma(p, r, Vec::broadcast(5.0000001201e-1f));
  return {n, Vec::fma(p, r * r, r)};
}

/// e^x. See the table above for its accuracy and special values.
inline Vec exp(Vec x) noexcept {
  // Clamping keeps n in [-152, 129]: 89 still overflows to +inf, -105 still underflows to +0.
  // Compare-and-select (not min/max) so that NaN passes through on every ISA.
  const Vec hi = Vec::broadcast(89.0f), lo = Vec::broadcast(-105.0f);
  x = Vec::select(Vec::greater(x, hi), hi, x);
  x = Vec::select(Vec::less(x, lo), lo, x);
  const ExpReduced e = exp_reduce(x);
  const Vec y = e.expm1_r + Vec::broadcast(1.0f);
  // 2^n = 2^h * 2^(n-h) with h = round(n/2): both factors within pow2's [-126, 127]. A NaN input
  // gives a NaN y, and NaN times whatever pow2 makes of NaN is NaN.
  const Vec h = Vec::round_nearest(e.n * Vec::broadcast(0.5f));
  return (y * Vec::pow2(h)) * Vec::pow2(e.n - h);
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
  // Above 9.5, 1 - 2 / (e^2a + 1) rounds to 1 (2 e^-19 is below half an ulp under 1), so |x|
  // is clamped there (a select: NaN stays NaN, +-inf gives +-1) and e^2a needs neither exp's
  // range clamps nor its split power of two: 2a in [0, 19] gives n in [0, 28]. The same
  // reduction and polynomial as exp, 2^n (1 + expm1_r) as one FMA; a 64-value tanh layer: 70 -> 55
  // ns. Scanned over every float in (0, 10): 1.33 ulp from the true value, 2 from glibc.
  const Vec limit = Vec::broadcast(9.5f);
  const Vec t = Vec::select(Vec::greater(a, limit), limit, a) * Vec::broadcast(2.0f);
  const ExpReduced reduced = exp_reduce(t);
  const Vec scale = Vec::pow2(reduced.n);
  const Vec e = Vec::fma(scale, reduced.expm1_r, scale);
  const Vec one = Vec::broadcast(1.0f);
  const Vec large = one - Vec::broadcast(2.0f) / (e + one);
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
