// Sparse f32 GEMV (layout/sparse.hpp) on tiles of 8 output channels, written once against the
// ISA's `Tile8` (arch/x86/avx2_sparse.hpp, arch/arm/neon_sparse.hpp): one vector FMA per 8
// stored weights, with the inputs broadcast (Block) or permuted into place from a window of 4 or
// 8 consecutive inputs (N:M, Unstructured). Independent accumulators (`streams`) keep enough
// FMAs in flight; they are summed at the end, the only reordering against the scalar kernels.
// Code only: included per ISA by kernels/simd_sparse-inl.hpp.

namespace sparse_detail {

using Tile = ::mote::simd::MOTE_SIMD_NS::Tile8;
constexpr std::size_t tile_rows = ::mote::detail::SparseShape::tile_rows;

/// bias + sums for tile t's rows that exist.
inline void finish_tile(Tile sum, std::size_t first_row, std::size_t rows, const float* bias, float* out) noexcept {
  sum = sum + Tile::load(bias + first_row);
  if (first_row + tile_rows <= rows) {
    sum.store(out + first_row);
  } else {
    float lanes[tile_rows];
    sum.store(lanes);
    for (std::size_t i = 0; first_row + i < rows; ++i) out[first_row + i] = lanes[i];
  }
}

/// The window of M inputs starting at `p`, of which `available` exist (zeros after them).
template <std::size_t M>
inline auto window(const float* p, std::size_t available) noexcept {
  if (available >= M) {
    if constexpr (M == 4) return Tile::window4(p);
    else return Tile::window8(p);
  }
  float padded[8] = {};
  for (std::size_t i = 0; i < available; ++i) padded[i] = p[i];
  if constexpr (M == 4) return Tile::window4(padded);
  else return Tile::window8(padded);
}

}  // namespace sparse_detail

template <std::size_t N, std::size_t M>
inline void dense_sparse(const WeightMatrix<F32, Sparse<NM<N, M>>>& weights, const float* bias, const float* in,
                         float* out) noexcept {
  using namespace sparse_detail;
  constexpr std::size_t streams = N >= 4 ? 1 : 4 / N;
  const std::size_t groups = weights.groups(), cols = weights.cols();
  const std::size_t full_groups = cols / M;
  for (std::size_t t = 0; t < weights.tiles(); ++t) {
    Tile acc[streams][N];
    MOTE_UNROLL for (std::size_t u = 0; u < streams; ++u) MOTE_UNROLL for (std::size_t s = 0; s < N; ++s) acc[u][s] = Tile::zero();
    const float* values = weights.values(t, 0);
    const auto* positions = weights.positions(t, 0);
    std::size_t g = 0;
    for (; g + streams <= full_groups; g += streams) {
      MOTE_UNROLL for (std::size_t u = 0; u < streams; ++u) {
        const auto x = window<M>(in + (g + u) * M, M);
        if constexpr (M == 4 && N % 2 == 0) {
          // Two slots' 16-bit positions in one 32-bit read: one broadcast decodes both
          // (measured 1.2x -> see docs/sparsity.md for 2:4).
          MOTE_UNROLL for (std::size_t s = 0; s < N; s += 2) {
            std::uint32_t pair;
            std::memcpy(&pair, positions + (g + u) * N + s, sizeof pair);
            acc[u][s] = Tile::fma(Tile::load(values + ((g + u) * N + s) * tile_rows), Tile::select(x, pair), acc[u][s]);
            acc[u][s + 1] = Tile::fma(Tile::load(values + ((g + u) * N + s + 1) * tile_rows), Tile::select_upper(x, pair),
                                      acc[u][s + 1]);
          }
        } else {
          MOTE_UNROLL for (std::size_t s = 0; s < N; ++s)
            acc[u][s] = Tile::fma(Tile::load(values + ((g + u) * N + s) * tile_rows), Tile::select(x, positions[(g + u) * N + s]), acc[u][s]);
        }
      }
    }
    for (; g < groups; ++g) {
      const auto x = window<M>(in + g * M, cols - g * M);
      MOTE_UNROLL for (std::size_t s = 0; s < N; ++s)
        acc[0][s] = Tile::fma(Tile::load(values + (g * N + s) * tile_rows), Tile::select(x, positions[g * N + s]), acc[0][s]);
    }
    Tile sum = acc[0][0];
    MOTE_UNROLL for (std::size_t s = 1; s < N; ++s) sum = sum + acc[0][s];
    MOTE_UNROLL for (std::size_t u = 1; u < streams; ++u) MOTE_UNROLL for (std::size_t s = 0; s < N; ++s) sum = sum + acc[u][s];
    finish_tile(sum, t * tile_rows, weights.rows(), bias, out);
  }
}

