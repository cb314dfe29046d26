// SSE4 primitives of the binary kernels (contract: kernels/dense/binary-inl.hpp). Included by
// arch/targets.hpp inside the sse4 target region, after sse4.hpp. One weight group (16 rows x
// 32 columns, layout/dense_binary.hpp) is four vectors of 4 row words. Popcount as in
// avx2_binary.hpp (Mula's pshufb nibble lookup, bytes widened per row by pmaddubsw + pmaddwd):
// the sse4.2 target does not include the POPCNT instruction, and it works on one word anyway.
#if !defined(MOTE_ARCH_X86_SSE4_BINARY)
#define MOTE_ARCH_X86_SSE4_BINARY
namespace mote::simd::sse4 {

struct BinaryOps {
  // ---- XNOR-popcount (binary activations)
  static constexpr std::size_t xnor_tile = 2;     ///< samples sharing each group load
  static constexpr std::size_t flush_every = 31;  ///< groups a Partial absorbs without overflow
  struct Group {
    __m128i v[4];
  };
  struct Partial {  ///< per-byte counts
    __m128i v[4];
  };
  struct Counts {  ///< per-row counts (int32 lanes)
    __m128i v[4];
  };
  static inline __attribute__((always_inline)) Group load_group(const std::uint32_t* p) {
    Group g;
    for (int j = 0; j < 4; ++j) g.v[j] = _mm_load_si128(reinterpret_cast<const __m128i*>(p + 4 * j));
    return g;
  }
  static inline __attribute__((always_inline)) Partial partial_zero() {
    return {{_mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128()}};
  }
  static inline __attribute__((always_inline)) Counts counts_zero() {
    return {{_mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128()}};
  }
  static inline __attribute__((always_inline)) __m128i popcount_bytes(__m128i v) {
    const __m128i table = _mm_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m128i low_nibbles = _mm_set1_epi8(0x0F);
    const __m128i low = _mm_and_si128(v, low_nibbles);
    const __m128i high = _mm_and_si128(_mm_srli_epi16(v, 4), low_nibbles);
    return _mm_add_epi8(_mm_shuffle_epi8(table, low), _mm_shuffle_epi8(table, high));
  }
  /// acc += popcount(w_r XOR x) for each of the group's 16 rows.
  static inline __attribute__((always_inline)) void add(Partial& acc, const Group& w, std::uint32_t x) {
    const __m128i xs = _mm_set1_epi32(static_cast<int>(x));
    for (int j = 0; j < 4; ++j) acc.v[j] = _mm_add_epi8(acc.v[j], popcount_bytes(_mm_xor_si128(w.v[j], xs)));
  }
  /// counts += partial, widened per row.
  static inline __attribute__((always_inline)) void flush(const Partial& partial, Counts& counts) {
    for (int j = 0; j < 4; ++j) {
      const __m128i pairs = _mm_maddubs_epi16(partial.v[j], _mm_set1_epi8(1));
      counts.v[j] = _mm_add_epi32(counts.v[j], _mm_madd_epi16(pairs, _mm_set1_epi16(1)));
    }
  }
  static inline __attribute__((always_inline)) void store(const Counts& counts, std::int32_t* out) {
    for (int j = 0; j < 4; ++j) _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 4 * j), counts.v[j]);
  }
  /// words[i]: bit t set when !(x[32 i + t] >= 0), for ceil(n / 32) words (zero padded).
  static inline void pack_signs(const float* x, std::size_t n, std::uint32_t* words) {
    const __m128 zero = _mm_setzero_ps();
    std::size_t i = 0;
    for (; i + 32 <= n; i += 32) {
      std::uint32_t bits = 0;
      for (int q = 0; q < 8; ++q)
        bits |= static_cast<std::uint32_t>(_mm_movemask_ps(_mm_cmpnge_ps(_mm_loadu_ps(x + i + 4 * q), zero))) << (4 * q);
      words[i / 32] = bits;
    }
    if (i < n) {
      std::uint32_t bits = 0;
      for (std::size_t t = 0; i + t < n; ++t) bits |= static_cast<std::uint32_t>(::mote::Binary::negative(x[i + t])) << t;
      words[i / 32] = bits;
    }
  }

  // ---- f32 activations: lanes are rows, as in VecF32
  using Words = __m128i;
  static inline __attribute__((always_inline)) Words load_words(const std::uint32_t* p) {
    return _mm_load_si128(reinterpret_cast<const __m128i*>(p));
  }
  static inline __attribute__((always_inline)) Words shift_left(Words w, unsigned n) {
    return _mm_sll_epi32(w, _mm_cvtsi32_si128(static_cast<int>(n)));
  }
  static inline __attribute__((always_inline)) Words twice(Words w) { return _mm_add_epi32(w, w); }
  /// Lane-wise: neg_x where w's top bit is set (weight -1), else x. blendvps reads that bit.
  static inline __attribute__((always_inline)) VecF32 flip(VecF32 x, VecF32 neg_x, Words w) {
    return {_mm_blendv_ps(x.v, neg_x.v, _mm_castsi128_ps(w))};
  }
};

}  // namespace mote::simd::sse4
#endif
