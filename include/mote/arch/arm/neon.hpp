// AArch64 NEON vector of 4 floats (NEON is part of the AArch64 baseline: no target region).
#if !defined(MOTE_ARCH_ARM_NEON_VEC)
#define MOTE_ARCH_ARM_NEON_VEC
namespace mote::simd::neon {

#define MOTE_VEC_INLINE inline __attribute__((always_inline))

struct VecF32 {
  static constexpr std::size_t lanes = 4;
  /// fma() rounds once, as std::fma (kernels that must match a scalar std::fma bit for bit
  /// check this).
  static constexpr bool fused_fma = true;
  using Mask = uint32x4_t;
  float32x4_t v;

  static MOTE_VEC_INLINE VecF32 zero() { return {vdupq_n_f32(0.0f)}; }
  static MOTE_VEC_INLINE VecF32 broadcast(float x) { return {vdupq_n_f32(x)}; }
  static MOTE_VEC_INLINE VecF32 load(const float* p) { return {vld1q_f32(p)}; }
  /// 4 bfloat16 values widened exactly to f32: a widening shift left by 16.
  static MOTE_VEC_INLINE VecF32 load_bf16(const std::uint16_t* p) {
    return {vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16))};
  }
  /// 4 IEEE binary16 values widened exactly to f32 (fcvtl, part of AArch64 NEON).
  static MOTE_VEC_INLINE VecF32 load_f16(const std::uint16_t* p) {
    return {vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)))};
  }
  static MOTE_VEC_INLINE VecF32 load_partial(const float* p, std::size_t n) {
    float lanes_[4] = {0, 0, 0, 0};
    for (std::size_t i = 0; i < n; ++i) lanes_[i] = p[i];
    return {vld1q_f32(lanes_)};
  }
  MOTE_VEC_INLINE void store(float* p) const { vst1q_f32(p, v); }
  MOTE_VEC_INLINE void store_partial(float* p, std::size_t n) const {
    float lanes_[4];
    vst1q_f32(lanes_, v);
    for (std::size_t i = 0; i < n; ++i) p[i] = lanes_[i];
  }

  friend MOTE_VEC_INLINE VecF32 operator+(VecF32 a, VecF32 b) { return {vaddq_f32(a.v, b.v)}; }
  friend MOTE_VEC_INLINE VecF32 operator-(VecF32 a, VecF32 b) { return {vsubq_f32(a.v, b.v)}; }
  friend MOTE_VEC_INLINE VecF32 operator*(VecF32 a, VecF32 b) { return {vmulq_f32(a.v, b.v)}; }
  friend MOTE_VEC_INLINE VecF32 operator/(VecF32 a, VecF32 b) { return {vdivq_f32(a.v, b.v)}; }
  static MOTE_VEC_INLINE VecF32 fma(VecF32 a, VecF32 b, VecF32 c) { return {vfmaq_f32(c.v, a.v, b.v)}; }
  static MOTE_VEC_INLINE VecF32 min(VecF32 a, VecF32 b) { return {vminnmq_f32(a.v, b.v)}; }
  static MOTE_VEC_INLINE VecF32 max(VecF32 a, VecF32 b) { return {vmaxnmq_f32(a.v, b.v)}; }
  /// x < low ? low : x, lane-wise, exactly (NaN and -0 in x pass through; NEON's max would
  /// turn -0 into +0, hence the select).
  static MOTE_VEC_INLINE VecF32 clamp_below(VecF32 x, VecF32 low) { return {vbslq_f32(vcltq_f32(x.v, low.v), low.v, x.v)}; }
  /// x > high ? high : x, lane-wise, exactly.
  static MOTE_VEC_INLINE VecF32 clamp_above(VecF32 x, VecF32 high) { return {vbslq_f32(vcgtq_f32(x.v, high.v), high.v, x.v)}; }
  static MOTE_VEC_INLINE VecF32 abs(VecF32 a) { return {vabsq_f32(a.v)}; }
  static MOTE_VEC_INLINE VecF32 copysign(VecF32 magnitude, VecF32 sign) {
    return {vbslq_f32(vdupq_n_u32(0x80000000u), sign.v, magnitude.v)};
  }
  static MOTE_VEC_INLINE VecF32 round_nearest(VecF32 a) { return {vrndnq_f32(a.v)}; }
  static MOTE_VEC_INLINE VecF32 pow2(VecF32 n) {
    const int32x4_t biased = vaddq_s32(vcvtnq_s32_f32(n.v), vdupq_n_s32(127));
    return {vreinterpretq_f32_s32(vshlq_n_s32(biased, 23))};
  }
  static MOTE_VEC_INLINE Mask less(VecF32 a, VecF32 b) { return vcltq_f32(a.v, b.v); }
  static MOTE_VEC_INLINE Mask greater(VecF32 a, VecF32 b) { return vcgtq_f32(a.v, b.v); }
  static MOTE_VEC_INLINE Mask is_nan(VecF32 a) { return vmvnq_u32(vceqq_f32(a.v, a.v)); }
  static MOTE_VEC_INLINE Mask mask_or(Mask a, Mask b) { return vorrq_u32(a, b); }
  static MOTE_VEC_INLINE bool any(Mask m) { return vmaxvq_u32(m) != 0; }
  static MOTE_VEC_INLINE VecF32 select(Mask m, VecF32 if_true, VecF32 if_false) {
    return {vbslq_f32(m, if_true.v, if_false.v)};
  }
  MOTE_VEC_INLINE float reduce_add() const { return vaddvq_f32(v); }
};

#undef MOTE_VEC_INLINE
}  // namespace mote::simd::neon
#endif
