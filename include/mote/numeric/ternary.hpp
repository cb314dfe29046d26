#pragma once
// Ternary weights: each weight is -1, 0 or +1 times one f32 scale per output channel (Ternary
// Weight Networks, Li and Liu 2016). The storage is layout/dense_ternary.hpp, the kernels
// kernels/dense/ternary.hpp. The semantics, shared by every kernel:
//
//   weights  : row r's threshold is t_r = 0.7 * mean_k |w_rk| (non-finite weights count 0 in
//              the mean, as for Binary); code c_rk = +1 where w_rk > t_r, -1 where w_rk < -t_r,
//              0 otherwise (NaN gives 0; +-inf give +-1). The scale s_r is the mean |w_rk| over
//              the row's non-zero codes (non-finite weights count 0), TWN's L2-optimal scale for
//              that threshold; 0 when every code is 0. The weight (r, k) stands for s_r * c_rk.
//   Activations<F32> (the default): y_r = s_r * sum_k c_rk x_k + b_r, summed in f32 without a
//              multiplication (codes only pick, flip or drop x_k), then scaled and biased by the
//              ISA's multiply-add (fused or not: the f32 dense bound holds either way).
//   Activations<Binary>: y_r = fma(float(d_r), s_r, b_r) with the exact integer
//              d_r = sum_k c_rk sign(x_k) (sign as numeric/binary.hpp): bit-identical on every ISA.
//
// The kernels run Binary's: a ternary code is the mean of two signs, c = (a + b) / 2 with
// a = b = c where c is +-1, and a = +1, b = -1 where c is 0. So a ternary matrix is two sign
// planes, and each product is half the sum of two binary products: 2 bits per weight, and twice
// the work of binary weights, on every ISA that has binary kernels.

#include <cstddef>
#include <cstdint>

namespace mote {

/// Ternary weights: -1, 0 or +1 (2 bits) per weight and one f32 scale per output channel, with
/// f32 or binary activations. See the top of this file.
struct Ternary {
  /// Two sign planes of 32 values per word (layout/dense_ternary.hpp).
  using storage_type = std::uint32_t;
  using accumulator_type = std::int32_t;
  static constexpr const char* name = "ternary";
  static constexpr std::size_t bits_per_weight = 2;
  /// The threshold is this fraction of the row's mean |w| (TWN's choice for normal weights).
  static constexpr double threshold_ratio = 0.7;
};

}  // namespace mote
