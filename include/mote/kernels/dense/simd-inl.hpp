// Dense (GEMV) on 16-row weight panels: each input value is broadcast and multiplied into the
// 16 output channels of up to 4 panels at once. With fewer than 8 accumulators, several input
// columns are accumulated in separate registers (`streams`) so that 8 FMAs are in flight,
// enough to cover FMA latency on 2 pipes; they are summed at the end, which is the only
// reordering compared with the scalar reference.
// Code only: included per ISA by kernels/simd-inl.hpp (namespace and `Vec` given there).

namespace dense_detail {

constexpr std::size_t per_panel = DenseF32::panel_rows / Vec::lanes;
// Accumulator registers for a GEMM tile: 24 of 32 (AVX-512), 12 of 16 (AVX2, SSE4, NEON).
constexpr std::size_t accumulators = Vec::lanes == 16 ? 24 : 12;
/// Samples of a one-panel tile (the bf16/f16 GEMM's, kernels/dense/half-inl.hpp).
constexpr std::size_t single_panel_rows = accumulators / per_panel > 0 ? accumulators / per_panel : 1;
// Panels per f32 GEMM tile. AVX-512 spreads its 24 accumulators over 3 panels x 8 samples: one
// panel x 24 samples needs 24 sample offsets, more than the general registers, and GCC 12
// reloaded most of them from the stack or from xmm registers on every k (seen on Sapphire
// Rapids: W3b64 at 0.44x oneDNN's speed). 8 offsets fit, and each k loads 3 weight vectors and
// 8 broadcasts for 24 FMAs instead of 1 and 24.
constexpr std::size_t tile_panels = Vec::lanes == 16 ? 3 : 1;
constexpr std::size_t tile_rows = single_panel_rows / tile_panels > 0 ? single_panel_rows / tile_panels : 1;

/// Rows [0, Rows) of `in` times panels [p, p + Panels): each weight vector is loaded once per k
/// and reused by every row of the tile, each input once per k for every panel.
template <std::size_t Rows, std::size_t Panels, class Activation>
inline void gemm_tile(const DenseF32& weights, std::size_t p, const float* bias, const float* in, float* out,
                      Activation activation) noexcept {
  constexpr std::size_t vectors = Panels * per_panel;
  const std::size_t cols = weights.cols();
  const float* panel = weights.panel(p);
  const std::size_t panel_stride = cols * DenseF32::panel_rows;
  Vec acc[Rows][vectors];
  MOTE_UNROLL for (std::size_t i = 0; i < Rows; ++i)
    MOTE_UNROLL for (std::size_t j = 0; j < vectors; ++j) acc[i][j] = Vec::zero();
  for (std::size_t k = 0; k < cols; ++k) {
    Vec w[vectors];
    MOTE_UNROLL for (std::size_t j = 0; j < vectors; ++j)
      w[j] = Vec::load(panel + (j / per_panel) * panel_stride + k * DenseF32::panel_rows + (j % per_panel) * Vec::lanes);
    MOTE_UNROLL for (std::size_t i = 0; i < Rows; ++i) {
      const Vec x = Vec::broadcast(in[i * cols + k]);
      MOTE_UNROLL for (std::size_t j = 0; j < vectors; ++j) acc[i][j] = Vec::fma(x, w[j], acc[i][j]);
    }
  }
  const std::size_t first_row = p * DenseF32::panel_rows;
  MOTE_UNROLL for (std::size_t i = 0; i < Rows; ++i) {
    MOTE_UNROLL for (std::size_t j = 0; j < vectors; ++j) {
      const std::size_t row = first_row + j * Vec::lanes;  // panels are consecutive rows
      const Vec sum = apply(activation, acc[i][j] + Vec::load(bias + row));
      float* destination = out + i * weights.rows() + row;
      if (row + Vec::lanes <= weights.rows()) sum.store(destination);
      else if (row < weights.rows()) sum.store_partial(destination, weights.rows() - row);
    }
  }
}

}  // namespace dense_detail

/// GEMM: `batch` input rows times the panels, tile_rows rows at a time. The panel (16 x cols)
/// stays in L1/L2 while every tile of rows streams past it.
template <class Activation>
inline void dense_batch(const DenseF32& weights, const float* bias, const float* in, float* out,
                        std::size_t batch, Activation activation) noexcept {
  using namespace dense_detail;
  const std::size_t cols = weights.cols(), rows = weights.rows();
  std::size_t p = 0;
  for (; p + tile_panels <= weights.panel_count(); p += tile_panels)
    in_halving_blocks<tile_rows>(0, batch, [&](auto tile, std::size_t b) {
      gemm_tile<decltype(tile)::value, tile_panels>(weights, p, bias, in + b * cols, out + b * rows, activation);
    });
  for (; p < weights.panel_count(); ++p)
    in_halving_blocks<tile_rows>(0, batch, [&](auto tile, std::size_t b) {
      gemm_tile<decltype(tile)::value, 1>(weights, p, bias, in + b * cols, out + b * rows, activation);
    });
}

