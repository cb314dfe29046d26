// AArch64 NEON int4 primitives (contract: kernels/dense/int4-inl.hpp), the AVX2 method
// (x86/avx2_int4.hpp) in NEON's terms: offset-binary nibbles (w + 8 in [1, 15]) unpacked with
// one AND and one shift, multiplied by the centred activation codes (u - 128) with vmull_s8 and
// summed pairwise into int32 with vpadalq_s16 (each int16 product is at most 15 * 128 = 1920:
// exact). Per 32-column block the row sums minus 8 * (the block's activation sum) are exact
// int32, and each scale group adds float(sum) * scale with one FMA per row, in group order, as
// the x86 kernels and the scalar reference do: the results are the same bits.
// Included by arch/targets.hpp inside the NEON section; NEON with dotprod uses it through tag
// inheritance.
#if !defined(MOTE_ARCH_ARM_NEON_INT4)
#define MOTE_ARCH_ARM_NEON_INT4
namespace mote::simd::neon {

struct Int4Ops {
  /// s = quantize(x) - 128 for n values.
  static inline void centre(const float* x, std::size_t n, const QuantParams& p, std::int32_t low, std::int32_t high,
                            std::int8_t* out) {
    quantize_centred(x, n, p, low, high, out);
  }

  /// One panel per call (panel below).
  static constexpr std::size_t panels_per_pass = 1;
  static inline void panels(std::size_t, const std::uint8_t* packed, const float* scales, std::size_t blocks,
                            std::size_t blocks_per_group, const std::int8_t* act, const std::int32_t* block_sums,
                            float* f, bool lone) {
    panel(packed, scales, blocks, blocks_per_group, act, block_sums, f,
          ::mote::Int4Packing::strides(lone));
  }

  /// F for the 16 rows of one panel: groups of `blocks_per_group` blocks (the last may be
  /// shorter), `block_sums[b]` = sum of act over block b.
  static inline void panel(const std::uint8_t* packed, const float* scales, std::size_t blocks,
                           std::size_t blocks_per_group, const std::int8_t* act, const std::int32_t* block_sums,
                           float* f,
                           const ::mote::Int4Packing::Strides& step) {
    const uint8x16_t nibble = vdupq_n_u8(0x0F);
    float32x4_t sums_f[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
    for (std::size_t first = 0; first < blocks; first += blocks_per_group, scales += step.scale_group) {
      const std::size_t last = std::min(blocks, first + blocks_per_group);
      int32x4_t group[4] = {vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)};
      for (std::size_t b = first; b < last; ++b) {
        const std::uint8_t* block = packed + b * step.block;
        // acc[j][h]: rows 4j + 2h and 4j + 2h + 1, lanes (row, k01), (row, k23), (row + 1, k01), (row + 1, k23)
        int32x4_t acc[4][2];
        for (int j = 0; j < 4; ++j) acc[j][0] = acc[j][1] = vdupq_n_s32(0);
        for (std::size_t q = 0; q < 8; ++q) {
          const uint8x16_t bytes0 = vld1q_u8(block + q * step.quad),
                          bytes1 = vld1q_u8(block + q * step.quad + 16);
          std::int32_t pattern;
          std::memcpy(&pattern, act + b * 32 + q * 4, sizeof(pattern));
          const int8x16_t a = vreinterpretq_s8_s32(vdupq_n_s32(pattern));
          // rows 0-3, 4-7 (low nibbles), 8-11, 12-15 (high nibbles)
          const int8x16_t w[4] = {vreinterpretq_s8_u8(vandq_u8(bytes0, nibble)),
                                  vreinterpretq_s8_u8(vandq_u8(bytes1, nibble)),
                                  vreinterpretq_s8_u8(vshrq_n_u8(bytes0, 4)), vreinterpretq_s8_u8(vshrq_n_u8(bytes1, 4))};
          for (int j = 0; j < 4; ++j) {
            acc[j][0] = vpadalq_s16(acc[j][0], vmull_s8(vget_low_s8(w[j]), vget_low_s8(a)));
            acc[j][1] = vpadalq_s16(acc[j][1], vmull_high_s8(w[j], a));
          }
        }
        const int32x4_t offset = vdupq_n_s32(8 * block_sums[b]);
        for (int j = 0; j < 4; ++j) group[j] = vaddq_s32(group[j], vsubq_s32(vpaddq_s32(acc[j][0], acc[j][1]), offset));
      }
      for (int j = 0; j < 4; ++j)
        sums_f[j] = vfmaq_f32(sums_f[j], vcvtq_f32_s32(group[j]),
                              vld1q_f32(scales + j / 2 * step.high_rows + j % 2 * 4));
    }
    for (int j = 0; j < 4; ++j) vst1q_f32(f + 4 * j, sums_f[j]);
  }
};

}  // namespace mote::simd::neon
#endif
