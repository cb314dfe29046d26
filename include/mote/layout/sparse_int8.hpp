#pragma once
// Sparse int8 weight storage, `Weights<Int8<Granularity, Symmetric>, Sparse<Block<R, C>>>` (and
// `Int7<Granularity>`, which is `Int8<Granularity, Narrow>`): the
// dense int8 layout (layout/dense_int8.hpp: 16-row panels, groups of 4 columns, 64 bytes per
// group: one VNNI vpdpbusd operand, four NEON sdot operands) with the all-zero groups left out.
// Each panel lists its stored groups (the group's column / 4) and their 64 bytes; the integer
// kernels run the dense panel loop over that list, so integer results stay exact and identical
// on every ISA. A group is skipped only when all its 64 codes are zero, hence R x C blocks must
// tile the 16 x 4 groups (R divides 16, C divides 4): Block<16, 4> maps one block to one group,
// smaller blocks are skipped when a whole group of them is zero. Unstructured and N:M int8
// weights have no kernel yet (a group of 16 x 4 random weights is almost never all zero).
// Symmetric weights only (Symmetric or Narrow): a pruned weight must be the code 0 for a skipped group to contribute
// nothing, which an asymmetric zero point would break.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "mote/core/aligned.hpp"
#include "mote/layout/dense_int8.hpp"
#include "mote/layout/sparse.hpp"
#include "mote/numeric/int8.hpp"
#include "mote/numeric/quantization.hpp"

namespace mote {

template <class Granularity, class Symmetry, std::size_t R, std::size_t C>
  requires(Int8<Granularity, Symmetry>::symmetric)
class WeightMatrix<Int8<Granularity, Symmetry>, Sparse<Block<R, C>>> {
  static_assert(R <= 16 && 16 % R == 0 && C <= 4 && 4 % C == 0,
                "Weights<Int8<...>, Sparse<Block<R, C>>>: int8 blocks must tile the kernels' groups of 16 rows x 4 "
                "columns: R must divide 16 and C divide 4 (e.g. Block<16, 4>, Block<8, 4>, Block<16, 1>).");
  using DenseMatrix = WeightMatrix<Int8<Granularity, Symmetry>, DenseStorage>;

 public:
  using format = Int8<Granularity, Symmetry>;
  static constexpr std::size_t panel_rows = 16;
  static constexpr std::size_t group_cols = 4;
  static constexpr std::size_t group_bytes = panel_rows * group_cols;

  WeightMatrix() = default;
  WeightMatrix(std::size_t rows, std::size_t cols)
      : params_(padded_rows_of(rows)),
        scales_(padded_rows_of(rows)),
        row_sums_(padded_rows_of(rows)),
        panel_begin_(padded_rows_of(rows) / panel_rows + 1),
        rows_(rows),
        cols_(cols) {}

  std::size_t rows() const noexcept { return rows_; }
  std::size_t cols() const noexcept { return cols_; }
  std::size_t padded_rows() const noexcept { return padded_rows_of(rows_); }
  std::size_t padded_cols() const noexcept { return (cols_ + group_cols - 1) / group_cols * group_cols; }
  std::size_t panel_count() const noexcept { return padded_rows() / panel_rows; }
  /// Stored groups [panel_begin(p), panel_begin(p + 1)) belong to panel p.
  std::size_t panel_begin(std::size_t p) const noexcept { return panel_begin_[p]; }
  /// Stored group j: its first column / 4 and its 64 codes (row r % 16, column k % 4 at
  /// [(r % 16) * 4 + k % 4]).
  const std::uint32_t* group_index() const noexcept { return groups_.data(); }
  const std::int8_t* group_codes(std::size_t j) const noexcept { return codes_.data() + j * group_bytes; }
  std::size_t group_count() const noexcept { return groups_.size(); }
  const QuantParams& params(std::size_t r) const noexcept { return params_[r]; }
  const float* scales() const noexcept { return scales_.data(); }
  const std::int32_t* row_sums() const noexcept { return row_sums_.data(); }
  std::int32_t row_sum(std::size_t r) const noexcept { return row_sums_[r]; }
  std::size_t bytes() const noexcept {
    return codes_.size() + groups_.size() * sizeof(std::uint32_t) + panel_begin_.size() * sizeof(std::uint32_t) +
           params_.size() * sizeof(QuantParams) + scales_.size() * sizeof(float) +
           row_sums_.size() * sizeof(std::int32_t);
  }
  /// Non-zero codes (weights that quantise to 0 count as zeros).
  std::size_t nonzeros() const noexcept { return nonzeros_; }
  double sparsity() const noexcept {
    const double total = static_cast<double>(rows_) * static_cast<double>(cols_);
    return total == 0.0 ? 0.0 : 1.0 - static_cast<double>(nonzeros_) / total;
  }
  /// Code (r, k) (zero when its group is not stored).
  std::int8_t at(std::size_t r, std::size_t k) const noexcept {
    const std::size_t p = r / panel_rows, g = k / group_cols;
    const std::uint32_t* first = groups_.data() + panel_begin_[p];
    const std::uint32_t* last = groups_.data() + panel_begin_[p + 1];
    const std::uint32_t* found = std::lower_bound(first, last, static_cast<std::uint32_t>(g));
    if (found == last || *found != g) return 0;
    return group_codes(static_cast<std::size_t>(found - groups_.data()))[(r % panel_rows) * group_cols + k % group_cols];
  }

