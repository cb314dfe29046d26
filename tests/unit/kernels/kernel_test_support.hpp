#pragma once
// Running a kernel on every ISA this CPU supports, and the float bound SIMD matrix kernels are
// held to against the scalar reference.

#include <cmath>
#include <random>
#include <string>

#include "../support.hpp"

namespace mote_test {

/// Calls f(tag, name) for each ISA mote dispatches to that this CPU supports, scalar excluded.
template <class F>
void for_each_simd_isa(F&& f) {
  const mote::arch::CpuFeatures cpu = mote::arch::detect_cpu();
  for (mote::arch::IsaLevel level : mote::arch::dispatch_order) {
    if (level == mote::arch::IsaLevel::scalar || !cpu.supports(level)) continue;
    mote::arch::with_isa(level,
                         [&](auto tag) { f(tag, std::string(mote::arch::to_string(level))); });
  }
}

/// A random convolution window: input up to 9x9 with `channels` channels, kernel up to 4x4,
/// strides up to 3, dilations up to 2, each side padded by up to 2 (bottom/right only shape the
/// output). Geometries whose dilated kernel does not fit are drawn again; out_c is left to the
/// caller. The padding as drawn, for messages.
struct RandomWindow {
  mote::kernels::WindowGeometry geometry;
  std::size_t top = 0, left = 0, bottom = 0, right = 0;
  std::string describe() const {
    const mote::kernels::WindowGeometry& g = geometry;
    return std::to_string(g.in_h) + "x" + std::to_string(g.in_w) + "x" + std::to_string(g.in_c) +
           " -> " + std::to_string(g.out_h) + "x" + std::to_string(g.out_w) + "x" +
           std::to_string(g.out_c) + ", kernel " + std::to_string(g.kernel_h) + "x" +
           std::to_string(g.kernel_w) + ", stride " + std::to_string(g.stride_h) + "x" +
           std::to_string(g.stride_w) + ", dilation " + std::to_string(g.dilation_h) + "x" +
           std::to_string(g.dilation_w) + ", pad " + std::to_string(top) + "," +
           std::to_string(left) + "," + std::to_string(bottom) + "," + std::to_string(right);
  }
};
inline RandomWindow random_window(std::mt19937& rng, std::size_t channels) {
  std::uniform_int_distribution<std::size_t> size(1, 9), kernel(1, 4), stride(1, 3), dilation(1, 2),
      pad(0, 2);
  for (;;) {
    RandomWindow w;
    mote::kernels::WindowGeometry& g = w.geometry;
    g.in_h = size(rng), g.in_w = size(rng), g.in_c = channels;
    g.kernel_h = kernel(rng), g.kernel_w = kernel(rng);
    g.stride_h = stride(rng), g.stride_w = stride(rng);
    g.dilation_h = dilation(rng), g.dilation_w = dilation(rng);
    w.top = pad(rng), w.left = pad(rng), w.bottom = pad(rng), w.right = pad(rng);
    g.pad_top = w.top, g.pad_left = w.left;
    const std::size_t extent_h = (g.kernel_h - 1) * g.dilation_h + 1,
                      extent_w = (g.kernel_w - 1) * g.dilation_w + 1;
    if (g.in_h + w.top + w.bottom < extent_h || g.in_w + w.left + w.right < extent_w) continue;
    g.out_h = (g.in_h + w.top + w.bottom - extent_h) / g.stride_h + 1;
    g.out_w = (g.in_w + w.left + w.right - extent_w) / g.stride_w + 1;
    return w;
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