inline void dense_sparse(const WeightMatrix<F32, Sparse<Unstructured>>& weights, const float* bias, const float* in,
                         float* out) noexcept {
  using namespace sparse_detail;
  using Matrix = WeightMatrix<F32, Sparse<Unstructured>>;
  constexpr std::size_t streams = 4;
  const std::size_t cols = weights.cols();
  // Inputs shorter than a window are copied once into a zero-padded window.
  float padded[Matrix::window] = {};
  if (cols < Matrix::window) {
    for (std::size_t i = 0; i < cols; ++i) padded[i] = in[i];
    in = padded;
  }
  const Matrix::Step* steps = weights.steps();
  const float* values = weights.values();
  for (std::size_t t = 0; t < weights.tiles(); ++t) {
    Tile acc[streams];
    MOTE_UNROLL for (std::size_t u = 0; u < streams; ++u) acc[u] = Tile::zero();
    std::size_t s = weights.tile_begin(t);
    const std::size_t end = weights.tile_begin(t + 1);
    for (; s + streams <= end; s += streams) {
      MOTE_UNROLL for (std::size_t u = 0; u < streams; ++u) {
        const Matrix::Step step = steps[s + u];
        acc[u] = Tile::fma(Tile::load(values + (s + u) * tile_rows), Tile::select(Tile::window8(in + step.base), step.positions), acc[u]);
      }
    }
    for (; s < end; ++s)
      acc[0] = Tile::fma(Tile::load(values + s * tile_rows), Tile::select(Tile::window8(in + steps[s].base), steps[s].positions), acc[0]);
    finish_tile((acc[0] + acc[1]) + (acc[2] + acc[3]), t * tile_rows, weights.rows(), bias, out);
  }
}

template <std::size_t R, std::size_t C>
inline void dense_sparse(const WeightMatrix<F32, Sparse<Block<R, C>>>& weights, const float* bias, const float* in,
                         float* out) noexcept {
  using namespace sparse_detail;
  constexpr std::size_t block_rows = WeightMatrix<F32, Sparse<Block<R, C>>>::block_rows;
  constexpr std::size_t parts = block_rows / tile_rows;
  // Enough independent chains for two FMA pipes of latency 4, whatever C and the block height.
  constexpr std::size_t streams = parts * C >= 8 ? 1 : (8 / (parts * C) < 4 ? 8 / (parts * C) : 4);
  const std::size_t cols = weights.cols();
  const std::uint32_t* columns = weights.block_columns();
  const float* values = weights.values();
  for (std::size_t t = 0; t < weights.tiles(); ++t) {
    Tile acc[streams][parts];
    MOTE_UNROLL for (std::size_t u = 0; u < streams; ++u) MOTE_UNROLL for (std::size_t j = 0; j < parts; ++j) acc[u][j] = Tile::zero();
    std::size_t b = weights.tile_begin(t);
    const std::size_t end = weights.tile_begin(t + 1);
    // A block reaching past the last input is the last of its tile (blocks are in column order).
    const std::size_t whole_end = end > b && columns[end - 1] + C > cols ? end - 1 : end;
    for (; b + streams <= whole_end; b += streams) {
      MOTE_UNROLL for (std::size_t u = 0; u < streams; ++u) {
        const float* block = values + (b + u) * C * block_rows;
        const float* x = in + columns[b + u];
        MOTE_UNROLL for (std::size_t c = 0; c < C; ++c) {
          const Tile xc = Tile::broadcast(x + c);
          MOTE_UNROLL for (std::size_t j = 0; j < parts; ++j)
            acc[u][j] = Tile::fma(Tile::load(block + c * block_rows + j * tile_rows), xc, acc[u][j]);
        }
      }
    }
    for (; b < end; ++b) {
      const float* block = values + b * C * block_rows;
      const std::size_t first = columns[b];
      for (std::size_t c = 0; c < C && first + c < cols; ++c) {
        const Tile xc = Tile::broadcast(in + first + c);
        MOTE_UNROLL for (std::size_t j = 0; j < parts; ++j)
          acc[0][j] = Tile::fma(Tile::load(block + c * block_rows + j * tile_rows), xc, acc[0][j]);
      }
    }
    MOTE_UNROLL for (std::size_t j = 0; j < parts; ++j) {
      Tile sum = acc[0][j];
      MOTE_UNROLL for (std::size_t u = 1; u < streams; ++u) sum = sum + acc[u][j];
      finish_tile(sum, t * block_rows + j * tile_rows, weights.rows(), bias, out);
    }
  }
}

