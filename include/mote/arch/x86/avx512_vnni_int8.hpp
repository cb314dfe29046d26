// AVX-512 VNNI int8 dot-product primitives (contract: kernels/dense/int8-inl.hpp): one vpdpbusd
// multiplies 16 rows x 4 columns of signed weights by 4 unsigned activation codes and adds the
// four int32 products per row without intermediate saturation (vpdpbusd, not vpdpbusds), so
// results are exact. The epilogue from int32 dots to outputs is AVX2's: without it the epilogue
// ran one row at a time in scalar code. Quantisation is AVX-512's (avx512_int8.hpp). No include guard on purpose: see arch/targets.hpp.
#if !defined(MOTE_ARCH_X86_AVX512_VNNI_INT8)
#define MOTE_ARCH_X86_AVX512_VNNI_INT8
namespace mote::simd::avx512_vnni {

using VecF32 = ::mote::simd::avx512::VecF32;

struct Int8Ops : ::mote::simd::avx2::Int8Conversions {
  using Act = std::uint8_t;
  static constexpr std::int32_t activation_offset = 0;
  static constexpr std::size_t gemm_cols = 8;
  struct Acc {
    __m512i v;
  };
  struct Panel {
    __m512i v;
  };
  static inline Act encode(std::int32_t u) noexcept { return static_cast<Act>(u); }
  static inline __attribute__((always_inline)) Acc zero() { return {_mm512_setzero_si512()}; }
  static inline __attribute__((always_inline)) Panel load(const std::int8_t* group) {
    return {_mm512_loadu_si512(group)};
  }
  static inline __attribute__((always_inline)) void madd(Acc& acc, const Panel& w, const Act* act) {
    std::int32_t pattern;
    std::memcpy(&pattern, act, sizeof(pattern));
    acc.v = _mm512_dpbusd_epi32(acc.v, _mm512_set1_epi32(pattern), w.v);
  }
  static inline __attribute__((always_inline)) void store(const Acc& acc, std::int32_t* out) {
    _mm512_storeu_si512(out, acc.v);
  }

  /// The GEMM/GEMV microkernel: 16 rows x Cols samples. vpdpbusd takes 5 cycles and issues 2
  /// per cycle, so about 10 accumulator chains keep it busy: fewer than 8 samples would leave a
  /// dependent chain per sample (one sample, the GEMV, ran at a fifth of the rate, 32 us for
  /// W3b1 on Sapphire Rapids). The groups are therefore split into `streams` interleaved runs
  /// with accumulators of their own, summed at the end (integer sums: exact in any order).
  /// Out of line: inlined into the GEMM's loops, GCC 12 ran out of general registers for the 8
  /// samples' offsets and reloaded each from an xmm register before its broadcast (a vmovq per
  /// vpdpbusd, on the port vpdpbusd needs); alone, the loop keeps them all in registers.
  template <std::size_t Cols>
  [[gnu::noinline]] static void panel_tile(const std::int8_t* panel, std::size_t groups, const Act* act,
                                           std::size_t stride, std::int32_t* dots, std::size_t dots_stride) {
    static_assert(Cols >= 1 && Cols <= gemm_cols, "the AVX-512 VNNI int8 tile covers 1 to 8 samples");
    constexpr std::size_t streams = Cols >= 8 ? 1 : Cols >= 4 ? 2 : Cols == 3 ? 3 : Cols == 2 ? 4 : 8;
    __m512i acc[streams][Cols];
#pragma GCC unroll 32
    for (std::size_t s = 0; s < streams; ++s)
#pragma GCC unroll 8
      for (std::size_t c = 0; c < Cols; ++c) acc[s][c] = _mm512_setzero_si512();
    const auto step = [&](std::size_t s, std::size_t g) __attribute__((always_inline)) {
      const __m512i w = _mm512_loadu_si512(panel + g * 64);
#pragma GCC unroll 8
      for (std::size_t c = 0; c < Cols; ++c) {
        std::int32_t pattern;
        std::memcpy(&pattern, act + c * stride + g * 4, sizeof(pattern));
        acc[s][c] = _mm512_dpbusd_epi32(acc[s][c], _mm512_set1_epi32(pattern), w);
      }
    };
    std::size_t g = 0;
    for (; g + streams <= groups; g += streams) {
#pragma GCC unroll 8
      for (std::size_t s = 0; s < streams; ++s) step(s, g + s);
    }
    for (; g < groups; ++g) step(0, g);
#pragma GCC unroll 8
    for (std::size_t c = 0; c < Cols; ++c) {
#pragma GCC unroll 8
      for (std::size_t s = 1; s < streams; ++s) acc[0][c] = _mm512_add_epi32(acc[0][c], acc[s][c]);
      _mm512_storeu_si512(dots + c * dots_stride, acc[0][c]);
    }
  }
  static inline void quantize_centred_floats(const float* x, std::size_t n, const QuantParams& p, std::int32_t low,
                                             std::int32_t high, float* out) {
    ::mote::simd::avx512::quantize_centred_floats(x, n, p, low, high, out);
  }
  static inline void quantize(const float* x, std::size_t n, const QuantParams& p, std::int32_t low,
                              std::int32_t high, Act* out) {
    const ::mote::simd::avx512::QuantizeCodes16 codes_of(p, low, high);
    std::size_t i = 0;
    for (; i + 16 <= n; i += 16)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm512_cvtusepi32_epi8(codes_of(x + i)));
    for (; i < n; ++i) out[i] = encode(::mote::quantize(x[i], p, low, high));
  }
};

}  // namespace mote::simd::avx512_vnni
#endif