/// Activations costing a few instructions are applied to each accumulator before it is stored;
/// transcendental ones (tanh, sigmoid, GELU) run as a separate pass over the finished outputs,
/// where consecutive vectors are independent and overlap (W2's tanh layers: 70 -> 30 ns).
template <class Activation>
constexpr bool cheap_epilogue_v = std::is_same_v<Activation, ::mote::activation::Identity> ||
                                  std::is_same_v<Activation, ::mote::activation::Relu> ||
                                  std::is_same_v<Activation, ::mote::activation::Relu6>;

namespace dense_detail {

/// `Panels` consecutive panels of the GEMV (p, p + 1, ...) with the first `Used` vectors of
/// rows of each. The panels share each broadcast input value: with 4 panels one broadcast
/// feeds 8 FMAs instead of 2 (measured on Zen 3: W2's 64x64 layer 150 -> 112 ns; 2 panels gave
/// 128). A 6x32 GEMM tile sharing broadcasts the same way was slower: its weights no longer fit
/// in registers next to the accumulators, and every FMA reloaded them.
/// One vector is used when a panel's live rows fit in it (the last panel of a narrow layer,
/// e.g. W2's 8 outputs). `streams` column streams keep 8 accumulators in flight.
template <std::size_t Panels, std::size_t Used, class Activation>
inline void gemv_panels(const DenseF32& weights, std::size_t p, const float* bias, const float* in, float* out,
                        Activation activation) noexcept {
  constexpr std::size_t chains = Panels * Used;
  constexpr std::size_t streams = chains >= 8 ? 1 : 8 / chains;
  constexpr std::size_t rows = DenseF32::panel_rows;
  const std::size_t cols = weights.cols();
  const float* panel = weights.panel(p);
  const std::size_t panel_stride = cols * rows;  // panels are consecutive
  Vec acc[streams][Panels][Used];
  MOTE_UNROLL for (std::size_t s = 0; s < streams; ++s)
    MOTE_UNROLL for (std::size_t q = 0; q < Panels; ++q)
      MOTE_UNROLL for (std::size_t j = 0; j < Used; ++j) acc[s][q][j] = Vec::zero();
  std::size_t k = 0;
  for (; k + streams <= cols; k += streams) {
    MOTE_UNROLL for (std::size_t s = 0; s < streams; ++s) {
      const Vec x = Vec::broadcast(in[k + s]);
      MOTE_UNROLL for (std::size_t q = 0; q < Panels; ++q) {
        const float* column = panel + q * panel_stride + (k + s) * rows;
        MOTE_UNROLL for (std::size_t j = 0; j < Used; ++j)
          acc[s][q][j] = Vec::fma(x, Vec::load(column + j * Vec::lanes), acc[s][q][j]);
      }
    }
  }
  for (; k < cols; ++k) {
    const Vec x = Vec::broadcast(in[k]);
    MOTE_UNROLL for (std::size_t q = 0; q < Panels; ++q) {
      const float* column = panel + q * panel_stride + k * rows;
      MOTE_UNROLL for (std::size_t j = 0; j < Used; ++j)
        acc[0][q][j] = Vec::fma(x, Vec::load(column + j * Vec::lanes), acc[0][q][j]);
    }
  }
  MOTE_UNROLL for (std::size_t q = 0; q < Panels; ++q) {
    const std::size_t first_row = (p + q) * rows;
    MOTE_UNROLL for (std::size_t j = 0; j < Used; ++j) {
      Vec sum = acc[0][q][j];
      MOTE_UNROLL for (std::size_t s = 1; s < streams; ++s) sum = sum + acc[s][q][j];
      sum = apply(activation, sum + Vec::load(bias + first_row + j * Vec::lanes));
      const std::size_t row = first_row + j * Vec::lanes;
      if (row + Vec::lanes <= weights.rows()) sum.store(out + row);
      else if (row < weights.rows()) sum.store_partial(out + row, weights.rows() - row);
    }
  }
}

}  // namespace dense_detail

template <class Activation>
inline void dense(const DenseF32& weights, const float* bias, const float* in, float* out,
                  Activation activation) noexcept {
  if constexpr (!cheap_epilogue_v<Activation>) {
    dense(weights, bias, in, out, ::mote::activation::Identity{});
    activate(activation, out, out, weights.rows());
    return;
  }
  constexpr std::size_t per_panel = DenseF32::panel_rows / Vec::lanes;
  // 8 accumulators: 4 panels with AVX2, 8 with AVX-512, 2 with SSE4 and NEON (4 vectors each).
  constexpr std::size_t group = per_panel >= 8 ? 1 : 8 / per_panel;
  in_halving_blocks<group>(0, weights.panel_count(), [&](auto panels, std::size_t p) {
    if constexpr (decltype(panels)::value == 1 && per_panel > 1) {
      if (weights.rows() - p * DenseF32::panel_rows <= Vec::lanes)
        return dense_detail::gemv_panels<1, 1>(weights, p, bias, in, out, activation);
    }
    dense_detail::gemv_panels<decltype(panels)::value, per_panel>(weights, p, bias, in, out, activation);
  });
}
