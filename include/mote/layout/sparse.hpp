#pragma once
// Sparse f32 weight storage, `Weights<F32, Sparse<Pattern>>`: only the non-zero weights a
// pattern allows are stored, compressed once when the weights are set (the number of non-zeros
// is known then; forward() allocates nothing). Every form is built for SIMD kernels that
// compute 8 output channels (a "tile" of 8 rows, one AVX2 vector, two NEON vectors) at once;
// plain CSR would need a gather per weight, measured 1.5x slower than this on Zen.
//
//   NM<N, M>      per tile and group of M columns: N slots of 8 values (one per row; a row with
//                 fewer than N non-zeros pads with zeros) and, per slot, the 8 rows' positions
//                 inside the group packed in one uint32 (bits [i*b, i*b+b) for row i, b = 2 when
//                 M = 4, 3 when M = 8). A kernel loads the group's M inputs once and permutes
//                 them into place for each slot (vpermilps / vpermps / NEON tbl).
//   Unstructured  per tile, a sequence of steps; a step multiplies 8 weights (one per row) by 8
//                 inputs taken from a window of 8 consecutive inputs: each row's next non-zero
//                 whose column lies in the window (3-bit position per row, packed like N:M,
//                 and the window's first column). Windows are
//                 chosen greedily (the smallest next column of the 8 rows), which pads fewer
//                 zeros than fixed windows (simulated at 90% sparsity: 2.0 stored values per
//                 non-zero against 2.6; choosing the window that covers the most rows: 2.2).
//                 (A 16-input window pads 1.6x, but selecting from two registers measured 2x
//                 slower on Zen 3 than the 8-input window.)
//   Block<R, C>   per tile of T = max(R, 8) rows, the column blocks (C consecutive columns
//                 starting at a multiple of C) holding any non-zero, each stored whole: C
//                 columns of T values and its first column. Blocks of fewer than 8 rows share a
//                 tile: a column block is stored when any of its R-row blocks is non-zero.
// Rows are padded to whole tiles with zero weights; kernels never read an input past `cols`.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "mote/core/aligned.hpp"
#include "mote/core/error.hpp"
#include "mote/layout/dense.hpp"
#include "mote/layout/sparsity.hpp"
#include "mote/numeric/f32.hpp"

namespace mote {

/// Sparse weight storage with the zeros pattern `Pattern`: Unstructured, NM<N, M> or
/// Block<R, C> (layout/sparsity.hpp). E.g. `Dense<256, Weights<F32, Sparse<NM<2, 4>>>>`.
template <class Pattern>
struct Sparse {
  static_assert(is_sparsity_pattern_v<Pattern>,
                "Sparse<Pattern>: Pattern must be mote::Unstructured, mote::NM<N, M> or mote::Block<R, C>.");
  using pattern = Pattern;
  static constexpr const char* name = Pattern::name;
};

template <class L>
inline constexpr bool is_sparse_layout_v = false;
template <class P>
inline constexpr bool is_sparse_layout_v<Sparse<P>> = true;

namespace detail {

/// What every sparse matrix shares: shape, tiles, counts, and the padded bias length.
class SparseShape {
 public:
  /// Output channels a kernel computes at once: one AVX2 vector.
  static constexpr std::size_t tile_rows = 8;

  SparseShape() = default;
  SparseShape(std::size_t rows, std::size_t cols) : rows_(rows), cols_(cols) {}
  std::size_t rows() const noexcept { return rows_; }
  std::size_t cols() const noexcept { return cols_; }
  /// Rows rounded up to 16, as the dense layout's, so that biases are padded alike.
  std::size_t padded_rows() const noexcept { return (rows_ + 15) / 16 * 16; }
  /// Non-zero weights of the matrix last assigned (stored padding zeros not counted).
  std::size_t nonzeros() const noexcept { return nonzeros_; }
  /// Fraction of zero weights of the matrix last assigned.
  double sparsity() const noexcept {
    const double total = static_cast<double>(rows_) * static_cast<double>(cols_);
    return total == 0.0 ? 0.0 : 1.0 - static_cast<double>(nonzeros_) / total;
  }

