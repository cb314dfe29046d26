#pragma once
// Dense codebook weight storage: each weight is a Bits-bit index into a table of 2^Bits floats
// (one table per row, or one for the matrix), fitted by k-means when the weights are set
// (numeric/codebook.hpp). The kernels look the values up in registers (kernels/dense/
// codebook-inl.hpp); no float copy of the matrix exists.
//
// Index layout. Rows are grouped in 16-row panels (as layout/dense.hpp), columns in groups of 16.
// The 16 indices of one row in one column group form a chunk of 2 * Bits bytes: index k % 16 at
// bits [Bits * (k % 16), Bits * (k % 16) + Bits) of the chunk read as a little-endian integer.
// A panel stores its chunks group by group, and within a group row by row:
//   chunk (r, g) at panel(r / 16) + (g * 16 + r % 16) * 2 * Bits, panel p at p * groups * 16 * 2 * Bits.
// A kernel thus reads, for a tile of consecutive rows, consecutive chunks; one chunk decodes into
// one AVX-512 vector, two AVX2 halves of Bits bytes, or four SSE4/NEON vectors. Padding rows and
// columns hold index 0 (the kernels give padding columns a weight of exactly 0). 8 bytes of slack
// follow the last chunk, because decoders load 4 or 8 bytes from inside a chunk.
// Tables: `entries` floats each, ascending; PerChannel: one per padded row (zero for padding
// rows), PerTensor: one.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "mote/core/aligned.hpp"
#include "mote/layout/dense.hpp"
#include "mote/numeric/codebook.hpp"

namespace mote {

/// Codebook weights of `rows` output channels by `cols` inputs (layout above). Bytes: indices
/// (Bits / 8 per weight, padded to whole panels and column groups) plus the tables.
template <std::size_t Bits, class Granularity>
class WeightMatrix<Codebook<Bits, Granularity>, DenseStorage> {
 public:
  using format = Codebook<Bits, Granularity>;
  static constexpr std::size_t panel_rows = 16;
  static constexpr std::size_t group_cols = 16;
  /// Bytes of one chunk: the 16 indices of one row in one column group.
  static constexpr std::size_t chunk_bytes = 2 * Bits;
  static constexpr std::size_t entries = format::entries;
  static constexpr std::size_t slack_bytes = 8;

  WeightMatrix() = default;
  WeightMatrix(std::size_t rows, std::size_t cols)
      : indices_(padded(rows, panel_rows) * padded(cols, group_cols) / group_cols * chunk_bytes + slack_bytes),
        tables_((format::per_channel ? padded(rows, panel_rows) : 1) * entries),
        rows_(rows),
        cols_(cols) {}

  std::size_t rows() const noexcept { return rows_; }
  std::size_t cols() const noexcept { return cols_; }
  /// Rows rounded up to whole panels (biases are stored padded the same way).
  std::size_t padded_rows() const noexcept { return padded(rows_, panel_rows); }
  std::size_t panel_count() const noexcept { return padded_rows() / panel_rows; }
  /// Column groups of 16 per row (the last one padded).
  std::size_t group_count() const noexcept { return padded(cols_, group_cols) / group_cols; }
  const std::uint8_t* panel(std::size_t p) const noexcept {
    return indices_.data() + p * group_count() * panel_rows * chunk_bytes;
  }
  /// The chunk of row r, column group g.
  const std::uint8_t* chunk(std::size_t r, std::size_t g) const noexcept {
    return indices_.data() + chunk_offset(r, g);
  }
  /// The table of row r (the same for every row when per-tensor): `entries` floats, ascending.
  const float* table(std::size_t r) const noexcept { return tables_.data() + (format::per_channel ? r : 0) * entries; }
  /// Bytes in memory: indices (padding and slack included) and tables.
  std::size_t bytes() const noexcept { return indices_.size() + tables_.size() * sizeof(float); }
  /// Index of weight (r, k).
  std::uint8_t index(std::size_t r, std::size_t k) const noexcept {
    return static_cast<std::uint8_t>((read_chunk(r, k / group_cols) >> (Bits * (k % group_cols))) & (entries - 1));
  }
  /// Weight (r, k): the table value its index selects, what the kernels multiply by.
  float at(std::size_t r, std::size_t k) const noexcept { return table(r)[index(r, k)]; }