// Batches (Dense::forward_batch, and convolutions: one sample per output pixel). Groups of up
// to 8 samples run as a GEMM with the samples in the vector lanes (below); a rest of 5 or fewer,
// 4 at a time sharing every weight load and position decode, then one by one.
namespace sparse_detail {
constexpr std::size_t batch_tile = 4;
}  // namespace sparse_detail

template <std::size_t N, std::size_t M>
inline void dense_sparse_tile(const WeightMatrix<F32, Sparse<NM<N, M>>>& weights, const float* bias, const float* in,
                              float* out) noexcept {
  using namespace sparse_detail;
  constexpr std::size_t S = batch_tile;
  const std::size_t groups = weights.groups(), cols = weights.cols(), rows = weights.rows();
  for (std::size_t t = 0; t < weights.tiles(); ++t) {
    Tile acc[S][N];
    MOTE_UNROLL for (std::size_t b = 0; b < S; ++b) MOTE_UNROLL for (std::size_t s = 0; s < N; ++s) acc[b][s] = Tile::zero();
    const float* values = weights.values(t, 0);
    const auto* positions = weights.positions(t, 0);
    for (std::size_t g = 0; g < groups; ++g) {
      const std::size_t available = cols - g * M;
      MOTE_UNROLL for (std::size_t s = 0; s < N; ++s) {
        const Tile w = Tile::load(values + (g * N + s) * tile_rows);
        MOTE_UNROLL for (std::size_t b = 0; b < S; ++b)
          acc[b][s] = Tile::fma(w, Tile::select(window<M>(in + b * cols + g * M, available), positions[g * N + s]), acc[b][s]);
      }
    }
    MOTE_UNROLL for (std::size_t b = 0; b < S; ++b) {
      Tile sum = acc[b][0];
      MOTE_UNROLL for (std::size_t s = 1; s < N; ++s) sum = sum + acc[b][s];
      finish_tile(sum, t * tile_rows, rows, bias, out + b * rows);
    }
  }
}

