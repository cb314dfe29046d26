// AVX2 int8 dot-product primitives (contract: kernels/dense/int8-inl.hpp). No include guard on
// purpose: included by arch/targets.hpp inside the avx2 target region. Exact int16 pmaddwd on
// sign-extended weights, as in sse4_int8.hpp: pmaddubsw on the codes u in [0, 255] would be
// twice the rate but saturates at 2 * 255 * 127 > 32767 and corrupts results. The one exception
// is gemv_symmetric: symmetric weights are never -128, and with a = u - 128 the products
// |a| * (w sign(a)) stay within 128 * 127, so pmaddubsw is exact there.
#if !defined(MOTE_ARCH_X86_AVX2_INT8)
#define MOTE_ARCH_X86_AVX2_INT8
namespace mote::simd::avx2 {

/// The 8 codes of x[0..8) as mote::quantize computes them (IEEE division, ties to even, NaN to
/// the clamped zero point), as int32: shared by the int8 and int4 primitives.
struct QuantizeCodes {
  __m256 scale, zero, lo, hi, nan_code;
  QuantizeCodes(const QuantParams& p, std::int32_t low, std::int32_t high)
      : scale(_mm256_set1_ps(p.scale)),
        zero(_mm256_set1_ps(static_cast<float>(p.zero_point))),
        lo(_mm256_set1_ps(static_cast<float>(low))),
        hi(_mm256_set1_ps(static_cast<float>(high))),
        nan_code(_mm256_set1_ps(static_cast<float>(std::clamp(p.zero_point, low, high)))) {}
  /// The codes as integer-valued floats.
  inline __attribute__((always_inline)) __m256 floats(const float* x) const {
    const __m256 scaled = _mm256_div_ps(_mm256_loadu_ps(x), scale);
    __m256 q = _mm256_add_ps(_mm256_round_ps(scaled, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), zero);
    q = _mm256_min_ps(_mm256_max_ps(q, lo), hi);
    return _mm256_blendv_ps(q, nan_code, _mm256_cmp_ps(scaled, scaled, _CMP_UNORD_Q));
  }
  inline __attribute__((always_inline)) __m256i operator()(const float* x) const {
    return _mm256_cvttps_epi32(floats(x));
  }
};

/// Codes u - 128 as int8 (mote::quantize minus 128, exactly: the codes of the same scale with
/// everything shifted by -128): what the symmetric GEMV below and the int4 kernel multiply.
inline void quantize_centred(const float* x, std::size_t n, const QuantParams& p, std::int32_t low, std::int32_t high,
                             std::int8_t* out) {
  const QuantizeCodes codes_of(QuantParams{p.scale, p.zero_point - 128}, low - 128, high - 128);
  std::size_t i = 0;
  // 32 codes per step: two packs and one lane fix-up per 32, where 8 at a time took an extract
  // and two packs per 8 (100,352 values on Zen 3: 16.9 -> 13.3 us, then bound by the division).
  const __m256i lane_order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  for (; i + 32 <= n; i += 32) {
    const __m256i low_words = _mm256_packs_epi32(codes_of(x + i), codes_of(x + i + 8));
    const __m256i high_words = _mm256_packs_epi32(codes_of(x + i + 16), codes_of(x + i + 24));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i),
                        _mm256_permutevar8x32_epi32(_mm256_packs_epi16(low_words, high_words), lane_order));
  }
  for (; i + 8 <= n; i += 8) {
    const __m256i codes = codes_of(x + i);
    const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(codes), _mm256_extracti128_si256(codes, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + i), _mm_packs_epi16(words, words));
  }
  for (; i < n; ++i) out[i] = static_cast<std::int8_t>(::mote::quantize(x[i], p, low, high) - 128);
}

