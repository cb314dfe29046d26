// Dense with binary weights (layout/dense_binary.hpp; semantics: numeric/binary.hpp), written
// once against the ISA's BinaryOps (arch/<family>/<isa>_binary.hpp) and, for f32 activations,
// its Vec. Per 16-row panel, each 32-column group of sign words is loaded once:
//  * binary activations (dense_xnor): the input's signs are packed to words (BinaryOps::
//    pack_signs) in scratch; each group is XORed with one input word and its bits counted per
//    row (BinaryOps::add; byte counts flushed to int32 every flush_every groups). Exact
//    integers, then the scalar epilogue every ISA shares (binary_reference.hpp): bit-exact.
//    Batches: xnor_tile samples share each group load.
//  * f32 activations (dense, dense_batch): no float weight is materialised, and nothing is
//    multiplied until the scale (applied once, with the bias). Two ways, chosen per ISA:
//    - sign flips (SSE4, NEON): the group's words (one lane per row, like Vec) are shifted so
//      that column t's bit is each lane's top bit, and BinaryOps::flip turns the broadcast x_t
//      into -x_t in the lanes where it is set (a blend on the sign bit, or an XOR into x's
//      sign bit), then adds: 3 vector ops per column and Vec.
//    - table lookups (AVX2, AVX-512: BinaryOps::lookup, a lane-wise variable permute): for
//      each run of log2(lanes) columns the input's table holds the signed sums of all sign
//      patterns, and each lane picks its row's entry: 3 ops per 3 (AVX2) or 4 (AVX-512)
//      columns; on Zen 3 (AVX2), 1024x1024: 2.1x (GEMV) and 2.4x (GEMM) faster than flips.
//    Column streams (or the samples of a GEMM tile) accumulate in separate registers; both
//    only reorder the reference's sum of the terms +-x_k.
// Code only: included per ISA by kernels/simd-inl.hpp after dense/simd-inl.hpp (whose
// cheap_epilogue_v and activate it reuses), and a second time, XNOR part only
// (MOTE_BINARY_XNOR_ONLY, no Vec there), by arch/targets.hpp for AVX-512 VPOPCNTDQ.

using BinaryOps = ::mote::simd::MOTE_SIMD_NS::BinaryOps;

namespace dense_binary_detail {

constexpr std::size_t panel_rows = ::mote::kernels::BinaryMatrix::panel_rows;
constexpr std::size_t group_cols = ::mote::kernels::BinaryMatrix::group_cols;

/// Samples [0, Tile) (their sign words `stride` words apart) times panel p.
template <std::size_t Tile, class Activation>
inline void xnor_tile(const ::mote::kernels::BinaryMatrix& weights, std::size_t p, const std::uint32_t* x_words,
                      std::size_t stride, const float* bias, float* out, Activation activation) noexcept {
  const std::size_t groups = weights.group_count(), rows = weights.rows();
  const std::uint32_t* panel = weights.panel(p);
  BinaryOps::Counts counts[Tile];
  MOTE_UNROLL for (std::size_t i = 0; i < Tile; ++i) counts[i] = BinaryOps::counts_zero();
  for (std::size_t g = 0; g < groups;) {
    const std::size_t end = groups - g > BinaryOps::flush_every ? g + BinaryOps::flush_every : groups;
    BinaryOps::Partial partial[Tile];
    MOTE_UNROLL for (std::size_t i = 0; i < Tile; ++i) partial[i] = BinaryOps::partial_zero();
    for (; g < end; ++g) {
      const BinaryOps::Group w = BinaryOps::load_group(panel + g * panel_rows);
      MOTE_UNROLL for (std::size_t i = 0; i < Tile; ++i) BinaryOps::add(partial[i], w, x_words[i * stride + g]);
    }
    MOTE_UNROLL for (std::size_t i = 0; i < Tile; ++i) BinaryOps::flush(partial[i], counts[i]);
  }
  const std::size_t first = p * panel_rows;
  const std::size_t count = rows - first < panel_rows ? rows - first : panel_rows;
  const auto cols = static_cast<std::int32_t>(weights.cols());
  for (std::size_t i = 0; i < Tile; ++i) {
    alignas(64) std::int32_t dots[panel_rows];
    BinaryOps::store(counts[i], dots);
    for (std::size_t r = 0; r < count; ++r) dots[r] = cols - 2 * dots[r];
    ::mote::kernels::binary_xnor_epilogue(weights, bias, dots, first, count, out + i * rows, activation);
  }
}

}  // namespace dense_binary_detail

