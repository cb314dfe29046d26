// Dense (GEMV) on 16-row weight panels: each input value is broadcast and multiplied into the
// 16 output channels of the panel. Several input columns are accumulated in separate registers
// (`streams`) so that 8 FMAs are in flight, enough to cover FMA latency on 2 pipes; they are
// summed at the end, which is the only reordering compared with the scalar reference.
// Code only: included per ISA by kernels/simd-inl.hpp (namespace and `Vec` given there).

inline void dense(const DenseF32& weights, const float* bias, const float* in, float* out) noexcept {
  constexpr std::size_t per_panel = DenseF32::panel_rows / Vec::lanes;
  constexpr std::size_t streams = per_panel >= 8 ? 1 : 8 / per_panel;
  const std::size_t cols = weights.cols();
  for (std::size_t p = 0; p < weights.panel_count(); ++p) {
    const float* panel = weights.panel(p);
    Vec acc[streams][per_panel];
    for (std::size_t s = 0; s < streams; ++s)
      for (std::size_t j = 0; j < per_panel; ++j) acc[s][j] = Vec::zero();
    std::size_t k = 0;
    for (; k + streams <= cols; k += streams) {
      for (std::size_t s = 0; s < streams; ++s) {
        const Vec x = Vec::broadcast(in[k + s]);
        const float* column = panel + (k + s) * DenseF32::panel_rows;
        for (std::size_t j = 0; j < per_panel; ++j)
          acc[s][j] = Vec::fma(x, Vec::load(column + j * Vec::lanes), acc[s][j]);
      }
    }
    for (; k < cols; ++k) {
      const Vec x = Vec::broadcast(in[k]);
      const float* column = panel + k * DenseF32::panel_rows;
      for (std::size_t j = 0; j < per_panel; ++j) acc[0][j] = Vec::fma(x, Vec::load(column + j * Vec::lanes), acc[0][j]);
    }
    const std::size_t first_row = p * DenseF32::panel_rows;
    for (std::size_t j = 0; j < per_panel; ++j) {
      Vec sum = acc[0][j];
      for (std::size_t s = 1; s < streams; ++s) sum = sum + acc[s][j];
      sum = sum + Vec::load(bias + first_row + j * Vec::lanes);
      const std::size_t row = first_row + j * Vec::lanes;
      if (row + Vec::lanes <= weights.rows()) sum.store(out + row);
      else if (row < weights.rows()) sum.store_partial(out + row, weights.rows() - row);
    }
  }
}