inline void dense_sparse_tile(const WeightMatrix<F32, Sparse<Unstructured>>& weights, const float* bias, const float* in,
                              float* out) noexcept {
  using namespace sparse_detail;
  using Matrix = WeightMatrix<F32, Sparse<Unstructured>>;
  constexpr std::size_t S = batch_tile;
  const std::size_t cols = weights.cols(), rows = weights.rows();
  // Inputs shorter than a window: this tile's samples copied into zero-padded windows.
  float padded[S][Matrix::window] = {};
  std::size_t stride = cols;
  if (cols < Matrix::window) {
    for (std::size_t b = 0; b < S; ++b)
      for (std::size_t i = 0; i < cols; ++i) padded[b][i] = in[b * cols + i];
    in = padded[0];
    stride = Matrix::window;
  }
  const Matrix::Step* steps = weights.steps();
  const float* values = weights.values();
  for (std::size_t t = 0; t < weights.tiles(); ++t) {
    Tile acc[S];
    MOTE_UNROLL for (std::size_t b = 0; b < S; ++b) acc[b] = Tile::zero();
    for (std::size_t s = weights.tile_begin(t); s < weights.tile_begin(t + 1); ++s) {
      const Matrix::Step step = steps[s];
      const Tile w = Tile::load(values + s * tile_rows);
      MOTE_UNROLL for (std::size_t b = 0; b < S; ++b)
        acc[b] = Tile::fma(w, Tile::select(Tile::window8(in + b * stride + step.base), step.positions), acc[b]);
    }
    MOTE_UNROLL for (std::size_t b = 0; b < S; ++b) finish_tile(acc[b], t * tile_rows, rows, bias, out + b * rows);
  }
}

template <std::size_t R, std::size_t C>
inline void dense_sparse_tile(const WeightMatrix<F32, Sparse<Block<R, C>>>& weights, const float* bias, const float* in,
                              float* out) noexcept {
  using namespace sparse_detail;
  constexpr std::size_t S = batch_tile;
  constexpr std::size_t block_rows = WeightMatrix<F32, Sparse<Block<R, C>>>::block_rows;
  constexpr std::size_t parts = block_rows / tile_rows;
  const std::size_t cols = weights.cols(), rows = weights.rows();
  const std::uint32_t* columns = weights.block_columns();
  const float* values = weights.values();
  for (std::size_t t = 0; t < weights.tiles(); ++t) {
    Tile acc[S][parts];
    MOTE_UNROLL for (std::size_t b = 0; b < S; ++b) MOTE_UNROLL for (std::size_t j = 0; j < parts; ++j) acc[b][j] = Tile::zero();
    for (std::size_t blk = weights.tile_begin(t); blk < weights.tile_begin(t + 1); ++blk) {
      const float* block = values + blk * C * block_rows;
      const std::size_t first = columns[blk];
      const std::size_t width = first + C <= cols ? C : cols - first;
      for (std::size_t c = 0; c < width; ++c) {
        Tile w[parts];
        MOTE_UNROLL for (std::size_t j = 0; j < parts; ++j) w[j] = Tile::load(block + c * block_rows + j * tile_rows);
        MOTE_UNROLL for (std::size_t b = 0; b < S; ++b) {
          const Tile x = Tile::broadcast(in + b * cols + first + c);
          MOTE_UNROLL for (std::size_t j = 0; j < parts; ++j) acc[b][j] = Tile::fma(w[j], x, acc[b][j]);
        }
      }
    }
    MOTE_UNROLL for (std::size_t b = 0; b < S; ++b)
      MOTE_UNROLL for (std::size_t j = 0; j < parts; ++j)
        finish_tile(acc[b][j], t * block_rows + j * tile_rows, rows, bias, out + b * rows);
  }
}