 protected:
  std::size_t count_nonzeros(const float* row_major) noexcept {
    nonzeros_ = 0;
    for (std::size_t i = 0; i < rows_ * cols_; ++i) nonzeros_ += row_major[i] != 0.0f;
    return nonzeros_;
  }
  float value(const float* row_major, std::size_t r, std::size_t c) const noexcept {
    return r < rows_ && c < cols_ ? row_major[r * cols_ + c] : 0.0f;
  }
  std::size_t tile_count() const noexcept { return (rows_ + tile_rows - 1) / tile_rows; }
  /// value *= factor, keeping the count of non-zeros (a BatchNorm with gamma 0 zeroes a row).
  void scale(float& value, float factor) noexcept {
    const bool was_nonzero = value != 0.0f;
    value *= factor;
    if (was_nonzero && value == 0.0f) --nonzeros_;
  }

  std::size_t rows_ = 0, cols_ = 0, nonzeros_ = 0;
};

}  // namespace detail

/// f32 N:M storage (see the header comment).
template <std::size_t N, std::size_t M>
class WeightMatrix<F32, Sparse<NM<N, M>>> : public detail::SparseShape {
 public:
  static constexpr std::size_t n = N, m = M;
  /// Bits per row position inside a group.
  static constexpr std::size_t index_bits = M == 4 ? 2 : 3;
  /// The 8 rows' positions of one slot: 16 bits when M = 4, 24 when M = 8.
  using Positions = std::conditional_t<M == 4, std::uint16_t, std::uint32_t>;

  WeightMatrix() = default;
  WeightMatrix(std::size_t rows, std::size_t cols) : SparseShape(rows, cols) {
    values_ = AlignedBuffer<float>(tile_count() * groups() * N * tile_rows);
    positions_ = AlignedBuffer<Positions>(tile_count() * groups() * N);
  }
  std::size_t groups() const noexcept { return (cols_ + M - 1) / M; }
  std::size_t tiles() const noexcept { return tile_count(); }
  /// Slot s of group g of tile t: 8 values (row t*8 + i at [i]) and their packed positions.
  const float* values(std::size_t t, std::size_t g) const noexcept {
    return values_.data() + (t * groups() + g) * N * tile_rows;
  }
  const Positions* positions(std::size_t t, std::size_t g) const noexcept {
    return positions_.data() + (t * groups() + g) * N;
  }
  std::size_t bytes() const noexcept { return values_.size() * sizeof(float) + positions_.size() * sizeof(Positions); }

  /// Sets the weights from a row-major rows x cols array that satisfies N:M (check_pattern);
  /// a group with more than N non-zeros keeps its first N (callers check first).
  void assign(const float* row_major) {
    count_nonzeros(row_major);
    for (std::size_t t = 0; t < tile_count(); ++t)
      for (std::size_t g = 0; g < groups(); ++g) {
        float* slot_values = values_.data() + (t * groups() + g) * N * tile_rows;
        Positions* slot_positions = positions_.data() + (t * groups() + g) * N;
        std::fill(slot_values, slot_values + N * tile_rows, 0.0f);
        std::fill(slot_positions, slot_positions + N, Positions{0});
        for (std::size_t i = 0; i < tile_rows; ++i) {
          std::size_t slot = 0;
          for (std::size_t j = 0; j < M && slot < N; ++j) {
            const float v = value(row_major, t * tile_rows + i, g * M + j);
            if (v == 0.0f) continue;
            slot_values[slot * tile_rows + i] = v;
            slot_positions[slot] = static_cast<Positions>(slot_positions[slot] | j << (i * index_bits));
            ++slot;
          }
        }
      }
  }
  /// The matrix as row-major rows x cols floats.
  std::vector<float> to_dense() const {
    std::vector<float> dense(rows_ * cols_, 0.0f);
    for (std::size_t t = 0; t < tile_count(); ++t)
      for (std::size_t g = 0; g < groups(); ++g)
        for (std::size_t s = 0; s < N; ++s)
          for (std::size_t i = 0; i < tile_rows; ++i) {
            const std::size_t r = t * tile_rows + i;
            const std::size_t c = g * M + (positions(t, g)[s] >> (i * index_bits) & (M - 1));
            const float v = values(t, g)[s * tile_rows + i];
            if (r < rows_ && c < cols_ && v != 0.0f) dense[r * cols_ + c] = v;
          }
    return dense;
  }
  void scale_row(std::size_t r, float factor) noexcept {
    const std::size_t t = r / tile_rows, i = r % tile_rows;
    for (std::size_t g = 0; g < groups(); ++g)
      for (std::size_t s = 0; s < N; ++s) scale(values_[((t * groups() + g) * N + s) * tile_rows + i], factor);
  }

