// SSE4.1/4.2 vector of 4 floats (no FMA: fma() is a multiply then an add, two roundings).
// Included by arch/targets.hpp inside its target region.
#if !defined(MOTE_ARCH_X86_SSE4_VEC)
#define MOTE_ARCH_X86_SSE4_VEC
namespace mote::simd::sse4 {

#define MOTE_VEC_INLINE inline __attribute__((always_inline))

struct VecF32 {
  static constexpr std::size_t lanes = 4;
  /// fma() is a multiply then an add: it does not round as std::fma does.
  static constexpr bool fused_fma = false;
  using Mask = __m128;
  __m128 v;

  static MOTE_VEC_INLINE VecF32 zero() { return {_mm_setzero_ps()}; }
  static MOTE_VEC_INLINE VecF32 broadcast(float x) { return {_mm_set1_ps(x)}; }
  static MOTE_VEC_INLINE VecF32 load(const float* p) { return {_mm_loadu_ps(p)}; }
  /// 4 bfloat16 values widened exactly to f32: interleaving zeros below puts each one in the
  /// top half of its 32-bit lane.
  static MOTE_VEC_INLINE VecF32 load_bf16(const std::uint16_t* p) {
    const __m128i halves = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
    return {_mm_castsi128_ps(_mm_unpacklo_epi16(_mm_setzero_si128(), halves))};
  }
  /// 4 IEEE binary16 values widened exactly to f32. SSE4 has no F16C (it came with AVX), so the
  /// bits are moved in integer registers: exponent rebiased by 112 (twice for inf/NaN, whose
  /// payload is kept as is); zero and subnormals built as 2^-14 + m 2^-24, minus 2^-14 (exact).
  static MOTE_VEC_INLINE VecF32 load_f16(const std::uint16_t* p) {
    const __m128i h = _mm_cvtepu16_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
    const __m128i sign = _mm_slli_epi32(_mm_and_si128(h, _mm_set1_epi32(0x8000)), 16);
    const __m128i magnitude = _mm_slli_epi32(_mm_and_si128(h, _mm_set1_epi32(0x7FFF)), 13);
    const __m128i exponent = _mm_and_si128(magnitude, _mm_set1_epi32(0x0F800000));
    const __m128i rebias = _mm_set1_epi32(112 << 23);
    const __m128i special = _mm_cmpeq_epi32(exponent, _mm_set1_epi32(0x0F800000));
    const __m128i bits = _mm_add_epi32(_mm_add_epi32(magnitude, rebias), _mm_and_si128(special, rebias));
    const __m128 tiny = _mm_sub_ps(_mm_castsi128_ps(_mm_add_epi32(bits, _mm_set1_epi32(1 << 23))),
                                   _mm_castsi128_ps(_mm_set1_epi32(113 << 23)));
    const __m128 is_tiny = _mm_castsi128_ps(_mm_cmpeq_epi32(exponent, _mm_setzero_si128()));
    return {_mm_or_ps(_mm_blendv_ps(_mm_castsi128_ps(bits), tiny, is_tiny), _mm_castsi128_ps(sign))};
  }
  /// 8 bfloat16 values as two vectors of f32, de-interleaved: `even` gets values 0, 2, 4, 6,
  /// `odd` 1, 3, 5, 7 (one load instead of two); interleave_even_odd restores the order.
  static MOTE_VEC_INLINE void load_bf16_even_odd(const std::uint16_t* p, VecF32& even, VecF32& odd) {
    const __m128i pairs = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    even = {_mm_castsi128_ps(_mm_slli_epi32(pairs, 16))};
    odd = {_mm_castsi128_ps(_mm_and_si128(pairs, _mm_set1_epi32(static_cast<int>(0xFFFF0000u))))};
  }
  /// Inverse of load_bf16_even_odd's order: even[0], odd[0], even[1], ... split into `first`
  /// (values 0..3) and `second` (4..7).
  static MOTE_VEC_INLINE void interleave_even_odd(VecF32 even, VecF32 odd, VecF32& first, VecF32& second) {
    first = {_mm_unpacklo_ps(even.v, odd.v)};
    second = {_mm_unpackhi_ps(even.v, odd.v)};
  }
  static MOTE_VEC_INLINE VecF32 load_partial(const float* p, std::size_t n) {
    alignas(16) float lanes_[4] = {0, 0, 0, 0};
    for (std::size_t i = 0; i < n; ++i) lanes_[i] = p[i];
    return {_mm_load_ps(lanes_)};
  }
  MOTE_VEC_INLINE void store(float* p) const { _mm_storeu_ps(p, v); }
  MOTE_VEC_INLINE void store_partial(float* p, std::size_t n) const {
    alignas(16) float lanes_[4];
    _mm_store_ps(lanes_, v);
    for (std::size_t i = 0; i < n; ++i) p[i] = lanes_[i];
  }

