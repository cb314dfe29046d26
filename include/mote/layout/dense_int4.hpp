#pragma once
// Dense int4 weight storage, quantised once when set. Rows in 16-row panels, columns in blocks
// of 32 (padded with zero weights). Inside a block, 8 quads of 4 columns; a quad is 32 bytes
// holding the 64 codes (16 rows x 4 columns) of the int8 layout (layout/dense_int8.hpp):
// byte i's low nibble is code i (rows 0-7), its high nibble code i + 32 (rows 8-15), so one
// AND and one shift unpack a quad into two vectors of 32 codes. Codes are stored offset-binary
// (w + 8, in [1, 15]): the kernels multiply them as unsigned bytes by signed activations
// (pmaddubsw), and subtract 8 * (sum of the activations) once per block. Scales are stored per
// panel and group, 16 floats (one per row of the panel) at a time, in the order kernels read them.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "mote/core/aligned.hpp"
#include "mote/layout/dense.hpp"
#include "mote/numeric/int4.hpp"
#include "mote/numeric/quantization.hpp"

namespace mote {

template <std::size_t GroupSize>
class WeightMatrix<Int4<GroupSize>, DenseStorage> {
 public:
  using format = Int4<GroupSize>;
  static constexpr std::size_t panel_rows = 16;
  static constexpr std::size_t block_cols = 32;
  static constexpr std::size_t quad_bytes = 32;
  static constexpr std::size_t block_bytes = 8 * quad_bytes;

  WeightMatrix() = default;
  WeightMatrix(std::size_t rows, std::size_t cols)
      : rows_(rows),
        cols_(cols),
        packed_(padded_rows_of(rows) * padded_cols_of(cols) / 2),
        scales_(padded_rows_of(rows) * group_count_of(cols)),
        scaled_row_sums_(padded_rows_of(rows)) {
    std::fill(packed_.begin(), packed_.end(), std::uint8_t{0x88});  // code 0 everywhere, padding included
  }

  std::size_t rows() const noexcept { return rows_; }
  std::size_t cols() const noexcept { return cols_; }
  std::size_t padded_rows() const noexcept { return padded_rows_of(rows_); }
  std::size_t padded_cols() const noexcept { return padded_cols_of(cols_); }
  std::size_t panel_count() const noexcept { return padded_rows() / panel_rows; }
  std::size_t block_count() const noexcept { return padded_cols() / block_cols; }
  std::size_t group_count() const noexcept { return group_count_of(cols_); }
  /// Blocks of 32 columns per scale group.
  std::size_t blocks_per_group() const noexcept { return GroupSize == 0 ? block_count() : GroupSize / block_cols; }
  const std::uint8_t* panel(std::size_t p) const noexcept { return packed_.data() + p * padded_cols() * panel_rows / 2; }
  /// The 16 scales of panel p, group g.
  const float* panel_scales(std::size_t p, std::size_t g) const noexcept {
    return scales_.data() + (p * group_count() + g) * panel_rows;
  }
  /// sum over groups g of scale(r, g) * sum of row r's codes in g: the weight term of a
  /// non-zero activation zero point.
  const float* scaled_row_sums() const noexcept { return scaled_row_sums_.data(); }
  std::size_t bytes() const noexcept {
    return packed_.size() + scales_.size() * sizeof(float) + scaled_row_sums_.size() * sizeof(float);
  }
  /// Code (r, k) in [-7, 7].
  std::int32_t at(std::size_t r, std::size_t k) const noexcept {
    const std::size_t byte = byte_offset(r, k);
    const std::uint8_t value = packed_[byte];
    return static_cast<std::int32_t>((r % panel_rows) < 8 ? (value & 0x0F) : (value >> 4)) - 8;
  }
  float scale(std::size_t r, std::size_t k) const noexcept {
    return scales_[(r / panel_rows * group_count() + k / group_cols()) * panel_rows + r % panel_rows];
  }
  float dequantized(std::size_t r, std::size_t k) const noexcept { return scale(r, k) * static_cast<float>(at(r, k)); }

