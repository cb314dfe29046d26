// Dense (GEMV, GEMM) with bf16 / f16 weights, computed in f32: the f32 kernels' structure
// (dense/simd-inl.hpp: k-streams for the GEMV, register tiles for the GEMM) with each panel
// column widened from 16 bits as it is loaded, so a memory-bound GEMV streams half the bytes.
// Widening is exact (Vec::load_bf16 / load_f16): the only reordering compared with the scalar
// reference (half_reference.hpp) is the f32 kernels' one.
// Where Vec has load_bf16_even_odd (AVX2, SSE4), bf16 columns are loaded two vectors at a time
// with rows de-interleaved (even rows in one register, odd in the next): half the instructions
// of two load_bf16. The accumulators then hold rows in that order, restored once per panel.
// Code only: included per ISA by kernels/simd-inl.hpp after dense/simd-inl.hpp, whose
// cheap_epilogue_v and activate it reuses.

namespace dense_half_detail {

constexpr std::size_t panel_rows = DenseF32::panel_rows;
constexpr std::size_t per_panel = panel_rows / Vec::lanes;
constexpr std::size_t tile_rows = dense_detail::single_panel_rows;

template <class V>
concept LoadsBf16EvenOdd = requires(const std::uint16_t* p, V& v) {
  V::load_bf16_even_odd(p, v, v);
  V::interleave_even_odd(v, v, v, v);
};
template <class Format>
constexpr bool even_odd_v = std::is_same_v<Format, ::mote::BF16> && per_panel % 2 == 0 && LoadsBf16EvenOdd<Vec>;

/// The 16 weights of one panel column as per_panel vectors of f32 (rows de-interleaved in
/// pairs of vectors when even_odd_v). V is Vec, a template parameter so that the branches an
/// ISA lacks are discarded.
template <class Format, class V>
inline void load_column(const std::uint16_t* column, V (&w)[per_panel]) noexcept {
  if constexpr (even_odd_v<Format>) {
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; j += 2)
      V::load_bf16_even_odd(column + j * Vec::lanes, w[j], w[j + 1]);
  } else if constexpr (std::is_same_v<Format, ::mote::BF16>) {
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) w[j] = Vec::load_bf16(column + j * Vec::lanes);
  } else {
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) w[j] = Vec::load_f16(column + j * Vec::lanes);
  }
}

/// Puts sums accumulated from load_column's vectors back in row order.
template <class Format, class V>
inline void restore_rows(V (&sums)[per_panel]) noexcept {
  if constexpr (even_odd_v<Format>)
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; j += 2)
      V::interleave_even_odd(sums[j], sums[j + 1], sums[j], sums[j + 1]);
}

/// bias + sums (in row order), activated, stored to rows [first_row, first_row + 16) of `out`
/// that exist.
template <class Activation>
inline void store_panel(const Vec (&sums)[per_panel], std::size_t first_row, std::size_t rows, const float* bias,
                        float* out, Activation activation) noexcept {
  MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
    const std::size_t row = first_row + j * Vec::lanes;
    const Vec sum = apply(activation, sums[j] + Vec::load(bias + row));
    if (row + Vec::lanes <= rows) sum.store(out + row);
    else if (row < rows) sum.store_partial(out + row, rows - row);
  }
}

/// Rows [0, Rows) of `in` times one panel: each column is widened once and reused by every row
/// of the tile.
template <std::size_t Rows, class Format, class Activation>
inline void gemm_tile(const ::mote::WeightMatrix<Format, ::mote::DenseStorage>& weights, std::size_t p,
                      const float* bias, const float* in, float* out, Activation activation) noexcept {
  const std::size_t cols = weights.cols();
  const std::uint16_t* panel = weights.panel(p);
  Vec acc[Rows][per_panel];
  MOTE_UNROLL for (std::size_t i = 0; i < Rows; ++i)
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[i][j] = Vec::zero();
  for (std::size_t k = 0; k < cols; ++k) {
    Vec w[per_panel];
    load_column<Format>(panel + k * panel_rows, w);
    MOTE_UNROLL for (std::size_t i = 0; i < Rows; ++i) {
      const Vec x = Vec::broadcast(in[i * cols + k]);
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[i][j] = Vec::fma(x, w[j], acc[i][j]);
    }
  }
  MOTE_UNROLL for (std::size_t i = 0; i < Rows; ++i) {
    restore_rows<Format>(acc[i]);
    store_panel(acc[i], p * panel_rows, weights.rows(), bias, out + i * weights.rows(), activation);
  }
}

