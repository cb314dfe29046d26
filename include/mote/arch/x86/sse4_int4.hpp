// SSE4 int4 primitives (contract: kernels/dense/int4-inl.hpp): the AVX2 method (avx2_int4.hpp)
// on 128-bit registers. SSE4 has no FMA: the per-group f32 accumulation uses std::fma lane by
// lane, so that results stay bit-identical to the other ISAs.
#if !defined(MOTE_ARCH_X86_SSE4_INT4)
#define MOTE_ARCH_X86_SSE4_INT4
namespace mote::simd::sse4 {

struct Int4Ops {
  static inline void centre(const float* x, std::size_t n, const QuantParams& p, std::int32_t low, std::int32_t high,
                            std::int8_t* out) {
    const QuantizeCodes codes_of(QuantParams{p.scale, p.zero_point - 128}, low - 128, high - 128);
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) {
      const __m128i codes = codes_of(x + i);
      const __m128i words = _mm_packs_epi32(codes, codes);
      const std::int32_t packed = _mm_cvtsi128_si32(_mm_packs_epi16(words, words));
      std::memcpy(out + i, &packed, sizeof(packed));
    }
    for (; i < n; ++i) out[i] = static_cast<std::int8_t>(::mote::quantize(x[i], p, low, high) - 128);
  }

  /// One panel per call (panel below).
  static constexpr std::size_t panels_per_pass = 1;
  static inline void panels(std::size_t, const std::uint8_t* packed, const float* scales, std::size_t blocks,
                            std::size_t blocks_per_group, const std::int8_t* act, const std::int32_t* block_sums,
                            float* f, bool lone) {
    panel(packed, scales, blocks, blocks_per_group, act, block_sums, f,
          ::mote::Int4Packing::strides(lone));
  }

  static inline void panel(const std::uint8_t* packed, const float* scales, std::size_t blocks,
                           std::size_t blocks_per_group, const std::int8_t* act, const std::int32_t* block_sums,
                           float* f,
                           const ::mote::Int4Packing::Strides& step) {
    const __m128i nibble = _mm_set1_epi8(0x0F);
    const __m128i ones = _mm_set1_epi16(1);
    float sums_f[16] = {};
    for (std::size_t first = 0; first < blocks; first += blocks_per_group, scales += step.scale_group) {
      const std::size_t last = std::min(blocks, first + blocks_per_group);
      __m128i sum[4] = {_mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128()};
      for (std::size_t b = first; b < last; ++b) {
        const std::uint8_t* block = packed + b * step.block;
        __m128i acc[4] = {_mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128()};
        for (std::size_t q = 0; q < 8; ++q) {
          const __m128i first_half = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + q * step.quad));
          const __m128i second_half = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + q * step.quad + 16));
          std::int32_t pattern;
          std::memcpy(&pattern, act + b * 32 + q * 4, sizeof(pattern));
          const __m128i x = _mm_set1_epi32(pattern);
          // rows 0-3, 4-7 (low nibbles), 8-11, 12-15 (high nibbles)
          acc[0] = _mm_add_epi16(acc[0], _mm_maddubs_epi16(_mm_and_si128(first_half, nibble), x));
          acc[1] = _mm_add_epi16(acc[1], _mm_maddubs_epi16(_mm_and_si128(second_half, nibble), x));
          acc[2] = _mm_add_epi16(acc[2], _mm_maddubs_epi16(_mm_and_si128(_mm_srli_epi16(first_half, 4), nibble), x));
          acc[3] = _mm_add_epi16(acc[3], _mm_maddubs_epi16(_mm_and_si128(_mm_srli_epi16(second_half, 4), nibble), x));
        }
        const __m128i offset = _mm_set1_epi32(8 * block_sums[b]);
        for (int j = 0; j < 4; ++j)
          sum[j] = _mm_add_epi32(sum[j], _mm_sub_epi32(_mm_madd_epi16(acc[j], ones), offset));
      }
      alignas(16) std::int32_t lanes[16];
      for (int j = 0; j < 4; ++j) _mm_store_si128(reinterpret_cast<__m128i*>(lanes + 4 * j), sum[j]);
      for (int r = 0; r < 16; ++r)
        sums_f[r] = std::fma(static_cast<float>(lanes[r]), scales[r / 8 * step.high_rows + r % 8], sums_f[r]);
    }
    std::memcpy(f, sums_f, sizeof(sums_f));
  }
};

}  // namespace mote::simd::sse4
#endif