/// The float side of the AVX2 int8 kernels, shared with the AVX-VNNI primitive set
/// (avx_vnni_int8.hpp), whose integer side differs: the epilogue from int32 dots to outputs,
/// and the centred float codes of the f32 paths.
struct Int8Conversions {
  /// The activations the epilogue below applies in registers, each exactly as its scalar
  /// definition (activations.hpp): x < 0 ? 0 : x, then x > 6 ? 6 : x for ReLU6 (a NaN stays NaN,
  /// -0 stays -0). vmaxps(low, x) is (low > x ? low : x) and vminps(high, x) is
  /// (high < x ? high : x) to the bit, NaN and -0 included: one instruction per bound, where a
  /// compare and a blend took two.
  static inline __m256 activate(::mote::activation::Identity, __m256 x) { return x; }
  static inline __m256 activate(::mote::activation::Relu, __m256 x) { return _mm256_max_ps(_mm256_setzero_ps(), x); }
  static inline __m256 activate(::mote::activation::Relu6, __m256 x) {
    return _mm256_min_ps(_mm256_set1_ps(6.0f), activate(::mote::activation::Relu{}, x));
  }
  /// One vector of the epilogue: Activation(fma(float(acc), multiplier, bias)), each lane as the
  /// scalar epilogue computes it.
  template <class Activation>
  static inline __attribute__((always_inline)) __m256 dequantized(__m256i acc, __m256 multiplier, __m256 bias,
                                                                  Activation activation) {
    return activate(activation, _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc), multiplier, bias));
  }
  /// out[r] = Activation(fma(float(dots[r] + correction * row_sums[r]), input_scale * scales[r],
  /// bias[r])) for 8 rows at a time: the scalar epilogue's operations, lane by lane (the int32 sum
  /// wraps in between but its final value fits, so it is exact). Returns the rows done.
  template <class Activation = ::mote::activation::Identity>
    requires requires(Activation a, __m256 x) { activate(a, x); }
  static inline std::size_t dequantize_rows(const std::int32_t* dots, const std::int32_t* row_sums,
                                            std::int32_t correction, float input_scale, const float* scales,
                                            const float* bias, float* out, std::size_t rows,
                                            Activation activation = {}) {
    return dequantize_samples(dots, rows, 1, row_sums, correction, input_scale, scales, bias, out, rows, activation);
  }
  /// dequantize_rows for `batch` samples (sample b's dots at dots + b * dots_stride, its outputs
  /// at out + b * rows; dequantize_rows is one sample), over the rows' whole vectors: each
  /// vector of rows keeps its offset, multiplier and bias in registers while a block of samples
  /// passes (a 1x1 convolution's pixels: 64 rows each in W5, where a call per sample cost about
  /// as much again as the arithmetic). The same operations lane by lane. Returns the rows done.
  template <class Activation>
    requires requires(Activation a, __m256 x) { activate(a, x); }
  static inline std::size_t dequantize_samples(const std::int32_t* dots, std::size_t dots_stride, std::size_t batch,
                                               const std::int32_t* row_sums, std::int32_t correction,
                                               float input_scale, const float* scales, const float* bias, float* out,
                                               std::size_t rows, Activation activation) {
    constexpr std::size_t block = 64;  // samples whose dots stay in L1 while each vector of rows passes
    const std::size_t vectors = rows / 8;
    const __m256i c = _mm256_set1_epi32(correction);
    const __m256 s = _mm256_set1_ps(input_scale);
    for (std::size_t first = 0; first < batch; first += block) {
      const std::size_t last = std::min(batch, first + block);
      for (std::size_t j = 0; j < vectors; ++j) {
        const std::size_t r = 8 * j;
        const __m256i offset = _mm256_mullo_epi32(c, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row_sums + r)));
        const __m256 multiplier = _mm256_mul_ps(s, _mm256_loadu_ps(scales + r));
        const __m256 b = _mm256_loadu_ps(bias + r);
        for (std::size_t i = first; i < last; ++i) {
          const __m256i acc =
              _mm256_add_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(dots + i * dots_stride + r)), offset);
          _mm256_storeu_ps(out + i * rows + r,
                           dequantized(acc, multiplier, b, activation));
        }
      }
    }
    return 8 * vectors;
  }
  /// out[r] = mote::requantize_row(rows, r, acc[r]) for 8 rows at a time, bit for bit (gemmlowp's
  /// fixed-point arithmetic in int32 and int64 lanes). The multiplier is never negative, so
  /// SaturatingRoundingDoublingHighMul's two nudges (+2^30 for a positive product, 1 - 2^30 for a
  /// negative one, then division truncating toward zero) are one floor((p + 2^30) / 2^31), bits 31
  /// to 62 of p + 2^30: a logical 64-bit shift gives them as well as an arithmetic one, which AVX2
  /// lacks. The saturating left shift keeps x where shifting back returns it. Returns the rows
  /// done.
  /// `acc` holds int32 sums, or exact integer sums in floats (the kernels that sum in f32: each
  /// vector is loaded before its codes are stored, so the codes may be written over the floats).
  /// Tables without left shifts (every multiplier below 1, the usual case) skip the saturating
  /// shift.
  template <class Sum>
  static inline std::size_t requantize_rows(const Sum* acc, const RequantizationRows& rows, std::size_t count,
                                            std::uint8_t* out) {
    return rows.any_left_shift ? requantize_vectors<true>(acc, rows, count, out)
                               : requantize_vectors<false>(acc, rows, count, out);
  }
  static inline __attribute__((always_inline)) __m256i load_words(const std::int32_t* p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  }
  template <bool LeftShifts, class Sum>
  static inline std::size_t requantize_vectors(const Sum* acc, const RequantizationRows& rows, std::size_t count,
                                               std::uint8_t* out) {
    const __m256i one = _mm256_set1_epi32(1), int_max = _mm256_set1_epi32(0x7fffffff);
    const __m256i nudge = _mm256_set1_epi64x(std::int64_t{1} << 30);
    const __m256i zero_point = _mm256_set1_epi32(rows.zero_point);
    const __m256i low = _mm256_set1_epi32(rows.low - rows.zero_point);
    const __m256i high = _mm256_set1_epi32(rows.high - rows.zero_point);
    std::size_t r = 0;
    for (; r + 8 <= count; r += 8) {
      __m256i x;
      if constexpr (std::is_same_v<Sum, float>)
        x = _mm256_cvttps_epi32(_mm256_loadu_ps(acc + r));
      else
        x = load_words(acc + r);
      x = _mm256_add_epi32(x, load_words(rows.bias + r));
      if constexpr (LeftShifts) {
        const __m256i left = load_words(rows.left + r);
        const __m256i shifted = _mm256_sllv_epi32(x, left);
        const __m256i fits = _mm256_cmpeq_epi32(_mm256_srav_epi32(shifted, left), x);
        const __m256i saturated = _mm256_xor_si256(_mm256_srai_epi32(x, 31), int_max);
        x = _mm256_blendv_epi8(saturated, shifted, fits);
      }
      const __m256i m = load_words(rows.mantissa + r), right = load_words(rows.right + r);
      const __m256i even = _mm256_srli_epi64(_mm256_add_epi64(_mm256_mul_epi32(x, m), nudge), 31);
      const __m256i odd = _mm256_slli_epi64(
          _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(m, 32)), nudge), 1);
      const __m256i high_mul = _mm256_blend_epi32(even, odd, 0xAA);
      // RoundingDivideByPOT: half away from zero.
      const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, right), one);
      const __m256i remainder = _mm256_and_si256(high_mul, mask);
      const __m256i threshold =
          _mm256_sub_epi32(_mm256_srai_epi32(mask, 1), _mm256_cmpgt_epi32(_mm256_setzero_si256(), high_mul));
      __m256i q = _mm256_sub_epi32(_mm256_srav_epi32(high_mul, right), _mm256_cmpgt_epi32(remainder, threshold));
      // clamp(q + zp, low, high) without overflowing q + zp.
      q = _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(q, low), high), zero_point);
      const __m128i words = _mm_packus_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
      _mm_storel_epi64(reinterpret_cast<__m128i*>(out + r), _mm_packus_epi16(words, words));
    }
    return r;
  }
  /// u - zu as floats (exact integers), where u = mote::quantize(x): the codes of the same scale
  /// with a zero point of 0 and the range shifted by -zu. What the int8 kernels that sum in f32
  /// multiply (kernels/conv2d/int8-inl.hpp).
  static inline void quantize_centred_floats(const float* x, std::size_t n, const QuantParams& p, std::int32_t low,
                                             std::int32_t high, float* out) {
    const QuantizeCodes codes_of(QuantParams{p.scale, 0}, low - p.zero_point, high - p.zero_point);
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, codes_of.floats(x + i));
    for (; i < n; ++i) out[i] = static_cast<float>(::mote::quantize(x[i], p, low, high) - p.zero_point);
  }
  /// u - zu as floats for codes u given as input (Sequential::forward_codes, the hand-over).
  static inline void centred_floats_of_codes(const std::uint8_t* codes, std::size_t n, std::int32_t zero_point,
                                             float* out) {
    const __m256i zero = _mm256_set1_epi32(zero_point);
    const auto convert = [&](__m128i eight_codes) {
      return _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_cvtepu8_epi32(eight_codes), zero));
    };
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8)
      _mm256_storeu_ps(out + i, convert(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(codes + i))));
    // The last (n % 8) through a copy: no scalar tail loop, in which GCC 12 finds a false
    // "undefined behavior" once n is a propagated constant (-Werror=aggressive-loop-optimizations).
    if (i < n) {
      std::uint64_t last = 0;
      std::memcpy(&last, codes + i, n - i);
      alignas(32) float values[8];
      _mm256_store_ps(values, convert(_mm_cvtsi64_si128(static_cast<long long>(last))));
      std::memcpy(out + i, values, (n - i) * sizeof(float));
    }
  }
};

