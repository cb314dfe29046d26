// AVX-VNNI int8 dot-product primitives (contract: kernels/dense/int8-inl.hpp): the VEX-encoded
// vpdpbusd of CPUs that have VNNI without AVX-512 (Alder Lake and later client cores, the
// Sierra Forest and Grand Ridge E-cores, Zen 5). One vpdpbusd multiplies 8 rows x 4 columns of
// signed weights by 4 unsigned activation codes and adds the four products per row to int32,
// without intermediate saturation (vpdpbusd, not vpdpbusds): exact for any int8 weight, -128
// included, and any code in [0, 255]. Where AVX2 needs vpmovsxbw + vpmaddwd + vpaddd per 16
// products (or vpsignb + vpmaddubsw + vpmaddwd + vpaddd per 32 for symmetric weights), this is
// one instruction per 32. The float side (quantisation, epilogue) is AVX2's.
//
// MOTE_EMULATE_AVX_VNNI (tests only): vpdpbusd is computed exactly with AVX2 instructions and
// arch/cpu.hpp reports AVX-VNNI wherever AVX2 is, so that these kernels' packing, tiling, tails
// and epilogue run and are compared with the scalar reference on CPUs without the instruction.
// No include guard on purpose: see arch/targets.hpp.
#if !defined(MOTE_ARCH_X86_AVX_VNNI_INT8)
#define MOTE_ARCH_X86_AVX_VNNI_INT8
namespace mote::simd::avx_vnni {

using VecF32 = ::mote::simd::avx2::VecF32;

/// acc + the sums of 4 products u8 x s8 per 32-bit lane, in int32 (wrapping, as vpdpbusd).
inline __attribute__((always_inline)) __m256i dot_u8_s8(__m256i acc, __m256i unsigned_bytes,
                                                        __m256i signed_bytes) {
#if defined(MOTE_EMULATE_AVX_VNNI)
  // Even and odd bytes widened to int16 (zero- and sign-extended): each vpmaddwd pair sum is
  // at most 2 * 255 * 128 in magnitude, so nothing saturates.
  const __m256i low_bytes = _mm256_set1_epi16(0x00FF);
  const __m256i even = _mm256_madd_epi16(_mm256_and_si256(unsigned_bytes, low_bytes),
                                         _mm256_srai_epi16(_mm256_slli_epi16(signed_bytes, 8), 8));
  const __m256i odd =
      _mm256_madd_epi16(_mm256_srli_epi16(unsigned_bytes, 8), _mm256_srai_epi16(signed_bytes, 8));
  return _mm256_add_epi32(acc, _mm256_add_epi32(even, odd));
#else
  return _mm256_dpbusd_avx_epi32(acc, unsigned_bytes, signed_bytes);
#endif
}

/// 4 bytes (one group's codes) in every 32-bit lane.
inline __attribute__((always_inline)) __m256i broadcast4(const void* bytes) {
  std::int32_t quad;
  std::memcpy(&quad, bytes, sizeof(quad));
  return _mm256_set1_epi32(quad);
}

struct Int8Ops : ::mote::simd::avx2::Int8Conversions {
  using Act = std::uint8_t;
  static constexpr std::int32_t activation_offset = 0;
  /// 12 accumulators, 2 weight vectors and a broadcast: 15 of the 16 ymm registers.
  static constexpr std::size_t gemm_cols = 6;
  /// rows 0-7 and 8-15 of one panel
  struct Acc {
    __m256i v[2];
  };
  struct Panel {
    __m256i v[2];
  };
  static inline Act encode(std::int32_t u) noexcept { return static_cast<Act>(u); }
  static inline __attribute__((always_inline)) Acc zero() {
    return {{_mm256_setzero_si256(), _mm256_setzero_si256()}};
  }
  static inline __attribute__((always_inline)) Panel load(const std::int8_t* group) {
    return {{_mm256_loadu_si256(reinterpret_cast<const __m256i*>(group)),
             _mm256_loadu_si256(reinterpret_cast<const __m256i*>(group + 32))}};
  }
  static inline __attribute__((always_inline)) void madd(Acc& acc, const Panel& w, const Act* act) {
    const __m256i codes = broadcast4(act);
    acc.v[0] = dot_u8_s8(acc.v[0], codes, w.v[0]);
    acc.v[1] = dot_u8_s8(acc.v[1], codes, w.v[1]);
  }
  static inline __attribute__((always_inline)) void store(const Acc& acc, std::int32_t* out) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), acc.v[0]);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 8), acc.v[1]);
  }

  /// Accumulator streams per tile (kernels/dense/int8-inl.hpp, int8_streamed_panel_tile): fewer
  /// than 4 samples leave too few chains to cover vpdpbusd's latency (5 cycles, 2 per cycle on
  /// Intel cores); each accumulator is two registers, so 4 samples already make 8 chains.
  template <std::size_t Cols>
  static constexpr std::size_t tile_streams = Cols >= 4 ? 1 : Cols >= 2 ? 2 : 4;
  static inline __attribute__((always_inline)) void add(Acc& acc, const Acc& other) {
    acc.v[0] = _mm256_add_epi32(acc.v[0], other.v[0]);
    acc.v[1] = _mm256_add_epi32(acc.v[1], other.v[1]);
  }

  /// float -> codes u in [low, high] (a subset of [0, 255]) as uint8, bit-identical to
  /// mote::quantize (AVX2's conversion, then two exact packs).
  static inline void quantize(const float* x, std::size_t n, const QuantParams& p, std::int32_t low,
                              std::int32_t high, Act* out) {
    const ::mote::simd::avx2::QuantizeCodes codes_of(p, low, high);
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      const __m256i codes = codes_of(x + i);
      const __m128i words =
          _mm_packs_epi32(_mm256_castsi256_si128(codes), _mm256_extracti128_si256(codes, 1));
      _mm_storel_epi64(reinterpret_cast<__m128i*>(out + i), _mm_packus_epi16(words, words));
    }
    for (; i < n; ++i) out[i] = encode(::mote::quantize(x[i], p, low, high));
  }
};

}  // namespace mote::simd::avx_vnni
#endif
