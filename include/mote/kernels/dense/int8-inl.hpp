// int8 Dense kernels, written once against `Int8Ops`, the ISA's integer dot-product primitives
// (arch/<family>/<isa>_int8.hpp). Included by kernels/simd_int8-inl.hpp, once per ISA.
//
// Contract of an Int8 primitive set:
//   Act                 the activation code type the ISA multiplies (int16, uint8 or int8)
//   encode(u)           the Act holding code u in [0, 255]
//   activation_offset   what encode subtracts: the kernels see dot_r = sum_k w_rk (u_k - offset)
//   Acc / zero()        accumulators of one 16-row panel
//   Panel / load(g)     one 64-byte group (16 rows x 4 columns) of weights, loaded for reuse
//   madd(acc, w, a)     acc += the products of the group with the 4 codes at a
//   store(acc, out)     the 16 row sums as int32
//   quantize(x, n, ...) float -> Act codes, bit-identical to mote::quantize
//   gemm_cols           samples per register tile in the batched kernel
// Optional, for speed (each detected with a requires-expression, each tested against the same
// reference): panel_tile (the GEMM microkernel) or tile_streams<Cols> + add (the streamed
// generic one), dequantize_rows (vector epilogue),
// quantize_centred + gemv_symmetric + gemm_symmetric (symmetric weights on centred codes),
// quantize_centred_floats (the f32 paths of kernels/conv2d/int8-inl.hpp), gemm_tiles (blocks of
// samples on matrix tiles), gemm + gemm_dequantize (a batched GEMM of the ISA's own, with the
// symmetric epilogue on its register tiles).

// The panel tile of an ISA whose dot product has a latency that few samples cannot cover (VNNI's
// vpdpbusd: 5 cycles, 2 per cycle): Ops::tile_streams<Cols> interleaved runs of the groups, each
// with accumulators of its own, summed at the end with Ops::add (integer sums: exact in any
// order). Out of line: inlined into the GEMM's loops, GCC 12 ran out of general registers for
// the samples' offsets and reloaded one from an xmm register before every vpdpbusd (AVX-512
// VNNI's W3b64 on Sapphire Rapids: 489 -> 330 us once alone).
template <std::size_t Cols, class Ops>
[[gnu::noinline]] void int8_streamed_panel_tile(const std::int8_t* panel, std::size_t groups,
                                                const typename Ops::Act* act, std::size_t stride,
                                                std::int32_t* dots, std::size_t dots_stride) noexcept {
  constexpr std::size_t streams = Ops::template tile_streams<Cols>;
  typename Ops::Acc acc[streams][Cols];
  MOTE_UNROLL
  for (std::size_t s = 0; s < streams; ++s)
    MOTE_UNROLL
    for (std::size_t c = 0; c < Cols; ++c) acc[s][c] = Ops::zero();
  const auto step = [&](std::size_t s, std::size_t g) __attribute__((always_inline)) {
    const typename Ops::Panel w = Ops::load(panel + g * 64);
    MOTE_UNROLL
    for (std::size_t c = 0; c < Cols; ++c) Ops::madd(acc[s][c], w, act + c * stride + g * 4);
  };
  std::size_t g = 0;
  for (; g + streams <= groups; g += streams) {
    MOTE_UNROLL
    for (std::size_t s = 0; s < streams; ++s) step(s, g + s);
  }
  for (; g < groups; ++g) step(0, g);
  MOTE_UNROLL
  for (std::size_t c = 0; c < Cols; ++c) {
    MOTE_UNROLL
    for (std::size_t s = 1; s < streams; ++s) Ops::add(acc[0][c], acc[s][c]);
    Ops::store(acc[0][c], dots + c * dots_stride);
  }
}

