// SSE4 codebook lookup primitives (contract: kernels/dense/codebook-inl.hpp). No include guard
// on purpose: included by arch/targets.hpp inside the sse4.2 target region.
// SSE4 has no variable float permute, so the lookup is pshufb on the table's bytes: the table
// (zero-padded to 16 entries) is stored as 4 byte planes (plane b = byte b of every entry), a
// chunk's 16 indices become 16 bytes, one pshufb per plane gives byte b of the 16 weights, and
// two rounds of unpacks put the bytes back together as 4 vectors of 4 floats. Index bytes: each
// index's 16-bit window is gathered by pshufb and shifted into place by a pmullw by a power of
// two and one psrlw (SSE4 has no per-lane variable shift).
#if !defined(MOTE_ARCH_X86_SSE4_CODEBOOK)
#define MOTE_ARCH_X86_SSE4_CODEBOOK
namespace mote::simd::sse4 {

template <std::size_t Bits>
struct CodebookOps {
  static constexpr std::size_t gemv_rows = 2;
  static constexpr std::size_t gemm_rows = 2;
  static constexpr std::size_t gemm_samples = 2;
  struct Table {
    __m128i plane[4];
  };
  static inline __attribute__((always_inline)) Table prepare(const float* entries) {
    alignas(16) float padded[16] = {};
    std::memcpy(padded, entries, (std::size_t{1} << Bits) * sizeof(float));
    // Per group of 4 entries: dword b = byte b of the 4 entries; then a 4 x 4 dword transpose.
    const __m128i gather = _mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    __m128i g[4];
    for (int q = 0; q < 4; ++q)
      g[q] = _mm_shuffle_epi8(_mm_load_si128(reinterpret_cast<const __m128i*>(padded + 4 * q)), gather);
    const __m128i t0 = _mm_unpacklo_epi32(g[0], g[1]), t1 = _mm_unpacklo_epi32(g[2], g[3]);
    const __m128i t2 = _mm_unpackhi_epi32(g[0], g[1]), t3 = _mm_unpackhi_epi32(g[2], g[3]);
    return {{_mm_unpacklo_epi64(t0, t1), _mm_unpackhi_epi64(t0, t1), _mm_unpacklo_epi64(t2, t3),
             _mm_unpackhi_epi64(t2, t3)}};
  }
  /// The 16 weights of a chunk, in column order: w[j] columns 4j..4j+3.
  static inline __attribute__((always_inline)) void lookup(const Table& table, const std::uint8_t* chunk,
                                                           VecF32 (&w)[4]) {
    const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(chunk));
    const __m128i low = _mm_srli_epi16(
        _mm_mullo_epi16(_mm_shuffle_epi8(bytes, window(0)), multiplier(0)), 16 - static_cast<int>(Bits));
    const __m128i high = _mm_srli_epi16(
        _mm_mullo_epi16(_mm_shuffle_epi8(bytes, window(8)), multiplier(8)), 16 - static_cast<int>(Bits));
    const __m128i index = _mm_packus_epi16(low, high);
    const __m128i b0 = _mm_shuffle_epi8(table.plane[0], index), b1 = _mm_shuffle_epi8(table.plane[1], index);
    const __m128i b2 = _mm_shuffle_epi8(table.plane[2], index), b3 = _mm_shuffle_epi8(table.plane[3], index);
    const __m128i low01 = _mm_unpacklo_epi8(b0, b1), high01 = _mm_unpackhi_epi8(b0, b1);
    const __m128i low23 = _mm_unpacklo_epi8(b2, b3), high23 = _mm_unpackhi_epi8(b2, b3);
    w[0] = {_mm_castsi128_ps(_mm_unpacklo_epi16(low01, low23))};
    w[1] = {_mm_castsi128_ps(_mm_unpackhi_epi16(low01, low23))};
    w[2] = {_mm_castsi128_ps(_mm_unpacklo_epi16(high01, high23))};
    w[3] = {_mm_castsi128_ps(_mm_unpackhi_epi16(high01, high23))};
  }

 private:
  /// pshufb control: 16-bit lane j holds the two chunk bytes from the one holding index first + j.
  static inline __attribute__((always_inline)) __m128i window(int first) {
    return _mm_setr_epi16(pair(first + 0), pair(first + 1), pair(first + 2), pair(first + 3), pair(first + 4),
                          pair(first + 5), pair(first + 6), pair(first + 7));
  }
  static constexpr short pair(int i) noexcept {
    const int byte = ::mote::detail::codebook_index_byte(Bits, i);
    return static_cast<short>(byte | (byte + 1) << 8);
  }
  /// Multiplying by 2^(16 - Bits - shift) puts the index in the top Bits bits of its lane.
  static inline __attribute__((always_inline)) __m128i multiplier(int first) {
    return _mm_setr_epi16(scale(first + 0), scale(first + 1), scale(first + 2), scale(first + 3), scale(first + 4),
                          scale(first + 5), scale(first + 6), scale(first + 7));
  }
  static constexpr short scale(int i) noexcept {
    return static_cast<short>(1 << (16 - static_cast<int>(Bits) - ::mote::detail::codebook_index_shift(Bits, i)));
  }
};

}  // namespace mote::simd::sse4
#endif
