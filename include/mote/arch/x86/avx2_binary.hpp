// AVX2 primitives of the binary kernels (contract: kernels/dense/binary-inl.hpp). Included by
// arch/targets.hpp inside the avx2 target region, after avx2.hpp. One weight group (16 rows x
// 32 columns, layout/dense_binary.hpp) is two vectors of 8 row words.
// Popcount without a popcount instruction (AVX2 has none): Mula's nibble lookup, vpshufb of the
// low and high nibbles of each byte in a 16-entry table, giving per-byte counts that are
// summed as bytes for up to 31 groups (31 x 8 = 248 < 256) and then widened per 32-bit lane
// (= per row) with vpmaddubsw + vpmaddwd by ones (vpsadbw would sum 64-bit lanes: two rows).
#if !defined(MOTE_ARCH_X86_AVX2_BINARY)
#define MOTE_ARCH_X86_AVX2_BINARY
namespace mote::simd::avx2 {

struct BinaryOps {
  // ---- XNOR-popcount (binary activations)
  static constexpr std::size_t xnor_tile = 4;     ///< samples sharing each group load
  static constexpr std::size_t flush_every = 31;  ///< groups a Partial absorbs without overflow
  struct Group {
    __m256i v[2];
  };
  struct Partial {  ///< per-byte counts
    __m256i v[2];
  };
  struct Counts {  ///< per-row counts (int32 lanes)
    __m256i v[2];
  };
  static inline __attribute__((always_inline)) Group load_group(const std::uint32_t* p) {
    return {{_mm256_load_si256(reinterpret_cast<const __m256i*>(p)),
             _mm256_load_si256(reinterpret_cast<const __m256i*>(p + 8))}};
  }
  static inline __attribute__((always_inline)) Partial partial_zero() {
    return {{_mm256_setzero_si256(), _mm256_setzero_si256()}};
  }
  static inline __attribute__((always_inline)) Counts counts_zero() {
    return {{_mm256_setzero_si256(), _mm256_setzero_si256()}};
  }
  static inline __attribute__((always_inline)) __m256i popcount_bytes(__m256i v) {
    const __m256i table = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,  //
                                           0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m256i low_nibbles = _mm256_set1_epi8(0x0F);
    const __m256i low = _mm256_and_si256(v, low_nibbles);
    const __m256i high = _mm256_and_si256(_mm256_srli_epi16(v, 4), low_nibbles);
    return _mm256_add_epi8(_mm256_shuffle_epi8(table, low), _mm256_shuffle_epi8(table, high));
  }
  /// acc += popcount(w_r XOR x) for each of the group's 16 rows.
  static inline __attribute__((always_inline)) void add(Partial& acc, const Group& w, std::uint32_t x) {
    const __m256i xs = _mm256_set1_epi32(static_cast<int>(x));
    for (int j = 0; j < 2; ++j)
      acc.v[j] = _mm256_add_epi8(acc.v[j], popcount_bytes(_mm256_xor_si256(w.v[j], xs)));
  }
  /// counts += partial, widened per row.
  static inline __attribute__((always_inline)) void flush(const Partial& partial, Counts& counts) {
    for (int j = 0; j < 2; ++j) {
      const __m256i pairs = _mm256_maddubs_epi16(partial.v[j], _mm256_set1_epi8(1));
      counts.v[j] = _mm256_add_epi32(counts.v[j], _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
    }
  }
  static inline __attribute__((always_inline)) void store(const Counts& counts, std::int32_t* out) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), counts.v[0]);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 8), counts.v[1]);
  }
  /// words[i]: bit t set when !(x[32 i + t] >= 0), for ceil(n / 32) words (zero padded).
  static inline void pack_signs(const float* x, std::size_t n, std::uint32_t* words) {
    const __m256 zero = _mm256_setzero_ps();
    std::size_t i = 0;
    for (; i + 32 <= n; i += 32) {
      std::uint32_t bits = 0;
      for (int q = 0; q < 4; ++q) {
        const __m256 negative = _mm256_cmp_ps(_mm256_loadu_ps(x + i + 8 * q), zero, _CMP_NGE_UQ);
        bits |= static_cast<std::uint32_t>(_mm256_movemask_ps(negative)) << (8 * q);
      }
      words[i / 32] = bits;
    }
    if (i < n) {
      std::uint32_t bits = 0;
      for (std::size_t t = 0; i + t < n; ++t) bits |= static_cast<std::uint32_t>(::mote::Binary::negative(x[i + t])) << t;
      words[i / 32] = bits;
    }
  }

  // ---- f32 activations: lanes are rows, as in VecF32
  using Words = __m256i;
  static inline __attribute__((always_inline)) Words load_words(const std::uint32_t* p) {
    return _mm256_load_si256(reinterpret_cast<const __m256i*>(p));
  }
  static inline __attribute__((always_inline)) Words shift_left(Words w, unsigned n) {
    return _mm256_sll_epi32(w, _mm_cvtsi32_si128(static_cast<int>(n)));
  }
  static inline __attribute__((always_inline)) Words twice(Words w) { return _mm256_add_epi32(w, w); }
  /// Lane-wise table[w & 7] (vpermps reads the low 3 bits), then the next 3 columns' bits.
  static inline __attribute__((always_inline)) VecF32 lookup(const float* table, Words w) {
    return {_mm256_permutevar8x32_ps(_mm256_load_ps(table), w)};
  }
  static inline __attribute__((always_inline)) Words next_lookup(Words w) { return _mm256_srli_epi32(w, 3); }
  /// Lane-wise: neg_x where w's top bit is set (weight -1), else x. vblendvps reads that bit.
  static inline __attribute__((always_inline)) VecF32 flip(VecF32 x, VecF32 neg_x, Words w) {
    return {_mm256_blendv_ps(x.v, neg_x.v, _mm256_castsi256_ps(w))};
  }
};

}  // namespace mote::simd::avx2
#endif