// One panel of 16 rows times `Cols` samples; codes of sample c at act + c * stride.
// An ISA may provide its own microkernel (Int8Ops::panel_tile) where the compiler does not
// keep this generic one's accumulators in registers, or ask for streams (above).
template <std::size_t Cols, class Ops = Int8Ops>
inline void int8_panel_tile(const std::int8_t* panel, std::size_t groups, const typename Ops::Act* act,
                            std::size_t stride, std::int32_t* dots, std::size_t dots_stride) noexcept {
  if constexpr (requires { Ops::template panel_tile<Cols>(panel, groups, act, stride, dots, dots_stride); }) {
    return Ops::template panel_tile<Cols>(panel, groups, act, stride, dots, dots_stride);
  } else if constexpr (requires { Ops::template tile_streams<Cols>; }) {
    return int8_streamed_panel_tile<Cols, Ops>(panel, groups, act, stride, dots, dots_stride);
  }
  typename Ops::Acc acc[Cols];
  MOTE_UNROLL
  for (std::size_t c = 0; c < Cols; ++c) acc[c] = Int8Ops::zero();
  for (std::size_t g = 0; g < groups; ++g) {
    const typename Int8Ops::Panel w = Int8Ops::load(panel + g * 64);
    MOTE_UNROLL
    for (std::size_t c = 0; c < Cols; ++c) Int8Ops::madd(acc[c], w, act + c * stride + g * 4);
  }
  MOTE_UNROLL
  for (std::size_t c = 0; c < Cols; ++c) Int8Ops::store(acc[c], dots + c * dots_stride);
}

template <std::size_t Cols = Int8Ops::gemm_cols>
inline void int8_panel_columns(const std::int8_t* panel, std::size_t groups, const Int8Ops::Act* act, std::size_t stride,
                               std::int32_t* dots, std::size_t dots_stride, std::size_t columns) noexcept {
  if constexpr (Cols > 0) {
    for (; columns >= Cols; columns -= Cols, act += Cols * stride, dots += Cols * dots_stride)
      int8_panel_tile<Cols>(panel, groups, act, stride, dots, dots_stride);
    if (columns > 0) int8_panel_columns<Cols / 2>(panel, groups, act, stride, dots, dots_stride, columns);
  }
}

// An ISA may vectorise the symmetric-weight epilogue (Int8Ops::dequantize_rows), with the same
// operations as int8_dense_epilogue lane by lane.
template <class Ops>
inline constexpr bool int8_has_vector_epilogue = requires(const std::int32_t* i, const float* f, float* o) {
  Ops::dequantize_rows(i, i, 0, 0.0f, f, f, o, std::size_t{0});
};
template <class Ops>
inline std::size_t int8_vector_epilogue(const std::int32_t* dots, const std::int32_t* row_sums, std::int32_t correction,
                                        float input_scale, const float* scales, const float* bias, float* out,
                                        std::size_t rows) noexcept {
  if constexpr (int8_has_vector_epilogue<Ops>)
    return Ops::dequantize_rows(dots, row_sums, correction, input_scale, scales, bias, out, rows);
  else
    return 0;
}
// An ISA's vector epilogue may also apply the fused activation in registers (Ops::activate for
// that activation, exactly its scalar definition), saving a pass over the outputs.
template <class Ops, class Activation>
inline constexpr bool int8_has_vector_activation =
    int8_has_vector_epilogue<Ops> && requires(const std::int32_t* i, const float* f, float* o) {
      Ops::dequantize_rows(i, i, 0, 0.0f, f, f, o, std::size_t{0}, Activation{});
    };
template <class Ops, class Activation>
inline std::size_t int8_vector_epilogue_activated(const std::int32_t* dots, const std::int32_t* row_sums,
                                                  std::int32_t correction, float input_scale, const float* scales,
                                                  const float* bias, float* out, std::size_t rows,
                                                  Activation activation) noexcept {
  if constexpr (int8_has_vector_activation<Ops, Activation>)
    return Ops::dequantize_rows(dots, row_sums, correction, input_scale, scales, bias, out, rows, activation);
  else
    return 0;
}

// An ISA may run the same epilogue over many samples at once (Ops::dequantize_samples), with the
// per-row operands kept in registers across samples; it returns the rows it did.
inline constexpr std::size_t int8_sample_epilogue_max_rows = 256;
template <class Ops, class Activation>
inline constexpr bool int8_has_sample_epilogue =
    requires(const std::int32_t* i, const float* f, float* o) {
      Ops::dequantize_samples(i, std::size_t{0}, std::size_t{0}, i, 0, 0.0f, f, f, o, std::size_t{0}, Activation{});
    };