/// Binary activations: `batch` samples binarised into `scratch` (binary_xnor_scratch_bytes per
/// sample), XNOR-popcount per panel, the shared scalar epilogue. Where BinaryOps names a
/// better build of this kernel for the running CPU (AVX-512 VPOPCNTDQ), that one runs instead.
template <class Activation, class Ops = BinaryOps>
inline void dense_xnor(const ::mote::kernels::BinaryMatrix& weights, const float* bias, const float* in, float* out,
                       std::size_t batch, Activation activation, std::byte* scratch) noexcept {
  if constexpr (requires { Ops::use_vpopcntdq(); }) {
    if (Ops::use_vpopcntdq()) return Ops::dense_xnor_vpopcntdq(weights, bias, in, out, batch, activation, scratch);
  }
  using namespace dense_binary_detail;
  const std::size_t cols = weights.cols(), rows = weights.rows();
  const std::size_t stride = ::mote::kernels::binary_xnor_scratch_bytes(cols) / sizeof(std::uint32_t);
  auto* words = reinterpret_cast<std::uint32_t*>(scratch);
  for (std::size_t b = 0; b < batch; ++b) BinaryOps::pack_signs(in + b * cols, cols, words + b * stride);
  constexpr std::size_t tile = BinaryOps::xnor_tile;
  for (std::size_t p = 0; p < weights.panel_count(); ++p) {
    std::size_t b = 0;
    for (; b + tile <= batch; b += tile)
      xnor_tile<tile>(weights, p, words + b * stride, stride, bias, out + b * rows, activation);
    for (; b < batch; ++b) xnor_tile<1>(weights, p, words + b * stride, stride, bias, out + b * rows, activation);
  }
}

#if !defined(MOTE_BINARY_XNOR_ONLY)

namespace dense_binary_detail {

constexpr std::size_t per_panel = panel_rows / Vec::lanes;
/// Independent accumulators per panel: 8 vector adds in flight (4 cycles of latency on 2
/// pipes), from column streams of one sample or from the samples of a GEMM tile.
constexpr std::size_t chains = per_panel >= 8 ? 1 : 8 / per_panel;

/// The group's words (one BinaryOps::Words per Vec of rows), shifted left by `shift`.
inline void load_words(const std::uint32_t* group, unsigned shift, BinaryOps::Words (&w)[per_panel]) noexcept {
  MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
    w[j] = BinaryOps::load_words(group + j * Vec::lanes);
    if (shift != 0) w[j] = BinaryOps::shift_left(w[j], shift);
  }
}

/// scale * sums + bias, activated, stored to the rows of panel p that exist.
template <class Activation>
inline void store_panel(const ::mote::kernels::BinaryMatrix& weights, std::size_t p, const Vec (&sums)[per_panel],
                        const float* bias, float* out, Activation activation) noexcept {
  MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
    const std::size_t row = p * panel_rows + j * Vec::lanes;
    const Vec y = apply(activation, Vec::fma(sums[j], Vec::load(weights.scales() + row), Vec::load(bias + row)));
    if (row + Vec::lanes <= weights.rows()) y.store(out + row);
    else if (row < weights.rows()) y.store_partial(out + row, weights.rows() - row);
  }
}

// ---- sign flips: each column's bit moved to the top of each lane (BinaryOps::flip) ------------

