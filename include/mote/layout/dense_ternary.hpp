#pragma once
// Dense ternary weight storage (numeric/ternary.hpp defines the codes and scales): two binary
// sign planes in Binary's layout (layout/dense_binary.hpp: 16-row x 32-column groups of sign
// words), so that Binary's kernels on every ISA compute with them, plus one f32 scale per row.
// A code c is the mean of its two signs: plane A holds c's sign with 0 as +1, plane B c's sign
// with 0 as -1, so A + B = 2c, and a row's dot product is half the sum of the planes' (each
// plane's scale is 1/2, an exact halving). Codes are never stored otherwise: code(r, k) reads
// them back from the two bits.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "mote/core/aligned.hpp"
#include "mote/layout/dense.hpp"
#include "mote/layout/dense_binary.hpp"
#include "mote/numeric/ternary.hpp"

namespace mote {

/// Ternary weights of `rows` output channels by `cols` inputs: two sign planes (see above) and
/// one f32 scale per row; 1/16 of the bytes of f32 weights, plus the scales.
template <>
class WeightMatrix<Ternary, DenseStorage> {
 public:
  using format = Ternary;
  using Plane = WeightMatrix<Binary, DenseStorage>;
  static constexpr std::size_t panel_rows = Plane::panel_rows;
  /// Each plane's scale: the product of two signs' sum by 1/2 is the code, exactly.
  static constexpr float plane_scale = 0.5f;

  WeightMatrix() = default;
  WeightMatrix(std::size_t rows, std::size_t cols)
      : first_(rows, cols), second_(rows, cols), scales_(first_.padded_rows()), zeros_(first_.padded_rows()),
        rows_(rows), cols_(cols) {
    for (std::size_t r = 0; r < rows; ++r) set_codes(r, [](std::size_t) { return 0; });
  }

  std::size_t rows() const noexcept { return rows_; }
  std::size_t cols() const noexcept { return cols_; }
  std::size_t padded_rows() const noexcept { return first_.padded_rows(); }
  /// Plane A (0 as +1) and plane B (0 as -1), each with scale 1/2 on every row.
  const Plane& first_plane() const noexcept { return first_; }
  const Plane& second_plane() const noexcept { return second_; }
  /// The row scales s_r, padded with zeros to padded_rows().
  const float* scales() const noexcept { return scales_.data(); }
  float scale(std::size_t r) const noexcept { return scales_[r]; }
  /// padded_rows() zeros: the bias of plane A's pass, so that the bias is added once.
  const float* zero_bias() const noexcept { return zeros_.data(); }
  /// Bytes in memory: both planes (with their scales), the row scales and the zero bias.
  std::size_t bytes() const noexcept {
    return first_.bytes() + second_.bytes() + (scales_.size() + zeros_.size()) * sizeof(float);
  }
  /// Weight (r, k)'s code: -1, 0 or +1.
  std::int32_t code(std::size_t r, std::size_t k) const noexcept {
    if (first_.negative(r, k)) return -1;
    return second_.negative(r, k) ? 0 : 1;
  }
  /// The real value weight (r, k) stands for: scale(r) * code(r, k).
  float at(std::size_t r, std::size_t k) const noexcept { return scales_[r] * static_cast<float>(code(r, k)); }

  /// Sets all weights from a row-major rows x cols f32 array (numeric/ternary.hpp): per row the
  /// threshold 0.7 mean |w|, the codes, and the mean |w| of the non-zero codes as the scale, in
  /// double, rounded once; non-finite weights count 0 in both means.
  void assign(const float* row_major) noexcept {
    for (std::size_t r = 0; r < rows_; ++r) {
      const float* row = row_major + r * cols_;
      const double magnitude = detail::finite_magnitude(row, cols_);
      const double threshold = cols_ == 0 ? 0.0 : Ternary::threshold_ratio * magnitude / static_cast<double>(cols_);
      // NaN compares false both ways: code 0.
      const auto code_of = [row, threshold](std::size_t k) {
        const double value = row[k];
        return value > threshold ? 1 : value < -threshold ? -1 : 0;
      };
      double kept = 0.0;
      std::size_t count = 0;
      for (std::size_t k = 0; k < cols_; ++k) {
        if (code_of(k) == 0) continue;
        ++count;
        if (std::isfinite(row[k])) kept += std::fabs(static_cast<double>(row[k]));
      }
      set_codes(r, code_of);
      scales_[r] = count == 0 ? 0.0f : static_cast<float>(kept / static_cast<double>(count));
    }
  }
  /// Multiplies row r by `factor` (BatchNorm folding): the scale by |factor|, and a negative
  /// factor negates the row's codes. Exact but for the scale's rounding.
  void scale_row(std::size_t r, float factor) noexcept {
    if (factor < 0.0f) {
      // -c is negative where c is positive (B's sign flipped) and non-positive where c is
      // non-negative (A's flipped): the planes' signs exchanged, then flipped (a factor of -1,
      // which leaves the planes' scales and padding as they are).
      first_.swap_row_signs(second_, r);
      first_.scale_row(r, -1.0f);
      second_.scale_row(r, -1.0f);
    }
    scales_[r] *= std::fabs(factor);
  }

 private:
  /// Row r's planes from its codes, code_of(k) in {-1, 0, +1}. No allocation: the constructor
  /// and assign() stay free of std::vector, whose inlined destructor GCC 12 at -O3 misreports
  /// (-Wfree-nonheap-object) for fixed shapes.
  template <class CodeOf>
  void set_codes(std::size_t r, CodeOf code_of) noexcept {
    first_.assign_row_signs(r, [&](std::size_t k) { return code_of(k) < 0; }, plane_scale);
    second_.assign_row_signs(r, [&](std::size_t k) { return code_of(k) <= 0; }, plane_scale);
  }

  Plane first_, second_;
  AlignedBuffer<float> scales_;
  AlignedBuffer<float> zeros_;
  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
};

}  // namespace mote
