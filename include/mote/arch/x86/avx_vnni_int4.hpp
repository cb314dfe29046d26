// AVX-VNNI int4 primitives (contract: kernels/dense/int4-inl.hpp). The packing is AVX2's
// (avx2_int4.hpp): offset-binary nibbles w + 8 in [0, 15], low nibbles rows 0-7, high nibbles
// rows 8-15 of a 16-row panel. vpdpbusd multiplies them (unsigned) by the centred codes s = u - 128
// (signed) and adds each row's 4 products straight into int32, so there is no int16 stage to
// keep below saturation and no widening pass: per 64 multiply-adds an AND, a shift, an AND and
// two vpdpbusd, where AVX2 needs seven operations plus a widening per block. The sums of a scale
// group are exact in int32; 8 * (the group's activation sum) is subtracted once per group, and
// F accumulates fma(float(dot), scale, F) in group order, as the reference does.
// No include guard on purpose: see arch/targets.hpp.
#if !defined(MOTE_ARCH_X86_AVX_VNNI_INT4)
#define MOTE_ARCH_X86_AVX_VNNI_INT4
namespace mote::simd::avx_vnni {

struct Int4Ops {
  /// s = quantize(x) - 128 for n values (AVX2's conversion).
  static inline void centre(const float* x, std::size_t n, const QuantParams& p, std::int32_t low,
                            std::int32_t high, std::int8_t* out) {
    ::mote::simd::avx2::quantize_centred(x, n, p, low, high, out);
  }

  /// Two panels per pass: each broadcast of 4 activation codes serves 4 weight vectors.
  static constexpr std::size_t panels_per_pass = 2;

  /// F for `count` (1 or 2) consecutive 16-row panels, a pair or one panel (Int4Packing: panel
  /// i's bytes and scales at panel_offset and scales_offset), its F at f + 16 i.
  static inline void panels(std::size_t count, const std::uint8_t* packed, const float* scales,
                            std::size_t blocks, std::size_t blocks_per_group,
                            const std::int8_t* act, const std::int32_t* block_sums, float* f,
                            bool last_lone) {
    if (count == 2)
      return panels_impl<2>(packed, scales, blocks, blocks_per_group, act, block_sums, f,
                            ::mote::Int4Packing::paired);
    return panels_impl<1>(packed, scales, blocks, blocks_per_group, act, block_sums, f,
                          ::mote::Int4Packing::strides(last_lone));
  }

  /// The groups' multiply-adds alternate between two sets of accumulators (even and odd
  /// 4-column steps): two panels give 4 chains per set, and vpdpbusd's latency (5 cycles, 2 per
  /// cycle on Intel cores) needs about 8 in flight.
  template <std::size_t P>
  static inline __attribute__((always_inline)) void panels_impl(
      const std::uint8_t* packed, const float* scales, std::size_t blocks,
      std::size_t blocks_per_group, const std::int8_t* act, const std::int32_t* block_sums,
      float* f, const ::mote::Int4Packing::Strides& step) {
    const __m256i nibble = _mm256_set1_epi8(0x0F);
    using Packing = ::mote::Int4Packing;
    const std::size_t groups = (blocks + blocks_per_group - 1) / blocks_per_group;
    __m256 sums[P][2];
#pragma GCC unroll 4
    for (std::size_t i = 0; i < P; ++i) sums[i][0] = sums[i][1] = _mm256_setzero_ps();
    for (std::size_t first = 0; first < blocks; first += blocks_per_group, scales += step.scale_group) {
      const std::size_t last = std::min(blocks, first + blocks_per_group);
      __m256i acc[2][P][2];
#pragma GCC unroll 4
      for (std::size_t s = 0; s < 2; ++s)
#pragma GCC unroll 4
        for (std::size_t i = 0; i < P; ++i) acc[s][i][0] = acc[s][i][1] = _mm256_setzero_si256();
      std::int32_t group_sum = 0;
      for (std::size_t b = first; b < last; ++b) {
        group_sum += block_sums[b];
        const std::uint8_t* block = packed + b * step.block;
        const std::int8_t* x_codes = act + b * 32;
#pragma GCC unroll 8
        for (std::size_t q = 0; q < 8; ++q) {
          const __m256i x = broadcast4(x_codes + q * 4);
#pragma GCC unroll 4
          for (std::size_t i = 0; i < P; ++i) {
            const __m256i bytes = _mm256_loadu_si256(
                reinterpret_cast<const __m256i*>(block + Packing::panel_offset(i, blocks) + q * step.quad));
            acc[q % 2][i][0] = dot_u8_s8(acc[q % 2][i][0], _mm256_and_si256(bytes, nibble), x);
            acc[q % 2][i][1] = dot_u8_s8(acc[q % 2][i][1],
                                         _mm256_and_si256(_mm256_srli_epi16(bytes, 4), nibble), x);
          }
        }
        // Pins the accumulators to registers across blocks (GCC 12 rotates them through copies
        // otherwise, as in the AVX2 tiles).
        if constexpr (P == 2)
          __asm__(""
                  : "+x"(acc[0][0][0]), "+x"(acc[0][0][1]), "+x"(acc[0][1][0]), "+x"(acc[0][1][1]),
                    "+x"(acc[1][0][0]), "+x"(acc[1][0][1]), "+x"(acc[1][1][0]), "+x"(acc[1][1][1]));
        else
          __asm__(""
                  : "+x"(acc[0][0][0]), "+x"(acc[0][0][1]), "+x"(acc[1][0][0]), "+x"(acc[1][0][1]));
      }
      // sum_k (w + 8) s_k - 8 sum_k s_k = sum_k w s_k, exactly (int32 throughout).
      const __m256i offset = _mm256_set1_epi32(8 * group_sum);
#pragma GCC unroll 4
      for (std::size_t i = 0; i < P; ++i)
#pragma GCC unroll 2
        for (std::size_t h = 0; h < 2; ++h) {
          const __m256i dot =
              _mm256_sub_epi32(_mm256_add_epi32(acc[0][i][h], acc[1][i][h]), offset);
          sums[i][h] =
              _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot),
                              _mm256_loadu_ps(scales + Packing::scales_offset(i, groups) + h * step.high_rows),
                              sums[i][h]);
        }
    }
#pragma GCC unroll 4
    for (std::size_t i = 0; i < P; ++i) {
      _mm256_storeu_ps(f + 16 * i, sums[i][0]);
      _mm256_storeu_ps(f + 16 * i + 8, sums[i][1]);
    }
  }
};

}  // namespace mote::simd::avx_vnni
#endif
