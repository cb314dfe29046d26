// Dense (GEMV, GEMM) with codebook weights, computed in f32, without ever building the float
// weight matrix: for a tile of rows, each row's table is prepared once in registers
// (CodebookOps::prepare), and for every chunk (16 columns of one row, layout/dense_codebook.hpp)
// the 16 weights are decoded and looked up in registers (CodebookOps::lookup) and multiplied
// into per-row accumulators with the activations (dot-product form: a register permute picks
// from one table, so the lanes of a vector are columns of one row, never rows with different
// tables). Each row's lanes are summed at the end: the only reordering compared with the scalar
// reference (codebook_reference.hpp), within the f32 dot-product bound.
// Code only: included per ISA by kernels/simd-inl.hpp after dense/simd-inl.hpp and
// elementwise/simd-inl.hpp (activate).
//
// Contract of the per-ISA primitives (arch/<family>/<isa>_codebook.hpp), CodebookOps<Bits>:
//   Table / prepare(entries)   a table of 2^Bits ascending floats, ready for lookups
//   lookup(table, chunk, w)    w[j], j < 16 / Vec::lanes: the chunk's weights, in column order
//   gemv_rows                  rows per tile of the GEMV (a divisor of 16)
//   gemm_rows, gemm_samples    rows x samples per register tile of the GEMM