 private:
  AlignedBuffer<float> values_;
  AlignedBuffer<Positions> positions_;
};

/// f32 unstructured storage (see the header comment).
template <>
class WeightMatrix<F32, Sparse<Unstructured>> : public detail::SparseShape {
 public:
  static constexpr std::size_t window = 8;
  static constexpr std::size_t index_bits = 3;
  /// One step: the window's first column and the 8 rows' positions in it. (Packing both in 32
  /// bits, the column as a move from the previous step, saves 10% of the bytes but chains
  /// every window load to the previous step's: measured 1.5x slower at 90% sparsity.)
  struct Step {
    std::uint32_t base;
    std::uint32_t positions;
  };

  WeightMatrix() = default;
  WeightMatrix(std::size_t rows, std::size_t cols) : SparseShape(rows, cols), tile_begin_(tile_count() + 1) {
    std::fill(tile_begin_.begin(), tile_begin_.end(), 0u);
  }
  std::size_t tiles() const noexcept { return tile_count(); }
  /// Steps [tile_begin(t), tile_begin(t + 1)) belong to tile t.
  std::size_t tile_begin(std::size_t t) const noexcept { return tile_begin_[t]; }
  const Step* steps() const noexcept { return steps_.data(); }
  const float* values() const noexcept { return values_.data(); }
  std::size_t step_count() const noexcept { return steps_.size(); }
  std::size_t bytes() const noexcept {
    return values_.size() * sizeof(float) + steps_.size() * sizeof(Step) + tile_begin_.size() * sizeof(std::uint32_t);
  }

  void assign(const float* row_major) {
    count_nonzeros(row_major);
    std::vector<Step> steps;
    std::vector<float> values;
    std::vector<std::size_t> next(tile_rows);
    for (std::size_t t = 0; t < tile_count(); ++t) {
      tile_begin_[t] = static_cast<std::uint32_t>(steps.size());
      auto advance = [&](std::size_t i, std::size_t from) {
        const std::size_t r = t * tile_rows + i;
        std::size_t c = from;
        while (r < rows_ && c < cols_ && row_major[r * cols_ + c] == 0.0f) ++c;
        next[i] = r < rows_ ? c : cols_;
      };
      for (std::size_t i = 0; i < tile_rows; ++i) advance(i, 0);
      while (true) {
        const std::size_t lowest = *std::min_element(next.begin(), next.end());
        if (lowest >= cols_) break;
        // The window must not read past the last input: slide it back when it would.
        const std::size_t base = cols_ >= window ? std::min(lowest, cols_ - window) : 0;
        Step step{static_cast<std::uint32_t>(base), 0u};
        for (std::size_t i = 0; i < tile_rows; ++i) {
          float v = 0.0f;
          if (next[i] < cols_ && next[i] < base + window) {
            v = row_major[(t * tile_rows + i) * cols_ + next[i]];
            step.positions |= static_cast<std::uint32_t>(next[i] - base) << (i * index_bits);
            advance(i, next[i] + 1);
          }
          values.push_back(v);
        }
        steps.push_back(step);
      }
    }
    tile_begin_[tile_count()] = static_cast<std::uint32_t>(steps.size());
    steps_ = AlignedBuffer<Step>(steps.size());
    std::copy(steps.begin(), steps.end(), steps_.begin());
    values_ = AlignedBuffer<float>(values.size());
    std::copy(values.begin(), values.end(), values_.begin());
  }
  std::vector<float> to_dense() const {
    std::vector<float> dense(rows_ * cols_, 0.0f);
    for (std::size_t t = 0; t < tile_count(); ++t) {
      for (std::size_t s = tile_begin_[t]; s < tile_begin_[t + 1]; ++s) {
        for (std::size_t i = 0; i < tile_rows; ++i) {
          const std::size_t r = t * tile_rows + i;
          const std::size_t c = steps_[s].base + (steps_[s].positions >> (i * index_bits) & 7u);
          const float v = values_[s * tile_rows + i];
          if (r < rows_ && c < cols_ && v != 0.0f) dense[r * cols_ + c] = v;
        }
      }
    }
    return dense;
  }
  void scale_row(std::size_t r, float factor) noexcept {
    const std::size_t t = r / tile_rows, i = r % tile_rows;
    for (std::size_t s = tile_begin_[t]; s < tile_begin_[t + 1]; ++s) scale(values_[s * tile_rows + i], factor);
  }

