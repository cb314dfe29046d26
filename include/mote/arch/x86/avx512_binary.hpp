// AVX-512 (F/BW/DQ/VL) primitives of the binary kernels (contract: kernels/dense/binary-inl.hpp).
// Included by arch/targets.hpp inside the avx512 target region, after avx512.hpp. One weight
// group (16 rows x 32 columns, layout/dense_binary.hpp) is one vector of 16 row words.
// Popcount: Mula's vpshufb nibble lookup, as avx2_binary.hpp. Where the CPU has VPOPCNTDQ
// (vpopcntd, one instruction per group) the XNOR kernel hands over to its build in the
// avx512_vpopcntdq region (avx512_vpopcntdq_binary.hpp; chosen once per process).
#if !defined(MOTE_ARCH_X86_AVX512_BINARY)
#define MOTE_ARCH_X86_AVX512_BINARY
namespace mote::simd::avx512 {

struct BinaryOps {
  // ---- XNOR-popcount (binary activations)
  static constexpr std::size_t xnor_tile = 8;     ///< samples sharing each group load
  static constexpr std::size_t flush_every = 31;  ///< groups a Partial absorbs without overflow
  struct Group {
    __m512i v;
  };
  struct Partial {  ///< per-byte counts
    __m512i v;
  };
  struct Counts {  ///< per-row counts (int32 lanes)
    __m512i v;
  };
  static inline __attribute__((always_inline)) Group load_group(const std::uint32_t* p) {
    return {_mm512_load_si512(p)};
  }
  static inline __attribute__((always_inline)) Partial partial_zero() { return {_mm512_setzero_si512()}; }
  static inline __attribute__((always_inline)) Counts counts_zero() { return {_mm512_setzero_si512()}; }
  /// acc += popcount(w_r XOR x) for each of the group's 16 rows.
  static inline __attribute__((always_inline)) void add(Partial& acc, const Group& w, std::uint32_t x) {
    const __m512i table = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4));
    const __m512i low_nibbles = _mm512_set1_epi8(0x0F);
    const __m512i v = _mm512_xor_si512(w.v, _mm512_set1_epi32(static_cast<int>(x)));
    const __m512i low = _mm512_and_si512(v, low_nibbles);
    const __m512i high = _mm512_and_si512(_mm512_srli_epi16(v, 4), low_nibbles);
    acc.v = _mm512_add_epi8(acc.v, _mm512_add_epi8(_mm512_shuffle_epi8(table, low), _mm512_shuffle_epi8(table, high)));
  }
  /// counts += partial, widened per row.
  static inline __attribute__((always_inline)) void flush(const Partial& partial, Counts& counts) {
    const __m512i pairs = _mm512_maddubs_epi16(partial.v, _mm512_set1_epi8(1));
    counts.v = _mm512_add_epi32(counts.v, _mm512_madd_epi16(pairs, _mm512_set1_epi16(1)));
  }
  static inline __attribute__((always_inline)) void store(const Counts& counts, std::int32_t* out) {
    _mm512_storeu_si512(out, counts.v);
  }
  /// words[i]: bit t set when !(x[32 i + t] >= 0), for ceil(n / 32) words (zero padded).
  static inline void pack_signs(const float* x, std::size_t n, std::uint32_t* words) {
    const __m512 zero = _mm512_setzero_ps();
    for (std::size_t i = 0; i < n; i += 32) {
      std::uint32_t bits = 0;
      for (std::size_t q = 0; q < 2 && i + 16 * q < n; ++q) {
        const std::size_t left = n - i - 16 * q;
        const __mmask16 valid = left >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << left) - 1u);
        const __m512 values = _mm512_maskz_loadu_ps(valid, x + i + 16 * q);
        bits |= static_cast<std::uint32_t>(_mm512_cmp_ps_mask(values, zero, _CMP_NGE_UQ)) << (16 * q);
      }
      words[i / 32] = bits;
    }
  }
  /// Whether the XNOR kernel runs the VPOPCNTDQ build instead (decided once per process).
  static inline bool use_vpopcntdq() {
    static const bool available = ::mote::arch::detect_cpu().avx512_vpopcntdq;
    return available;
  }
  template <class Activation>
  static inline void dense_xnor_vpopcntdq(const ::mote::kernels::BinaryMatrix& weights, const float* bias,
                                          const float* in, float* out, std::size_t batch, Activation activation,
                                          std::byte* scratch) {
    ::mote::kernels::avx512_vpopcntdq::dense_xnor(weights, bias, in, out, batch, activation, scratch);
  }

  // ---- f32 activations: lanes are rows, as in VecF32
  using Words = __m512i;
  static inline __attribute__((always_inline)) Words load_words(const std::uint32_t* p) { return _mm512_load_si512(p); }
  static inline __attribute__((always_inline)) Words shift_left(Words w, unsigned n) {
    return _mm512_sll_epi32(w, _mm_cvtsi32_si128(static_cast<int>(n)));
  }
  static inline __attribute__((always_inline)) Words twice(Words w) { return _mm512_add_epi32(w, w); }
  /// Lane-wise table[w & 15] (vpermps reads the low 4 bits), then the next 4 columns' bits.
  static inline __attribute__((always_inline)) VecF32 lookup(const float* table, Words w) {
    return {_mm512_permutexvar_ps(w, _mm512_load_ps(table))};
  }
  static inline __attribute__((always_inline)) Words next_lookup(Words w) { return _mm512_srli_epi32(w, 4); }
  /// Lane-wise: -x where w's top bit is set (weight -1), else x: x XOR (w AND sign bit) in one
  /// vpternlogd (truth table 0x78 = a ^ (b & c)).
  static inline __attribute__((always_inline)) VecF32 flip(VecF32 x, VecF32, Words w) {
    const __m512i sign = _mm512_set1_epi32(static_cast<int>(0x80000000u));
    return {_mm512_castsi512_ps(_mm512_ternarylogic_epi32(_mm512_castps_si512(x.v), w, sign, 0x78))};
  }
};

}  // namespace mote::simd::avx512
#endif
