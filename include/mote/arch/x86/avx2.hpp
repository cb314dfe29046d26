// AVX2 + FMA vector of 8 floats. Included by arch/targets.hpp inside a target("avx2,fma")
// region (no #pragma once on purpose: see targets.hpp), so every function here is compiled for
// AVX2 whatever the translation unit's flags are.
#if !defined(MOTE_ARCH_X86_AVX2_VEC)
#define MOTE_ARCH_X86_AVX2_VEC
namespace mote::simd::avx2 {

#define MOTE_VEC_INLINE inline __attribute__((always_inline))

struct VecF32 {
  static constexpr std::size_t lanes = 8;
  /// fma() rounds once, as std::fma (kernels that must match a scalar std::fma bit for bit
  /// check this).
  static constexpr bool fused_fma = true;
  using Mask = __m256;
  __m256 v;

  static MOTE_VEC_INLINE VecF32 zero() { return {_mm256_setzero_ps()}; }
  static MOTE_VEC_INLINE VecF32 broadcast(float x) { return {_mm256_set1_ps(x)}; }
  static MOTE_VEC_INLINE VecF32 load(const float* p) { return {_mm256_loadu_ps(p)}; }
  /// 8 bfloat16 values widened exactly to f32: zero-extend to 32 bits, shift to the top half.
  static MOTE_VEC_INLINE VecF32 load_bf16(const std::uint16_t* p) {
    const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return {_mm256_castsi256_ps(_mm256_slli_epi32(wide, 16))};
  }
  /// 8 IEEE binary16 values widened exactly to f32 (F16C vcvtph2ps, enabled in this region).
  static MOTE_VEC_INLINE VecF32 load_f16(const std::uint16_t* p) {
    return {_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)))};
  }
  /// 16 bfloat16 values as two vectors of f32, de-interleaved: `even` gets values 0, 2, ..., 14,
  /// `odd` 1, 3, ..., 15. One load and two bit operations (two load_bf16: two loads and four),
  /// which makes a bf16 GEMV about 1.3x faster on Zen 3; interleave_even_odd restores the order.
  static MOTE_VEC_INLINE void load_bf16_even_odd(const std::uint16_t* p, VecF32& even, VecF32& odd) {
    __m256i pairs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    // Keeps `pairs` in a register: GCC would otherwise read the memory a second time as vpand's
    // operand, and the GEMV, at two FMAs per 16 weights, is then load-bound (5% slower).
    __asm__("" : "+x"(pairs));
    even = {_mm256_castsi256_ps(_mm256_slli_epi32(pairs, 16))};
    odd = {_mm256_castsi256_ps(_mm256_and_si256(pairs, _mm256_set1_epi32(static_cast<int>(0xFFFF0000u))))};
  }
  /// Inverse of load_bf16_even_odd's order: the sequence even[0], odd[0], even[1], odd[1], ...
  /// split into `first` (its values 0..7) and `second` (8..15).
  static MOTE_VEC_INLINE void interleave_even_odd(VecF32 even, VecF32 odd, VecF32& first, VecF32& second) {
    const __m256 low = _mm256_unpacklo_ps(even.v, odd.v), high = _mm256_unpackhi_ps(even.v, odd.v);
    first = {_mm256_permute2f128_ps(low, high, 0x20)};
    second = {_mm256_permute2f128_ps(low, high, 0x31)};
  }
  static MOTE_VEC_INLINE __m256i partial_mask(std::size_t n) {
    const __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), index);
  }
  /// Loads n < lanes elements; the other lanes are zero and their memory is not touched.
  static MOTE_VEC_INLINE VecF32 load_partial(const float* p, std::size_t n) {
    return {_mm256_maskload_ps(p, partial_mask(n))};
  }
  MOTE_VEC_INLINE void store(float* p) const { _mm256_storeu_ps(p, v); }
  MOTE_VEC_INLINE void store_partial(float* p, std::size_t n) const { _mm256_maskstore_ps(p, partial_mask(n), v); }

  friend MOTE_VEC_INLINE VecF32 operator+(VecF32 a, VecF32 b) { return {_mm256_add_ps(a.v, b.v)}; }
  friend MOTE_VEC_INLINE VecF32 operator-(VecF32 a, VecF32 b) { return {_mm256_sub_ps(a.v, b.v)}; }
  friend MOTE_VEC_INLINE VecF32 operator*(VecF32 a, VecF32 b) { return {_mm256_mul_ps(a.v, b.v)}; }
  friend MOTE_VEC_INLINE VecF32 operator/(VecF32 a, VecF32 b) { return {_mm256_div_ps(a.v, b.v)}; }
  /// a * b + c with one rounding.
  static MOTE_VEC_INLINE VecF32 fma(VecF32 a, VecF32 b, VecF32 c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
  /// min/max return the second operand when either is NaN (x86 semantics): callers that must
  /// propagate NaN use select() with explicit masks.
  static MOTE_VEC_INLINE VecF32 min(VecF32 a, VecF32 b) { return {_mm256_min_ps(a.v, b.v)}; }
  static MOTE_VEC_INLINE VecF32 max(VecF32 a, VecF32 b) { return {_mm256_max_ps(a.v, b.v)}; }
  /// x < low ? low : x, lane-wise, exactly (NaN and -0 in x pass through): x86 MAX returns
  /// its second operand when the operands are equal or either is NaN.
  static MOTE_VEC_INLINE VecF32 clamp_below(VecF32 x, VecF32 low) { return {_mm256_max_ps(low.v, x.v)}; }
  /// x > high ? high : x, lane-wise, exactly (NaN and -0 in x pass through).
  static MOTE_VEC_INLINE VecF32 clamp_above(VecF32 x, VecF32 high) { return {_mm256_min_ps(high.v, x.v)}; }
  static MOTE_VEC_INLINE VecF32 abs(VecF32 a) { return {_mm256_andnot_ps(_mm256_set1_ps(-0.0f), a.v)}; }
  /// |magnitude| with the sign bit of `sign`.
  static MOTE_VEC_INLINE VecF32 copysign(VecF32 magnitude, VecF32 sign) {
    const __m256 bit = _mm256_set1_ps(-0.0f);
    return {_mm256_or_ps(_mm256_andnot_ps(bit, magnitude.v), _mm256_and_ps(bit, sign.v))};
  }
  static MOTE_VEC_INLINE VecF32 round_nearest(VecF32 a) {
    return {_mm256_round_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)};
  }
  /// 2^n for integral n in [-126, 127], built in the exponent field.
  static MOTE_VEC_INLINE VecF32 pow2(VecF32 n) {
    const __m256i biased = _mm256_add_epi32(_mm256_cvtps_epi32(n.v), _mm256_set1_epi32(127));
    return {_mm256_castsi256_ps(_mm256_slli_epi32(biased, 23))};
  }
  static MOTE_VEC_INLINE Mask less(VecF32 a, VecF32 b) { return _mm256_cmp_ps(a.v, b.v, _CMP_LT_OQ); }
  static MOTE_VEC_INLINE Mask greater(VecF32 a, VecF32 b) { return _mm256_cmp_ps(a.v, b.v, _CMP_GT_OQ); }
  static MOTE_VEC_INLINE Mask is_nan(VecF32 a) { return _mm256_cmp_ps(a.v, a.v, _CMP_UNORD_Q); }
  static MOTE_VEC_INLINE Mask mask_or(Mask a, Mask b) { return _mm256_or_ps(a, b); }
  static MOTE_VEC_INLINE bool any(Mask m) { return _mm256_movemask_ps(m) != 0; }
  /// Lane-wise m ? if_true : if_false.
  static MOTE_VEC_INLINE VecF32 select(Mask m, VecF32 if_true, VecF32 if_false) {
    return {_mm256_blendv_ps(if_false.v, if_true.v, m)};
  }
  MOTE_VEC_INLINE float reduce_add() const {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};

#undef MOTE_VEC_INLINE
}  // namespace mote::simd::avx2
#endif
