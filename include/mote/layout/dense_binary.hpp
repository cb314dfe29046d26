#pragma once
// Dense binary weight storage: one sign bit per weight and one f32 scale per output channel
// (numeric/binary.hpp defines both), packed once when set. Rows are grouped in panels of 16
// output channels (as the f32 layout), and columns in groups of 32: group g of panel p is 16
// consecutive 32-bit words, word i holding the signs of row p * 16 + i for columns
// [32 g, 32 g + 32), column 32 g + t in bit t (set = negative). So sign (r, k) is bit k % 32 of
//   panel(r / 16)[(k / 32) * 16 + r % 16].
// One group is 64 bytes: one AVX-512 vector, two AVX2 or four SSE/NEON vectors whose lanes are
// the panel's rows. Both kernels read it that way: the XNOR-popcount kernel XORs a whole group
// with one 32-bit word of input signs and counts bits per lane (= per row); the f32-activation
// kernel shifts each lane left so that column t's bit becomes the lane's top bit, and flips the
// sign of x_t in the lanes where it is set (no float weights are ever materialised).
// Padding is zero: rows up to a multiple of 16 (scale 0), columns up to a multiple of 32 (bit 0,
// i.e. +1, which the input's zero padding bits match, so XNOR-popcounts need no correction).

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "mote/core/aligned.hpp"
#include "mote/layout/dense.hpp"
#include "mote/numeric/binary.hpp"

namespace mote {

namespace detail {
/// sum |v| over n values in double, non-finite values counting 0: the magnitude behind the
/// sign-plane formats' row scales (Binary, Ternary), so one inf or NaN cannot void a row's scale.
inline double finite_magnitude(const float* v, std::size_t n) noexcept {
  double sum = 0.0;
  for (std::size_t k = 0; k < n; ++k)
    if (std::isfinite(v[k])) sum += std::fabs(static_cast<double>(v[k]));
  return sum;
}
}  // namespace detail

/// Binary weights of `rows` output channels by `cols` inputs: sign bits in 16-row x 32-column
/// groups (see above) plus one f32 scale per row. 1/32 of the bytes of f32 weights, plus the
/// scales.
template <>
class WeightMatrix<Binary, DenseStorage> {
 public:
  using format = Binary;
  /// Output channels per panel, as for f32 (dense.hpp).
  static constexpr std::size_t panel_rows = 16;
  /// Columns per 32-bit word.
  static constexpr std::size_t group_cols = 32;

  WeightMatrix() = default;
  WeightMatrix(std::size_t rows, std::size_t cols)
      : words_(padded_rows_of(rows) * groups_of(cols)), scales_(padded_rows_of(rows)), rows_(rows), cols_(cols) {}

  std::size_t rows() const noexcept { return rows_; }
  std::size_t cols() const noexcept { return cols_; }
  /// Rows rounded up to whole panels (biases and scales are stored padded the same way).
  std::size_t padded_rows() const noexcept { return padded_rows_of(rows_); }
  std::size_t panel_count() const noexcept { return padded_rows() / panel_rows; }
  /// 32-column groups per row: cols rounded up to a multiple of 32, divided by 32.
  std::size_t group_count() const noexcept { return groups_of(cols_); }
  /// The words of panel p: group g at panel(p) + g * panel_rows.
  const std::uint32_t* panel(std::size_t p) const noexcept { return words_.data() + p * group_count() * panel_rows; }
  /// The row scales, padded with zeros to padded_rows().
  const float* scales() const noexcept { return scales_.data(); }
  float scale(std::size_t r) const noexcept { return scales_[r]; }
  /// Bytes in memory: sign words and scales (padding included).
  std::size_t bytes() const noexcept {
    return words_.size() * sizeof(std::uint32_t) + scales_.size() * sizeof(float);
  }
  /// The word holding the signs of row r, columns [32 g, 32 g + 32).
  std::uint32_t word(std::size_t r, std::size_t g) const noexcept { return words_[offset(r, g)]; }
  /// True when weight (r, k) is -1.
  bool negative(std::size_t r, std::size_t k) const noexcept {
    return ((word(r, k / group_cols) >> (k % group_cols)) & 1u) != 0;
  }
  /// Weight (r, k)'s sign, +1 or -1.
  float sign(std::size_t r, std::size_t k) const noexcept { return negative(r, k) ? -1.0f : 1.0f; }
  /// The real value weight (r, k) stands for: scale(r) * sign(r, k).
  float at(std::size_t r, std::size_t k) const noexcept { return negative(r, k) ? -scales_[r] : scales_[r]; }

