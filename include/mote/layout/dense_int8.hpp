#pragma once
// Dense int8 weight storage, quantised once when set. Packed for the integer dot-product
// instructions: 16-row panels (as the f32 layout), and inside a panel groups of 4 consecutive
// input columns per row, i.e. code (r, k) sits at panel(r / 16)[(k / 4) * 64 + (r % 16) * 4 + k % 4].
// One 64-byte group is then one AVX-512 VNNI vpdpbusd operand (16 rows x 4 columns), four
// NEON sdot operands, or four sign-extending loads for the AVX2/SSE4 pmaddwd kernels.
// Columns are padded with zero codes to a multiple of 4, rows to a multiple of 16.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "mote/core/aligned.hpp"
#include "mote/core/error.hpp"
#include "mote/layout/dense.hpp"
#include "mote/numeric/int8.hpp"
#include "mote/numeric/quantization.hpp"
#include "mote/numeric/weight_scales.hpp"

namespace mote {

/// int8 weights of `rows` output channels by `cols` inputs with per-tensor or per-channel
/// scales and zero points (`Int8<Granularity, Symmetry>`), plus each row's code sum, which the
/// kernels need to correct for the activations' zero point.
template <class Granularity, class Symmetry>
class WeightMatrix<Int8<Granularity, Symmetry>, DenseStorage> {
 public:
  using format = Int8<Granularity, Symmetry>;
  static constexpr std::size_t panel_rows = 16;
  static constexpr std::size_t group_cols = 4;

  WeightMatrix() = default;
  WeightMatrix(std::size_t rows, std::size_t cols)
      : codes_(padded_rows_of(rows) * padded_cols_of(cols)),
        params_(padded_rows_of(rows)),
        scales_(padded_rows_of(rows)),
        row_sums_(padded_rows_of(rows)),
        rows_(rows),
        cols_(cols) {}

  std::size_t rows() const noexcept { return rows_; }
  std::size_t cols() const noexcept { return cols_; }
  std::size_t padded_rows() const noexcept { return padded_rows_of(rows_); }
  std::size_t padded_cols() const noexcept { return padded_cols_of(cols_); }
  std::size_t panel_count() const noexcept { return padded_rows() / panel_rows; }
  const std::int8_t* panel(std::size_t p) const noexcept { return codes_.data() + p * padded_cols() * panel_rows; }
  /// Bytes in memory: codes, scales, zero points and row sums (padding included).
  std::size_t bytes() const noexcept {
    return codes_.size() + params_.size() * sizeof(QuantParams) + scales_.size() * sizeof(float) +
           row_sums_.size() * sizeof(std::int32_t);
  }
  /// Code (r, k).
  std::int8_t at(std::size_t r, std::size_t k) const noexcept { return codes_[offset(r, k)]; }
  /// Scale and zero point of row r (the same for every row when per-tensor).
  const QuantParams& params(std::size_t r) const noexcept { return params_[r]; }
  /// The rows' scales, contiguous (zero for padding rows): what vectorised epilogues load.
  const float* scales() const noexcept { return scales_.data(); }
  /// The rows' code sums, contiguous (zero for padding rows).
  const std::int32_t* row_sums() const noexcept { return row_sums_.data(); }
  /// Sum over k of code (r, k); zero for padding rows.
  std::int32_t row_sum(std::size_t r) const noexcept { return row_sums_[r]; }
  /// The real value weight (r, k) stands for.
  float dequantized(std::size_t r, std::size_t k) const noexcept { return dequantize(at(r, k), params_[r]); }

  /// Quantises a row-major rows x cols f32 array: scales from each row's (or the whole
  /// matrix's) min/max (ScaleFit::full_range) or the shrunk range of least squared error
  /// (ScaleFit::mse), zero point 0 when symmetric. Non-finite weights take no part in the range
  /// (so that one bad value cannot void the scale) and saturate to the end codes (NaN: 0).
  void assign(const float* row_major, ScaleFit fit = ScaleFit::full_range) noexcept {
    if constexpr (format::per_channel) {
      for (std::size_t r = 0; r < rows_; ++r) {
        params_[r] = range_params(row_major + r * cols_, cols_, fit);
        quantize_row(r, row_major + r * cols_);
      }
    } else {
      const QuantParams tensor = range_params(row_major, rows_ * cols_, fit);
      for (std::size_t r = 0; r < rows_; ++r) {
        params_[r] = tensor;
        quantize_row(r, row_major + r * cols_);
      }
    }
  }