template <class Ops, class Activation>
inline std::size_t int8_sample_epilogue(const std::int32_t* dots, std::size_t dots_stride, std::size_t batch,
                                        const std::int32_t* row_sums, std::int32_t correction, float input_scale,
                                        const float* scales, const float* bias, float* out, std::size_t rows,
                                        Activation activation) noexcept {
  if constexpr (int8_has_sample_epilogue<Ops, Activation>)
    return Ops::dequantize_samples(dots, dots_stride, batch, row_sums, correction, input_scale, scales, bias, out,
                                   rows, activation);
  else
    return 0;
}

// An ISA may provide an exact GEMV for symmetric weights on centred codes u - 128
// (Int8Ops::gemv_symmetric and quantize_centred, see dense_int8 below).
template <class Ops>
inline constexpr bool int8_has_symmetric_gemv =
    requires(const float* x, const QuantParams& q, const std::int8_t* w, std::int8_t* a, const std::int32_t* sums,
             std::int32_t* d) {
      Ops::quantize_centred(x, std::size_t{1}, q, 0, 255, a);
      Ops::gemv_symmetric(w, std::size_t{1}, std::size_t{1}, a, sums, d);
    };
// An ISA may provide the same exact scheme for several samples (Int8Ops::gemm_symmetric).
template <class Ops>
inline constexpr bool int8_has_symmetric_gemm =
    int8_has_symmetric_gemv<Ops> && requires(const std::int8_t* w, const std::int8_t* a, const std::int32_t* sums,
                                             std::int32_t* d) {
      Ops::gemm_symmetric(w, std::size_t{1}, std::size_t{1}, a, std::size_t{4}, std::size_t{1}, sums, d, std::size_t{16},
                          nullptr);
    };
// The symmetric primitives through a dependent Ops, so that ISAs without them still compile
// the (discarded) branches that would call them.
// Narrow: 7-bit weights (Int7), which the ISA may multiply without the sign operation.
template <class Ops, bool Narrow, class... Args>
inline void int8_gemv_symmetric(const Args&... args) noexcept {
  if constexpr (int8_has_symmetric_gemv<Ops>) Ops::template gemv_symmetric<Narrow>(args...);
}
template <class Ops, bool Narrow, class... Args>
inline void int8_gemm_symmetric(const Args&... args) noexcept {
  if constexpr (int8_has_symmetric_gemm<Ops>) Ops::template gemm_symmetric<Narrow>(args...);
}
// An ISA may apply the symmetric epilogue to the GEMM's register tiles
// (Int8Ops::gemm_symmetric_dequantize: the same operations as gemm_symmetric then
// dequantize_samples), for whole 16-row panels; it returns false where it leaves the call to the
// dots (rows above its limit).
template <class Ops, bool Narrow, class Activation>
inline constexpr bool int8_has_fused_symmetric_epilogue =
    int8_has_symmetric_gemm<Ops> && requires(const std::int8_t* w, const std::int8_t* a, const std::int32_t* sums,
                                             const float* f, float* o, std::uint8_t* m) {
      Ops::template gemm_symmetric_dequantize<Narrow>(w, std::size_t{1}, std::size_t{1}, a, std::size_t{4},
                                                      std::size_t{1}, sums, 0, 0.0f, f, f, o, Activation{}, m);
    };