 private:
  AlignedBuffer<Step> steps_;
  AlignedBuffer<float> values_;
  AlignedBuffer<std::uint32_t> tile_begin_;
};

/// f32 block storage (see the header comment).
template <std::size_t R, std::size_t C>
class WeightMatrix<F32, Sparse<Block<R, C>>> : public detail::SparseShape {
 public:
  /// Rows of one stored block: R when R is a multiple of 8, else 8 (blocks share a tile).
  static constexpr std::size_t block_rows = R > tile_rows ? R : tile_rows;
  static constexpr std::size_t block_cols = C;

  WeightMatrix() = default;
  WeightMatrix(std::size_t rows, std::size_t cols)
      : SparseShape(rows, cols), tile_begin_((rows + block_rows - 1) / block_rows + 1) {
    std::fill(tile_begin_.begin(), tile_begin_.end(), 0u);
  }
  /// Tiles of block_rows rows.
  std::size_t tiles() const noexcept { return (rows_ + block_rows - 1) / block_rows; }
  std::size_t tile_begin(std::size_t t) const noexcept { return tile_begin_[t]; }
  /// First column of stored block b, and its C x block_rows values (column by column).
  const std::uint32_t* block_columns() const noexcept { return columns_.data(); }
  const float* values() const noexcept { return values_.data(); }
  std::size_t block_count() const noexcept { return columns_.size(); }
  std::size_t bytes() const noexcept {
    return values_.size() * sizeof(float) + columns_.size() * sizeof(std::uint32_t) +
           tile_begin_.size() * sizeof(std::uint32_t);
  }

  void assign(const float* row_major) {
    count_nonzeros(row_major);
    std::vector<std::uint32_t> columns;
    std::vector<float> values;
    for (std::size_t t = 0; t < tiles(); ++t) {
      tile_begin_[t] = static_cast<std::uint32_t>(columns.size());
      for (std::size_t c0 = 0; c0 < cols_; c0 += C) {
        bool any = false;
        for (std::size_t i = 0; i < block_rows && !any; ++i)
          for (std::size_t c = c0; c < c0 + C && !any; ++c) any = value(row_major, t * block_rows + i, c) != 0.0f;
        if (!any) continue;
        columns.push_back(static_cast<std::uint32_t>(c0));
        for (std::size_t c = c0; c < c0 + C; ++c)
          for (std::size_t i = 0; i < block_rows; ++i) values.push_back(value(row_major, t * block_rows + i, c));
      }
    }
    tile_begin_[tiles()] = static_cast<std::uint32_t>(columns.size());
    columns_ = AlignedBuffer<std::uint32_t>(columns.size());
    std::copy(columns.begin(), columns.end(), columns_.begin());
    values_ = AlignedBuffer<float>(values.size());
    std::copy(values.begin(), values.end(), values_.begin());
  }
  std::vector<float> to_dense() const {
    std::vector<float> dense(rows_ * cols_, 0.0f);
    for (std::size_t t = 0; t < tiles(); ++t)
      for (std::size_t b = tile_begin_[t]; b < tile_begin_[t + 1]; ++b)
        for (std::size_t c = 0; c < C; ++c)
          for (std::size_t i = 0; i < block_rows; ++i) {
            const std::size_t r = t * block_rows + i, k = columns_[b] + c;
            if (r < rows_ && k < cols_) dense[r * cols_ + k] = values_[(b * C + c) * block_rows + i];
          }
    return dense;
  }
  void scale_row(std::size_t r, float factor) noexcept {
    const std::size_t t = r / block_rows, i = r % block_rows;
    for (std::size_t b = tile_begin_[t]; b < tile_begin_[t + 1]; ++b)
      for (std::size_t c = 0; c < C; ++c) scale(values_[(b * C + c) * block_rows + i], factor);
  }

 private:
  AlignedBuffer<std::uint32_t> columns_;
  AlignedBuffer<float> values_;
  AlignedBuffer<std::uint32_t> tile_begin_;
};

}  // namespace mote