  /// Sets codes and their parameters as given (ONNX QLinear*/MatMulInteger weights, or
  /// weights quantised elsewhere). `params` holds one entry per row, or one for the tensor.
  /// Scales must be finite and positive, zero points and codes inside the format's range.
  Status try_assign_quantized(const std::int8_t* row_major_codes, const QuantParams* params,
                              std::size_t param_count, const std::string& what) {
    if (param_count != 1 && param_count != rows_)
      return make_error(ErrorCode::shape_mismatch, what + ": " + std::to_string(param_count) +
                                                       " scales given for " + std::to_string(rows_) +
                                                       " output channels (expected 1 or " + std::to_string(rows_) + ")");
    if (!format::per_channel && param_count != 1)
      return make_error(ErrorCode::invalid_value,
                        what + ": per-tensor int8 weights take one scale, got " + std::to_string(param_count));
    for (std::size_t i = 0; i < param_count; ++i) {
      Status status = validate_quant_params(params[i], format::min_code, format::max_code,
                                            what + " channel " + std::to_string(i));
      if (!status) return status;
    }
    for (std::size_t i = 0; i < rows_ * cols_; ++i)
      if (row_major_codes[i] < format::min_code || row_major_codes[i] > format::max_code)
        return make_error(ErrorCode::invalid_value, what + ": code " + std::to_string(row_major_codes[i]) + " at " +
                                                        std::to_string(i) + " is outside the " + format::name + " " +
                                                        format::symmetry::name + " range [" +
                                                        std::to_string(format::min_code) + ", " +
                                                        std::to_string(format::max_code) + "]");
    for (std::size_t r = 0; r < rows_; ++r) {
      params_[r] = params[param_count == 1 ? 0 : r];
      std::int32_t sum = 0;
      for (std::size_t k = 0; k < cols_; ++k) {
        codes_[offset(r, k)] = row_major_codes[r * cols_ + k];
        sum += row_major_codes[r * cols_ + k];
      }
      row_sums_[r] = sum;
      scales_[r] = params_[r].scale;
    }
    return Status::ok();
  }

  /// Multiplies row r by `factor` (BatchNorm folding). Per channel this only changes the
  /// row's scale (and negates its codes for a negative factor: exact when symmetric, -128
  /// saturating to 127 otherwise); per tensor the row is requantised with the tensor's scale,
  /// which rounds: fold BatchNorm before quantising (as post-training quantisation does) to
  /// avoid that.
  void scale_row(std::size_t r, float factor) noexcept {
    if constexpr (format::per_channel) {
      if (factor < 0.0f) {
        for (std::size_t k = 0; k < cols_; ++k) codes_[offset(r, k)] = negate(codes_[offset(r, k)]);
        params_[r].zero_point = std::clamp(-params_[r].zero_point, format::min_code, format::max_code);
        factor = -factor;
      }
      if (factor > 0.0f && std::isfinite(params_[r].scale * factor)) params_[r].scale *= factor;
      else if (factor == 0.0f)
        for (std::size_t k = 0; k < cols_; ++k) codes_[offset(r, k)] = static_cast<std::int8_t>(params_[r].zero_point);
    } else {
      for (std::size_t k = 0; k < cols_; ++k) {
        const float value = dequantized(r, k) * factor;
        codes_[offset(r, k)] = static_cast<std::int8_t>(quantize(value, params_[r], format::min_code, format::max_code));
      }
    }
    update_row_sum(r);
  }

 private:
  static constexpr std::size_t padded_rows_of(std::size_t rows) noexcept {
    return (rows + panel_rows - 1) / panel_rows * panel_rows;
  }
  static constexpr std::size_t padded_cols_of(std::size_t cols) noexcept {
    return (cols + group_cols - 1) / group_cols * group_cols;
  }
  std::size_t offset(std::size_t r, std::size_t k) const noexcept {
    return (r / panel_rows) * padded_cols() * panel_rows + (k / group_cols) * panel_rows * group_cols +
           (r % panel_rows) * group_cols + k % group_cols;
  }
  static std::int8_t negate(std::int8_t code) noexcept {
    return static_cast<std::int8_t>(std::min(-static_cast<std::int32_t>(code), 127));
  }
  static QuantParams range_params(const float* values, std::size_t count, ScaleFit fit) noexcept {
    return fit_weight_params(values, count, format::min_code, format::max_code, format::symmetric, fit);
  }
  void quantize_row(std::size_t r, const float* values) noexcept {
    for (std::size_t k = 0; k < cols_; ++k) {
      // Infinities saturate to the end codes; NaN becomes the zero point (a zero weight).
      codes_[offset(r, k)] = static_cast<std::int8_t>(quantize(values[k], params_[r], format::min_code, format::max_code));
    }
    update_row_sum(r);
  }
  void update_row_sum(std::size_t r) noexcept {
    std::int32_t sum = 0;
    for (std::size_t k = 0; k < cols_; ++k) sum += at(r, k);
    row_sums_[r] = sum;
    scales_[r] = params_[r].scale;
  }

  AlignedBuffer<std::int8_t> codes_;
  AlignedBuffer<QuantParams> params_;
  AlignedBuffer<float> scales_;
  AlignedBuffer<std::int32_t> row_sums_;
  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
};

}  // namespace mote