template <class Ops, bool Narrow, class Activation, class... Args>
inline bool int8_gemm_symmetric_dequantize(const Args&... args) noexcept {
  if constexpr (int8_has_fused_symmetric_epilogue<Ops, Narrow, Activation>)
    return Ops::template gemm_symmetric_dequantize<Narrow>(args...);
  else
    return false;
}
// An ISA may provide a batched GEMM of its own (Ops::gemm: every panel, many samples) in place
// of int8_panel_columns, and with it the symmetric epilogue on its register tiles
// (Ops::gemm_dequantize: the same operations as gemm then dequantize_samples, the activation
// being the float kernels' own, for the piecewise-linear ones, which are exact lane by lane).
template <class Ops>
inline constexpr bool int8_has_panel_gemm = requires(const std::int8_t* w, const typename Ops::Act* a, std::int32_t* d) {
  Ops::gemm(w, std::size_t{1}, std::size_t{1}, a, std::size_t{4}, std::size_t{1}, d, std::size_t{16});
};
template <class Ops, class Activation>
inline constexpr bool int8_has_fused_epilogue =
    int8_has_panel_gemm<Ops> && ::mote::activation::is_piecewise_linear_v<Activation> &&
    requires(const std::int8_t* w, const typename Ops::Act* a, const std::int32_t* sums, const float* f, float* o) {
      Ops::gemm_dequantize(w, std::size_t{1}, std::size_t{1}, a, std::size_t{4}, std::size_t{1}, sums, 0, 0.0f, f, f,
                           o, [](float_kernels::Vec y) { return y; });
    };
template <class Ops, class... Args>
inline void int8_panel_gemm(const Args&... args) noexcept {
  if constexpr (int8_has_panel_gemm<Ops>) Ops::gemm(args...);
}
template <class Ops, class Activation, class... Args>
inline void int8_gemm_dequantize(Activation activation, const Args&... args) noexcept {
  if constexpr (int8_has_fused_epilogue<Ops, Activation>)
    Ops::gemm_dequantize(args..., [activation](float_kernels::Vec y) { return float_kernels::apply(activation, y); });
}
template <class Ops, class... Args>
inline void int8_quantize_centred(const Args&... args) noexcept {
  if constexpr (int8_has_symmetric_gemv<Ops>) Ops::quantize_centred(args...);
}

/// Quantises `batch` samples into centred codes (stride padded_cols, padded columns 0), as
/// Ops' symmetric GEMV and GEMM take them.
template <class Ops>
inline void int8_quantize_centred_inputs(const float* in, std::size_t cols, std::size_t padded_cols, std::size_t batch,
                                         const ::mote::kernels::Int8InputQuant& input, std::int8_t* codes) noexcept {
  if (cols == padded_cols) {  // no padding: the samples are one run of values (a 1x1 convolution's pixels)
    int8_quantize_centred<Ops>(in, batch * cols, input.params, input.low, input.high, codes);
    return;
  }
  for (std::size_t b = 0; b < batch; ++b) {
    std::int8_t* sample = codes + b * padded_cols;
    int8_quantize_centred<Ops>(in + b * cols, cols, input.params, input.low, input.high, sample);
    std::fill(sample + cols, sample + padded_cols, std::int8_t{0});
  }
}

/// `batch` inputs of `cols` floats to activation codes, each row padded to `padded_cols` with the
/// zero point's code (which contributes nothing).
inline void int8_quantize_inputs(const float* in, std::size_t cols, std::size_t padded_cols, std::size_t batch,
                                 const ::mote::kernels::Int8InputQuant& input, Int8Ops::Act* act) noexcept {
  if (cols == padded_cols) {  // no padding: the samples are one run of values, as above
    Int8Ops::quantize(in, batch * cols, input.params, input.low, input.high, act);
    return;
  }
  const typename Int8Ops::Act padding = Int8Ops::encode(input.params.zero_point);
  for (std::size_t b = 0; b < batch; ++b) {
    Int8Ops::Act* codes = act + b * padded_cols;
    Int8Ops::quantize(in + b * cols, cols, input.params, input.low, input.high, codes);
    for (std::size_t k = cols; k < padded_cols; ++k) codes[k] = padding;
  }
}

