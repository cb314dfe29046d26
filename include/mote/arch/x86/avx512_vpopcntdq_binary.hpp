// AVX-512 VPOPCNTDQ primitives of the XNOR-popcount kernel (contract: kernels/dense/binary-inl.hpp):
// vpopcntd counts each row word's bits in one instruction, so no byte counts to flush. Included
// by arch/targets.hpp inside a region adding avx512vpopcntdq to AVX-512 F/BW/DQ/VL, which builds
// only the XNOR kernel; the AVX-512 one calls it when CPUID says the CPU has VPOPCNTDQ
// (CpuFeatures::avx512_vpopcntdq), and never otherwise. No machine available here has it:
// compiled, never run.
#if !defined(MOTE_ARCH_X86_AVX512_VPOPCNTDQ_BINARY)
#define MOTE_ARCH_X86_AVX512_VPOPCNTDQ_BINARY
namespace mote::simd::avx512_vpopcntdq {

struct BinaryOps {
  static constexpr std::size_t xnor_tile = 8;
  static constexpr std::size_t flush_every = std::size_t{1} << 24;  ///< int32 counts: no flush needed
  struct Group {
    __m512i v;
  };
  struct Partial {
    __m512i v;
  };
  using Counts = Partial;
  static inline __attribute__((always_inline)) Group load_group(const std::uint32_t* p) {
    return {_mm512_load_si512(p)};
  }
  static inline __attribute__((always_inline)) Partial partial_zero() { return {_mm512_setzero_si512()}; }
  static inline __attribute__((always_inline)) Counts counts_zero() { return {_mm512_setzero_si512()}; }
  static inline __attribute__((always_inline)) void add(Partial& acc, const Group& w, std::uint32_t x) {
    acc.v = _mm512_add_epi32(acc.v, _mm512_popcnt_epi32(_mm512_xor_si512(w.v, _mm512_set1_epi32(static_cast<int>(x)))));
  }
  static inline __attribute__((always_inline)) void flush(const Partial& partial, Counts& counts) {
    counts.v = _mm512_add_epi32(counts.v, partial.v);
  }
  static inline __attribute__((always_inline)) void store(const Counts& counts, std::int32_t* out) {
    _mm512_storeu_si512(out, counts.v);
  }
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
};

}  // namespace mote::simd::avx512_vpopcntdq
#endif
