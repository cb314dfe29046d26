// int8 Dense on block-sparse weights (layout/sparse_int8.hpp): the dense int8 kernel's panel
// loop (kernels/dense/int8-inl.hpp) over each panel's stored groups only, with the same input
// quantisation and epilogue, so results are bit-identical to the dense int8 kernel on the same
// weights, on every ISA. Code only: included per ISA by kernels/simd_int8-inl.hpp.

template <std::size_t Cols, class Matrix>
inline void int8_sparse_panel_tile(const Matrix& weights, std::size_t p, const Int8Ops::Act* act, std::size_t stride,
                                   std::int32_t* dots, std::size_t dots_stride) noexcept {
  typename Int8Ops::Acc acc[Cols];
  MOTE_UNROLL
  for (std::size_t c = 0; c < Cols; ++c) acc[c] = Int8Ops::zero();
  const std::uint32_t* groups = weights.group_index();
  for (std::size_t j = weights.panel_begin(p); j < weights.panel_begin(p + 1); ++j) {
    const typename Int8Ops::Panel w = Int8Ops::load(weights.group_codes(j));
    const Int8Ops::Act* column = act + groups[j] * 4;
    MOTE_UNROLL
    for (std::size_t c = 0; c < Cols; ++c) Int8Ops::madd(acc[c], w, column + c * stride);
  }
  MOTE_UNROLL
  for (std::size_t c = 0; c < Cols; ++c) Int8Ops::store(acc[c], dots + c * dots_stride);
}

template <std::size_t Cols, class Matrix>
inline void int8_sparse_panel_columns(const Matrix& weights, std::size_t p, const Int8Ops::Act* act, std::size_t stride,
                                      std::int32_t* dots, std::size_t dots_stride, std::size_t columns) noexcept {
  if constexpr (Cols > 0) {
    for (; columns >= Cols; columns -= Cols, act += Cols * stride, dots += Cols * dots_stride)
      int8_sparse_panel_tile<Cols>(weights, p, act, stride, dots, dots_stride);
    if (columns > 0) int8_sparse_panel_columns<Cols / 2>(weights, p, act, stride, dots, dots_stride, columns);
  }
}

template <class G, class S, std::size_t R, std::size_t C, class Activation>
  requires(::mote::Int8<G, S>::symmetric)
inline void dense_int8(const ::mote::WeightMatrix<::mote::Int8<G, S>, ::mote::Sparse<::mote::Block<R, C>>>& weights,
                       const float* bias, const float* in, float* out, std::size_t batch,
                       const ::mote::kernels::Int8InputQuant& input, Activation, std::byte* scratch) noexcept {
  const std::size_t cols = weights.cols(), padded_cols = weights.padded_cols();
  const std::size_t padded_rows = weights.padded_rows();
  auto* act = reinterpret_cast<Int8Ops::Act*>(scratch);
  auto* dots = reinterpret_cast<std::int32_t*>(scratch + batch * align_up(padded_cols * sizeof(std::int16_t)));
  int8_quantize_inputs(in, cols, padded_cols, batch, input, act);
  for (std::size_t p = 0; p < weights.panel_count(); ++p)
    int8_sparse_panel_columns<Int8Ops::gemm_cols>(weights, p, act, padded_cols, dots + p * 16, padded_rows, batch);
  // Symmetric weights: the dense kernel's epilogue.
  int8_symmetric_epilogue<Activation>(weights, bias, dots, padded_rows, batch, input, out);
}
