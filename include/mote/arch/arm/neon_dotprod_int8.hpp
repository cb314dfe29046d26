// AArch64 NEON dot-product (ARMv8.2 sdot) int8 primitives (contract: kernels/dense/int8-inl.hpp).
// sdot multiplies signed by signed bytes, so activation codes u in [0, 255] are stored as
// u - 128 (activation_offset = 128) and the kernel adds 128 * row_sum back: exact.
// Included by arch/targets.hpp inside a "+dotprod" target region.
#if !defined(MOTE_ARCH_ARM_NEON_DOTPROD_INT8)
#define MOTE_ARCH_ARM_NEON_DOTPROD_INT8
namespace mote::simd::neon_dotprod {

using VecF32 = ::mote::simd::neon::VecF32;

struct Int8Ops {
  using Act = std::int8_t;
  static constexpr std::int32_t activation_offset = 128;
  static constexpr std::size_t gemm_cols = 4;
  struct Acc {
    int32x4_t v[4];  ///< rows 4j..4j+3
  };
  struct Panel {
    int8x16_t v[4];
  };
  static inline Act encode(std::int32_t u) noexcept { return static_cast<Act>(u - 128); }
  static inline __attribute__((always_inline)) Acc zero() {
    return {{vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)}};
  }
  static inline __attribute__((always_inline)) Panel load(const std::int8_t* group) {
    return {{vld1q_s8(group), vld1q_s8(group + 16), vld1q_s8(group + 32), vld1q_s8(group + 48)}};
  }
  static inline __attribute__((always_inline)) void madd(Acc& acc, const Panel& w, const Act* act) {
    std::int32_t pattern;
    std::memcpy(&pattern, act, sizeof(pattern));
    const int8x16_t a = vreinterpretq_s8_s32(vdupq_n_s32(pattern));
    for (int j = 0; j < 4; ++j) acc.v[j] = vdotq_s32(acc.v[j], w.v[j], a);
  }
  static inline __attribute__((always_inline)) void store(const Acc& acc, std::int32_t* out) {
    for (int j = 0; j < 4; ++j) vst1q_s32(out + 4 * j, acc.v[j]);
  }
  static inline void quantize(const float* x, std::size_t n, const QuantParams& p, std::int32_t low,
                              std::int32_t high, Act* out) {
    ::mote::simd::neon::quantize_centred(x, n, p, low, high, out);
  }
};

}  // namespace mote::simd::neon_dotprod
#endif