  /// Quantises a row-major rows x cols f32 array: per group, scale = max|w| / 7 and
  /// code = round_half_to_even(w / scale). Non-finite weights are ignored for the scale and
  /// saturate (NaN becomes 0).
  void assign(const float* row_major) noexcept {
    for (std::size_t r = 0; r < rows_; ++r) {
      for (std::size_t g = 0; g < group_count(); ++g) {
        const std::size_t begin = g * group_cols(), end = std::min(cols_, begin + group_cols());
        float bound = 0.0f;
        for (std::size_t k = begin; k < end; ++k)
          if (std::isfinite(row_major[r * cols_ + k])) bound = std::max(bound, std::fabs(row_major[r * cols_ + k]));
        const QuantParams params{bound > 0.0f ? bound / 7.0f : 1.0f, 0};
        set_scale(r, g, params.scale);
        for (std::size_t k = begin; k < end; ++k) set_code(r, k, quantize(row_major[r * cols_ + k], params, -7, 7));
      }
    }
    update_row_sums();
  }
  /// BatchNorm folding: scales the row's scales (a negative factor negates its codes, exactly).
  void scale_row(std::size_t r, float factor) noexcept {
    for (std::size_t g = 0; g < group_count(); ++g) {
      if (factor < 0.0f)
        for (std::size_t k = g * group_cols(); k < std::min(cols_, (g + 1) * group_cols()); ++k) set_code(r, k, -at(r, k));
      const float magnitude = std::fabs(factor);
      const float current = scale(r, g * group_cols());
      set_scale(r, g, magnitude > 0.0f && std::isfinite(current * magnitude) ? current * magnitude : current);
      if (magnitude == 0.0f)
        for (std::size_t k = g * group_cols(); k < std::min(cols_, (g + 1) * group_cols()); ++k) set_code(r, k, 0);
    }
    update_row_sums();
  }

 private:
  static constexpr std::size_t padded_rows_of(std::size_t rows) noexcept { return (rows + 15) / 16 * 16; }
  static constexpr std::size_t padded_cols_of(std::size_t cols) noexcept { return (cols + 31) / 32 * 32; }
  std::size_t group_cols() const noexcept { return GroupSize == 0 ? padded_cols() : GroupSize; }
  static constexpr std::size_t group_count_of(std::size_t cols) noexcept {
    // if constexpr, not ?:, so that Int4<0> has no division by its zero (clang's -Wdivision-by-zero).
    if constexpr (GroupSize == 0) return 1;
    else return (padded_cols_of(cols) + GroupSize - 1) / GroupSize;
  }
  std::size_t byte_offset(std::size_t r, std::size_t k) const noexcept {
    const std::size_t position = (r % panel_rows) * 4 + k % 4;  // in the quad's 64 codes
    return (r / panel_rows) * padded_cols() * panel_rows / 2 + (k / block_cols) * block_bytes +
           ((k % block_cols) / 4) * quad_bytes + position % 32;
  }
  void set_code(std::size_t r, std::size_t k, std::int32_t code) noexcept {
    std::uint8_t& byte = packed_[byte_offset(r, k)];
    const auto nibble = static_cast<std::uint8_t>(code + 8);
    byte = (r % panel_rows) < 8 ? static_cast<std::uint8_t>((byte & 0xF0) | nibble)
                                : static_cast<std::uint8_t>((byte & 0x0F) | (nibble << 4));
  }
  void set_scale(std::size_t r, std::size_t g, float value) noexcept {
    scales_[(r / panel_rows * group_count() + g) * panel_rows + r % panel_rows] = value;
  }
  void update_row_sums() noexcept {
    for (std::size_t r = 0; r < rows_; ++r) {
      double sum = 0.0;
      for (std::size_t k = 0; k < cols_; ++k) sum += static_cast<double>(scale(r, k)) * at(r, k);
      scaled_row_sums_[r] = static_cast<float>(sum);
    }
  }

  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
  AlignedBuffer<std::uint8_t> packed_;
  AlignedBuffer<float> scales_;
  AlignedBuffer<float> scaled_row_sums_;
};

}  // namespace mote