/// The same for codes handed over by the previous layer (u domain, model/chain.hpp): centred
/// codes are u - 128 (the top bit flipped), the ISA's codes Int8Ops::encode(u).
inline void int8_codes_centred(const std::uint8_t* u, std::size_t n, std::int8_t* out) noexcept {
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::int8_t>(u[i] ^ 0x80u);
}
inline void int8_codes_encoded(const std::uint8_t* u, std::size_t n, Int8Ops::Act* out) noexcept {
  for (std::size_t i = 0; i < n; ++i) out[i] = Int8Ops::encode(u[i]);
}
template <class Ops>
inline void int8_quantize_centred_inputs(const std::uint8_t* in, std::size_t cols, std::size_t padded_cols,
                                         std::size_t batch, const ::mote::kernels::Int8InputQuant& input,
                                         std::int8_t* codes) noexcept {
  if (cols == padded_cols) return int8_codes_centred(in, batch * cols, codes);  // one run, as for floats
  for (std::size_t b = 0; b < batch; ++b) {
    int8_codes_centred(in + b * cols, cols, codes + b * padded_cols);
    std::fill(codes + b * padded_cols + cols, codes + (b + 1) * padded_cols,
              static_cast<std::int8_t>(input.params.zero_point - 128));
  }
}
inline void int8_quantize_inputs(const std::uint8_t* in, std::size_t cols, std::size_t padded_cols, std::size_t batch,
                                 const ::mote::kernels::Int8InputQuant& input, Int8Ops::Act* act) noexcept {
  if (cols == padded_cols) return int8_codes_encoded(in, batch * cols, act);
  const typename Int8Ops::Act padding = Int8Ops::encode(input.params.zero_point);
  for (std::size_t b = 0; b < batch; ++b) {
    int8_codes_encoded(in + b * cols, cols, act + b * padded_cols);
    std::fill(act + b * padded_cols + cols, act + (b + 1) * padded_cols, padding);
  }
}

/// Codes from exact sums (int32, or integers held in floats), the ISA's vectors where it has
/// them (Int8Ops::requantize_rows), the scalar definition for the rest.
template <class Ops = Int8Ops, class Sum>
inline void int8_requantize(const Sum* acc, const ::mote::RequantizationRows& rows, std::size_t count,
                            std::uint8_t* out) noexcept {
  std::size_t r = 0;
  if constexpr (requires { Ops::requantize_rows(acc, rows, count, out); }) r = Ops::requantize_rows(acc, rows, count, out);
  for (; r < count; ++r)
    out[r] = static_cast<std::uint8_t>(::mote::requantize_row(rows, r, static_cast<std::int32_t>(acc[r])));
}

/// The epilogue of symmetric weights, vectorised where the ISA provides it (the same operations
/// as int8_dense_epilogue, lane by lane): `batch` rows of `padded_rows` dots to outputs.
template <class Activation, class Matrix>
inline void int8_symmetric_epilogue(const Matrix& weights, const float* bias, const std::int32_t* dots,
                                    std::size_t padded_rows, std::size_t batch,
                                    const ::mote::kernels::Int8InputQuant& input, float* out) noexcept {
  const std::size_t rows = weights.rows();
  const std::int32_t correction = Int8Ops::activation_offset - input.params.zero_point;
  // Many samples of few rows each (a 1x1 convolution's pixels): the ISA's epilogue over all of
  // them, each row's operands computed once; the rows it leaves (a tail) below. Not for long
  // rows, whose per-sample calls cost little and whose dots, a page apart, would share L1 sets.
  std::size_t first_row = 0;
  if constexpr (int8_has_sample_epilogue<Int8Ops, Activation>)
    if (batch > 1 && rows <= int8_sample_epilogue_max_rows)
      first_row = int8_sample_epilogue<Int8Ops>(dots, padded_rows, batch, weights.row_sums(), correction,
                                                input.params.scale, weights.scales(), bias, out, rows, Activation{});
  for (std::size_t b = 0; b < batch && first_row < rows; ++b) {
    float* y = out + b * rows;
    const std::int32_t* d = dots + b * padded_rows;
    std::size_t r = first_row, activated = first_row;
    if (first_row == 0) {
      if constexpr (int8_has_vector_activation<Int8Ops, Activation>) {
        r = activated = int8_vector_epilogue_activated<Int8Ops>(d, weights.row_sums(), correction, input.params.scale,
                                                                weights.scales(), bias, y, rows, Activation{});
      } else {
        r = int8_vector_epilogue<Int8Ops>(d, weights.row_sums(), correction, input.params.scale, weights.scales(),
                                          bias, y, rows);
      }
    }
    for (; r < rows; ++r)
      y[r] = std::fma(static_cast<float>(static_cast<std::int64_t>(d[r]) +
                                         static_cast<std::int64_t>(correction) * weights.row_sum(r)),
                      input.params.scale * weights.scales()[r], bias[r]);
    if constexpr (!std::is_same_v<Activation, ::mote::activation::Identity>)
      for (std::size_t i = activated; i < rows; ++i) y[i] = Activation::apply(y[i]);
  }
}

