// AVX-512 (F/BW) int8 dot-product primitives (contract: kernels/dense/int8-inl.hpp), exact
// int16 vpmaddwd as on AVX2. No include guard on purpose: see arch/targets.hpp.
#if !defined(MOTE_ARCH_X86_AVX512_INT8)
#define MOTE_ARCH_X86_AVX512_INT8
namespace mote::simd::avx512 {

/// Float -> code conversion shared by the AVX-512, AVX-512 VNNI and AMX primitives: the codes of
/// 16 values exactly as mote::quantize computes them (IEEE division x / scale, ties to even, plus
/// the zero point, clamped; NaN to the clamped zero point).
///
/// The quotient is computed without the division where the scale allows it: Sapphire Rapids
/// divides 16 floats per 10 cycles or so, and W5's two quantisations of 100,352 values took
/// 24 us each (15.7 with what follows; docs/benchmarks.md, "An eleventh run"). With r = RN(1 /
/// scale) (one correctly rounded division, once):
///   q0 = RN(x r)                  within 2 ulps of x / scale
///   q1 = RN(q0 + RN(x - q0 s) r)  within 1 ulp (the first correction's error is q0's times
///                                 |1 - s r| <= 2^-24, plus one rounding)
///   q2 = RN(q1 + (x - q1 s) r)    = RN(x / scale), by Markstein's theorem: r is within half an
///                                 ulp of 1 / scale and q1 within one ulp of x / scale, so the
///                                 remainder x - q1 s is exact (one FMA) and the corrected
///                                 quotient rounds to the correctly rounded one.
/// The theorem assumes no underflow or overflow. x is first clamped to +-2^22 scale (exact: a
/// power-of-two multiple), past which every code is an end of the range anyway (|lo|, |hi|, the
/// zero point < 2^9), so nothing overflows; a scale within [2^-100, 2^100] keeps r normal and the
/// remainders of quotients above 1/4 normal; quotients below 1/4 give the zero point however
/// they round (every error above is below 2^-40 there). Other scales divide. The test
/// "quantisation by reciprocal and two corrections equals the division" checks it against
/// mote::quantize around every rounding boundary for 132 scales, and
/// tools/check_reciprocal_quantize.cpp over all 2^32 inputs (docs/quantization.md).
/// AVX2 keeps the division: on Zen 3 the five multiply-adds cost more than it (18.2 against 13.6
/// us), and on Sapphire Rapids 256-bit ones gained nothing (31.4 against 30.5).
struct QuantizeCodes16 {
  __m512 scale, reciprocal, bound, zero, lo, hi;
  __m512i zero_point;
  bool by_reciprocal;
  QuantizeCodes16(const QuantParams& p, std::int32_t low, std::int32_t high)
      : scale(_mm512_set1_ps(p.scale)),
        reciprocal(_mm512_set1_ps(1.0f / p.scale)),
        bound(_mm512_set1_ps(std::ldexp(p.scale, 22))),
        zero(_mm512_set1_ps(static_cast<float>(p.zero_point))),
        lo(_mm512_set1_ps(static_cast<float>(low))),
        hi(_mm512_set1_ps(static_cast<float>(high))),
        zero_point(_mm512_set1_epi32(p.zero_point)),
        by_reciprocal(p.scale >= 0x1p-100f && p.scale <= 0x1p100f) {}
  /// x clamped to +-2^22 scale, NaN to +0 (whose code is the zero point's, as mote::quantize
  /// gives NaN): vfixupimmps maps NaN to +0 and passes every other value, vrangeps keeps the
  /// smaller magnitude with x's sign. Two instructions where a clamp and a NaN compare and blend
  /// took four.
  inline __attribute__((always_inline)) __m512 clamped(__m512 x) const {
    // fixupimm's table: a 4-bit response per class of x; QNaN and SNaN (classes 0, 1) give +0
    // (response 8), the others x itself (response 1).
    const __m512 finite = _mm512_fixupimm_ps(x, x, _mm512_set1_epi32(0x11111188), 0);
    return _mm512_range_ps(finite, bound, 0x02);  // imm 0b0010: the smaller |.|, sign of the first operand
  }
  /// RN(x / scale) for x clamped as above.
  inline __attribute__((always_inline)) __m512 quotient(__m512 c) const {
    if (!by_reciprocal) return _mm512_div_ps(c, scale);
    __m512 q = _mm512_mul_ps(c, reciprocal);
    q = _mm512_fmadd_ps(_mm512_fnmadd_ps(q, scale, c), reciprocal, q);
    return _mm512_fmadd_ps(_mm512_fnmadd_ps(q, scale, c), reciprocal, q);
  }
  /// The codes as integer-valued floats.
  inline __attribute__((always_inline)) __m512 floats(const float* x) const {
    const __m512 rounded = _mm512_roundscale_ps(quotient(clamped(_mm512_loadu_ps(x))),
                                                _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    return _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(rounded, zero), lo), hi);
  }
  /// The codes before the clamp to [low, high], as int32: the quotient converted with ties to
  /// even (the rounding and the conversion in one instruction), plus the zero point. Within
  /// +-(2^22 + 2^9) (or already clamped), so the caller's saturating packs or integer clamp
  /// finish the codes.
  inline __attribute__((always_inline)) __m512i unclamped(const float* x) const {
    // Scales above 2^105 put the bound at infinity, which converts to no integer: their codes
    // come clamped in floats.
    if (!by_reciprocal) return _mm512_cvttps_epi32(floats(x));
    return _mm512_add_epi32(
        _mm512_cvt_roundps_epi32(quotient(clamped(_mm512_loadu_ps(x))), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC),
        zero_point);
  }
  inline __attribute__((always_inline)) __m512i operator()(const float* x) const {
    return _mm512_cvttps_epi32(floats(x));
  }
};

