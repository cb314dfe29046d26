// AVX2 primitives of the sparse f32 kernels (kernels/dense/sparse-inl.hpp): a tile of 8 output
// channels in one vector, and the input selection of the N:M and unstructured layouts (one
// permute per 8 weights instead of a gather: vpermilps / vpermps take each lane's position from
// the low bits of a 32-bit lane, which one variable shift extracts from the packed positions).
// Included by arch/targets.hpp inside the AVX2 target region (no #pragma once on purpose).
#if !defined(MOTE_ARCH_X86_AVX2_SPARSE)
#define MOTE_ARCH_X86_AVX2_SPARSE
#define MOTE_VEC_INLINE inline __attribute__((always_inline))
namespace mote::simd::avx2 {

struct Tile8 {
  __m256 v;

  static MOTE_VEC_INLINE Tile8 zero() { return {_mm256_setzero_ps()}; }
  static MOTE_VEC_INLINE Tile8 load(const float* p) { return {_mm256_loadu_ps(p)}; }
  static MOTE_VEC_INLINE Tile8 broadcast(const float* p) { return {_mm256_broadcast_ss(p)}; }
  static MOTE_VEC_INLINE Tile8 fma(Tile8 a, Tile8 b, Tile8 c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
  friend MOTE_VEC_INLINE Tile8 operator+(Tile8 a, Tile8 b) { return {_mm256_add_ps(a.v, b.v)}; }
  MOTE_VEC_INLINE void store(float* p) const { _mm256_storeu_ps(p, v); }
  /// Lane j of t[i] and lane i of t[j] swap places (an 8 x 8 transpose).
  static MOTE_VEC_INLINE void transpose(Tile8 (&t)[8]) {
    const __m256 a0 = _mm256_unpacklo_ps(t[0].v, t[1].v), a1 = _mm256_unpackhi_ps(t[0].v, t[1].v);
    const __m256 a2 = _mm256_unpacklo_ps(t[2].v, t[3].v), a3 = _mm256_unpackhi_ps(t[2].v, t[3].v);
    const __m256 a4 = _mm256_unpacklo_ps(t[4].v, t[5].v), a5 = _mm256_unpackhi_ps(t[4].v, t[5].v);
    const __m256 a6 = _mm256_unpacklo_ps(t[6].v, t[7].v), a7 = _mm256_unpackhi_ps(t[6].v, t[7].v);
    const __m256 b0 = _mm256_shuffle_ps(a0, a2, 0x44), b1 = _mm256_shuffle_ps(a0, a2, 0xEE);
    const __m256 b2 = _mm256_shuffle_ps(a1, a3, 0x44), b3 = _mm256_shuffle_ps(a1, a3, 0xEE);
    const __m256 b4 = _mm256_shuffle_ps(a4, a6, 0x44), b5 = _mm256_shuffle_ps(a4, a6, 0xEE);
    const __m256 b6 = _mm256_shuffle_ps(a5, a7, 0x44), b7 = _mm256_shuffle_ps(a5, a7, 0xEE);
    t[0].v = _mm256_permute2f128_ps(b0, b4, 0x20);
    t[1].v = _mm256_permute2f128_ps(b1, b5, 0x20);
    t[2].v = _mm256_permute2f128_ps(b2, b6, 0x20);
    t[3].v = _mm256_permute2f128_ps(b3, b7, 0x20);
    t[4].v = _mm256_permute2f128_ps(b0, b4, 0x31);
    t[5].v = _mm256_permute2f128_ps(b1, b5, 0x31);
    t[6].v = _mm256_permute2f128_ps(b2, b6, 0x31);
    t[7].v = _mm256_permute2f128_ps(b3, b7, 0x31);
  }

  /// Four inputs, in both 128-bit halves (vpermilps selects within a half).
  struct Window4 {
    __m256 v;
  };
  /// Eight inputs.
  struct Window8 {
    __m256 v;
  };
  static MOTE_VEC_INLINE Window4 window4(const float* p) { return {_mm256_broadcast_ps(reinterpret_cast<const __m128*>(p))}; }
  /// Keeps the window in a register: GCC would otherwise fold a window used once (the
  /// unstructured kernel's) into vpermps' memory operand, which on Zen 3 makes that kernel
  /// about 10% slower (1024x1024 at 90% sparsity: 23.6 us against 21.0; docs/sparsity.md).
  static MOTE_VEC_INLINE Window8 window8(const float* p) {
    __m256 v = _mm256_loadu_ps(p);
    __asm__("" : "+x"(v));
    return {v};
  }
  /// Lane i gets window[positions >> 2i & 3].
  static MOTE_VEC_INLINE Tile8 select(Window4 window, std::uint32_t positions) {
    const __m256i shifts = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
    const __m256i index = _mm256_srlv_epi32(_mm256_set1_epi32(static_cast<int>(positions)), shifts);
    return {_mm256_permutevar_ps(window.v, index)};
  }
  /// Lane i gets window[positions >> (16 + 2i) & 3]: the second of two slots whose 16-bit
  /// positions were read as one 32-bit word (one broadcast for both).
  static MOTE_VEC_INLINE Tile8 select_upper(Window4 window, std::uint32_t positions) {
    const __m256i shifts = _mm256_setr_epi32(16, 18, 20, 22, 24, 26, 28, 30);
    const __m256i index = _mm256_srlv_epi32(_mm256_set1_epi32(static_cast<int>(positions)), shifts);
    return {_mm256_permutevar_ps(window.v, index)};
  }
  /// Lane i gets window[positions >> 3i & 7].
  static MOTE_VEC_INLINE Tile8 select(Window8 window, std::uint32_t positions) {
    const __m256i shifts = _mm256_setr_epi32(0, 3, 6, 9, 12, 15, 18, 21);
    const __m256i index = _mm256_srlv_epi32(_mm256_set1_epi32(static_cast<int>(positions)), shifts);
    return {_mm256_permutevar8x32_ps(window.v, index)};
  }
};

}  // namespace mote::simd::avx2
#undef MOTE_VEC_INLINE
#endif
