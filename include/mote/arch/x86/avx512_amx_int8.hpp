// AMX-INT8 GEMM (contract: kernels/dense/int8-inl.hpp, gemm_tiles): the AVX-512 VNNI primitive
// set plus a GEMM on tiles for every full block of 16 samples. One tdpbusd multiplies a 16 x 64
// tile of unsigned activation codes (16 samples, 64 input columns) by a 16 x 64 tile of signed
// weights (16 groups of the panel layout, which is AMX's "VNNI" B layout as it stands: each
// 64-byte group holds 4 consecutive columns of 16 rows) into 16 x 16 int32 sums, 16,384
// multiply-adds, with vpdpbusd's semantics (no intermediate saturation): exact, bit-identical to
// the VNNI kernels. Samples below a multiple of 16 (and every GEMV) run the VNNI microkernel.
//
// The tile instructions are written as inline asm with "memory" clobbers: GCC 12's intrinsics
// (amxtileintrin.h) tell the compiler nothing about the memory a tile load reads or a tile
// store writes. AT&T syntax, which GCC and Clang both accept. No include guard on purpose: see
// arch/targets.hpp.
#if !defined(MOTE_ARCH_X86_AVX512_AMX_INT8)
#define MOTE_ARCH_X86_AVX512_AMX_INT8
namespace mote::simd::avx512_amx {

using VecF32 = ::mote::simd::avx512::VecF32;

#define MOTE_AMX_ZERO(t) __asm__ volatile("tilezero %%tmm" #t ::: "memory")
#define MOTE_AMX_LOAD(t, base, stride) \
  __asm__ volatile("tileloadd (%0,%1,1), %%tmm" #t ::"r"(base), "r"(static_cast<long>(stride)) : "memory")
#define MOTE_AMX_STORE(t, base, stride) \
  __asm__ volatile("tilestored %%tmm" #t ", (%0,%1,1)" ::"r"(base), "r"(static_cast<long>(stride)) : "memory")
// AT&T order: the weights (B), the activations (A), the sums.
#define MOTE_AMX_DPBUSD(c, a, b) __asm__ volatile("tdpbusd %%tmm" #b ", %%tmm" #a ", %%tmm" #c ::: "memory")

/// The 64-byte operand of ldtilecfg (palette 1): bytes per row and rows of each of the 8 tiles.
struct alignas(64) TileConfig {
  std::uint8_t palette = 1;
  std::uint8_t start_row = 0;
  std::uint8_t reserved[14] = {};
  std::uint16_t bytes_per_row[16] = {};
  std::uint8_t rows[16] = {};
};
static_assert(sizeof(TileConfig) == 64, "ldtilecfg reads exactly 64 bytes");

struct Int8Ops : ::mote::simd::avx512_vnni::Int8Ops {
  /// Samples per tile row block.
  static constexpr std::size_t tile_samples = 16;

  /// dots of samples [0, done) for every panel, where done is `batch` rounded down to 16; the
  /// rest is the caller's. Sample s's codes at act + s * stride, its dots at dots + s * dots_stride
  /// (panel p's 16 rows from p * 16). Tiles: sums 0-3 (2 sample blocks x 2 panels), activations
  /// 4-5, weights 6-7. A step covers up to 64 input columns: the largest power-of-two number of
  /// groups (at most 16) that divides `groups`, so that every step has one tile shape.
  static inline std::size_t gemm_tiles(const std::int8_t* panels, std::size_t panel_count, std::size_t groups,
                                       const Act* act, std::size_t stride, std::size_t batch, std::int32_t* dots,
                                       std::size_t dots_stride) {
    const std::size_t done = batch / tile_samples * tile_samples;
    if (done == 0 || groups == 0) return 0;
    std::size_t step = 16;
    while (groups % step != 0) step /= 2;
    TileConfig config;
    for (int t = 0; t < 4; ++t) {
      config.rows[t] = tile_samples;
      config.bytes_per_row[t] = 64;
    }
    for (int t = 4; t < 6; ++t) {
      config.rows[t] = tile_samples;
      config.bytes_per_row[t] = static_cast<std::uint16_t>(step * 4);
    }
    for (int t = 6; t < 8; ++t) {
      config.rows[t] = static_cast<std::uint8_t>(step);
      config.bytes_per_row[t] = 64;
    }
    __asm__ volatile("ldtilecfg %0" ::"m"(config) : "memory");
    const Operands operands{panels, groups * 64, groups, step, act, stride, dots, dots_stride};
    for (std::size_t s = 0; s < done; s += 2 * tile_samples) {
      const bool two_blocks = s + 2 * tile_samples <= done;
      std::size_t p = 0;
      for (; p + 2 <= panel_count; p += 2) {
        if (two_blocks) block<2, 2>(operands, s, p);
        else block<1, 2>(operands, s, p);
      }
      if (p < panel_count) {
        if (two_blocks) block<2, 1>(operands, s, p);
        else block<1, 1>(operands, s, p);
      }
    }
    __asm__ volatile("tilerelease" ::: "memory");
    return done;
  }

 private:
  struct Operands {
    const std::int8_t* panels;
    std::size_t panel_bytes, groups, step;
    const Act* act;
    std::size_t stride;
    std::int32_t* dots;
    std::size_t dots_stride;
  };
  /// Samples [s, s + 16 Blocks) times panels [p, p + Panels).
  template <int Blocks, int Panels>
  static inline __attribute__((always_inline)) void block(const Operands& o, std::size_t s, std::size_t p) {
    MOTE_AMX_ZERO(0);
    if constexpr (Panels == 2) MOTE_AMX_ZERO(1);
    if constexpr (Blocks == 2) MOTE_AMX_ZERO(2);
    if constexpr (Blocks == 2 && Panels == 2) MOTE_AMX_ZERO(3);
    const Act* a0 = o.act + s * o.stride;
    const Act* a1 = a0 + tile_samples * o.stride;
    const std::int8_t* w0 = o.panels + p * o.panel_bytes;
    const std::int8_t* w1 = w0 + o.panel_bytes;
    for (std::size_t g = 0; g < o.groups; g += o.step) {
      MOTE_AMX_LOAD(4, a0 + g * 4, o.stride);
      MOTE_AMX_LOAD(6, w0 + g * 64, 64);
      MOTE_AMX_DPBUSD(0, 4, 6);
      if constexpr (Panels == 2) {
        MOTE_AMX_LOAD(7, w1 + g * 64, 64);
        MOTE_AMX_DPBUSD(1, 4, 7);
      }
      if constexpr (Blocks == 2) {
        MOTE_AMX_LOAD(5, a1 + g * 4, o.stride);
        MOTE_AMX_DPBUSD(2, 5, 6);
        if constexpr (Panels == 2) MOTE_AMX_DPBUSD(3, 5, 7);
      }
    }
    const std::size_t row_bytes = o.dots_stride * sizeof(std::int32_t);
    std::int32_t* d0 = o.dots + s * o.dots_stride + p * 16;
    std::int32_t* d1 = d0 + tile_samples * o.dots_stride;
    MOTE_AMX_STORE(0, d0, row_bytes);
    if constexpr (Panels == 2) MOTE_AMX_STORE(1, d0 + 16, row_bytes);
    if constexpr (Blocks == 2) MOTE_AMX_STORE(2, d1, row_bytes);
    if constexpr (Blocks == 2 && Panels == 2) MOTE_AMX_STORE(3, d1 + 16, row_bytes);
  }
};

#undef MOTE_AMX_ZERO
#undef MOTE_AMX_LOAD
#undef MOTE_AMX_STORE
#undef MOTE_AMX_DPBUSD

}  // namespace mote::simd::avx512_amx
#endif