/// Codes whose range is the whole of the byte type (uint8 [0, 255] or int8 [-128, 127]), 64 at a
/// time: the saturating packs (int32 -> int16 -> bytes) are the clamp, so 64 codes cost 3 shuffles
/// where a saturating narrowing took 2 per 16 and the float clamp 2 more (W5's pointwise input,
/// 100,352 codes: docs/benchmarks.md). Returns how many codes it wrote: n rounded down to 64.
template <class Byte>
inline std::size_t whole_range_codes(const QuantizeCodes16& codes_of, const float* x, std::size_t n, Byte* out) {
  static_assert(sizeof(Byte) == 1, "whole_range_codes writes bytes");
  const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  std::size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    const __m512i words0 = _mm512_packs_epi32(codes_of.unclamped(x + i), codes_of.unclamped(x + i + 16));
    const __m512i words1 = _mm512_packs_epi32(codes_of.unclamped(x + i + 32), codes_of.unclamped(x + i + 48));
    const __m512i bytes =
        std::is_signed_v<Byte> ? _mm512_packs_epi16(words0, words1) : _mm512_packus_epi16(words0, words1);
    _mm512_storeu_si512(out + i, _mm512_permutexvar_epi32(order, bytes));
  }
  return i;
}

/// The float side of the AVX-512 int8 primitive sets (AVX-512, VNNI, AMX): AVX2's epilogue, and
/// the centred float codes 16 at a time (W5's depthwise input on Sapphire Rapids: 22.8 us, AVX2's
/// 28.6). Without AVX2's epilogue these sets converted every output in scalar code.
struct Int8Conversions : ::mote::simd::avx2::Int8Conversions {
  /// AVX2's requantize_rows (the same operations lane by lane, see there) 16 rows at a time, the
  /// tail in masked lanes: mask registers take the place of AVX2's compare-and-blend pairs. Returns
  /// `count` (every row done).
  template <class Sum>
  static inline std::size_t requantize_rows(const Sum* acc, const RequantizationRows& rows, std::size_t count,
                                            std::uint8_t* out) {
    return rows.any_left_shift ? requantize_lanes<true>(acc, rows, count, out)
                               : requantize_lanes<false>(acc, rows, count, out);
  }
  static inline __attribute__((always_inline)) __m512i masked_words(__mmask16 lanes, const std::int32_t* p) {
    return _mm512_maskz_loadu_epi32(lanes, p);
  }
  template <bool LeftShifts, class Sum>
  static inline std::size_t requantize_lanes(const Sum* acc, const RequantizationRows& rows, std::size_t count,
                                             std::uint8_t* out) {
    const __m512i one = _mm512_set1_epi32(1), int_max = _mm512_set1_epi32(0x7fffffff);
    const __m512i nudge = _mm512_set1_epi64(std::int64_t{1} << 30);
    const __m512i zero_point = _mm512_set1_epi32(rows.zero_point);
    const __m512i low = _mm512_set1_epi32(rows.low - rows.zero_point);
    const __m512i high = _mm512_set1_epi32(rows.high - rows.zero_point);
    for (std::size_t r = 0; r < count; r += 16) {
      const auto lanes = static_cast<__mmask16>(count - r >= 16 ? 0xFFFFu : (1u << (count - r)) - 1u);
      __m512i x;
      if constexpr (std::is_same_v<Sum, float>)
        x = _mm512_cvttps_epi32(_mm512_maskz_loadu_ps(lanes, acc + r));
      else
        x = _mm512_maskz_loadu_epi32(lanes, acc + r);
      x = _mm512_add_epi32(x, masked_words(lanes, rows.bias + r));
      if constexpr (LeftShifts) {
        const __m512i left = masked_words(lanes, rows.left + r);
        const __m512i shifted = _mm512_sllv_epi32(x, left);
        const __mmask16 fits = _mm512_cmpeq_epi32_mask(_mm512_srav_epi32(shifted, left), x);
        x = _mm512_mask_blend_epi32(fits, _mm512_xor_si512(_mm512_srai_epi32(x, 31), int_max), shifted);
      }
      const __m512i m = masked_words(lanes, rows.mantissa + r), right = masked_words(lanes, rows.right + r);
      const __m512i even = _mm512_srli_epi64(_mm512_add_epi64(_mm512_mul_epi32(x, m), nudge), 31);
      const __m512i odd = _mm512_slli_epi64(
          _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(x, 32), _mm512_srli_epi64(m, 32)), nudge), 1);
      const __m512i high_mul = _mm512_mask_blend_epi32(0xAAAA, even, odd);
      // RoundingDivideByPOT: half away from zero.
      const __m512i mask = _mm512_sub_epi32(_mm512_sllv_epi32(one, right), one);
      const __m512i half = _mm512_srai_epi32(mask, 1);
      const __m512i threshold =
          _mm512_mask_add_epi32(half, _mm512_cmplt_epi32_mask(high_mul, _mm512_setzero_si512()), half, one);
      __m512i q = _mm512_srav_epi32(high_mul, right);
      q = _mm512_mask_add_epi32(q, _mm512_cmpgt_epi32_mask(_mm512_and_si512(high_mul, mask), threshold), q, one);
      // clamp(q + zp, low, high) without overflowing q + zp.
      q = _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(q, low), high), zero_point);
      _mm_mask_storeu_epi8(out + r, lanes, _mm512_cvtepi32_epi8(q));
    }
    return count;
  }

  /// u - zu as floats (exact integers), where u = mote::quantize(x): what the int8 kernels that
  /// sum in f32 multiply (kernels/conv2d/int8-inl.hpp).
  static inline void quantize_centred_floats(const float* x, std::size_t n, const QuantParams& p, std::int32_t low,
                                             std::int32_t high, float* out) {
    const QuantizeCodes16 codes_of(QuantParams{p.scale, 0}, low - p.zero_point, high - p.zero_point);
    std::size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(out + i, codes_of.floats(x + i));
    for (; i < n; ++i) out[i] = static_cast<float>(::mote::quantize(x[i], p, low, high) - p.zero_point);
  }
  /// u - zu as floats for codes u given as input, 16 at a time.
  static inline void centred_floats_of_codes(const std::uint8_t* codes, std::size_t n, std::int32_t zero_point,
                                             float* out) {
    const __m512i zero = _mm512_set1_epi32(zero_point);
    const auto convert = [&](__m128i sixteen_codes) {
      return _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_cvtepu8_epi32(sixteen_codes), zero));
    };
    std::size_t i = 0;
    for (; i + 16 <= n; i += 16)
      _mm512_storeu_ps(out + i, convert(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + i))));
    if (i < n) {  // the last (n % 16) in masked lanes
      const auto lanes = static_cast<__mmask16>((1u << (n - i)) - 1u);
      _mm512_mask_storeu_ps(out + i, lanes, convert(_mm_maskz_loadu_epi8(lanes, codes + i)));
    }
  }
};

