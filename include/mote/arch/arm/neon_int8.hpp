// AArch64 NEON int8 dot-product primitives without the dot-product extension (contract:
// kernels/dense/int8-inl.hpp): weights widened to int16 and multiplied by int16 activation
// codes with vmlal_s16 (products of at most 128 * 255: exact in int32).
#if !defined(MOTE_ARCH_ARM_NEON_INT8)
#define MOTE_ARCH_ARM_NEON_INT8
namespace mote::simd::neon {

/// Float -> code conversion shared by the NEON primitives: as mote::quantize, exactly.
inline int32x4_t quantize4(const float* x, float32x4_t scale, float32x4_t zero, float32x4_t lo, float32x4_t hi,
                           float32x4_t nan_code) {
  const float32x4_t scaled = vdivq_f32(vld1q_f32(x), scale);
  float32x4_t q = vaddq_f32(vrndnq_f32(scaled), zero);
  q = vminq_f32(vmaxq_f32(q, lo), hi);
  q = vbslq_f32(vceqq_f32(scaled, scaled), q, nan_code);
  return vcvtq_s32_f32(q);
}

/// Codes u - 128 as int8 (mote::quantize minus 128, exactly): the centred codes that the
/// dot-product int8 kernel (neon_dotprod_int8.hpp) and the int4 kernel (neon_int4.hpp) multiply.
inline void quantize_centred(const float* x, std::size_t n, const QuantParams& p, std::int32_t low, std::int32_t high,
                             std::int8_t* out) {
  const float32x4_t scale = vdupq_n_f32(p.scale), zero = vdupq_n_f32(static_cast<float>(p.zero_point));
  const float32x4_t lo = vdupq_n_f32(static_cast<float>(low)), hi = vdupq_n_f32(static_cast<float>(high));
  const float32x4_t nan_code = vdupq_n_f32(static_cast<float>(std::clamp(p.zero_point, low, high)));
  const int32x4_t offset = vdupq_n_s32(128);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const int32x4_t a = vsubq_s32(quantize4(x + i, scale, zero, lo, hi, nan_code), offset);
    const int32x4_t b = vsubq_s32(quantize4(x + i + 4, scale, zero, lo, hi, nan_code), offset);
    vst1_s8(out + i, vmovn_s16(vcombine_s16(vmovn_s32(a), vmovn_s32(b))));
  }
  for (; i < n; ++i) out[i] = static_cast<std::int8_t>(::mote::quantize(x[i], p, low, high) - 128);
}

struct Int8Ops {
  using Act = std::int16_t;
  static constexpr std::int32_t activation_offset = 0;
  static constexpr std::size_t gemm_cols = 1;
  /// one register per row: lane i holds the products of column k = 4g + i
  struct Acc {
    int32x4_t v[16];
  };
  struct Panel {
    int16x8_t v[8];  ///< rows 2j and 2j+1
  };
  static inline Act encode(std::int32_t u) noexcept { return static_cast<Act>(u); }
  static inline __attribute__((always_inline)) Acc zero() {
    Acc acc;
    for (auto& v : acc.v) v = vdupq_n_s32(0);
    return acc;
  }
  static inline __attribute__((always_inline)) Panel load(const std::int8_t* group) {
    Panel panel;
    for (int j = 0; j < 4; ++j) {
      const int8x16_t bytes = vld1q_s8(group + 16 * j);
      panel.v[2 * j] = vmovl_s8(vget_low_s8(bytes));
      panel.v[2 * j + 1] = vmovl_s8(vget_high_s8(bytes));
    }
    return panel;
  }
  static inline __attribute__((always_inline)) void madd(Acc& acc, const Panel& w, const Act* act) {
    const int16x4_t a = vld1_s16(act);
    for (int j = 0; j < 8; ++j) {
      acc.v[2 * j] = vmlal_s16(acc.v[2 * j], vget_low_s16(w.v[j]), a);
      acc.v[2 * j + 1] = vmlal_s16(acc.v[2 * j + 1], vget_high_s16(w.v[j]), a);
    }
  }
  static inline __attribute__((always_inline)) void store(const Acc& acc, std::int32_t* out) {
    for (int r = 0; r < 16; r += 4) {
      const int32x4_t s01 = vpaddq_s32(acc.v[r], acc.v[r + 1]);
      const int32x4_t s23 = vpaddq_s32(acc.v[r + 2], acc.v[r + 3]);
      vst1q_s32(out + r, vpaddq_s32(s01, s23));
    }
  }
  static inline void quantize(const float* x, std::size_t n, const QuantParams& p, std::int32_t low,
                              std::int32_t high, Act* out) {
    const float32x4_t scale = vdupq_n_f32(p.scale), zero = vdupq_n_f32(static_cast<float>(p.zero_point));
    const float32x4_t lo = vdupq_n_f32(static_cast<float>(low)), hi = vdupq_n_f32(static_cast<float>(high));
    const float32x4_t nan_code = vdupq_n_f32(static_cast<float>(std::clamp(p.zero_point, low, high)));
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) vst1_s16(out + i, vmovn_s32(quantize4(x + i, scale, zero, lo, hi, nan_code)));
    for (; i < n; ++i) out[i] = encode(::mote::quantize(x[i], p, low, high));
  }
};

}  // namespace mote::simd::neon
#endif