  /// Sets all weights from a row-major rows x cols f32 array: the signs (Binary::negative: NaN
  /// is -1) and each row's scale, the mean of |w| over the row (non-finite values count 0),
  /// summed in double and rounded once.
  void assign(const float* row_major) noexcept {
    for (std::size_t r = 0; r < rows_; ++r) {
      const float* row = row_major + r * cols_;
      const double magnitude = detail::finite_magnitude(row, cols_);
      assign_row(r, row, cols_ == 0 ? 0.0f : static_cast<float>(magnitude / static_cast<double>(cols_)));
    }
  }
  /// Sets row r alone: the signs of its `cols()` values (Binary::negative) and its scale, as
  /// given. Formats built on sign planes (layout/dense_ternary.hpp) choose their own scales.
  void assign_row(std::size_t r, const float* row, float scale) noexcept {
    assign_row_signs(r, [row](std::size_t k) { return Binary::negative(row[k]); }, scale);
  }
  /// Sets row r alone from a predicate: weight (r, k) is -1 where negative_at(k), for k below
  /// cols(); and its scale.
  template <class NegativeAt>
  void assign_row_signs(std::size_t r, NegativeAt negative_at, float scale) noexcept {
    for (std::size_t g = 0; g < group_count(); ++g) {
      std::uint32_t bits = 0;
      for (std::size_t t = 0; t < group_cols && g * group_cols + t < cols_; ++t)
        if (negative_at(g * group_cols + t)) bits |= std::uint32_t{1} << t;
      words_[offset(r, g)] = bits;
    }
    scales_[r] = scale;
  }
  /// Exchanges row r's signs with row r of `other` (a matrix of the same shape); scales stay.
  void swap_row_signs(WeightMatrix& other, std::size_t r) noexcept {
    for (std::size_t g = 0; g < group_count(); ++g) std::swap(words_[offset(r, g)], other.words_[offset(r, g)]);
  }
  /// Multiplies row r by `factor` (BatchNorm folding): the scale by |factor|, and a negative
  /// factor flips the row's signs (padding columns stay +1). Exact but for the scale's rounding.
  void scale_row(std::size_t r, float factor) noexcept {
    if (factor < 0.0f) {
      for (std::size_t g = 0; g < group_count(); ++g) {
        const std::size_t valid = cols_ - g * group_cols;
        const std::uint32_t columns = valid >= group_cols ? ~std::uint32_t{0} : (std::uint32_t{1} << valid) - 1u;
        words_[offset(r, g)] ^= columns;
      }
    }
    scales_[r] *= std::fabs(factor);
  }

 private:
  static constexpr std::size_t padded_rows_of(std::size_t rows) noexcept {
    return (rows + panel_rows - 1) / panel_rows * panel_rows;
  }
  static constexpr std::size_t groups_of(std::size_t cols) noexcept { return (cols + group_cols - 1) / group_cols; }
  std::size_t offset(std::size_t r, std::size_t g) const noexcept {
    return ((r / panel_rows) * group_count() + g) * panel_rows + r % panel_rows;
  }

  AlignedBuffer<std::uint32_t> words_;
  AlignedBuffer<float> scales_;
  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
};

}  // namespace mote
