// SSE4.1 int8 dot-product primitives (see kernels/dense/int8-inl.hpp for the contract). No
// include guard on purpose: included by arch/targets.hpp inside the sse4.2 target region.
// Weights are sign-extended to int16 and activations kept as int16, so pmaddwd sums two
// products of at most 128 * 255 each: exact, never the int16 saturation of pmaddubsw.
#if !defined(MOTE_ARCH_X86_SSE4_INT8)
#define MOTE_ARCH_X86_SSE4_INT8
namespace mote::simd::sse4 {

/// The 4 codes of x[0..4) as mote::quantize computes them, as int32 (see avx2_int8.hpp): shared
/// by the int8 and int4 primitives.
struct QuantizeCodes {
  __m128 scale, zero, lo, hi, nan_code;
  QuantizeCodes(const QuantParams& p, std::int32_t low, std::int32_t high)
      : scale(_mm_set1_ps(p.scale)),
        zero(_mm_set1_ps(static_cast<float>(p.zero_point))),
        lo(_mm_set1_ps(static_cast<float>(low))),
        hi(_mm_set1_ps(static_cast<float>(high))),
        nan_code(_mm_set1_ps(static_cast<float>(std::clamp(p.zero_point, low, high)))) {}
  inline __attribute__((always_inline)) __m128i operator()(const float* x) const {
    const __m128 scaled = _mm_div_ps(_mm_loadu_ps(x), scale);
    __m128 q = _mm_add_ps(_mm_round_ps(scaled, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), zero);
    q = _mm_min_ps(_mm_max_ps(q, lo), hi);
    q = _mm_blendv_ps(q, nan_code, _mm_cmpunord_ps(scaled, scaled));
    return _mm_cvttps_epi32(q);
  }
};

struct Int8Ops {
  using Act = std::int16_t;
  static constexpr std::int32_t activation_offset = 0;
  static constexpr std::size_t gemm_cols = 1;
  /// rows 2j, 2j+1: lanes (r, k01), (r, k23), (r+1, k01), (r+1, k23)
  struct Acc {
    __m128i v[8];
  };
  struct Panel {
    __m128i v[8];
  };
  static inline Act encode(std::int32_t u) noexcept { return static_cast<Act>(u); }
  static inline __attribute__((always_inline)) Acc zero() {
    Acc acc;
    for (auto& v : acc.v) v = _mm_setzero_si128();
    return acc;
  }
  static inline __attribute__((always_inline)) Panel load(const std::int8_t* group) {
    Panel panel;
    for (int j = 0; j < 8; ++j)
      panel.v[j] = _mm_cvtepi8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(group + 8 * j)));
    return panel;
  }
  static inline __attribute__((always_inline)) void madd(Acc& acc, const Panel& w, const Act* act) {
    std::int64_t pattern;
    std::memcpy(&pattern, act, sizeof(pattern));
    const __m128i a = _mm_set1_epi64x(pattern);
    for (int j = 0; j < 8; ++j) acc.v[j] = _mm_add_epi32(acc.v[j], _mm_madd_epi16(w.v[j], a));
  }
  static inline __attribute__((always_inline)) void store(const Acc& acc, std::int32_t* out) {
    for (int j = 0; j < 4; ++j)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 4 * j), _mm_hadd_epi32(acc.v[2 * j], acc.v[2 * j + 1]));
  }
  /// Quantises n floats to codes exactly as mote::quantize does (IEEE division, ties to even).
  static inline void quantize(const float* x, std::size_t n, const QuantParams& p, std::int32_t low,
                              std::int32_t high, Act* out) {
    const QuantizeCodes codes_of(p, low, high);
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm_packs_epi32(codes_of(x + i), codes_of(x + i + 4)));
    for (; i < n; ++i) out[i] = encode(::mote::quantize(x[i], p, low, high));
  }
};

}  // namespace mote::simd::sse4
#endif
