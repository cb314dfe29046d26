// AVX-512 VNNI int4 primitives (contract: kernels/dense/int4-inl.hpp), on the packing every ISA
// reads (layout/dense_int4.hpp): offset-binary nibbles w + 8, byte i of a 32-byte quad holding
// row i / 4 in its low nibble and row i / 4 + 8 in its high one, 4 columns per row.
//
// One 64-byte load is two quads (8 columns). The bytes are not unpacked: with b = lo + 16 hi,
//   A = sum b s          = sum lo s + 16 sum hi s
//   C = sum (b & 0xF0) s =            16 sum hi s
// so A - C is the low rows' dot and C / 16 the high rows' (C is a multiple of 16: an exact
// arithmetic shift). One AND and two vpdpbusd per 128 multiply-adds, where unpacking both
// nibbles (AVX-VNNI's method) takes three operations before the two vpdpbusd. The lanes of the
// second quad sum other columns of the same rows; the two halves are added per scale group,
// then 8 * (the group's activation sum) is subtracted, and F accumulates
// fma(float(dot), scale, F) in group order, exactly the reference's operations.
//
// int32 bounds: |C| <= 16 x 15 x 128 = 30,720 per column, and A's lanes, holding half the
// columns, 255 x 128 per column: below 2^31 for every K up to int8_max_cols (33,025).
// No include guard on purpose: see arch/targets.hpp.
#if !defined(MOTE_ARCH_X86_AVX512_VNNI_INT4)
#define MOTE_ARCH_X86_AVX512_VNNI_INT4
namespace mote::simd::avx512_vnni {

struct Int4Ops {
  /// s = quantize(x) - 128 for n values: the codes of the zero point less 128, in int8.
  static inline void centre(const float* x, std::size_t n, const QuantParams& p, std::int32_t low,
                            std::int32_t high, std::int8_t* out) {
    const ::mote::simd::avx512::QuantizeCodes16 codes_of(QuantParams{p.scale, p.zero_point - 128}, low - 128,
                                                         high - 128);
    std::size_t i = 0;
    if (low == 0 && high == 255) i = ::mote::simd::avx512::whole_range_codes(codes_of, x, n, out);
    for (; i + 16 <= n; i += 16)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm512_cvtsepi32_epi8(codes_of(x + i)));
    for (; i < n; ++i) out[i] = static_cast<std::int8_t>(::mote::quantize(x[i], p, low, high) - 128);
  }

  /// Four panels per pass: 8 accumulator chains (vpdpbusd: 5 cycles, 2 per cycle), and each
  /// sample's codes, rearranged for the two quads of a load, serve 8 vpdpbusd.
  static constexpr std::size_t panels_per_pass = 4;

  /// F for `count` (1 to panels_per_pass) consecutive 16-row panels: panel i's packed weights
  /// at packed + i * blocks * 256, its scales at scales + i * groups * 16, its F at f + 16 i.
  static inline void panels(std::size_t count, const std::uint8_t* packed, const float* scales,
                            std::size_t blocks, std::size_t blocks_per_group, const std::int8_t* act,
                            const std::int32_t* block_sums, float* f) {
    switch (count) {
      case 4: return panels_impl<4>(packed, scales, blocks, blocks_per_group, act, block_sums, f);
      case 3: return panels_impl<3>(packed, scales, blocks, blocks_per_group, act, block_sums, f);
      case 2: return panels_impl<2>(packed, scales, blocks, blocks_per_group, act, block_sums, f);
      default: return panels_impl<1>(packed, scales, blocks, blocks_per_group, act, block_sums, f);
    }
  }

  template <std::size_t P>
  static inline __attribute__((always_inline)) void panels_impl(
      const std::uint8_t* packed, const float* scales, std::size_t blocks,
      std::size_t blocks_per_group, const std::int8_t* act, const std::int32_t* block_sums,
      float* f) {
    const __m512i high_nibbles = _mm512_set1_epi8(static_cast<char>(0xF0));
    // Lanes 0-7 (the first quad) take the codes of columns 8q to 8q + 3, lanes 8-15 the next 4.
    const __m512i first_pair = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    const __m512i next_pair = _mm512_set1_epi32(2);
    const std::size_t panel_bytes = blocks * 256;
    const std::size_t scale_stride = (blocks + blocks_per_group - 1) / blocks_per_group * 16;
    __m512 sums[P];
#pragma GCC unroll 4
    for (std::size_t i = 0; i < P; ++i) sums[i] = _mm512_setzero_ps();
    for (std::size_t first = 0; first < blocks; first += blocks_per_group, scales += 16) {
      const std::size_t last = std::min(blocks, first + blocks_per_group);
      __m512i with_low[P], high_only[P];
#pragma GCC unroll 4
      for (std::size_t i = 0; i < P; ++i) with_low[i] = high_only[i] = _mm512_setzero_si512();
      std::int32_t group_sum = 0;
      for (std::size_t b = first; b < last; ++b) {
        group_sum += block_sums[b];
        const __m512i codes = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(act + b * 32)));
        const std::uint8_t* block = packed + b * 256;
        __m512i pair = first_pair;
#pragma GCC unroll 4
        for (std::size_t q = 0; q < 4; ++q, pair = _mm512_add_epi32(pair, next_pair)) {
          const __m512i x = _mm512_permutexvar_epi32(pair, codes);
#pragma GCC unroll 4
          for (std::size_t i = 0; i < P; ++i) {
            const __m512i bytes = _mm512_loadu_si512(block + i * panel_bytes + q * 64);
            with_low[i] = _mm512_dpbusd_epi32(with_low[i], bytes, x);
            high_only[i] = _mm512_dpbusd_epi32(high_only[i], _mm512_and_si512(bytes, high_nibbles), x);
          }
        }
      }
      const __m512i offset = _mm512_set1_epi32(8 * group_sum);
#pragma GCC unroll 4
      for (std::size_t i = 0; i < P; ++i) {
        // [low rows' dots of both quads | high rows' 16 x dots of both quads], then the halves
        // added: rows 0-7 and 8-15 in order.
        const __m512i low = _mm512_sub_epi32(with_low[i], high_only[i]);
        __m512i dot = _mm512_add_epi32(_mm512_shuffle_i64x2(low, high_only[i], 0x44),
                                       _mm512_shuffle_i64x2(low, high_only[i], 0xEE));
        dot = _mm512_mask_srai_epi32(dot, 0xFF00, dot, 4);
        sums[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(dot, offset)),
                                  _mm512_loadu_ps(scales + i * scale_stride), sums[i]);
      }
    }
#pragma GCC unroll 4
    for (std::size_t i = 0; i < P; ++i) _mm512_storeu_ps(f + 16 * i, sums[i]);
  }
};

}  // namespace mote::simd::avx512_vnni
#endif
