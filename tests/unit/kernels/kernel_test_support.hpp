#pragma once
// Running a kernel on every ISA this CPU supports, and the float bound SIMD matrix kernels are
// held to against the scalar reference.

#include "../support.hpp"

#include <cmath>
#include <random>
#include <string>

namespace mote_test {

/// Calls f(tag, name) for each ISA mote dispatches to that this CPU supports, scalar excluded.
template <class F>
void for_each_simd_isa(F&& f) {
  const mote::arch::CpuFeatures cpu = mote::arch::detect_cpu();
  for (mote::arch::IsaLevel level : mote::arch::dispatch_order) {
    if (level == mote::arch::IsaLevel::scalar || !cpu.supports(level)) continue;
    mote::arch::with_isa(level, [&](auto tag) { f(tag, std::string(mote::arch::to_string(level))); });
  }
}

/// Any order of summing the K products w_k * x_k (plus a bias) in f32, with or without FMA,
/// differs from the exact sum by at most gamma_(K+1) * sum|w_k x_k| + |b| (Higham, "Accuracy
/// and Stability of Numerical Algorithms", 3.1), gamma_n = n u / (1 - n u), u = 2^-24. Two such
/// results (SIMD and reference) therefore differ by at most twice that.
inline double dot_bound(std::size_t terms, double magnitude) {
  const double u = std::ldexp(1.0, -24);
  const double n = static_cast<double>(terms + 1);
  return 2.0 * n * u / (1.0 - n * u) * magnitude + 1e-30;
}

/// Both NaN, both the same infinity, or finite and within `bound`.
inline bool agrees(float simd, float reference, double bound) {
  if (std::isnan(reference)) return std::isnan(simd);
  if (std::isinf(reference)) return simd == reference;
  return std::fabs(static_cast<double>(simd) - reference) <= bound;
}

}  // namespace mote_test