  friend MOTE_VEC_INLINE VecF32 operator+(VecF32 a, VecF32 b) { return {_mm_add_ps(a.v, b.v)}; }
  friend MOTE_VEC_INLINE VecF32 operator-(VecF32 a, VecF32 b) { return {_mm_sub_ps(a.v, b.v)}; }
  friend MOTE_VEC_INLINE VecF32 operator*(VecF32 a, VecF32 b) { return {_mm_mul_ps(a.v, b.v)}; }
  friend MOTE_VEC_INLINE VecF32 operator/(VecF32 a, VecF32 b) { return {_mm_div_ps(a.v, b.v)}; }
  static MOTE_VEC_INLINE VecF32 fma(VecF32 a, VecF32 b, VecF32 c) { return {_mm_add_ps(_mm_mul_ps(a.v, b.v), c.v)}; }
  static MOTE_VEC_INLINE VecF32 min(VecF32 a, VecF32 b) { return {_mm_min_ps(a.v, b.v)}; }
  static MOTE_VEC_INLINE VecF32 max(VecF32 a, VecF32 b) { return {_mm_max_ps(a.v, b.v)}; }
  /// x < low ? low : x, lane-wise, exactly (NaN and -0 in x pass through): x86 MAX returns
  /// its second operand when the operands are equal or either is NaN.
  static MOTE_VEC_INLINE VecF32 clamp_below(VecF32 x, VecF32 low) { return {_mm_max_ps(low.v, x.v)}; }
  /// x > high ? high : x, lane-wise, exactly (NaN and -0 in x pass through).
  static MOTE_VEC_INLINE VecF32 clamp_above(VecF32 x, VecF32 high) { return {_mm_min_ps(high.v, x.v)}; }
  static MOTE_VEC_INLINE VecF32 abs(VecF32 a) { return {_mm_andnot_ps(_mm_set1_ps(-0.0f), a.v)}; }
  static MOTE_VEC_INLINE VecF32 copysign(VecF32 magnitude, VecF32 sign) {
    const __m128 bit = _mm_set1_ps(-0.0f);
    return {_mm_or_ps(_mm_andnot_ps(bit, magnitude.v), _mm_and_ps(bit, sign.v))};
  }
  static MOTE_VEC_INLINE VecF32 round_nearest(VecF32 a) {
    return {_mm_round_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)};
  }
  static MOTE_VEC_INLINE VecF32 pow2(VecF32 n) {
    const __m128i biased = _mm_add_epi32(_mm_cvtps_epi32(n.v), _mm_set1_epi32(127));
    return {_mm_castsi128_ps(_mm_slli_epi32(biased, 23))};
  }
  static MOTE_VEC_INLINE Mask less(VecF32 a, VecF32 b) { return _mm_cmplt_ps(a.v, b.v); }
  static MOTE_VEC_INLINE Mask greater(VecF32 a, VecF32 b) { return _mm_cmpgt_ps(a.v, b.v); }
  static MOTE_VEC_INLINE Mask is_nan(VecF32 a) { return _mm_cmpunord_ps(a.v, a.v); }
  static MOTE_VEC_INLINE Mask mask_or(Mask a, Mask b) { return _mm_or_ps(a, b); }
  static MOTE_VEC_INLINE bool any(Mask m) { return _mm_movemask_ps(m) != 0; }
  static MOTE_VEC_INLINE VecF32 select(Mask m, VecF32 if_true, VecF32 if_false) {
    return {_mm_blendv_ps(if_false.v, if_true.v, m)};
  }
  MOTE_VEC_INLINE float reduce_add() const {
    __m128 s = _mm_add_ps(v, _mm_movehl_ps(v, v));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};

#undef MOTE_VEC_INLINE
}  // namespace mote::simd::sse4
#endif
