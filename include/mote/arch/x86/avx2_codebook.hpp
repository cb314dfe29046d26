// AVX2 codebook lookup primitives (contract: kernels/dense/codebook-inl.hpp). No include guard
// on purpose: included by arch/targets.hpp inside the avx2 target region.
// vpermps picks 8 floats from an 8-entry table held in one register by the low 3 bits of each
// 32-bit index lane. Half a chunk (8 indices, Bits bytes) is broadcast to every lane and shifted
// by vpsrlvd so that lane i holds index i in its low bits; the bits above are ignored by vpermps,
// which is why a 4-entry table is stored twice. 16 entries: two permutes (entries 0-7, 8-15)
// and vblendvps on the index's top bit, moved to the sign bit by vpsllvd.
#if !defined(MOTE_ARCH_X86_AVX2_CODEBOOK)
#define MOTE_ARCH_X86_AVX2_CODEBOOK
namespace mote::simd::avx2 {

template <std::size_t Bits>
struct CodebookOps {
  static constexpr std::size_t gemv_rows = 4;
  static constexpr std::size_t gemm_rows = 4;
  static constexpr std::size_t gemm_samples = 3;
  /// Entries 0-7 (a 4-entry table twice) and 8-15.
  struct Table {
    __m256 low, high;
  };
  static inline __attribute__((always_inline)) Table prepare(const float* entries) {
    if constexpr (Bits == 2) {
      const __m256 twice = _mm256_broadcast_ps(reinterpret_cast<const __m128*>(entries));
      return {twice, twice};
    } else if constexpr (Bits == 3) {
      const __m256 all = _mm256_loadu_ps(entries);
      return {all, all};
    } else {
      return {_mm256_loadu_ps(entries), _mm256_loadu_ps(entries + 8)};
    }
  }
  /// The 16 weights of a chunk, in column order: w[0] columns 0-7, w[1] 8-15.
  static inline __attribute__((always_inline)) void lookup(const Table& table, const std::uint8_t* chunk,
                                                           VecF32 (&w)[2]) {
    constexpr int b = static_cast<int>(Bits);
    const __m256i shifts = _mm256_setr_epi32(0, b, 2 * b, 3 * b, 4 * b, 5 * b, 6 * b, 7 * b);
    for (int half = 0; half < 2; ++half) {
      std::uint32_t word;
      std::memcpy(&word, chunk + half * b, sizeof(word));  // 8 indices, and bits beyond them
      const __m256i packed = _mm256_set1_epi32(static_cast<int>(word));
      const __m256i index = _mm256_srlv_epi32(packed, shifts);
      __m256 value = _mm256_permutevar8x32_ps(table.low, index);
      if constexpr (Bits == 4) {
        const __m256i top = _mm256_sllv_epi32(packed, _mm256_setr_epi32(28, 24, 20, 16, 12, 8, 4, 0));
        value = _mm256_blendv_ps(value, _mm256_permutevar8x32_ps(table.high, index), _mm256_castsi256_ps(top));
      }
      w[half] = {value};
    }
  }
};

}  // namespace mote::simd::avx2
#endif