struct Int8Ops : Int8Conversions {
  using Act = std::int16_t;
  static constexpr std::int32_t activation_offset = 0;
  static constexpr std::size_t gemm_cols = 6;
  /// register j: rows 4j..4j+3, lanes (r, k01), (r, k23), (r+1, k01), (r+1, k23) | (r+2, ...), (r+3, ...)
  struct Acc {
    __m256i v[4];
  };
  struct Panel {
    __m256i v[4];
  };
  static inline Act encode(std::int32_t u) noexcept { return static_cast<Act>(u); }
  static inline __attribute__((always_inline)) Acc zero() {
    return {{_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()}};
  }
  static inline __attribute__((always_inline)) Panel load(const std::int8_t* group) {
    Panel panel;
    for (int j = 0; j < 4; ++j)
      panel.v[j] = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(group + 16 * j)));
    return panel;
  }
  static inline __attribute__((always_inline)) void madd(Acc& acc, const Panel& w, const Act* act) {
    std::int64_t pattern;
    std::memcpy(&pattern, act, sizeof(pattern));
    const __m256i a = _mm256_set1_epi64x(pattern);
    for (int j = 0; j < 4; ++j) acc.v[j] = _mm256_add_epi32(acc.v[j], _mm256_madd_epi16(w.v[j], a));
  }
  static inline __attribute__((always_inline)) void store(const Acc& acc, std::int32_t* out) {
    for (int j = 0; j < 2; ++j) {
      // hadd gives rows [0 1 4 5 | 2 3 6 7] of the pair; reorder the 64-bit halves.
      const __m256i sums = _mm256_hadd_epi32(acc.v[2 * j], acc.v[2 * j + 1]);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 8 * j),
                          _mm256_permute4x64_epi64(sums, _MM_SHUFFLE(3, 1, 2, 0)));
    }
  }
  /// The GEMM/GEMV microkernel: 16 rows x Cols samples over `groups` groups of 4 columns, as two
  /// passes of 8 rows so that each widened weight register serves up to 6 samples (vpmovsxbw,
  /// not vpmaddwd, limited the 16 x 2 tile: 1.85 ms for W3b64). Written with plain register
  /// arrays: GCC 12 copied and spilled the generic kernel's accumulator structs every iteration.
  template <std::size_t Cols>
  static inline __attribute__((always_inline)) void panel_tile(const std::int8_t* panel, std::size_t groups,
                                                               const Act* act, std::size_t stride,
                                                               std::int32_t* dots, std::size_t dots_stride) {
    static_assert(Cols >= 1 && Cols <= gemm_cols, "the AVX2 int8 tile covers 1 to 6 samples");
    for (std::size_t half = 0; half < 2; ++half) {
      __m256i acc[Cols][2];
#pragma GCC unroll 8
      for (std::size_t c = 0; c < Cols; ++c) acc[c][0] = acc[c][1] = _mm256_setzero_si256();
      const std::int8_t* w = panel + half * 32;
      for (std::size_t g = 0; g < groups; ++g, w += 64) {
        const __m256i w0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w)));
        const __m256i w1 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 16)));
