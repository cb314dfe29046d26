// NEON primitives of the binary kernels (contract: kernels/dense/binary-inl.hpp). Included by
// arch/targets.hpp after neon.hpp. One weight group (16 rows x 32 columns,
// layout/dense_binary.hpp) is four vectors of 4 row words. Popcount: vcnt (cnt.16b) per byte,
// bytes summed for up to 31 groups, then widened per 32-bit lane (= per row) by pairwise adds
// (uaddlp + uadalp).
#if !defined(MOTE_ARCH_ARM_NEON_BINARY)
#define MOTE_ARCH_ARM_NEON_BINARY
namespace mote::simd::neon {

struct BinaryOps {
  // ---- XNOR-popcount (binary activations)
  static constexpr std::size_t xnor_tile = 4;     ///< samples sharing each group load
  static constexpr std::size_t flush_every = 31;  ///< groups a Partial absorbs without overflow
  struct Group {
    uint32x4_t v[4];
  };
  struct Partial {  ///< per-byte counts
    uint8x16_t v[4];
  };
  struct Counts {  ///< per-row counts
    uint32x4_t v[4];
  };
  static inline __attribute__((always_inline)) Group load_group(const std::uint32_t* p) {
    return {{vld1q_u32(p), vld1q_u32(p + 4), vld1q_u32(p + 8), vld1q_u32(p + 12)}};
  }
  static inline __attribute__((always_inline)) Partial partial_zero() {
    return {{vdupq_n_u8(0), vdupq_n_u8(0), vdupq_n_u8(0), vdupq_n_u8(0)}};
  }
  static inline __attribute__((always_inline)) Counts counts_zero() {
    return {{vdupq_n_u32(0), vdupq_n_u32(0), vdupq_n_u32(0), vdupq_n_u32(0)}};
  }
  /// acc += popcount(w_r XOR x) for each of the group's 16 rows.
  static inline __attribute__((always_inline)) void add(Partial& acc, const Group& w, std::uint32_t x) {
    const uint32x4_t xs = vdupq_n_u32(x);
    for (int j = 0; j < 4; ++j) acc.v[j] = vaddq_u8(acc.v[j], vcntq_u8(vreinterpretq_u8_u32(veorq_u32(w.v[j], xs))));
  }
  /// counts += partial, widened per row.
  static inline __attribute__((always_inline)) void flush(const Partial& partial, Counts& counts) {
    for (int j = 0; j < 4; ++j) counts.v[j] = vpadalq_u16(counts.v[j], vpaddlq_u8(partial.v[j]));
  }
  static inline __attribute__((always_inline)) void store(const Counts& counts, std::int32_t* out) {
    for (int j = 0; j < 4; ++j) vst1q_s32(out + 4 * j, vreinterpretq_s32_u32(counts.v[j]));
  }
  /// words[i]: bit t set when !(x[32 i + t] >= 0), for ceil(n / 32) words (zero padded). NEON
  /// has no movemask: each lane keeps its own bit of the nibble, then an across-lane add.
  static inline void pack_signs(const float* x, std::size_t n, std::uint32_t* words) {
    const uint32x4_t lane_bits = {1u, 2u, 4u, 8u};
    std::size_t i = 0;
    for (; i + 32 <= n; i += 32) {
      std::uint32_t bits = 0;
      for (int q = 0; q < 8; ++q) {
        const uint32x4_t negative = vmvnq_u32(vcgeq_f32(vld1q_f32(x + i + 4 * q), vdupq_n_f32(0.0f)));
        bits |= vaddvq_u32(vandq_u32(negative, lane_bits)) << (4 * q);
      }
      words[i / 32] = bits;
    }
    if (i < n) {
      std::uint32_t bits = 0;
      for (std::size_t t = 0; i + t < n; ++t) bits |= static_cast<std::uint32_t>(::mote::Binary::negative(x[i + t])) << t;
      words[i / 32] = bits;
    }
  }

  // ---- f32 activations: lanes are rows, as in VecF32
  using Words = uint32x4_t;
  static inline __attribute__((always_inline)) Words load_words(const std::uint32_t* p) { return vld1q_u32(p); }
  static inline __attribute__((always_inline)) Words shift_left(Words w, unsigned n) {
    return vshlq_u32(w, vdupq_n_s32(static_cast<std::int32_t>(n)));
  }
  static inline __attribute__((always_inline)) Words twice(Words w) { return vaddq_u32(w, w); }
  /// Lane-wise: -x where w's top bit is set (weight -1), else x: x XOR (w AND sign bit).
  static inline __attribute__((always_inline)) VecF32 flip(VecF32 x, VecF32, Words w) {
    const uint32x4_t sign = vandq_u32(w, vdupq_n_u32(0x80000000u));
    return {vreinterpretq_f32_u32(veorq_u32(vreinterpretq_u32_f32(x.v), sign))};
  }
};

}  // namespace mote::simd::neon
#endif
