// AVX2 int4 primitives (contract: kernels/dense/int4-inl.hpp). Offset-binary weight nibbles
// (w + 8 in [1, 15]) times signed activation codes with pmaddubsw: each int16 pair sum is at
// most 2 * 15 * 128 = 3840, and 8 of them (one 32-column block) at most 30720 < 32767, so the
// 16-bit accumulation is exact; pmaddwd by ones then widens to int32 once per block.
#if !defined(MOTE_ARCH_X86_AVX2_INT4)
#define MOTE_ARCH_X86_AVX2_INT4
namespace mote::simd::avx2 {

struct Int4Ops {
  /// s = quantize(x) - 128 for n values.
  static inline void centre(const float* x, std::size_t n, const QuantParams& p, std::int32_t low, std::int32_t high,
                            std::int8_t* out) {
    quantize_centred(x, n, p, low, high, out);
  }

  /// F for the 16 rows of one panel: groups of `blocks_per_group` blocks (the last may be
  /// shorter), `block_sums[b]` = sum of act over block b.
  static inline void panel(const std::uint8_t* packed, const float* scales, std::size_t blocks,
                           std::size_t blocks_per_group, const std::int8_t* act, const std::int32_t* block_sums,
                           float* f) {
    const __m256i nibble = _mm256_set1_epi8(0x0F);
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 f_low = _mm256_setzero_ps(), f_high = _mm256_setzero_ps();
    for (std::size_t first = 0; first < blocks; first += blocks_per_group, scales += 16) {
      const std::size_t last = std::min(blocks, first + blocks_per_group);
      __m256i sum_low = _mm256_setzero_si256(), sum_high = _mm256_setzero_si256();
      for (std::size_t b = first; b < last; ++b) {
        const std::uint8_t* block = packed + b * 256;
        __m256i acc_low = _mm256_setzero_si256(), acc_high = _mm256_setzero_si256();
#pragma GCC unroll 8
        for (std::size_t q = 0; q < 8; ++q) {
          const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + q * 32));
          std::int32_t pattern;
          std::memcpy(&pattern, act + b * 32 + q * 4, sizeof(pattern));
          const __m256i x = _mm256_set1_epi32(pattern);
          acc_low = _mm256_add_epi16(acc_low, _mm256_maddubs_epi16(_mm256_and_si256(bytes, nibble), x));
          acc_high = _mm256_add_epi16(acc_high,
                                      _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(bytes, 4), nibble), x));
        }
        const __m256i offset = _mm256_set1_epi32(8 * block_sums[b]);
        sum_low = _mm256_add_epi32(sum_low, _mm256_sub_epi32(_mm256_madd_epi16(acc_low, ones), offset));
        sum_high = _mm256_add_epi32(sum_high, _mm256_sub_epi32(_mm256_madd_epi16(acc_high, ones), offset));
      }
      f_low = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum_low), _mm256_loadu_ps(scales), f_low);
      f_high = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum_high), _mm256_loadu_ps(scales + 8), f_high);
    }
    _mm256_storeu_ps(f, f_low);
    _mm256_storeu_ps(f + 8, f_high);
  }
};

}  // namespace mote::simd::avx2
#endif