// The sparse GEMM: 8 samples in the lanes of one Tile8, their inputs transposed once into
// `xt` (input c of sample j at xt[c * 8 + j]). Each stored weight is broadcast and multiplies
// the 8 samples' input at its column: one FMA per weight and 8 samples, and no
// permute (W3b64 at 90% unstructured on Zen 3: 728 us, against 1,031 for tiles of 4 samples
// sharing the GEMV's permutes and 1,483 for the dense GEMM; Block<8, 4> at 75%: 464 against
// 2,300; docs/sparsity.md). 8 accumulators, one per row of a tile, are transposed back to one
// vector of 8 rows per sample at the end.
namespace sparse_detail {
constexpr std::size_t gemm_samples = ::mote::kernels::sparse_gemm_samples;
static_assert(gemm_samples == tile_rows, "the sparse GEMM transposes square tiles: as many samples as rows");

/// Columns of `xt`: cols rounded up to whole 8-column blocks (zeros past cols).
inline constexpr std::size_t gemm_columns(std::size_t cols) noexcept { return (cols + 7) / 8 * 8; }

/// xt[c * 8 + j] = sample j's input c (row-major samples of `cols`), zero past `cols` and for
/// j >= count.
inline void transpose_inputs(const float* in, std::size_t cols, std::size_t count, float* xt) noexcept {
  const std::size_t whole = count == gemm_samples ? cols / 8 * 8 : 0;
  for (std::size_t c = 0; c < whole; c += 8) {
    Tile block[gemm_samples];
    MOTE_UNROLL for (std::size_t j = 0; j < gemm_samples; ++j) block[j] = Tile::load(in + j * cols + c);
    Tile::transpose(block);
    MOTE_UNROLL for (std::size_t i = 0; i < 8; ++i) block[i].store(xt + (c + i) * gemm_samples);
  }
  for (std::size_t c = whole; c < gemm_columns(cols); ++c)
    for (std::size_t j = 0; j < gemm_samples; ++j) xt[c * gemm_samples + j] = j < count && c < cols ? in[j * cols + c] : 0.0f;
}

/// Row i's input in a window or group of xt: its position (`Bits` bits at bit Bits * i) times
/// 8 floats, written so that each lane costs a shift and a mask (`position << 3` folded in).
template <std::size_t Bits>
[[gnu::always_inline]] inline std::size_t lane_offset(std::uint32_t positions, std::size_t i) noexcept {
  constexpr std::uint32_t mask = ((1u << Bits) - 1u) << 3;
  const std::size_t shift = i * Bits;
  return shift >= 3 ? positions >> (shift - 3) & mask : positions << (3 - shift) & mask;
}

/// Makes `p` opaque to the optimiser so that it stays one register: otherwise GCC 12 adds the
/// window's first column into every lane's index (an add and a shift more per weight: the
/// unstructured GEMM about 30% slower).
template <class T>
[[gnu::always_inline]] inline void keep_in_register(const T*& p) noexcept {
  __asm__("" : "+r"(p));
}

/// One step (unstructured) or slot (N:M): row i's weight values[i] times its input at
/// window + its position.
template <std::size_t Bits>
[[gnu::always_inline]] inline void gemm_step(Tile (&acc)[tile_rows], const float* values, const float* window,
                                             std::uint32_t positions) noexcept {
  keep_in_register(window);
  MOTE_UNROLL for (std::size_t i = 0; i < tile_rows; ++i)
    acc[i] = Tile::fma(Tile::broadcast(values + i), Tile::load(window + lane_offset<Bits>(positions, i)), acc[i]);
}

/// acc[i]: row first_row + i of `count` samples (lane j: sample j). Adds the bias and writes
/// sample j's rows at out + j * rows.
inline void finish_samples(Tile (&acc)[tile_rows], std::size_t first_row, std::size_t rows, const float* bias,
                           std::size_t count, float* out) noexcept {
  Tile::transpose(acc);
  for (std::size_t j = 0; j < count; ++j) finish_tile(acc[j], first_row, rows, bias, out + j * rows);
}
}  // namespace sparse_detail

inline void sparse_gemm(const WeightMatrix<F32, Sparse<Unstructured>>& weights, const float* bias, const float* xt,
                        std::size_t count, float* out) noexcept {
  using namespace sparse_detail;
  using Matrix = WeightMatrix<F32, Sparse<Unstructured>>;
  const Matrix::Step* steps = weights.steps();
  const float* values = weights.values();
  for (std::size_t t = 0; t < weights.tiles(); ++t) {
    Tile acc[tile_rows];
    MOTE_UNROLL for (std::size_t i = 0; i < tile_rows; ++i) acc[i] = Tile::zero();
    const std::size_t end = weights.tile_begin(t + 1);
    for (std::size_t s = weights.tile_begin(t); s < end; ++s) {
      gemm_step<Matrix::index_bits>(acc, values + s * tile_rows, xt + steps[s].base * gemm_samples, steps[s].positions);
    }
    finish_samples(acc, t * tile_rows, weights.rows(), bias, count, out);
  }
}

