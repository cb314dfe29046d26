#pragma once
// 1-bit numbers: binary weights (one sign bit each, one f32 scale per output channel) and
// binary activations (the sign of each input). The storage is layout/dense_binary.hpp, the
// kernels kernels/dense/binary*. The exact semantics, shared by every kernel:
//
//   sign(v)  = +1 if v >= 0 (so +0 and -0 give +1), -1 otherwise (so NaN gives -1: NaN >= 0 is
//              false; a binarised value has nowhere to carry a NaN).
//   weights  : w_rk is stored as sign(w_rk), and row r keeps scale_r = mean_k |w_rk| (XNOR-Net's
//              optimal L2 scale for a sign matrix; non-finite weights count 0 in the mean, so
//              one inf/NaN cannot void the row's scale). The weight (r, k) stands for
//              scale_r * sign(w_rk).
//   Activations<F32> (the default): y_r = scale_r * sum_k sign(w_rk) x_k + b_r, summed in f32
//              (the sign only flips x_k: no multiplication until the scale).
//   Activations<Binary>: y_r = scale_r * d_r + b_r with the exact integer
//              d_r = sum_k sign(w_rk) sign(x_k) = K - 2 popcount(w bits XOR x bits), computed as
//              std::fma(float(d_r), scale_r, b_r) by one scalar epilogue on every ISA, so that
//              outputs are bit-identical everywhere. The input's magnitude is not used (XNOR-Net
//              also multiplies by mean |x|; a BatchNorm or the next layer's scale absorbs it).

#include <cstddef>
#include <cstdint>

namespace mote {

/// Binary weights or activations: 1 bit (the sign) per value. As `Weights<Binary>`: one f32 scale
/// per output channel (mean |w| of the row), 1/32 of the bytes of f32 weights, computed with
/// f32 activations by sign flips and adds. With `Activations<Binary>` too, the input is reduced
/// to its signs and dot products are XNOR-popcounts (exact integers). See the top of this file.
struct Binary {
  /// 32 signs per word, bit k % 32 of word k / 32 set when value k is negative (sign -1).
  using storage_type = std::uint32_t;
  using accumulator_type = std::int32_t;
  static constexpr const char* name = "binary";
  static constexpr std::size_t bits_per_weight = 1;
  static constexpr std::size_t values_per_word = 32;

  /// True when `value` binarises to -1 (the stored bit is 1): !(value >= 0), so NaN is -1.
  static constexpr bool negative(float value) noexcept { return !(value >= 0.0f); }
  /// sign(value) as +1 / -1.
  static constexpr std::int32_t sign(float value) noexcept { return negative(value) ? -1 : 1; }
};

}  // namespace mote