  /// Sets all weights from a row-major rows x cols float array: fits the table(s) by k-means
  /// (fit_codebook: per row, or over the whole matrix) and stores each weight's nearest entry.
  /// Cost (fit_codebook): per table a sort of its values and 5 Lloyd runs (a quantile and 4
  /// k-means++ starts), then one nearest-entry search per weight. Measured on one Zen 3 core:
  /// Fashion-MNIST's MLP (235,000 weights) 0.11 s with 16 entries, 0.05 s with 4; a 1024 x 1024
  /// layer 0.5 s (16 entries, per channel or per tensor), 0.17 s (4 entries).
  void assign(const float* row_major) {
    if constexpr (format::per_channel) {
      for (std::size_t r = 0; r < rows_; ++r) fit_codebook(row_major + r * cols_, cols_, entries, table_data(r));
    } else {
      fit_codebook(row_major, rows_ * cols_, entries, table_data(0));
    }
    for (std::size_t r = 0; r < rows_; ++r)
      for (std::size_t k = 0; k < cols_; ++k)
        set_index(r, k, assign_codebook_index(table(r), entries, row_major[r * cols_ + k]));
  }

  /// Multiplies row r by `factor` (BatchNorm folding). Per channel: exact, the row's table is
  /// scaled (and, for a negative factor, reversed with the row's indices complemented, so that
  /// it stays ascending). Per tensor the table is shared: each weight of the row is replaced by
  /// the entry nearest to weight * factor, which rounds (fold BatchNorm before setting the
  /// weights to avoid that).
  void scale_row(std::size_t r, float factor) noexcept {
    if constexpr (format::per_channel) {
      float* values = table_data(r);
      for (std::size_t j = 0; j < entries; ++j) values[j] *= factor;
      if (factor < 0.0f) {
        std::reverse(values, values + entries);
        for (std::size_t g = 0; g < group_count(); ++g) {
          std::uint8_t* bytes = indices_.data() + chunk_offset(r, g);
          for (std::size_t b = 0; b < chunk_bytes; ++b) bytes[b] = static_cast<std::uint8_t>(~bytes[b]);
        }
      }
    } else {
      for (std::size_t k = 0; k < cols_; ++k)
        set_index(r, k, assign_codebook_index(table(r), entries, at(r, k) * factor));
    }
  }

 private:
  static constexpr std::size_t padded(std::size_t n, std::size_t multiple) noexcept {
    return (n + multiple - 1) / multiple * multiple;
  }
  std::size_t chunk_offset(std::size_t r, std::size_t g) const noexcept {
    return ((r / panel_rows * group_count() + g) * panel_rows + r % panel_rows) * chunk_bytes;
  }
  float* table_data(std::size_t r) noexcept { return tables_.data() + (format::per_channel ? r : 0) * entries; }
  std::uint64_t read_chunk(std::size_t r, std::size_t g) const noexcept {
    std::uint64_t bits = 0;
    std::memcpy(&bits, indices_.data() + chunk_offset(r, g), chunk_bytes);  // little-endian targets
    return bits;
  }
  void set_index(std::size_t r, std::size_t k, std::uint8_t value) noexcept {
    const std::size_t g = k / group_cols, shift = Bits * (k % group_cols);
    std::uint64_t bits = read_chunk(r, g);
    bits = (bits & ~(std::uint64_t{entries - 1} << shift)) | (std::uint64_t{value} << shift);
    std::memcpy(indices_.data() + chunk_offset(r, g), &bits, chunk_bytes);
  }

  AlignedBuffer<std::uint8_t> indices_;
  AlignedBuffer<float> tables_;
  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
};

}  // namespace mote