#pragma GCC unroll 8
        for (std::size_t c = 0; c < Cols; ++c) {
          std::int64_t pattern;
          std::memcpy(&pattern, act + c * stride + g * 4, sizeof(pattern));
          const __m256i x = _mm256_set1_epi64x(pattern);
          acc[c][0] = _mm256_add_epi32(acc[c][0], _mm256_madd_epi16(w0, x));
          acc[c][1] = _mm256_add_epi32(acc[c][1], _mm256_madd_epi16(w1, x));
        }
      }
#pragma GCC unroll 8
      for (std::size_t c = 0; c < Cols; ++c) {
        const __m256i sums = _mm256_hadd_epi32(acc[c][0], acc[c][1]);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dots + c * dots_stride + half * 8),
                            _mm256_permute4x64_epi64(sums, _MM_SHUFFLE(3, 1, 2, 0)));
      }
    }
  }
  /// The GEMV of symmetric weights (codes in [-127, 127], never -128) at twice the rate of the
  /// vpmaddwd kernel: vpmaddubsw on |a| (u8) and w * sign(a) (s8), a = u - 128 in [-128, 127].
  /// Exact: each product is at most 128 * 127 = 16256, so a pair sums to at most 32512 and
  /// vpmaddubsw never saturates; vpmaddwd by ones widens the pairs to int32 row sums. `signed_codes`
  /// holds the sample's u - 128 (quantize_centred, padded columns included); dots[r] =
  /// sum_k w_rk u_k is the value the other kernels produce: sum_k w_rk a_k + 128 row_sums[r].
  /// (W3b1 int8: 27 -> 20 us.) Narrow: 7-bit weights (Int7, codes in [-63, 63]) pair with the
  /// unsigned codes u = a + 128 directly, 2 * 255 * 63 < 32767: no vpsignb, and dots = the sums.
  static inline void quantize_centred(const float* x, std::size_t n, const QuantParams& p, std::int32_t low,
                                      std::int32_t high, std::int8_t* out) {
    ::mote::simd::avx2::quantize_centred(x, n, p, low, high, out);
  }
  template <bool Narrow = false>
  static inline void gemv_symmetric(const std::int8_t* panels, std::size_t panel_count, std::size_t groups,
                                    const std::int8_t* signed_codes, const std::int32_t* row_sums,
                                    std::int32_t* dots) {
    std::size_t p = 0;
    // Four panels per pass: each broadcast of 4 activation codes serves 8 vectors of weights, and
    // 8 independent accumulator chains keep more loads in flight (W3b1: medians 21.3 -> 18.9 us
    // against two panels, alternating builds; four panels measured no faster before the
    // accumulators were pinned to registers).
    for (; p + 4 <= panel_count; p += 4) gemv_symmetric_panels<4, Narrow>(panels, p, groups, signed_codes, row_sums, dots);
    for (; p + 2 <= panel_count; p += 2) gemv_symmetric_panels<2, Narrow>(panels, p, groups, signed_codes, row_sums, dots);
    for (; p < panel_count; ++p) gemv_symmetric_panels<1, Narrow>(panels, p, groups, signed_codes, row_sums, dots);
  }
  template <std::size_t Panels, bool Narrow>
  static inline __attribute__((always_inline)) void gemv_symmetric_panels(const std::int8_t* panels, std::size_t p,
                                                                          std::size_t groups,
                                                                          const std::int8_t* signed_codes,
                                                                          const std::int32_t* row_sums,
                                                                          std::int32_t* dots) {
    constexpr std::size_t vectors = 2 * Panels;
    const __m256i ones = _mm256_set1_epi16(1);
    const std::size_t panel_bytes = groups * 64;
    const std::int8_t* w = panels + p * panel_bytes;
    __m256i acc[vectors];
#pragma GCC unroll 8
    for (std::size_t j = 0; j < vectors; ++j) acc[j] = _mm256_setzero_si256();
    for (std::size_t g = 0; g < groups; ++g, w += 64) {
      std::int32_t quad;
      std::memcpy(&quad, signed_codes + 4 * g, sizeof(quad));
      const __m256i a = _mm256_set1_epi32(quad);
      // Narrow: the unsigned codes u = a + 128 (flipping the top bit); else |a|.
      const __m256i magnitude = Narrow ? _mm256_xor_si256(a, _mm256_set1_epi8(-128)) : _mm256_abs_epi8(a);
#pragma GCC unroll 8
      for (std::size_t j = 0; j < vectors; ++j) {
        const __m256i weights = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + (j / 2) * panel_bytes + (j % 2) * 32));
        const __m256i pairs = _mm256_maddubs_epi16(magnitude, Narrow ? weights : _mm256_sign_epi8(weights, a));
        acc[j] = _mm256_add_epi32(acc[j], _mm256_madd_epi16(pairs, ones));
      }
      // Pins each accumulator to one register across iterations (see gemm_symmetric_tile).
