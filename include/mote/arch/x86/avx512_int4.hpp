// AVX-512 (F/BW) int4 primitives (contract: kernels/dense/int4-inl.hpp): AVX2's method
// (avx2_int4.hpp: nibbles unpacked by an AND, a shift and an AND, multiplied by the centred
// codes with pmaddubsw into int16, widened once per block with pmaddwd) on 64-byte loads, which
// the paired-panel layout (layout/dense_int4.hpp) fills with 4 columns of 32 rows, one row pair
// per 32-bit lane: half of AVX2's operations per multiply-add, and no halves to add per group.
// For CPUs with AVX-512 but without VNNI (Skylake-SP/X); with VNNI, avx512_vnni_int4.hpp
// multiplies the packed bytes instead.
//
// int16 bound: each pmaddubsw lane adds two products of at most 15 x 128; 8 quads (one 32-column
// block) at most 8 x 2 x 15 x 128 = 30,720 < 32,767: the block's sums are exact before pmaddwd
// widens them. int32: as AVX2's, a group's sums stay below 2^31 for every K up to int8_max_cols.
// No include guard on purpose: see arch/targets.hpp.
#if !defined(MOTE_ARCH_X86_AVX512_INT4)
#define MOTE_ARCH_X86_AVX512_INT4
namespace mote::simd::avx512 {

struct Int4Ops {
  /// s = quantize(x) - 128 for n values: the codes of the zero point less 128, in int8.
  static inline void centre(const float* x, std::size_t n, const QuantParams& p, std::int32_t low,
                            std::int32_t high, std::int8_t* out) {
    const QuantizeCodes16 codes_of(QuantParams{p.scale, p.zero_point - 128}, low - 128, high - 128);
    std::size_t i = 0;
    if (low == 0 && high == 255) i = whole_range_codes(codes_of, x, n, out);
    for (; i + 16 <= n; i += 16)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm512_cvtsepi32_epi8(codes_of(x + i)));
    for (; i < n; ++i) out[i] = static_cast<std::int8_t>(::mote::quantize(x[i], p, low, high) - 128);
  }

  /// A scale group's exact dots of a pair's 32 rows (low lanes: rows 0-7 of its even panel, then
  /// of its odd one; high lanes: rows 8-15) into F, in the reference's float operations.
  static inline __attribute__((always_inline)) void add_group(__m512i low_dot, __m512i high_dot,
                                                              const float* pair_scales, __m512& low,
                                                              __m512& high) {
    low = _mm512_fmadd_ps(_mm512_cvtepi32_ps(low_dot), _mm512_loadu_ps(pair_scales), low);
    high = _mm512_fmadd_ps(_mm512_cvtepi32_ps(high_dot),
                           _mm512_loadu_ps(pair_scales + ::mote::Int4Packing::paired.high_rows), high);
  }
  /// A pair's F as its two panels' 16 rows each, in order (f, then f + 16).
  static inline __attribute__((always_inline)) void store_pair(__m512 low, __m512 high, float* f) {
    _mm512_storeu_ps(f, _mm512_shuffle_f32x4(low, high, 0x44));
    _mm512_storeu_ps(f + 16, _mm512_shuffle_f32x4(low, high, 0xEE));
  }

  /// Two pairs of panels (64 rows) per pass: each broadcast of 4 activation codes serves 4
  /// pmaddubsw.
  static constexpr std::size_t panels_per_pass = 4;

  /// F for `count` consecutive 16-row panels: its pairs here, an odd last panel (stored alone,
  /// 16 rows per 32-byte quad) by AVX2's kernel.
  static inline void panels(std::size_t count, const std::uint8_t* packed, const float* scales,
                            std::size_t blocks, std::size_t blocks_per_group, const std::int8_t* act,
                            const std::int32_t* block_sums, float* f, bool last_lone) {
    if (count / 2 == 2) {
      if (blocks_per_group == 1) pairs_impl<2, true>(packed, scales, blocks, 1, act, block_sums, f);
      else pairs_impl<2, false>(packed, scales, blocks, blocks_per_group, act, block_sums, f);
    } else if (count / 2 == 1) {
      if (blocks_per_group == 1) pairs_impl<1, true>(packed, scales, blocks, 1, act, block_sums, f);
      else pairs_impl<1, false>(packed, scales, blocks, blocks_per_group, act, block_sums, f);
    }
    if (last_lone) lone_panel(count - 1, packed, scales, blocks, blocks_per_group, act, block_sums, f);
  }
  /// Panel i of a pass, stored alone (the layer's odd last panel): AVX2's kernel.
  static inline void lone_panel(std::size_t i, const std::uint8_t* packed, const float* scales, std::size_t blocks,
                                std::size_t blocks_per_group, const std::int8_t* act,
                                const std::int32_t* block_sums, float* f) {
    const std::size_t groups = (blocks + blocks_per_group - 1) / blocks_per_group;
    ::mote::simd::avx2::Int4Ops::panels(1, packed + ::mote::Int4Packing::panel_offset(i, blocks),
                                        scales + ::mote::Int4Packing::scales_offset(i, groups), blocks,
                                        blocks_per_group, act, block_sums, f + 16 * i, true);
  }

