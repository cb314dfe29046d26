#pragma once
// Dense weight storage: every weight is stored, rows of one output channel contiguous.

#include "mote/core/aligned.hpp"
#include "mote/numeric/f32.hpp"

namespace mote {

/// The default weight layout: all weights stored, row-major by output channel.
struct DenseStorage {
  static constexpr const char* name = "dense";
};

template <class Format, class Layout>
class WeightMatrix;

/// f32 dense weights: `rows` output channels of `cols` inputs each, row-major, rows 64-byte
/// aligned is not promised (cols need not be a multiple of 16); the buffer start is.
template <>
class WeightMatrix<F32, DenseStorage> {
 public:
  WeightMatrix() = default;
  WeightMatrix(std::size_t rows, std::size_t cols) : values_(rows * cols), rows_(rows), cols_(cols) {}

  std::size_t rows() const noexcept { return rows_; }
  std::size_t cols() const noexcept { return cols_; }
  /// Bytes the weights occupy in memory.
  std::size_t bytes() const noexcept { return values_.size() * sizeof(float); }
  const float* row(std::size_t r) const noexcept { return values_.data() + r * cols_; }
  float* row(std::size_t r) noexcept { return values_.data() + r * cols_; }
  /// Sets all weights from a row-major rows x cols float array.
  void assign(const float* row_major) noexcept {
    for (std::size_t i = 0; i < values_.size(); ++i) values_[i] = row_major[i];
  }
  /// Multiplies row r by `factor` (BatchNorm folding).
  void scale_row(std::size_t r, float factor) noexcept {
    float* values = row(r);
    for (std::size_t c = 0; c < cols_; ++c) values[c] *= factor;
  }

 private:
  AlignedBuffer<float> values_;
  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
};

}  // namespace mote
