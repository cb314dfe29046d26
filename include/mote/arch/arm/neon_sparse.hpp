// NEON primitives of the sparse f32 kernels (kernels/dense/sparse-inl.hpp): a tile of 8 output
// channels in two vectors, and the input selection of the N:M and unstructured layouts with
// byte table lookups (tbl): each row's position, taken from the packed positions by a variable
// shift, becomes the four byte indices of its float (position * 4 + 0..3).
// Included by arch/targets.hpp (NEON is part of the AArch64 baseline: no target region).
#if !defined(MOTE_ARCH_ARM_NEON_SPARSE)
#define MOTE_ARCH_ARM_NEON_SPARSE
#define MOTE_VEC_INLINE inline __attribute__((always_inline))
namespace mote::simd::neon {

struct Tile8 {
  float32x4_t low, high;

  static MOTE_VEC_INLINE Tile8 zero() { return {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)}; }
  static MOTE_VEC_INLINE Tile8 load(const float* p) { return {vld1q_f32(p), vld1q_f32(p + 4)}; }
  static MOTE_VEC_INLINE Tile8 broadcast(const float* p) {
    const float32x4_t x = vld1q_dup_f32(p);
    return {x, x};
  }
  static MOTE_VEC_INLINE Tile8 fma(Tile8 a, Tile8 b, Tile8 c) {
    return {vfmaq_f32(c.low, a.low, b.low), vfmaq_f32(c.high, a.high, b.high)};
  }
  friend MOTE_VEC_INLINE Tile8 operator+(Tile8 a, Tile8 b) { return {vaddq_f32(a.low, b.low), vaddq_f32(a.high, b.high)}; }
  MOTE_VEC_INLINE void store(float* p) const {
    vst1q_f32(p, low);
    vst1q_f32(p + 4, high);
  }
  /// Lane j of t[i] and lane i of t[j] swap places (an 8 x 8 transpose: four 4 x 4 ones).
  static MOTE_VEC_INLINE void transpose(Tile8 (&t)[8]) {
    float32x4_t q[4][4] = {{t[0].low, t[1].low, t[2].low, t[3].low},
                           {t[4].low, t[5].low, t[6].low, t[7].low},
                           {t[0].high, t[1].high, t[2].high, t[3].high},
                           {t[4].high, t[5].high, t[6].high, t[7].high}};
    for (auto& block : q) transpose4(block);
    for (int j = 0; j < 4; ++j) {
      t[j] = {q[0][j], q[1][j]};
      t[j + 4] = {q[2][j], q[3][j]};
    }
  }
  static MOTE_VEC_INLINE void transpose4(float32x4_t (&r)[4]) {
    const float64x2_t even01 = vreinterpretq_f64_f32(vtrn1q_f32(r[0], r[1]));
    const float64x2_t odd01 = vreinterpretq_f64_f32(vtrn2q_f32(r[0], r[1]));
    const float64x2_t even23 = vreinterpretq_f64_f32(vtrn1q_f32(r[2], r[3]));
    const float64x2_t odd23 = vreinterpretq_f64_f32(vtrn2q_f32(r[2], r[3]));
    r[0] = vreinterpretq_f32_f64(vtrn1q_f64(even01, even23));
    r[1] = vreinterpretq_f32_f64(vtrn1q_f64(odd01, odd23));
    r[2] = vreinterpretq_f32_f64(vtrn2q_f64(even01, even23));
    r[3] = vreinterpretq_f32_f64(vtrn2q_f64(odd01, odd23));
  }

  struct Window4 {
    uint8x16_t bytes;
  };
  struct Window8 {
    uint8x16x2_t bytes;
  };
  static MOTE_VEC_INLINE Window4 window4(const float* p) { return {vreinterpretq_u8_f32(vld1q_f32(p))}; }
  static MOTE_VEC_INLINE Window8 window8(const float* p) {
    return {{{vreinterpretq_u8_f32(vld1q_f32(p)), vreinterpretq_u8_f32(vld1q_f32(p + 4))}}};
  }
  /// Byte indices of the floats at `position` (0..7) in each 32-bit lane.
  static MOTE_VEC_INLINE uint8x16_t byte_indices(uint32x4_t position) {
    return vreinterpretq_u8_u32(vmlaq_n_u32(vdupq_n_u32(0x03020100u), position, 0x04040404u));
  }
  /// Rows 0-3 and 4-7's positions: `positions` shifted right by `bits` x row, masked to `bits`.
  template <int Bits>
  static MOTE_VEC_INLINE void row_positions(std::uint32_t positions, uint32x4_t& low, uint32x4_t& high) {
    const int32x4_t low_shifts = {0, -Bits, -2 * Bits, -3 * Bits};
    const int32x4_t high_shifts = {-4 * Bits, -5 * Bits, -6 * Bits, -7 * Bits};
    const uint32x4_t all = vdupq_n_u32(positions), mask = vdupq_n_u32((1u << Bits) - 1u);
    low = vandq_u32(vshlq_u32(all, low_shifts), mask);
    high = vandq_u32(vshlq_u32(all, high_shifts), mask);
  }
  /// Lane i gets window[positions >> 2i & 3].
  static MOTE_VEC_INLINE Tile8 select(Window4 window, std::uint32_t positions) {
    uint32x4_t low, high;
    row_positions<2>(positions, low, high);
    return {vreinterpretq_f32_u8(vqtbl1q_u8(window.bytes, byte_indices(low))),
            vreinterpretq_f32_u8(vqtbl1q_u8(window.bytes, byte_indices(high)))};
  }
  /// Lane i gets window[positions >> (16 + 2i) & 3] (see the AVX2 file).
  static MOTE_VEC_INLINE Tile8 select_upper(Window4 window, std::uint32_t positions) {
    return select(window, positions >> 16);
  }
  /// Lane i gets window[positions >> 3i & 7].
  static MOTE_VEC_INLINE Tile8 select(Window8 window, std::uint32_t positions) {
    uint32x4_t low, high;
    row_positions<3>(positions, low, high);
    return {vreinterpretq_f32_u8(vqtbl2q_u8(window.bytes, byte_indices(low))),
            vreinterpretq_f32_u8(vqtbl2q_u8(window.bytes, byte_indices(high)))};
  }
};

}  // namespace mote::simd::neon
#undef MOTE_VEC_INLINE
#endif