/// acc[j] += +-x (per row, by the top bits of w[j]); then, if `advance`, moves the next
/// column's bits up.
inline void accumulate_column(float x, BinaryOps::Words (&w)[per_panel], Vec (&acc)[per_panel],
                              bool advance = true) noexcept {
  const Vec pos = Vec::broadcast(x), neg = Vec::broadcast(-x);
  MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
    acc[j] = acc[j] + BinaryOps::flip(pos, neg, w[j]);
    if (advance) w[j] = BinaryOps::twice(w[j]);
  }
}

/// GEMV: the 32 columns of a group go round-robin to `chains` accumulators, summed at the end.
template <class Activation>
inline void flip_gemv(const ::mote::kernels::BinaryMatrix& weights, const float* bias, const float* in, float* out,
                      Activation activation) noexcept {
  const std::size_t cols = weights.cols(), full = cols / group_cols, tail = cols % group_cols;
  for (std::size_t p = 0; p < weights.panel_count(); ++p) {
    const std::uint32_t* panel = weights.panel(p);
    Vec acc[chains][per_panel];
    MOTE_UNROLL for (std::size_t c = 0; c < chains; ++c)
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[c][j] = Vec::zero();
    for (std::size_t g = 0; g < full; ++g) {
      BinaryOps::Words w[per_panel];
      load_words(panel + g * panel_rows, 0, w);
      const float* x = in + g * group_cols;
      MOTE_UNROLL for (std::size_t t = 0; t < group_cols; ++t) accumulate_column(x[group_cols - 1 - t], w, acc[t % chains]);
    }
    if (tail != 0) {
      BinaryOps::Words w[per_panel];
      load_words(panel + full * panel_rows, static_cast<unsigned>(group_cols - tail), w);
      const float* x = in + full * group_cols;
      for (std::size_t t = 0; t < tail; ++t) accumulate_column(x[tail - 1 - t], w, acc[0]);
    }
    Vec sums[per_panel];
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
      sums[j] = acc[0][j];
      MOTE_UNROLL for (std::size_t c = 1; c < chains; ++c) sums[j] = sums[j] + acc[c][j];
    }
    store_panel(weights, p, sums, bias, out, activation);
  }
}

/// GEMM tile: samples [0, Samples) of `in` times panel p; each group's words are loaded and
/// shifted once for all of them.
template <std::size_t Samples, class Activation>
inline void flip_gemm_tile(const ::mote::kernels::BinaryMatrix& weights, std::size_t p, const float* bias,
                           const float* in, float* out, Activation activation) noexcept {
  const std::size_t cols = weights.cols(), full = cols / group_cols, tail = cols % group_cols;
  const std::uint32_t* panel = weights.panel(p);
  Vec acc[Samples][per_panel];
  MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i)
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[i][j] = Vec::zero();
  for (std::size_t g = 0; g < full; ++g) {
    BinaryOps::Words w[per_panel];
    load_words(panel + g * panel_rows, 0, w);
    MOTE_UNROLL for (std::size_t t = 0; t < group_cols; ++t) {
      MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i)
        accumulate_column(in[i * cols + g * group_cols + group_cols - 1 - t], w, acc[i], false);
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) w[j] = BinaryOps::twice(w[j]);
    }
  }
  if (tail != 0) {
    BinaryOps::Words w[per_panel];
    load_words(panel + full * panel_rows, static_cast<unsigned>(group_cols - tail), w);
    for (std::size_t t = 0; t < tail; ++t) {
      MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i)
        accumulate_column(in[i * cols + full * group_cols + tail - 1 - t], w, acc[i], false);
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) w[j] = BinaryOps::twice(w[j]);
    }
  }
  MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i)
    store_panel(weights, p, acc[i], bias, out + i * weights.rows(), activation);
}

// ---- table lookups: per input, the 2^bits signed sums of each `bits` consecutive columns -------

