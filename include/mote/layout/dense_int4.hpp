#pragma once
// Dense int4 weight storage, quantised once when set. Rows in 16-row panels, and panels in
// pairs (32 rows); columns in blocks of 32 (padded with zero weights). Inside a block, 8 quads
// of 4 columns; a panel's quad is 32 bytes holding the 64 codes (16 rows x 4 columns) of the
// int8 layout (layout/dense_int8.hpp): byte i's low nibble is code i (rows 0-7), its high
// nibble code i + 32 (rows 8-15), so one AND and one shift unpack a quad into two vectors of 32
// codes. The two panels of a pair interleave quad by quad: quad q of the even panel, then quad q
// of the odd one (Int4Packing below), so that 64 bytes hold the same 4 columns of 32 rows. That
// is the operand of one AVX-512 vpdpbusd whose 16 lanes are 16 different row pairs (every lane
// a row of its own, no halves to add per scale group: arch/x86/avx512_vnni_int4.hpp); the
// 32-byte kernels read one panel's quads 64 bytes apart. An odd last panel is stored alone,
// its quads 32 bytes apart (Int4Packing::lone): padding it to a pair would double the bytes of
// a 10-output classifier over a long input. Codes are stored offset-binary (w + 8, in [1, 15]):
// the kernels multiply them as unsigned bytes by signed activations (pmaddubsw), and subtract
// 8 * (sum of the activations) once per block. Scales are stored per pair and group, 32 floats
// in the order the AVX-512 lanes read them: rows 0-7 of the even panel, rows 0-7 of the odd
// one, rows 8-15 of the even one, rows 8-15 of the odd one (a lone panel: rows 0-7, rows 8-15).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "mote/core/aligned.hpp"
#include "mote/layout/dense.hpp"
#include "mote/numeric/int4.hpp"
#include "mote/numeric/quantization.hpp"
#include "mote/numeric/weight_scales.hpp"

namespace mote {

/// Where int4 kernels find a panel's bytes and scales (see the top of this file); the same for
/// every group size.
struct Int4Packing {
  static constexpr std::size_t panel_rows = 16;
  static constexpr std::size_t block_cols = 32;
  static constexpr std::size_t quad_bytes = 32;  ///< one panel's 4 columns
  /// A panel's steps, from its first quad and its scales of group 0.
  struct Strides {
    std::size_t quad;         ///< bytes from a quad to the panel's next quad
    std::size_t block;        ///< bytes from a block to the panel's next block
    std::size_t scale_group;  ///< floats from a group's scales to the next group's
    std::size_t high_rows;    ///< floats from rows 0-7's scales to rows 8-15's
  };
  /// A panel of a pair, and an odd last panel stored alone.
  static constexpr Strides paired{2 * quad_bytes, 16 * quad_bytes, 2 * panel_rows, panel_rows};
  static constexpr Strides lone{quad_bytes, 8 * quad_bytes, panel_rows, panel_rows / 2};
  /// A panel's strides, from whether it is stored alone.
  static constexpr const Strides& strides(bool alone) noexcept { return alone ? lone : paired; }
  /// The offset of a pair's odd panel: its quads' bytes, and its scales' floats.
  static constexpr std::size_t odd_panel_bytes = quad_bytes;
  static constexpr std::size_t odd_panel_scales = panel_rows / 2;
  /// Panel i's bytes, from panel 0's, where panel 0 is even (the first of a pair, or alone).
  static constexpr std::size_t panel_offset(std::size_t i, std::size_t blocks) noexcept {
    return (i / 2) * blocks * paired.block + (i % 2) * odd_panel_bytes;
  }
  /// Panel i's scales of group 0, from panel 0's, as panel_offset.
  static constexpr std::size_t scales_offset(std::size_t i, std::size_t groups) noexcept {
    return (i / 2) * groups * paired.scale_group + (i % 2) * odd_panel_scales;
  }
};

template <std::size_t GroupSize>
class WeightMatrix<Int4<GroupSize>, DenseStorage> {
 public:
  using format = Int4<GroupSize>;
  static constexpr std::size_t panel_rows = Int4Packing::panel_rows;
  static constexpr std::size_t block_cols = Int4Packing::block_cols;

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
  /// Panel p's first quad (its next quad and block at strides(p)).
  const std::uint8_t* panel(std::size_t p) const noexcept {
    return packed_.data() + Int4Packing::panel_offset(p, block_count());
  }
  /// Panel p's scales of group g: rows 0-7 there, rows 8-15 strides(p).high_rows floats on.
  const float* panel_scales(std::size_t p, std::size_t g) const noexcept {
    return scales_.data() + Int4Packing::scales_offset(p, group_count()) + g * strides(p).scale_group;
  }
  /// True for an odd last panel, stored alone (Int4Packing::lone).
  bool lone_panel(std::size_t p) const noexcept { return panel_count() % 2 == 1 && p + 1 == panel_count(); }
  const Int4Packing::Strides& strides(std::size_t p) const noexcept {
    return Int4Packing::strides(lone_panel(p));
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
  float scale(std::size_t r, std::size_t k) const noexcept { return scales_[scale_offset(r, k / group_cols())]; }
  float dequantized(std::size_t r, std::size_t k) const noexcept { return scale(r, k) * static_cast<float>(at(r, k)); }

  /// Quantises a row-major rows x cols f32 array: per group, scale = max|w| / 7
  /// (ScaleFit::full_range) or that of the shrunk range of least squared error (ScaleFit::mse),
  /// and code = round_half_to_even(w / scale). Non-finite weights are ignored for the scale and
  /// saturate (NaN becomes 0).
  void assign(const float* row_major, ScaleFit fit = ScaleFit::full_range) noexcept {
    for (std::size_t r = 0; r < rows_; ++r) {
      for (std::size_t g = 0; g < group_count(); ++g) {
        const std::size_t begin = g * group_cols(), end = std::min(cols_, begin + group_cols());
        const QuantParams params =
            fit_weight_params(row_major + r * cols_ + begin, end - begin, -7, 7, /*symmetric=*/true, fit);
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
    const Int4Packing::Strides& step = strides(r / panel_rows);
    return static_cast<std::size_t>(panel(r / panel_rows) - packed_.data()) + (k / block_cols) * step.block +
           ((k % block_cols) / 4) * step.quad + position % 32;
  }
  std::size_t scale_offset(std::size_t r, std::size_t g) const noexcept {
    return static_cast<std::size_t>(panel_scales(r / panel_rows, g) - scales_.data()) +
           (r % panel_rows) / 8 * strides(r / panel_rows).high_rows + r % 8;
  }
  void set_code(std::size_t r, std::size_t k, std::int32_t code) noexcept {
    std::uint8_t& byte = packed_[byte_offset(r, k)];
    const auto nibble = static_cast<std::uint8_t>(code + 8);
    byte = (r % panel_rows) < 8 ? static_cast<std::uint8_t>((byte & 0xF0) | nibble)
                                : static_cast<std::uint8_t>((byte & 0x0F) | (nibble << 4));
  }
  void set_scale(std::size_t r, std::size_t g, float value) noexcept { scales_[scale_offset(r, g)] = value; }
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