struct Int8Ops : Int8Conversions {
  using Act = std::int16_t;
  static constexpr std::int32_t activation_offset = 0;
  static constexpr std::size_t gemm_cols = 4;
  /// register j: rows 8j..8j+7, two lanes (k01, k23) per row
  struct Acc {
    __m512i v[2];
  };
  struct Panel {
    __m512i v[2];
  };
  static inline Act encode(std::int32_t u) noexcept { return static_cast<Act>(u); }
  static inline __attribute__((always_inline)) Acc zero() { return {{_mm512_setzero_si512(), _mm512_setzero_si512()}}; }
  static inline __attribute__((always_inline)) Panel load(const std::int8_t* group) {
    return {{_mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(group))),
             _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(group + 32)))}};
  }
  static inline __attribute__((always_inline)) void madd(Acc& acc, const Panel& w, const Act* act) {
    std::int64_t pattern;
    std::memcpy(&pattern, act, sizeof(pattern));
    const __m512i a = _mm512_set1_epi64(pattern);
    for (int j = 0; j < 2; ++j) acc.v[j] = _mm512_add_epi32(acc.v[j], _mm512_madd_epi16(w.v[j], a));
  }
  static inline __attribute__((always_inline)) void store(const Acc& acc, std::int32_t* out) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    const __m512i sums = _mm512_add_epi32(_mm512_permutex2var_epi32(acc.v[0], even, acc.v[1]),
                                          _mm512_permutex2var_epi32(acc.v[0], odd, acc.v[1]));
    _mm512_storeu_si512(out, sums);
  }
  static inline void quantize(const float* x, std::size_t n, const QuantParams& p, std::int32_t low,
                              std::int32_t high, Act* out) {
    const QuantizeCodes16 codes_of(p, low, high);
    std::size_t i = 0;
    for (; i + 16 <= n; i += 16)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm512_cvtsepi32_epi16(codes_of(x + i)));
    for (; i < n; ++i) out[i] = encode(::mote::quantize(x[i], p, low, high));
  }
};

}  // namespace mote::simd::avx512
#endif