/// Outputs from the dots of `batch` samples; `codes` (Int8Ops::Act, stride padded_cols) are read
/// only for asymmetric weights.
template <class Code, class Matrix, class Activation>
inline void int8_dense_epilogues(const Matrix& weights, const float* bias, const std::int32_t* dots, const Code* codes,
                                 std::size_t batch, const ::mote::kernels::Int8InputQuant& input,
                                 Activation activation, float* out) noexcept {
  const std::size_t rows = weights.rows(), padded_rows = weights.padded_rows();
  if constexpr (Matrix::format::symmetric && int8_has_vector_epilogue<Int8Ops>) {
    int8_symmetric_epilogue<Activation>(weights, bias, dots, padded_rows, batch, input, out);
  } else {
    for (std::size_t b = 0; b < batch; ++b) {
      std::int64_t sum_u = 0;
      if constexpr (!Matrix::format::symmetric)
        for (std::size_t k = 0; k < weights.cols(); ++k)
          sum_u += codes[b * weights.padded_cols() + k] + Int8Ops::activation_offset;
      ::mote::kernels::int8_dense_epilogue(weights, bias, dots + b * padded_rows, input, Int8Ops::activation_offset,
                                           sum_u, out + b * rows, activation);
    }
  }
}

/// The requantising epilogue (integer hand-over): each sample's exact sums, in place of its dots
/// (int8_dense_epilogue's acc), then the next layer's codes.
template <class Code, class Matrix, class Activation>
inline void int8_dense_epilogues(const Matrix& weights, const float*, std::int32_t* dots, const Code* codes,
                                 std::size_t batch, const ::mote::kernels::Int8InputQuant& input, Activation,
                                 const ::mote::kernels::Int8CodesOut& out) noexcept {
  const std::size_t rows = weights.rows(), padded_rows = weights.padded_rows();
  const std::int32_t correction = Int8Ops::activation_offset - input.params.zero_point;
  const std::int32_t* row_sums = weights.row_sums();
  for (std::size_t b = 0; b < batch; ++b) {
    std::int32_t* acc = dots + b * padded_rows;
    if constexpr (Matrix::format::symmetric) {
      // The int32 sum wraps in between but its final value fits (as in dequantize_rows).
      for (std::size_t r = 0; r < rows; ++r)
        acc[r] = static_cast<std::int32_t>(static_cast<std::uint32_t>(acc[r]) +
                                           static_cast<std::uint32_t>(correction) * static_cast<std::uint32_t>(row_sums[r]));
    } else {
      std::int64_t sum_u = 0;
      for (std::size_t k = 0; k < weights.cols(); ++k)
        sum_u += codes[b * weights.padded_cols() + k] + Int8Ops::activation_offset;
      const std::int64_t zu = input.params.zero_point, k = static_cast<std::int64_t>(weights.cols());
      for (std::size_t r = 0; r < rows; ++r)
        acc[r] = static_cast<std::int32_t>(acc[r] + std::int64_t{correction} * row_sums[r] +
                                           weights.params(r).zero_point * (zu * k - sum_u));
    }
    int8_requantize(acc, out.rows, rows, out.codes + b * rows);
  }
}

/// An ISA may run blocks of samples on matrix tiles (Int8Ops::gemm_tiles, AMX): it returns how
/// many leading samples it did.
template <class Ops>
inline constexpr bool int8_has_tile_gemm =
    requires(const std::int8_t* w, const typename Ops::Act* a, std::int32_t* d) {
      { Ops::gemm_tiles(w, std::size_t{1}, std::size_t{1}, a, std::size_t{4}, std::size_t{1}, d, std::size_t{16}) }
          -> std::same_as<std::size_t>;
    };
template <class Ops, class... Args>
inline std::size_t int8_gemm_tiles(const Args&... args) noexcept {
  if constexpr (int8_has_tile_gemm<Ops>) return Ops::gemm_tiles(args...);
  else return 0;
}