template <std::size_t N, std::size_t M>
inline void sparse_gemm(const WeightMatrix<F32, Sparse<NM<N, M>>>& weights, const float* bias, const float* xt,
                        std::size_t count, float* out) noexcept {
  using namespace sparse_detail;
  using Matrix = WeightMatrix<F32, Sparse<NM<N, M>>>;
  const std::size_t groups = weights.groups();
  for (std::size_t t = 0; t < weights.tiles(); ++t) {
    Tile acc[tile_rows];
    MOTE_UNROLL for (std::size_t i = 0; i < tile_rows; ++i) acc[i] = Tile::zero();
    const float* values = weights.values(t, 0);
    const auto* positions = weights.positions(t, 0);
    for (std::size_t g = 0; g < groups; ++g)
      MOTE_UNROLL for (std::size_t s = 0; s < N; ++s)
        gemm_step<Matrix::index_bits>(acc, values + (g * N + s) * tile_rows, xt + g * M * gemm_samples,
                                      positions[g * N + s]);
    finish_samples(acc, t * tile_rows, weights.rows(), bias, count, out);
  }
}

template <std::size_t R, std::size_t C>
inline void sparse_gemm(const WeightMatrix<F32, Sparse<Block<R, C>>>& weights, const float* bias, const float* xt,
                        std::size_t count, float* out) noexcept {
  using namespace sparse_detail;
  constexpr std::size_t block_rows = WeightMatrix<F32, Sparse<Block<R, C>>>::block_rows;
  const std::size_t cols = weights.cols();
  const std::uint32_t* columns = weights.block_columns();
  const float* values = weights.values();
  for (std::size_t t = 0; t < weights.tiles(); ++t) {
    const std::size_t first = weights.tile_begin(t), end = weights.tile_begin(t + 1);
    for (std::size_t part = 0; part < block_rows; part += tile_rows) {
      Tile acc[tile_rows];
      MOTE_UNROLL for (std::size_t i = 0; i < tile_rows; ++i) acc[i] = Tile::zero();
      for (std::size_t b = first; b < end; ++b) {
        const float* block = values + b * C * block_rows + part;
        // Only a tile's last block can reach past the last input (blocks start at multiples of C).
        const std::size_t width = columns[b] + C <= cols ? C : cols - columns[b];
        for (std::size_t c = 0; c < width; ++c) {
          const Tile x = Tile::load(xt + (columns[b] + c) * gemm_samples);
          MOTE_UNROLL for (std::size_t i = 0; i < tile_rows; ++i)
            acc[i] = Tile::fma(Tile::broadcast(block + c * block_rows + i), x, acc[i]);
        }
      }
      finish_samples(acc, t * block_rows + part, weights.rows(), bias, count, out);
    }
  }
}

/// `batch` samples; `xt` (scratch of sparse_batch_scratch_bytes(cols, batch), 32-byte aligned)
/// holds the transposed inputs of the GEMM's groups of 8.
template <class Matrix>
inline void dense_sparse_batch(const Matrix& weights, const float* bias, const float* in, float* out,
                               std::size_t batch, float* xt) noexcept {
  using sparse_detail::batch_tile;
  using sparse_detail::gemm_samples;
  const std::size_t cols = weights.cols(), rows = weights.rows();
  std::size_t b = 0;
  // A GEMM costs about the same for 6 or 7 samples as for 8; 5 and fewer run faster in tiles of 4
  // and alone (measured on Zen 3: 4 samples 1.3x faster in a tile than in a GEMM).
  for (; b + ::mote::kernels::sparse_gemm_min_samples <= batch; b += gemm_samples) {
    const std::size_t count = std::min(gemm_samples, batch - b);
    sparse_detail::transpose_inputs(in + b * cols, cols, count, xt);
    sparse_gemm(weights, bias, xt, count, out + b * rows);
  }
  for (; b + batch_tile <= batch; b += batch_tile) dense_sparse_tile(weights, bias, in + b * cols, out + b * rows);
  for (; b < batch; ++b) dense_sparse(weights, bias, in + b * cols, out + b * rows);
}
