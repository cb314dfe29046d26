#pragma once
// Dense weight storage: every weight is stored, packed once when set into panels of
// `panel_rows` output channels: panel p holds rows [p * 16, p * 16 + 16) column by column,
// i.e. value (r, k) sits at panel(p)[k * 16 + r % 16]. A SIMD kernel then reads 16 consecutive
// output channels of one input column with one (AVX-512) or a few (AVX2, SSE, NEON) vector
// loads, and streams each panel front to back. The last panel is padded with zero rows.

#include <cstddef>

#include "mote/core/aligned.hpp"
#include "mote/numeric/f32.hpp"

namespace mote {

/// The default weight layout: all weights stored (packed in 16-row panels, see above).
struct DenseStorage {
  static constexpr const char* name = "dense";
};

template <class Format, class Layout>
class WeightMatrix;

/// f32 dense weights of `rows` output channels by `cols` inputs, in 16-row panels.
template <>
class WeightMatrix<F32, DenseStorage> {
 public:
  /// Output channels per panel: the widest vector mote uses (16 floats, AVX-512), a multiple
  /// of every narrower one.
  static constexpr std::size_t panel_rows = 16;

  WeightMatrix() = default;
  WeightMatrix(std::size_t rows, std::size_t cols)
      : values_(padded(rows) * cols), rows_(rows), cols_(cols) {}

  std::size_t rows() const noexcept { return rows_; }
  std::size_t cols() const noexcept { return cols_; }
  /// Rows rounded up to whole panels (biases are stored padded the same way).
  std::size_t padded_rows() const noexcept { return padded(rows_); }
  std::size_t panel_count() const noexcept { return padded(rows_) / panel_rows; }
  const float* panel(std::size_t p) const noexcept { return values_.data() + p * cols_ * panel_rows; }
  /// Bytes the weights occupy in memory (padding included).
  std::size_t bytes() const noexcept { return values_.size() * sizeof(float); }
  /// Weight (r, k): what the reference kernels read.
  float at(std::size_t r, std::size_t k) const noexcept { return values_[offset(r, k)]; }
  /// Sets all weights from a row-major rows x cols float array.
  void assign(const float* row_major) noexcept {
    for (std::size_t r = 0; r < rows_; ++r)
      for (std::size_t k = 0; k < cols_; ++k) values_[offset(r, k)] = row_major[r * cols_ + k];
  }
  /// Multiplies row r by `factor` (BatchNorm folding).
  void scale_row(std::size_t r, float factor) noexcept {
    for (std::size_t k = 0; k < cols_; ++k) values_[offset(r, k)] *= factor;
  }

 private:
  static constexpr std::size_t padded(std::size_t rows) noexcept {
    return (rows + panel_rows - 1) / panel_rows * panel_rows;
  }
  std::size_t offset(std::size_t r, std::size_t k) const noexcept {
    return (r / panel_rows * cols_ + k) * panel_rows + r % panel_rows;
  }

  AlignedBuffer<float> values_;
  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
};

}  // namespace mote