/// Where BinaryOps::lookup exists (a lane-wise variable permute of one Vec: AVX2 vpermps, 8
/// entries, AVX-512 vpermps, 16), `bits` = log2(lanes) columns take one lookup per Vec of rows
/// instead of `bits` sign flips: the table of the input holds, for each pattern e of the
/// columns' sign bits, sum_i (bit i of e ? -x_i : x_i), and each lane indexes it with its row's
/// bits (the low bits of the word, shifted down `bits` after each lookup). Each table entry is
/// a sum of terms +-x_k: still a reordering of the reference's sum. Tables are built per chunk
/// of columns on the stack (8 KiB), partial sums kept in `out` between chunks.
template <class Ops>
concept LooksUp = requires(const float* table, typename Ops::Words w) {
  { Ops::lookup(table, w) } -> std::same_as<Vec>;
  { Ops::next_lookup(w) } -> std::same_as<typename Ops::Words>;
};
constexpr std::size_t lookup_bits = std::bit_width(Vec::lanes) - 1;
constexpr std::size_t lookups_per_group = (group_cols + lookup_bits - 1) / lookup_bits;
constexpr std::size_t table_floats_per_group = lookups_per_group * Vec::lanes;
template <std::size_t Samples>
constexpr std::size_t chunk_groups =
    2048 / (Samples * table_floats_per_group) > 0 ? 2048 / (Samples * table_floats_per_group) : 1;

/// The tables of groups [first, first + count) of input x (columns past `cols` count as 0).
inline void build_tables(const float* x, std::size_t cols, std::size_t first, std::size_t count,
                         float* tables) noexcept {
  // signs[i] lane e: -1 where bit i of e is set.
  alignas(64) static constexpr auto signs = [] {
    std::array<float, lookup_bits * Vec::lanes> s{};
    for (std::size_t i = 0; i < lookup_bits; ++i)
      for (std::size_t e = 0; e < Vec::lanes; ++e) s[i * Vec::lanes + e] = ((e >> i) & 1u) != 0 ? -1.0f : 1.0f;
    return s;
  }();
  for (std::size_t g = 0; g < count; ++g) {
    const std::size_t group_start = (first + g) * group_cols;
    MOTE_UNROLL for (std::size_t l = 0; l < lookups_per_group; ++l) {
      const std::size_t start = group_start + l * lookup_bits;
      Vec table = Vec::zero();
      MOTE_UNROLL for (std::size_t i = 0; i < lookup_bits; ++i) {
        if (l * lookup_bits + i >= group_cols) continue;  // the last lookup of a group may be shorter
        const float x_k = start + i < cols ? x[start + i] : 0.0f;
        table = Vec::fma(Vec::broadcast(x_k), Vec::load(signs.data() + i * Vec::lanes), table);  // exact product
      }
      table.store(tables + (g * lookups_per_group + l) * Vec::lanes);
    }
  }
}