/// Panels [p, p + Panels) of the GEMV: each input column is broadcast once for all of them,
/// `Streams` columns accumulate in separate registers.
template <std::size_t Panels, std::size_t Streams, class Format, class Activation>
inline void gemv_panels(const ::mote::WeightMatrix<Format, ::mote::DenseStorage>& weights, std::size_t p,
                        const float* bias, const float* in, float* out, Activation activation) noexcept {
  const std::size_t cols = weights.cols();
  const std::uint16_t* panel = weights.panel(p);
  const std::size_t panel_stride = Panels > 1 ? static_cast<std::size_t>(weights.panel(p + 1) - panel) : 0;
  Vec acc[Streams][Panels][per_panel];
  MOTE_UNROLL for (std::size_t s = 0; s < Streams; ++s)
    MOTE_UNROLL for (std::size_t i = 0; i < Panels; ++i)
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[s][i][j] = Vec::zero();
  std::size_t k = 0;
  for (; k + Streams <= cols; k += Streams) {
    MOTE_UNROLL for (std::size_t s = 0; s < Streams; ++s) {
      const Vec x = Vec::broadcast(in[k + s]);
      MOTE_UNROLL for (std::size_t i = 0; i < Panels; ++i) {
        Vec w[per_panel];
        load_column<Format>(panel + i * panel_stride + (k + s) * panel_rows, w);
        MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[s][i][j] = Vec::fma(x, w[j], acc[s][i][j]);
      }
    }
  }
  for (; k < cols; ++k) {
    const Vec x = Vec::broadcast(in[k]);
    MOTE_UNROLL for (std::size_t i = 0; i < Panels; ++i) {
      Vec w[per_panel];
      load_column<Format>(panel + i * panel_stride + k * panel_rows, w);
      MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) acc[0][i][j] = Vec::fma(x, w[j], acc[0][i][j]);
    }
  }
  MOTE_UNROLL for (std::size_t i = 0; i < Panels; ++i) {
    Vec sums[per_panel];
    MOTE_UNROLL for (std::size_t j = 0; j < per_panel; ++j) {
      sums[j] = acc[0][i][j];
      MOTE_UNROLL for (std::size_t s = 1; s < Streams; ++s) sums[j] = sums[j] + acc[s][i][j];
    }
    restore_rows<Format>(sums);
    store_panel(sums, (p + i) * panel_rows, weights.rows(), bias, out, activation);
  }
}

}  // namespace dense_half_detail

/// GEMM: `batch` input rows times the panels, tile_rows rows at a time (as for f32).
template <::mote::HalfFloatFormat Format, class Activation>
inline void dense_batch(const ::mote::WeightMatrix<Format, ::mote::DenseStorage>& weights, const float* bias,
                        const float* in, float* out, std::size_t batch, Activation activation) noexcept {
  using namespace dense_half_detail;
  const std::size_t cols = weights.cols(), rows = weights.rows();
  for (std::size_t p = 0; p < weights.panel_count(); ++p) {
    std::size_t b = 0;
    for (; b + tile_rows <= batch; b += tile_rows)
      gemm_tile<tile_rows>(weights, p, bias, in + b * cols, out + b * rows, activation);
    for (; b < batch; ++b) gemm_tile<1>(weights, p, bias, in + b * cols, out + b * rows, activation);
  }
}

/// GEMV: `streams` input columns accumulate in separate registers (8 FMAs in flight), summed at
/// the end; transcendental activations run as a second pass (as for f32). Where a panel is two
/// vectors (AVX2), two panels share each broadcast of an input: on Zen 3 the broadcast takes a
/// vector pipe that the widening (shift, or vcvtph2ps) also needs, and one panel per pass ran
/// at about 1.7 cycles per panel column instead of the FMAs' one (W3b1 bf16 35-40 -> 31-35 us,
/// f16 35-37 -> 29-30 us; see docs/benchmarks.md).
template <::mote::HalfFloatFormat Format, class Activation>
inline void dense(const ::mote::WeightMatrix<Format, ::mote::DenseStorage>& weights, const float* bias,
                  const float* in, float* out, Activation activation) noexcept {
  using namespace dense_half_detail;
  if constexpr (!cheap_epilogue_v<Activation>) {
    dense(weights, bias, in, out, ::mote::activation::Identity{});
    activate(activation, out, out, weights.rows());
    return;
  }
  constexpr std::size_t streams = per_panel >= 8 ? 1 : 8 / per_panel;
  std::size_t p = 0;
  if constexpr (per_panel == 2)
    for (; p + 2 <= weights.panel_count(); p += 2)
      gemv_panels<2, streams / 2>(weights, p, bias, in, out, activation);
  for (; p < weights.panel_count(); ++p) gemv_panels<1, streams>(weights, p, bias, in, out, activation);
}
