// AVX-512 VNNI int8 dot-product primitives (contract: kernels/dense/int8-inl.hpp): one vpdpbusd
// multiplies 16 rows x 4 columns of signed weights by 4 unsigned activation codes and adds the
// four int32 products per row without intermediate saturation (vpdpbusd, not vpdpbusds), so
// results are exact. No include guard on purpose: see arch/targets.hpp.
#if !defined(MOTE_ARCH_X86_AVX512_VNNI_INT8)
#define MOTE_ARCH_X86_AVX512_VNNI_INT8
namespace mote::simd::avx512_vnni {

using VecF32 = ::mote::simd::avx512::VecF32;

struct Int8Ops {
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
  static inline void quantize(const float* x, std::size_t n, const QuantParams& p, std::int32_t low,
                              std::int32_t high, Act* out) {
    const __m512 scale = _mm512_set1_ps(p.scale), zero = _mm512_set1_ps(static_cast<float>(p.zero_point));
    const __m512 lo = _mm512_set1_ps(static_cast<float>(low)), hi = _mm512_set1_ps(static_cast<float>(high));
    const __m512 nan_code = _mm512_set1_ps(static_cast<float>(std::clamp(p.zero_point, low, high)));
    std::size_t i = 0;
    for (; i + 16 <= n; i += 16)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                       _mm512_cvtusepi32_epi8(::mote::simd::avx512::quantize16(x + i, scale, zero, lo, hi, nan_code)));
    for (; i < n; ++i) out[i] = encode(::mote::quantize(x[i], p, low, high));
  }
};

}  // namespace mote::simd::avx512_vnni
#endif