#pragma GCC unroll 8
      for (std::size_t j = 0; j < vectors; ++j) __asm__("" : "+x"(acc[j]));
    }
#pragma GCC unroll 8
    for (std::size_t j = 0; j < vectors; ++j) {
      const std::size_t first = (p + j / 2) * 16 + (j % 2) * 8;
      if constexpr (!Narrow)
        acc[j] = _mm256_add_epi32(
            acc[j], _mm256_slli_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row_sums + first)), 7));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dots + first), acc[j]);
    }
  }
  /// The GEMM of symmetric weights with the same exact vpmaddubsw scheme as gemv_symmetric:
  /// `columns` samples of centred codes (sample c at signed_codes + c * stride), dots of sample c
  /// at dots + c * dots_stride. Panel by panel (a panel's weights stay in L1 while every sample
  /// passes), 16 rows x 4 samples per register tile: 8 accumulators, each weight vector re-signed
  /// per sample (one vpsignb: the price of exactness; the multiply ports do the same work as
  /// the saturating u8 x s8 scheme). W3b64 int8: 1.9 -> see docs/benchmarks.md. Narrow (Int7):
  /// u = a + 128 times the weights as they are, as in gemv_symmetric; no vpsignb.
  template <bool Narrow = false>
  static inline void gemm_symmetric(const std::int8_t* panels, std::size_t panel_count, std::size_t groups,
                                    const std::int8_t* signed_codes, std::size_t stride, std::size_t columns,
                                    const std::int32_t* row_sums, std::int32_t* dots, std::size_t dots_stride,
                                    std::uint8_t* magnitudes) {
    gemm_symmetric_panels<Narrow>(
        panels, panel_count, groups, signed_codes, magnitudes, stride, columns,
        [&](std::size_t p) {
          // Narrow tiles summed w u already; the others w a = w u - 128 w.
          if constexpr (Narrow) return RowVectors{_mm256_setzero_si256(), _mm256_setzero_si256()};
          return RowVectors{_mm256_slli_epi32(load_words(row_sums + p * 16), 7),
                            _mm256_slli_epi32(load_words(row_sums + p * 16 + 8), 7)};
        },
        [&](std::size_t p, std::size_t c, __m256i acc0, __m256i acc1) {
          std::int32_t* d = dots + c * dots_stride + p * 16;
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(d), acc0);
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + 8), acc1);
        });
  }
  /// gemm_symmetric followed by dequantize_samples, the epilogue applied to each register tile
  /// instead of to dots stored and loaded again (a 1x1 convolution's pixels: W5's pointwise layer
  /// wrote and read back 16 dots per pixel and panel). Whole panels only: rows = 16 x panel_count,
  /// at most max_rows (the per-row operands live on the stack; above that it does nothing and
  /// returns false). The same operations lane by lane: the int32 offsets (128 row_sums for the
  /// sign trick, correction row_sums) are summed first, which wrapping addition allows, then the
  /// float multiply-add and the activation. (Above 256 rows, W3b64's 1,024, the per-panel variant
  /// made the 8-bit tile slower: docs/benchmarks.md.)
  template <bool Narrow, class Activation>
    requires requires(Activation a, __m256 x) { activate(a, x); }
  static inline bool gemm_symmetric_dequantize(const std::int8_t* panels, std::size_t panel_count, std::size_t groups,
                                               const std::int8_t* signed_codes, std::size_t stride,
                                               std::size_t columns, const std::int32_t* row_sums,
                                               std::int32_t correction, float input_scale, const float* scales,
                                               const float* bias, float* out, Activation activation,
                                               std::uint8_t* magnitudes) {
    constexpr std::size_t max_rows = 256;
    const std::size_t rows = panel_count * 16;
    if (rows > max_rows) return false;
    alignas(32) std::int32_t offsets[max_rows];
    alignas(32) float multipliers[max_rows];
    const __m256i c = _mm256_set1_epi32(correction);
    const __m256 s = _mm256_set1_ps(input_scale);
    for (std::size_t r = 0; r < rows; r += 8) {
      const __m256i sums = load_words(row_sums + r);
      __m256i offset = _mm256_mullo_epi32(c, sums);
      if constexpr (!Narrow) offset = _mm256_add_epi32(offset, _mm256_slli_epi32(sums, 7));
      _mm256_store_si256(reinterpret_cast<__m256i*>(offsets + r), offset);
      _mm256_store_ps(multipliers + r, _mm256_mul_ps(s, _mm256_loadu_ps(scales + r)));
    }
    gemm_symmetric_panels<Narrow>(
        panels, panel_count, groups, signed_codes, magnitudes, stride, columns,
        [&](std::size_t p) {
          return RowVectors{_mm256_load_si256(reinterpret_cast<const __m256i*>(offsets + p * 16)),
                            _mm256_load_si256(reinterpret_cast<const __m256i*>(offsets + p * 16 + 8))};
        },
        [&](std::size_t p, std::size_t col, __m256i acc0, __m256i acc1) {
          const std::size_t r = p * 16;
          float* y = out + col * rows + r;
          _mm256_storeu_ps(y, dequantized(acc0, _mm256_load_ps(multipliers + r), _mm256_loadu_ps(bias + r), activation));
          _mm256_storeu_ps(y + 8, dequantized(acc1, _mm256_load_ps(multipliers + r + 8), _mm256_loadu_ps(bias + r + 8),
                                              activation));
        });
    return true;
  }
  /// A panel's 16 rows as two vectors of 8.
  struct RowVectors {
    __m256i low, high;
  };
  /// The register tiles of gemm_symmetric: each tile's 16 row sums of sample `col` of panel p
  /// (w u for Narrow weights, else w a), plus offsets_of(p) (RowVectors of int32), handed to
  /// sink(p, col, rows 0-7, rows 8-15).
  template <bool Narrow, class Offsets, class Sink>
  static inline __attribute__((always_inline)) void gemm_symmetric_panels(const std::int8_t* panels,
                                                                          std::size_t panel_count, std::size_t groups,
                                                                          const std::int8_t* signed_codes,
                                                                          std::uint8_t* magnitudes, std::size_t stride,
                                                                          std::size_t columns,
                                                                          const Offsets& offsets_of, const Sink& sink) {
    // |a| (Narrow: u = a + 128) once per code instead of once per broadcast in the tiles: the
    // vector ALUs, not the multipliers, are the tiles' limit.
    const std::size_t code_count = columns * stride;
    std::size_t i = 0;
    for (; i + 32 <= code_count; i += 32) {
      const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(signed_codes + i));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(magnitudes + i),
                          Narrow ? _mm256_xor_si256(a, _mm256_set1_epi8(-128)) : _mm256_abs_epi8(a));
    }
    for (; i < code_count; ++i)
      magnitudes[i] = static_cast<std::uint8_t>(Narrow ? signed_codes[i] + 128 : std::abs(std::int32_t{signed_codes[i]}));
    const std::size_t panel_bytes = groups * 64;
    for (std::size_t p = 0; p < panel_count; ++p) {
      const std::int8_t* panel = panels + p * panel_bytes;
      const RowVectors offsets = offsets_of(p);
      const __m256i offset0 = offsets.low, offset1 = offsets.high;
      const auto tile_sink = [&](std::size_t col, __m256i sum0, __m256i sum1) __attribute__((always_inline)) {
        sink(p, col, _mm256_add_epi32(sum0, offset0), _mm256_add_epi32(sum1, offset1));
      };
      std::size_t c = 0;
      for (; c + 4 <= columns; c += 4)
        gemm_symmetric_tile<4, Narrow>(panel, groups, signed_codes + c * stride, magnitudes + c * stride, stride, c,
                                       tile_sink);
      const std::int8_t* codes = signed_codes + c * stride;
      const std::uint8_t* mags = magnitudes + c * stride;
      switch (columns - c) {
        case 3: gemm_symmetric_tile<3, Narrow>(panel, groups, codes, mags, stride, c, tile_sink); break;
        case 2: gemm_symmetric_tile<2, Narrow>(panel, groups, codes, mags, stride, c, tile_sink); break;
        case 1: gemm_symmetric_tile<1, Narrow>(panel, groups, codes, mags, stride, c, tile_sink); break;
        default: break;
      }
    }
  }
  template <std::size_t Cols, bool Narrow, class Sink>
  static inline __attribute__((always_inline)) void gemm_symmetric_tile(const std::int8_t* panel, std::size_t groups,
                                                                        const std::int8_t* codes,
                                                                        const std::uint8_t* mags, std::size_t stride,
                                                                        std::size_t first_col, const Sink& sink) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i acc[Cols][2];