/// Whether a matrix's inputs are centred int8 codes (symmetric weights on an ISA with the exact
/// symmetric GEMM), else the ISA's activation codes (int8_code_t).
template <class Matrix>
inline constexpr bool int8_centred_codes = Matrix::format::symmetric && int8_has_symmetric_gemm<Int8Ops>;
template <class Matrix>
using int8_code_t = std::conditional_t<int8_centred_codes<Matrix>, std::int8_t, typename Int8Ops::Act>;

/// The dots and outputs of `batch` samples already in codes (stride padded_cols): Code is
/// int8 centred codes (u - 128) for Ops' symmetric GEMM, else Int8Ops::Act. `spare` holds
/// batch * padded_cols bytes (the GEMM's code magnitudes).
template <class Matrix, class Code, class Activation, class Out>
inline void int8_dense_from_codes(const Matrix& weights, const float* bias, const Code* codes, std::size_t batch,
                                  const ::mote::kernels::Int8InputQuant& input, Activation activation, Out out,
                                  std::int32_t* dots, std::byte* spare) noexcept {
  const std::size_t padded_cols = weights.padded_cols(), padded_rows = weights.padded_rows();
  if constexpr (int8_centred_codes<Matrix> && !::mote::kernels::is_codes_out_v<Out> &&
                int8_has_fused_symmetric_epilogue<Int8Ops, Matrix::format::narrow, Activation>) {
    // Many samples of whole panels (a 1x1 convolution's pixels): the epilogue on the register
    // tiles, no dots in memory.
    if (batch > 1 && weights.rows() == padded_rows &&
        int8_gemm_symmetric_dequantize<Int8Ops, Matrix::format::narrow, Activation>(
            weights.panel(0), weights.panel_count(), padded_cols / 4, codes, padded_cols, batch, weights.row_sums(),
            Int8Ops::activation_offset - input.params.zero_point, input.params.scale, weights.scales(), bias, out,
            activation, reinterpret_cast<std::uint8_t*>(spare)))
      return;
  }
  if constexpr (!int8_centred_codes<Matrix> && Matrix::format::symmetric && !::mote::kernels::is_codes_out_v<Out> &&
                int8_has_fused_epilogue<Int8Ops, Activation> && !int8_has_tile_gemm<Int8Ops>) {
    // The same for the ISA's own codes (VNNI); not where matrix tiles (AMX) take the samples.
    if (batch > 1 && weights.rows() == padded_rows) {
      int8_gemm_dequantize<Int8Ops>(activation, weights.panel(0), weights.panel_count(), padded_cols / 4, codes,
                                    padded_cols, batch, weights.row_sums(),
                                    Int8Ops::activation_offset - input.params.zero_point, input.params.scale,
                                    weights.scales(), bias, out);
      return;
    }
  }
  if constexpr (int8_centred_codes<Matrix>) {
    int8_gemm_symmetric<Int8Ops, Matrix::format::narrow>(weights.panel(0), weights.panel_count(), padded_cols / 4, codes,
                                                         padded_cols, batch, weights.row_sums(), dots, padded_rows,
                                                         reinterpret_cast<std::uint8_t*>(spare));
  } else {
    // Blocks of 16 samples on the ISA's matrix tiles where it has them (AMX), the rest in vectors.
    const std::size_t tiled = int8_gemm_tiles<Int8Ops>(weights.panel(0), weights.panel_count(), padded_cols / 4,
                                                        codes, padded_cols, batch, dots, padded_rows);
    // One sample left: the streamed tile, whose split groups cover the latency a tile of one
    // sample's few accumulators cannot.
    if (int8_has_panel_gemm<Int8Ops> && batch - tiled > 1)
      int8_panel_gemm<Int8Ops>(weights.panel(0), weights.panel_count(), padded_cols / 4, codes + tiled * padded_cols,
                               padded_cols, batch - tiled, dots + tiled * padded_rows, padded_rows);
    else
      for (std::size_t p = 0; p < weights.panel_count(); ++p)
        int8_panel_columns(weights.panel(p), padded_cols / 4, codes + tiled * padded_cols, padded_cols,
                           dots + tiled * padded_rows + p * 16, padded_rows, batch - tiled);
  }
  int8_dense_epilogues(weights, bias, dots, codes, batch, input, activation, out);
}


