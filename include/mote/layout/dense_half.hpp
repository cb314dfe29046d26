#pragma once
// Dense bf16 / f16 weight storage: the f32 layout of layout/dense.hpp (16-row panels, value
// (r, k) at panel(r / 16)[k * 16 + r % 16], last panel padded with zero rows) holding 16-bit
// values, so a kernel widens 16 consecutive output channels of one input column at a time.
// Weights are rounded once, when set (Format::encode: to nearest, ties to even).

#include <cstddef>
#include <cstdint>

#include "mote/core/aligned.hpp"
#include "mote/layout/dense.hpp"
#include "mote/numeric/half.hpp"

namespace mote {

/// bf16 or f16 dense weights of `rows` output channels by `cols` inputs, in 16-row panels.
/// Half the bytes of WeightMatrix<F32, DenseStorage>; kernels compute in f32.
template <HalfFloatFormat Format>
class WeightMatrix<Format, DenseStorage> {
 public:
  /// Output channels per panel, as for f32 (dense.hpp).
  static constexpr std::size_t panel_rows = 16;

  WeightMatrix() = default;
  WeightMatrix(std::size_t rows, std::size_t cols)
      : values_(padded(rows) * cols), rows_(rows), cols_(cols) {}

  std::size_t rows() const noexcept { return rows_; }
  std::size_t cols() const noexcept { return cols_; }
  /// Rows rounded up to whole panels (biases are stored padded the same way).
  std::size_t padded_rows() const noexcept { return padded(rows_); }
  std::size_t panel_count() const noexcept { return padded(rows_) / panel_rows; }
  /// The encoded values of panel p (Format::decode widens one).
  const std::uint16_t* panel(std::size_t p) const noexcept { return values_.data() + p * cols_ * panel_rows; }
  /// Bytes the weights occupy in memory (padding included).
  std::size_t bytes() const noexcept { return values_.size() * sizeof(std::uint16_t); }
  /// Weight (r, k) as the f32 value the kernels multiply by.
  float at(std::size_t r, std::size_t k) const noexcept { return Format::decode(values_[offset(r, k)]); }
  /// Sets all weights from a row-major rows x cols float array, rounding each to Format.
  void assign(const float* row_major) noexcept {
    for (std::size_t r = 0; r < rows_; ++r)
      for (std::size_t k = 0; k < cols_; ++k) values_[offset(r, k)] = Format::encode(row_major[r * cols_ + k]);
  }
  /// Multiplies row r by `factor` (BatchNorm folding). The weights were rounded when set, so a
  /// folded weight is rounded twice (at most one unit in the last place instead of half).
  void scale_row(std::size_t r, float factor) noexcept {
    for (std::size_t k = 0; k < cols_; ++k) {
      std::uint16_t& value = values_[offset(r, k)];
      value = Format::encode(Format::decode(value) * factor);
    }
  }

 private:
  static constexpr std::size_t padded(std::size_t rows) noexcept {
    return (rows + panel_rows - 1) / panel_rows * panel_rows;
  }
  std::size_t offset(std::size_t r, std::size_t k) const noexcept {
    return (r / panel_rows * cols_ + k) * panel_rows + r % panel_rows;
  }

  AlignedBuffer<std::uint16_t> values_;
  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
};

}  // namespace mote