namespace dense_codebook_detail {

constexpr std::size_t group_cols = 16;
constexpr std::size_t per_group = group_cols / Vec::lanes;

template <class Matrix>
using Ops = ::mote::simd::MOTE_SIMD_NS::CodebookOps<Matrix::format::bits>;

/// Lanes of the padding columns (column >= valid of the last group) set to exactly 0, whatever
/// the table holds; the activations there are loaded as 0 too.
inline void clear_padding(Vec (&w)[per_group], std::size_t valid) noexcept {
  alignas(64) static constexpr float column[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  const Vec limit = Vec::broadcast(static_cast<float>(valid));
  MOTE_UNROLL for (std::size_t j = 0; j < per_group; ++j)
    w[j] = Vec::select(Vec::less(Vec::load(column + j * Vec::lanes), limit), w[j], Vec::zero());
}

/// Activations of columns [g * 16, g * 16 + 16) of one sample; lanes past `valid` are 0.
inline void load_group(const float* x, std::size_t valid, Vec (&v)[per_group]) noexcept {
  MOTE_UNROLL for (std::size_t j = 0; j < per_group; ++j) {
    const std::size_t first = j * Vec::lanes;
    if (first + Vec::lanes <= valid) v[j] = Vec::load(x + first);
    else if (first < valid) v[j] = Vec::load_partial(x + first, valid - first);
    else v[j] = Vec::zero();
  }
}

/// Rows [row, row + Rows) (inside the padded rows) times `Samples` inputs (sample s at
/// in + s * cols): writes bias + dot product, with `Activation` when it is piecewise linear
/// (exact per output), to out[s * rows + r] for the rows that exist.
template <std::size_t Rows, std::size_t Samples, class Matrix, class Activation>
inline void tile(const Matrix& weights, std::size_t row, const float* bias, const float* in, float* out,
                 Activation) noexcept {
  using O = Ops<Matrix>;
  constexpr bool per_channel = Matrix::format::per_channel;
  constexpr std::size_t tables = per_channel ? Rows : 1;
  constexpr std::size_t chunk_bytes = Matrix::chunk_bytes, group_stride = Matrix::panel_rows * chunk_bytes;
  const std::size_t cols = weights.cols(), rows = weights.rows();
  const std::size_t full_groups = cols / group_cols;
  typename O::Table table[tables];
  MOTE_UNROLL for (std::size_t t = 0; t < tables; ++t) table[t] = O::prepare(weights.table(row + t));
  Vec acc[Rows][Samples];
  MOTE_UNROLL for (std::size_t r = 0; r < Rows; ++r)
    MOTE_UNROLL for (std::size_t s = 0; s < Samples; ++s) acc[r][s] = Vec::zero();
  const std::uint8_t* chunks = weights.chunk(row, 0);
  for (std::size_t g = 0; g < full_groups; ++g, chunks += group_stride) {
    MOTE_UNROLL for (std::size_t r = 0; r < Rows; ++r) {
      Vec w[per_group];
      O::lookup(table[per_channel ? r : 0], chunks + r * chunk_bytes, w);
      MOTE_UNROLL for (std::size_t s = 0; s < Samples; ++s) {
        const float* x = in + s * cols + g * group_cols;
        MOTE_UNROLL for (std::size_t j = 0; j < per_group; ++j)
          acc[r][s] = Vec::fma(w[j], Vec::load(x + j * Vec::lanes), acc[r][s]);
      }
    }
  }
  if (full_groups < weights.group_count()) {
    const std::size_t valid = cols - full_groups * group_cols;
    Vec x[Samples][per_group];
    MOTE_UNROLL for (std::size_t s = 0; s < Samples; ++s)
      load_group(in + s * cols + full_groups * group_cols, valid, x[s]);
    MOTE_UNROLL for (std::size_t r = 0; r < Rows; ++r) {
      Vec w[per_group];
      O::lookup(table[per_channel ? r : 0], chunks + r * chunk_bytes, w);
      clear_padding(w, valid);
      MOTE_UNROLL for (std::size_t s = 0; s < Samples; ++s)
        MOTE_UNROLL for (std::size_t j = 0; j < per_group; ++j) acc[r][s] = Vec::fma(w[j], x[s][j], acc[r][s]);
    }
  }
  MOTE_UNROLL for (std::size_t r = 0; r < Rows; ++r) {
    if (row + r >= rows) break;
    MOTE_UNROLL for (std::size_t s = 0; s < Samples; ++s) {
      const float sum = acc[r][s].reduce_add() + bias[row + r];
      if constexpr (::mote::activation::is_piecewise_linear_v<Activation>)
        out[s * rows + row + r] = Activation::apply(sum);
      else
        out[s * rows + row + r] = sum;
    }
  }
}

/// Rows [row, row + Rows) times samples [0, count), count < Samples.
template <std::size_t Rows, std::size_t Samples, class Matrix, class Activation>
inline void tile_remainder(const Matrix& weights, std::size_t row, const float* bias, const float* in, float* out,
                           std::size_t count, Activation activation) noexcept {
  if constexpr (Samples > 1) {
    if (count == Samples - 1) return tile<Rows, Samples - 1>(weights, row, bias, in, out, activation);
    tile_remainder<Rows, Samples - 1>(weights, row, bias, in, out, count, activation);
  }
}

/// Transcendental activations run as a vectorised pass over the finished outputs.
template <class Activation>
inline void finish(Activation activation, float* out, std::size_t count) noexcept {
  if constexpr (!::mote::activation::is_piecewise_linear_v<Activation>) activate(activation, out, out, count);
}

}  // namespace dense_codebook_detail

/// GEMV: tiles of gemv_rows rows, every column group of each, one sample.
template <std::size_t Bits, class Granularity, class Activation>
inline void dense(const ::mote::WeightMatrix<::mote::Codebook<Bits, Granularity>, ::mote::DenseStorage>& weights,
                  const float* bias, const float* in, float* out, Activation activation) noexcept {
  using namespace dense_codebook_detail;
  using Matrix = std::remove_cvref_t<decltype(weights)>;
  constexpr std::size_t rows_per_tile = Ops<Matrix>::gemv_rows;
  static_assert(Matrix::panel_rows % rows_per_tile == 0, "a row tile must not straddle two panels");
  for (std::size_t row = 0; row < weights.rows(); row += rows_per_tile)
    tile<rows_per_tile, 1>(weights, row, bias, in, out, activation);
  finish(activation, out, weights.rows());
}

/// GEMM: tiles of gemm_rows rows x gemm_samples samples; a row tile's chunks stay in L1 while
/// the samples stream past them.
template <std::size_t Bits, class Granularity, class Activation>
inline void dense_batch(const ::mote::WeightMatrix<::mote::Codebook<Bits, Granularity>, ::mote::DenseStorage>& weights,
                        const float* bias, const float* in, float* out, std::size_t batch,
                        Activation activation) noexcept {
  using namespace dense_codebook_detail;
  using Matrix = std::remove_cvref_t<decltype(weights)>;
  constexpr std::size_t rows_per_tile = Ops<Matrix>::gemm_rows, samples = Ops<Matrix>::gemm_samples;
  static_assert(Matrix::panel_rows % rows_per_tile == 0, "a row tile must not straddle two panels");
  const std::size_t cols = weights.cols(), rows = weights.rows();
  for (std::size_t row = 0; row < rows; row += rows_per_tile) {
    std::size_t b = 0;
    for (; b + samples <= batch; b += samples)
      tile<rows_per_tile, samples>(weights, row, bias, in + b * cols, out + b * rows, activation);
    if (b < batch)
      tile_remainder<rows_per_tile, samples>(weights, row, bias, in + b * cols, out + b * rows, batch - b, activation);
  }
  finish(activation, out, batch * rows);
}