/// Samples per block of dense_int8: all of them for weights above 64 KiB, else blocks of 48
/// (whole AMX tile blocks and AVX2 GEMM tiles) whose dots fill at most 32 KiB.
inline std::size_t int8_sample_block(std::size_t weight_bytes, std::size_t padded_rows, std::size_t batch) noexcept {
  if (weight_bytes > 64 * 1024) return batch;
  return std::max<std::size_t>(48, 32 * 1024 / (padded_rows * sizeof(std::int32_t)) / 48 * 48);
}

/// In: float (quantised here) or std::uint8_t (codes handed over); Out: float* or Int8CodesOut.
template <class G, class S, class In, class Out, class Activation>
inline void dense_int8(const ::mote::WeightMatrix<::mote::Int8<G, S>, ::mote::DenseStorage>& weights,
                       const float* bias, const In* in, Out out, std::size_t batch,
                       const ::mote::kernels::Int8InputQuant& input, Activation activation,
                       std::byte* scratch) noexcept {
  using Matrix = ::mote::WeightMatrix<::mote::Int8<G, S>, ::mote::DenseStorage>;
  using Code = int8_code_t<Matrix>;
  const std::size_t cols = weights.cols(), padded_cols = weights.padded_cols();
  auto* codes = reinterpret_cast<Code*>(scratch);
  std::byte* spare = scratch + batch * padded_cols * sizeof(Code);  // within the 2 bytes per code of scratch
  auto* dots = reinterpret_cast<std::int32_t*>(scratch + batch * align_up(padded_cols * sizeof(std::int16_t)));
  if constexpr (int8_centred_codes<Matrix>) {
    // One sample: the ISA's GEMV (AVX2: each broadcast serves two panels).
    if (batch == 1) {
      int8_quantize_centred_inputs<Int8Ops>(in, cols, padded_cols, batch, input, codes);
      int8_gemv_symmetric<Int8Ops, Matrix::format::narrow>(weights.panel(0), weights.panel_count(), padded_cols / 4,
                                                           codes, weights.row_sums(), dots);
      int8_dense_epilogues(weights, bias, dots, codes, batch, input, activation, out);
      return;
    }
  }
  // Small weights and many samples (a 1x1 convolution's pixels): blocks of samples from codes to
  // outputs, so that a block's dots stay in L1 instead of the whole batch's going through memory
  // (W5's pointwise layer: 3,136 samples x 64 rows, 800 KB of dots written and read back). Large
  // weights take the batch at once: each panel then streams from memory once.
  const std::size_t block = int8_sample_block(weights.padded_rows() * padded_cols, weights.padded_rows(), batch);
  // Codes handed over that are already what the GEMM reads (the ISA's codes are the u
  // themselves: VNNI) and unpadded are read in place: W3b64 with its input as codes copied 64 KiB
  // per call for nothing (0.8% of its time).
  constexpr bool codes_as_given =
      std::is_same_v<In, std::uint8_t> && std::is_same_v<Code, std::uint8_t> && Int8Ops::activation_offset == 0;
  for (std::size_t first = 0; first < batch; first += block) {
    const std::size_t count = std::min(block, batch - first);
    const Code* block_codes = codes;
    if constexpr (codes_as_given) {
      if (cols == padded_cols) block_codes = in + first * cols;
      else int8_quantize_inputs(in + first * cols, cols, padded_cols, count, input, codes);
    } else if constexpr (int8_centred_codes<Matrix>) {
      int8_quantize_centred_inputs<Int8Ops>(in + first * cols, cols, padded_cols, count, input, codes);
    } else {
      int8_quantize_inputs(in + first * cols, cols, padded_cols, count, input, codes);
    }
    int8_dense_from_codes(weights, bias, block_codes, count, input, activation,
                          ::mote::kernels::conv_output_at(out, first * weights.rows()), dots, spare);
  }
}