  /// Quantises a row-major rows x cols f32 array exactly as the dense int8 layout does, then
  /// keeps the groups holding a non-zero code.
  void assign(const float* row_major, ScaleFit fit = ScaleFit::full_range) {
    DenseMatrix dense(rows_, cols_);
    dense.assign(row_major, fit);
    compress(dense);
  }
  /// Multiplies row r by `factor` (BatchNorm folding), as the dense int8 layout does.
  void scale_row(std::size_t r, float factor) {
    DenseMatrix dense = expand();
    dense.scale_row(r, factor);
    compress(dense);
  }

 private:
  static constexpr std::size_t padded_rows_of(std::size_t rows) noexcept {
    return (rows + panel_rows - 1) / panel_rows * panel_rows;
  }
  void compress(const DenseMatrix& dense) {
    std::vector<std::uint32_t> groups;
    std::vector<std::int8_t> codes;
    nonzeros_ = 0;
    for (std::size_t p = 0; p < panel_count(); ++p) {
      panel_begin_[p] = static_cast<std::uint32_t>(groups.size());
      const std::int8_t* panel = dense.panel(p);
      for (std::size_t g = 0; g < padded_cols() / group_cols; ++g) {
        const std::int8_t* group = panel + g * group_bytes;
        const auto count = static_cast<std::size_t>(std::count_if(group, group + group_bytes, [](std::int8_t c) { return c != 0; }));
        if (count == 0) continue;
        nonzeros_ += count;
        groups.push_back(static_cast<std::uint32_t>(g));
        codes.insert(codes.end(), group, group + group_bytes);
      }
    }
    panel_begin_[panel_count()] = static_cast<std::uint32_t>(groups.size());
    groups_ = AlignedBuffer<std::uint32_t>(groups.size());
    std::copy(groups.begin(), groups.end(), groups_.begin());
    codes_ = AlignedBuffer<std::int8_t>(codes.size());
    std::copy(codes.begin(), codes.end(), codes_.begin());
    for (std::size_t r = 0; r < padded_rows(); ++r) {
      params_[r] = dense.params(r);
      scales_[r] = dense.scales()[r];
      row_sums_[r] = dense.row_sums()[r];
    }
  }
  /// The dense form of the stored codes and parameters (for scale_row).
  DenseMatrix expand() const {
    DenseMatrix dense(rows_, cols_);
    std::vector<std::int8_t> codes(rows_ * cols_, 0);
    for (std::size_t r = 0; r < rows_; ++r)
      for (std::size_t k = 0; k < cols_; ++k) codes[r * cols_ + k] = at(r, k);
    std::vector<QuantParams> params(rows_);
    for (std::size_t r = 0; r < rows_; ++r) params[r] = params_[r];
    // Stored codes and parameters were validated when quantised: this cannot fail.
    if (rows_ != 0)
      (void)dense.try_assign_quantized(codes.data(), params.data(), format::per_channel ? rows_ : 1, "int8 weights");
    return dense;
  }

  AlignedBuffer<std::int8_t> codes_;
  AlignedBuffer<std::uint32_t> groups_;
  AlignedBuffer<QuantParams> params_;
  AlignedBuffer<float> scales_;
  AlignedBuffer<std::int32_t> row_sums_;
  AlignedBuffer<std::uint32_t> panel_begin_;
  std::size_t rows_ = 0, cols_ = 0, nonzeros_ = 0;
};

}  // namespace mote