  template <std::size_t P, bool OneBlockGroups>
  static inline __attribute__((always_inline)) void pairs_impl(
      const std::uint8_t* packed, const float* scales, std::size_t blocks,
      std::size_t blocks_per_group, const std::int8_t* act, const std::int32_t* block_sums,
      float* f) {
    using Packing = ::mote::Int4Packing;
    const __m512i nibble = _mm512_set1_epi8(0x0F);
    const __m512i ones = _mm512_set1_epi16(1);
    const std::size_t groups = (blocks + blocks_per_group - 1) / blocks_per_group;
    // low[i]: rows 0-7 of pair i's even panel, then rows 0-7 of its odd one; high[i]: rows 8-15.
    __m512 low[P], high[P];
#pragma GCC unroll 4
    for (std::size_t i = 0; i < P; ++i) low[i] = high[i] = _mm512_setzero_ps();
    for (std::size_t first = 0; first < blocks; first += blocks_per_group, scales += Packing::paired.scale_group) {
      const std::size_t last = OneBlockGroups ? first + 1 : std::min(blocks, first + blocks_per_group);
      __m512i low_dot[P], high_dot[P];
      std::int32_t group_sum = 0;
      for (std::size_t b = first; b < last; ++b) {
        group_sum += block_sums[b];
        const std::uint8_t* block = packed + b * Packing::paired.block;
        __m512i low16[P], high16[P];
#pragma GCC unroll 8
        for (std::size_t q = 0; q < 8; ++q) {
          std::int32_t four_codes;
          std::memcpy(&four_codes, act + b * 32 + q * 4, sizeof(four_codes));
          const __m512i x = _mm512_set1_epi32(four_codes);
#pragma GCC unroll 4
          for (std::size_t i = 0; i < P; ++i) {
            const __m512i bytes =
                _mm512_loadu_si512(block + Packing::panel_offset(2 * i, blocks) + q * Packing::paired.quad);
            const __m512i lo = _mm512_maddubs_epi16(_mm512_and_si512(bytes, nibble), x);
            const __m512i hi = _mm512_maddubs_epi16(_mm512_and_si512(_mm512_srli_epi16(bytes, 4), nibble), x);
            low16[i] = q == 0 ? lo : _mm512_add_epi16(low16[i], lo);
            high16[i] = q == 0 ? hi : _mm512_add_epi16(high16[i], hi);
          }
        }
#pragma GCC unroll 4
        for (std::size_t i = 0; i < P; ++i) {
          const __m512i lo = _mm512_madd_epi16(low16[i], ones), hi = _mm512_madd_epi16(high16[i], ones);
          low_dot[i] = b == first ? lo : _mm512_add_epi32(low_dot[i], lo);
          high_dot[i] = b == first ? hi : _mm512_add_epi32(high_dot[i], hi);
        }
      }
      // sum_k (w + 8) s_k - 8 sum_k s_k = sum_k w s_k, exactly.
      const __m512i offset = _mm512_set1_epi32(8 * group_sum);
#pragma GCC unroll 4
      for (std::size_t i = 0; i < P; ++i)
        add_group(_mm512_sub_epi32(low_dot[i], offset), _mm512_sub_epi32(high_dot[i], offset),
                  scales + Packing::scales_offset(2 * i, groups), low[i], high[i]);
    }
#pragma GCC unroll 4
    for (std::size_t i = 0; i < P; ++i) store_pair(low[i], high[i], f + 32 * i);
  }
};

}  // namespace mote::simd::avx512
#endif
