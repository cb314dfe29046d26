// AVX-512 codebook lookup primitives (contract: kernels/dense/codebook-inl.hpp). No include
// guard on purpose: included by arch/targets.hpp inside the avx512 target region.
// One chunk (16 indices, 2 * Bits <= 8 bytes) is copied into each 128-bit lane; vpshufb gives
// 32-bit lane i the 4 bytes from the one holding index i, vpsrlvd moves the index to the low
// bits, and vpermps picks from a 16-entry table in one register by the low 4 bits of each lane
// (8- and 4-entry tables are repeated to fill it, so the bits above the index do not matter).
#if !defined(MOTE_ARCH_X86_AVX512_CODEBOOK)
#define MOTE_ARCH_X86_AVX512_CODEBOOK
namespace mote::simd::avx512 {

template <std::size_t Bits>
struct CodebookOps {
  static constexpr std::size_t gemv_rows = 4;
  static constexpr std::size_t gemm_rows = 4;
  static constexpr std::size_t gemm_samples = 6;
  struct Table {
    __m512 entries;
  };
  static inline __attribute__((always_inline)) Table prepare(const float* entries) {
    if constexpr (Bits == 2) return {_mm512_broadcast_f32x4(_mm_loadu_ps(entries))};
    else if constexpr (Bits == 3) return {_mm512_broadcast_f32x8(_mm256_loadu_ps(entries))};
    else return {_mm512_loadu_ps(entries)};
  }
  /// The 16 weights of a chunk, in column order.
  static inline __attribute__((always_inline)) void lookup(const Table& table, const std::uint8_t* chunk,
                                                           VecF32 (&w)[1]) {
    const __m512i bytes = _mm512_broadcast_i32x4(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(chunk)));
    const __m512i spread = _mm512_shuffle_epi8(
        bytes, _mm512_setr_epi32(control(0), control(1), control(2), control(3), control(4), control(5),
                                 control(6), control(7), control(8), control(9), control(10), control(11),
                                 control(12), control(13), control(14), control(15)));
    const __m512i index = _mm512_srlv_epi32(
        spread, _mm512_setr_epi32(shift(0), shift(1), shift(2), shift(3), shift(4), shift(5), shift(6), shift(7),
                                  shift(8), shift(9), shift(10), shift(11), shift(12), shift(13), shift(14),
                                  shift(15)));
    w[0] = {_mm512_permutexvar_ps(index, table.entries)};
  }

 private:
  /// vpshufb control of lane i: bytes first, first + 1, first + 2, first + 3 of the chunk.
  static constexpr int control(int i) noexcept {
    return static_cast<int>(static_cast<unsigned>(::mote::detail::codebook_index_byte(Bits, i)) * 0x01010101u +
                            0x03020100u);
  }
  static constexpr int shift(int i) noexcept { return ::mote::detail::codebook_index_shift(Bits, i); }
};

}  // namespace mote::simd::avx512
#endif