/// Samples [0, Samples) of `in` times every panel, by table lookups, chunk by chunk of columns.
template <std::size_t Samples, class Activation, class Ops = BinaryOps>
inline void lookup_tile(const ::mote::kernels::BinaryMatrix& weights, const float* bias, const float* in, float* out,
                        Activation activation) noexcept {
  constexpr std::size_t streams = chains / Samples > 0 ? chains / Samples : 1;
  constexpr std::size_t chunk = chunk_groups<Samples>;
  alignas(64) float tables[Samples][chunk * table_floats_per_group];
  const std::size_t cols = weights.cols(), rows = weights.rows(), groups = weights.group_count();
  for (std::size_t g0 = 0; g0 < groups; g0 += chunk) {
    const std::size_t count = groups - g0 < chunk ? groups - g0 : chunk;
    const bool first_chunk = g0 == 0, last_chunk = g0 + count == groups;
    MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i) build_tables(in + i * cols, cols, g0, count, tables[i]);
    for (std::size_t p = 0; p < weights.panel_count(); ++p) {
      const std::uint32_t* panel = weights.panel(p) + g0 * panel_rows;
      Vec acc[Samples][streams][per_panel];
      MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i)
        MOTE_UNROLL for (std::size_t s = 0; s < streams; ++s)
          MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
            const std::size_t row = p * panel_rows + j * Vec::lanes;
            acc[i][s][j] = Vec::zero();
            if (s == 0 && !first_chunk) {  // the partial sums of the previous chunks
              if (row + Vec::lanes <= rows) acc[i][s][j] = Vec::load(out + i * rows + row);
              else if (row < rows) acc[i][s][j] = Vec::load_partial(out + i * rows + row, rows - row);
            }
          }
      for (std::size_t g = 0; g < count; ++g) {
        BinaryOps::Words w[per_panel];
        load_words(panel + g * panel_rows, 0, w);
        const std::size_t table_offset = g * table_floats_per_group;
        MOTE_UNROLL for (std::size_t l = 0; l < lookups_per_group; ++l) {
          MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i) {
            const float* table = tables[i] + table_offset + l * Vec::lanes;
            MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j)
              acc[i][l % streams][j] = acc[i][l % streams][j] + Ops::lookup(table, w[j]);
          }
          MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) w[j] = Ops::next_lookup(w[j]);
        }
      }
      MOTE_UNROLL for (std::size_t i = 0; i < Samples; ++i) {
        Vec sums[per_panel];
        MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
          sums[j] = acc[i][0][j];
          MOTE_UNROLL for (std::size_t s = 1; s < streams; ++s) sums[j] = sums[j] + acc[i][s][j];
        }
        if (last_chunk) {
          store_panel(weights, p, sums, bias, out + i * rows, activation);
        } else {
          MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
            const std::size_t row = p * panel_rows + j * Vec::lanes;
            if (row + Vec::lanes <= rows) sums[j].store(out + i * rows + row);
            else if (row < rows) sums[j].store_partial(out + i * rows + row, rows - row);
          }
        }
      }
    }
  }
}

}  // namespace dense_binary_detail

/// GEMM: `batch` samples, `chains` at a time.
template <class Activation>
inline void dense_batch(const ::mote::kernels::BinaryMatrix& weights, const float* bias, const float* in, float* out,
                        std::size_t batch, Activation activation) noexcept {
  using namespace dense_binary_detail;
  const std::size_t cols = weights.cols(), rows = weights.rows();
  if constexpr (LooksUp<BinaryOps>) {
    std::size_t b = 0;
    for (; b + chains <= batch; b += chains) lookup_tile<chains>(weights, bias, in + b * cols, out + b * rows, activation);
    for (; b < batch; ++b) lookup_tile<1>(weights, bias, in + b * cols, out + b * rows, activation);
  } else {
    for (std::size_t p = 0; p < weights.panel_count(); ++p) {
      std::size_t b = 0;
      for (; b + chains <= batch; b += chains)
        flip_gemm_tile<chains>(weights, p, bias, in + b * cols, out + b * rows, activation);
      for (; b < batch; ++b) flip_gemm_tile<1>(weights, p, bias, in + b * cols, out + b * rows, activation);
    }
  }
}

/// GEMV; transcendental activations run as a second pass (as for f32).
template <class Activation>
inline void dense(const ::mote::kernels::BinaryMatrix& weights, const float* bias, const float* in, float* out,
                  Activation activation) noexcept {
  using namespace dense_binary_detail;
  if constexpr (!cheap_epilogue_v<Activation>) {
    dense(weights, bias, in, out, ::mote::activation::Identity{});
    activate(activation, out, out, weights.rows());
  } else if constexpr (LooksUp<BinaryOps>) {
    lookup_tile<1>(weights, bias, in, out, activation);
  } else {
    flip_gemv(weights, bias, in, out, activation);
  }
}

#endif  // !MOTE_BINARY_XNOR_ONLY