#pragma GCC unroll 8
    for (std::size_t c = 0; c < Cols; ++c) acc[c][0] = acc[c][1] = _mm256_setzero_si256();
    const std::int8_t* w = panel;
    for (std::size_t g = 0; g < groups; ++g, w += 64) {
      const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w));
      const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 32));
#pragma GCC unroll 8
      for (std::size_t c = 0; c < Cols; ++c) {
        std::int32_t quad;
        std::memcpy(&quad, mags + c * stride + 4 * g, sizeof(quad));
        const __m256i magnitude = _mm256_set1_epi32(quad);
        __m256i s0 = w0, s1 = w1;
        if constexpr (!Narrow) {
          std::memcpy(&quad, codes + c * stride + 4 * g, sizeof(quad));
          const __m256i a = _mm256_set1_epi32(quad);
          s0 = _mm256_sign_epi8(w0, a);
          s1 = _mm256_sign_epi8(w1, a);
        }
        acc[c][0] = _mm256_add_epi32(acc[c][0], _mm256_madd_epi16(_mm256_maddubs_epi16(magnitude, s0), ones));
        acc[c][1] = _mm256_add_epi32(acc[c][1], _mm256_madd_epi16(_mm256_maddubs_epi16(magnitude, s1), ones));
      }
      // Pins each accumulator to one register across iterations: without it GCC 12 rotates
      // them through copies and spills one to the stack every group (W3b64: about 12% slower).
#pragma GCC unroll 8
      for (std::size_t c = 0; c < Cols; ++c) __asm__("" : "+x"(acc[c][0]), "+x"(acc[c][1]));
    }
#pragma GCC unroll 8
    for (std::size_t c = 0; c < Cols; ++c) sink(first_col + c, acc[c][0], acc[c][1]);
  }
  static inline void quantize(const float* x, std::size_t n, const QuantParams& p, std::int32_t low,
                              std::int32_t high, Act* out) {
    const QuantizeCodes codes_of(p, low, high);
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      const __m256i codes = codes_of(x + i);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                       _mm_packs_epi32(_mm256_castsi256_si128(codes), _mm256_extracti128_si256(codes, 1)));
    }
    for (; i < n; ++i) out[i] = encode(::mote::quantize(x[i], p, low, high));
  }
};

}  // namespace mote::simd::avx2
#endif
