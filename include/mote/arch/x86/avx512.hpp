// AVX-512 (F/BW/DQ/VL) vector of 16 floats. Included by arch/targets.hpp inside its target
// region. Only the register width differs from AVX2; the kernels using it are the same code.
#if !defined(MOTE_ARCH_X86_AVX512_VEC)
#define MOTE_ARCH_X86_AVX512_VEC
namespace mote::simd::avx512 {

#define MOTE_VEC_INLINE inline __attribute__((always_inline))

struct VecF32 {
  static constexpr std::size_t lanes = 16;
  /// fma() rounds once, as std::fma (kernels that must match a scalar std::fma bit for bit
  /// check this).
  static constexpr bool fused_fma = true;
  using Mask = __mmask16;
  __m512 v;

  static MOTE_VEC_INLINE VecF32 zero() { return {_mm512_setzero_ps()}; }
  static MOTE_VEC_INLINE VecF32 broadcast(float x) { return {_mm512_set1_ps(x)}; }
  static MOTE_VEC_INLINE VecF32 load(const float* p) { return {_mm512_loadu_ps(p)}; }
  /// 16 bfloat16 values widened exactly to f32: zero-extend to 32 bits, shift to the top half.
  static MOTE_VEC_INLINE VecF32 load_bf16(const std::uint16_t* p) {
    const __m512i wide = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return {_mm512_castsi512_ps(_mm512_slli_epi32(wide, 16))};
  }
  /// 16 IEEE binary16 values widened exactly to f32 (vcvtph2ps).
  static MOTE_VEC_INLINE VecF32 load_f16(const std::uint16_t* p) {
    return {_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)))};
  }
  static MOTE_VEC_INLINE __mmask16 partial_mask(std::size_t n) {
    return static_cast<__mmask16>((1u << n) - 1u);
  }
  static MOTE_VEC_INLINE VecF32 load_partial(const float* p, std::size_t n) {
    return {_mm512_maskz_loadu_ps(partial_mask(n), p)};
  }
  MOTE_VEC_INLINE void store(float* p) const { _mm512_storeu_ps(p, v); }
  MOTE_VEC_INLINE void store_partial(float* p, std::size_t n) const { _mm512_mask_storeu_ps(p, partial_mask(n), v); }

  friend MOTE_VEC_INLINE VecF32 operator+(VecF32 a, VecF32 b) { return {_mm512_add_ps(a.v, b.v)}; }
  friend MOTE_VEC_INLINE VecF32 operator-(VecF32 a, VecF32 b) { return {_mm512_sub_ps(a.v, b.v)}; }
  friend MOTE_VEC_INLINE VecF32 operator*(VecF32 a, VecF32 b) { return {_mm512_mul_ps(a.v, b.v)}; }
  friend MOTE_VEC_INLINE VecF32 operator/(VecF32 a, VecF32 b) { return {_mm512_div_ps(a.v, b.v)}; }
  static MOTE_VEC_INLINE VecF32 fma(VecF32 a, VecF32 b, VecF32 c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }
  static MOTE_VEC_INLINE VecF32 min(VecF32 a, VecF32 b) { return {_mm512_min_ps(a.v, b.v)}; }
  static MOTE_VEC_INLINE VecF32 max(VecF32 a, VecF32 b) { return {_mm512_max_ps(a.v, b.v)}; }
  /// x < low ? low : x, lane-wise, exactly (NaN and -0 in x pass through): x86 MAX returns
  /// its second operand when the operands are equal or either is NaN.
  static MOTE_VEC_INLINE VecF32 clamp_below(VecF32 x, VecF32 low) { return {_mm512_max_ps(low.v, x.v)}; }
  /// x > high ? high : x, lane-wise, exactly (NaN and -0 in x pass through).
  static MOTE_VEC_INLINE VecF32 clamp_above(VecF32 x, VecF32 high) { return {_mm512_min_ps(high.v, x.v)}; }
  static MOTE_VEC_INLINE VecF32 abs(VecF32 a) { return {_mm512_abs_ps(a.v)}; }
  static MOTE_VEC_INLINE VecF32 copysign(VecF32 magnitude, VecF32 sign) {
    const __m512i bit = _mm512_set1_epi32(static_cast<int>(0x80000000u));
    const __m512i m = _mm512_castps_si512(magnitude.v), s = _mm512_castps_si512(sign.v);
    return {_mm512_castsi512_ps(_mm512_or_si512(_mm512_andnot_si512(bit, m), _mm512_and_si512(bit, s)))};
  }
  static MOTE_VEC_INLINE VecF32 round_nearest(VecF32 a) {
    return {_mm512_roundscale_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)};
  }
  static MOTE_VEC_INLINE VecF32 pow2(VecF32 n) {
    const __m512i biased = _mm512_add_epi32(_mm512_cvtps_epi32(n.v), _mm512_set1_epi32(127));
    return {_mm512_castsi512_ps(_mm512_slli_epi32(biased, 23))};
  }
  static MOTE_VEC_INLINE Mask less(VecF32 a, VecF32 b) { return _mm512_cmp_ps_mask(a.v, b.v, _CMP_LT_OQ); }
  static MOTE_VEC_INLINE Mask greater(VecF32 a, VecF32 b) { return _mm512_cmp_ps_mask(a.v, b.v, _CMP_GT_OQ); }
  static MOTE_VEC_INLINE Mask is_nan(VecF32 a) { return _mm512_cmp_ps_mask(a.v, a.v, _CMP_UNORD_Q); }
  static MOTE_VEC_INLINE Mask mask_or(Mask a, Mask b) { return static_cast<Mask>(a | b); }
  static MOTE_VEC_INLINE bool any(Mask m) { return m != 0; }
  static MOTE_VEC_INLINE VecF32 select(Mask m, VecF32 if_true, VecF32 if_false) {
    return {_mm512_mask_blend_ps(m, if_false.v, if_true.v)};
  }
  MOTE_VEC_INLINE float reduce_add() const { return _mm512_reduce_add_ps(v); }
};

#undef MOTE_VEC_INLINE
}  // namespace mote::simd::avx512
#endif
