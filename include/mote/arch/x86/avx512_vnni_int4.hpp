// AVX-512 VNNI int4 primitives (contract: kernels/dense/int4-inl.hpp), on the packing every ISA
// reads (layout/dense_int4.hpp): offset-binary nibbles w + 8; a pair of 16-row panels keeps
// its two 32-byte quads of 4 columns side by side, so one 64-byte load holds 4 columns of 32
// rows: lane j (j < 8) rows j (low nibbles) and j + 8 (high) of the even panel, lane 8 + j the
// same rows of the odd panel. Every lane is a row pair of its own.
//
// The bytes are not unpacked: with b = lo + 16 hi,
//   A = sum b s          = sum lo s + 16 sum hi s
//   C = sum (b & 0xF0) s =            16 sum hi s
// so A - C is the low rows' dot and C / 16 the high rows' (C is a multiple of 16: an exact
// arithmetic shift). One AND and two vpdpbusd per 128 multiply-adds, where unpacking both
// nibbles (AVX-VNNI's method) takes three operations before the two vpdpbusd. The offset of
// the nibbles (8 x the group's activation sum S) is folded into the accumulators' start:
// A from -136 S, C from -128 S, so that A - C and C / 16 come out less 8 S each. Per scale group
// and pair of panels that leaves a subtraction, a shift, two conversions and two FMAs, and F
// accumulates fma(float(dot), scale, F) in group order, exactly the reference's operations. (With
// 16-row panels in separate places, a load held 8 columns of 16 rows, and the two halves had to
// be added per group: 8 operations per group and 16 rows instead of 3; W3b1 int4 7.97 us then.)
//
// int32 bounds, per column of a group: |A| <= 255 x 128 + 17 x 8 x 128 = 50,048 and
// |C| <= 240 x 128 + 16 x 8 x 128 = 47,104: below 2^31 for every K up to int8_max_cols (33,025).
// No include guard on purpose: see arch/targets.hpp.
#if !defined(MOTE_ARCH_X86_AVX512_VNNI_INT4)
#define MOTE_ARCH_X86_AVX512_VNNI_INT4
namespace mote::simd::avx512_vnni {

/// The input's centring and the groups' epilogue are AVX-512's (avx512_int4.hpp); the products
/// are VNNI's.
struct Int4Ops : ::mote::simd::avx512::Int4Ops {
  /// Four pairs of panels (128 rows) per pass: 8 accumulator chains (vpdpbusd: 5 cycles, 2 per
  /// cycle), and each broadcast of 4 activation codes serves 8 vpdpbusd.
  static constexpr std::size_t panels_per_pass = 8;

  /// F for `count` consecutive 16-row panels (passes start at a multiple of panels_per_pass,
  /// an even panel): pair j's bytes and scales at Int4Packing::panel_offset(2 j) and
  /// scales_offset(2 j), its F at f + 32 j; an odd last panel, stored alone, by AVX2's kernel.
  static inline void panels(std::size_t count, const std::uint8_t* packed, const float* scales,
                            std::size_t blocks, std::size_t blocks_per_group, const std::int8_t* act,
                            const std::int32_t* block_sums, float* f, bool last_lone) {
    switch (count / 2) {
      case 4: pairs<4>(packed, scales, blocks, blocks_per_group, act, block_sums, f); break;
      case 3: pairs<3>(packed, scales, blocks, blocks_per_group, act, block_sums, f); break;
      case 2: pairs<2>(packed, scales, blocks, blocks_per_group, act, block_sums, f); break;
      case 1: pairs<1>(packed, scales, blocks, blocks_per_group, act, block_sums, f); break;
      default: break;
    }
    if (last_lone) lone_panel(count - 1, packed, scales, blocks, blocks_per_group, act, block_sums, f);
  }

  template <std::size_t P>
  static inline void pairs(const std::uint8_t* packed, const float* scales, std::size_t blocks,
                           std::size_t blocks_per_group, const std::int8_t* act, const std::int32_t* block_sums,
                           float* f) {
    // Int4<32>: one block per group, each group's code without a loop over its blocks (GCC 12
    // otherwise copies the accumulators around that loop: W3b1 6.2 against 5.8 us in a harness).
    if (blocks_per_group == 1) return pairs_impl<P, true>(packed, scales, blocks, 1, act, block_sums, f);
    pairs_impl<P, false>(packed, scales, blocks, blocks_per_group, act, block_sums, f);
  }

  template <std::size_t P, bool OneBlockGroups>
  static inline __attribute__((always_inline)) void pairs_impl(
      const std::uint8_t* packed, const float* scales, std::size_t blocks,
      std::size_t blocks_per_group, const std::int8_t* act, const std::int32_t* block_sums,
      float* f) {
    using Packing = ::mote::Int4Packing;
    const __m512i high_nibbles = _mm512_set1_epi8(static_cast<char>(0xF0));
    const std::size_t groups = (blocks + blocks_per_group - 1) / blocks_per_group;
    // low[i]: rows 0-7 of pair i's even panel, then rows 0-7 of its odd one; high[i]: rows 8-15.
    __m512 low[P], high[P];
#pragma GCC unroll 4
    for (std::size_t i = 0; i < P; ++i) low[i] = high[i] = _mm512_setzero_ps();
    for (std::size_t first = 0; first < blocks; first += blocks_per_group, scales += Packing::paired.scale_group) {
      const std::size_t last = OneBlockGroups ? first + 1 : std::min(blocks, first + blocks_per_group);
      std::int32_t group_sum = 0;
      for (std::size_t b = first; b < last; ++b) group_sum += block_sums[b];
      const __m512i with_low_start = _mm512_set1_epi32(-136 * group_sum);
      const __m512i high_only_start = _mm512_set1_epi32(-128 * group_sum);
      __m512i with_low[P], high_only[P];
#pragma GCC unroll 4
      for (std::size_t i = 0; i < P; ++i) {
        with_low[i] = with_low_start;
        high_only[i] = high_only_start;
      }
      for (std::size_t b = first; b < last; ++b) {
        const std::uint8_t* block = packed + b * Packing::paired.block;
#pragma GCC unroll 8
        for (std::size_t q = 0; q < 8; ++q) {
          std::int32_t four_codes;
          std::memcpy(&four_codes, act + b * 32 + q * 4, sizeof(four_codes));
          const __m512i x = _mm512_set1_epi32(four_codes);
#pragma GCC unroll 4
          for (std::size_t i = 0; i < P; ++i) {
            const __m512i bytes =
                _mm512_loadu_si512(block + Packing::panel_offset(2 * i, blocks) + q * Packing::paired.quad);
            with_low[i] = _mm512_dpbusd_epi32(with_low[i], bytes, x);
            high_only[i] = _mm512_dpbusd_epi32(high_only[i], _mm512_and_si512(bytes, high_nibbles), x);
          }
        }
      }
#pragma GCC unroll 4
      for (std::size_t i = 0; i < P; ++i)
        add_group(_mm512_sub_epi32(with_low[i], high_only[i]), _mm512_srai_epi32(high_only[i], 4),
                  scales + Packing::scales_offset(2 * i, groups), low[i], high[i]);
    }
#pragma GCC unroll 4
    for (std::size_t i = 0; i < P; ++i) store_pair(low[i], high[i], f + 32 * i);
  }
};

}  // namespace mote::simd::avx512_vnni
#endif
