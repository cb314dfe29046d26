// AVX-512 VNNI int8 dot-product primitives (contract: kernels/dense/int8-inl.hpp): one vpdpbusd
// multiplies 16 rows x 4 columns of signed weights by 4 unsigned activation codes and adds the
// four int32 products per row without intermediate saturation (vpdpbusd, not vpdpbusds), so
// results are exact. The float side (quantisation, epilogue) is AVX-512's Int8Conversions
// (avx512_int8.hpp). No include guard on purpose: see arch/targets.hpp.
#if !defined(MOTE_ARCH_X86_AVX512_VNNI_INT8)
#define MOTE_ARCH_X86_AVX512_VNNI_INT8
namespace mote::simd::avx512_vnni {

using VecF32 = ::mote::simd::avx512::VecF32;

struct Int8Ops : ::mote::simd::avx512::Int8Conversions {
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

  /// Accumulator streams per tile (kernels/dense/int8-inl.hpp, int8_streamed_panel_tile): about
  /// 10 chains keep vpdpbusd busy (5 cycles, 2 per cycle); one sample alone, the GEMV, ran at a
  /// fifth of the rate (32 us for W3b1 on Sapphire Rapids).
  template <std::size_t Cols>
  static constexpr std::size_t tile_streams = Cols >= 8 ? 1 : Cols >= 4 ? 2 : Cols == 3 ? 3 : Cols == 2 ? 4 : 8;
  static inline __attribute__((always_inline)) void add(Acc& acc, const Acc& other) {
    acc.v = _mm512_add_epi32(acc.v, other.v);
  }
  /// The batched GEMM: `columns` samples of codes (sample c at act + c * stride) times every
  /// panel, the dots of sample c at dots + c * dots_stride. Register tiles of gemm_tile_panels
  /// panels x gemm_tile_samples samples: 24 accumulators, so that vpdpbusd's latency (5 cycles,
  /// 2 per cycle) is covered, and each group costs 4 weight loads and 6 broadcasts for 24
  /// vpdpbusd, where the 16-row x 8-sample tile paid 9 loads for 8 on 8 chains (W3b64 at 55% of
  /// the VNNI peak on Emerald Rapids, now 92%).
  static inline void gemm(const std::int8_t* panels, std::size_t panel_count, std::size_t groups,
                          const std::uint8_t* act, std::size_t stride, std::size_t columns, std::int32_t* dots,
                          std::size_t dots_stride) {
    gemm_panels(
        panels, panel_count, groups, act, stride, columns, [](std::size_t) { return Acc{_mm512_setzero_si512()}; },
        [dots, dots_stride](std::size_t p, std::size_t c, __m512i acc) {
          _mm512_storeu_si512(dots + c * dots_stride + p * 16, acc);
        });
  }
  /// gemm followed by dequantize_samples (symmetric weights), the epilogue applied to each
  /// register tile: out[c * rows + r] = activate(fma(float(dot + correction row_sums[r]),
  /// input_scale scales[r], bias[r])), the same operations lane by lane as the scalar epilogue;
  /// `activate` maps a VecF32 to a VecF32 (the float kernels' activation, which the caller
  /// passes only where it is exact lane by lane).
  /// The int32 offsets start the accumulators (wrapping addition: the same final sums). Whole
  /// panels only (rows = 16 x panel_count). Dots written and read back in a separate pass cost
  /// W5's pointwise layer more than its GEMM: the pass over 64 samples' rows at a time stored
  /// 32 bytes per sample row (docs/benchmarks.md, "A thirteenth run").
  template <class Activate>
  static inline void gemm_dequantize(const std::int8_t* panels, std::size_t panel_count, std::size_t groups,
                                     const std::uint8_t* act, std::size_t stride, std::size_t columns,
                                     const std::int32_t* row_sums, std::int32_t correction, float input_scale,
                                     const float* scales, const float* bias, float* out, Activate activate) {
    // The per-row operands in memory, a chunk of rows at a time: kept in registers (the
    // broadcast correction and scale) they left the tile none for its 24 accumulators, and GCC
    // rotated one through a copy every group.
    constexpr std::size_t chunk_rows = 512;
    alignas(64) std::int32_t offsets[chunk_rows];
    alignas(64) float multipliers[chunk_rows];
    const std::size_t rows = panel_count * 16, panel_bytes = groups * 64;
    for (std::size_t first = 0; first < rows; first += chunk_rows) {
      const std::size_t count = std::min(chunk_rows, rows - first);
      const __m512i c = _mm512_set1_epi32(correction);
      const __m512 s = _mm512_set1_ps(input_scale);
      for (std::size_t r = 0; r < count; r += 16) {
        _mm512_store_si512(offsets + r, _mm512_mullo_epi32(c, _mm512_loadu_si512(row_sums + first + r)));
        _mm512_store_ps(multipliers + r, _mm512_mul_ps(s, _mm512_loadu_ps(scales + first + r)));
      }
      // The sink by value (pointers, no references to locals): the out-of-line tile keeps its
      // copy in registers, where through references it reloaded them after every store.
      const float* chunk_multipliers = multipliers;
      const float* chunk_bias = bias + first;
      float* chunk_out = out + first;
      gemm_panels(
          panels + first / 16 * panel_bytes, count / 16, groups, act, stride, columns,
          [&](std::size_t p) { return Acc{_mm512_load_si512(offsets + p * 16)}; },
          [chunk_multipliers, chunk_bias, chunk_out, rows, activate](std::size_t p, std::size_t col, __m512i acc) {
            const std::size_t r = p * 16;
            const __m512 y = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc), _mm512_load_ps(chunk_multipliers + r),
                                             _mm512_loadu_ps(chunk_bias + r));
            _mm512_storeu_ps(chunk_out + col * rows + r, activate(VecF32{y}).v);
          });
    }
  }
  static constexpr std::size_t gemm_tile_panels = 4, gemm_tile_samples = 6;
  /// The register tiles of gemm: panels in blocks of gemm_tile_panels (a block's weights stay in
  /// cache while every sample passes), samples in blocks of gemm_tile_samples; each tile's
  /// accumulators start from offsets_of(p) (an Acc: panel p's 16 rows) and end in
  /// sink(p, sample, sums).
  template <class Offsets, class Sink>
  static inline __attribute__((always_inline)) void gemm_panels(const std::int8_t* panels, std::size_t panel_count,
                                                                std::size_t groups, const std::uint8_t* act,
                                                                std::size_t stride, std::size_t columns,
                                                                const Offsets& offsets_of, const Sink& sink) {
    std::size_t p = 0;
    for (; p + gemm_tile_panels <= panel_count; p += gemm_tile_panels)
      gemm_panel_block<gemm_tile_panels>(panels, p, groups, act, stride, columns, offsets_of, sink);
    for (; p + 2 <= panel_count; p += 2) gemm_panel_block<2>(panels, p, groups, act, stride, columns, offsets_of, sink);
    for (; p < panel_count; ++p) gemm_panel_block<1>(panels, p, groups, act, stride, columns, offsets_of, sink);
  }
  template <std::size_t Panels, class Offsets, class Sink>
  static inline __attribute__((always_inline)) void gemm_panel_block(const std::int8_t* panels, std::size_t first_panel,
                                                                     std::size_t groups, const std::uint8_t* act,
                                                                     std::size_t stride, std::size_t columns,
                                                                     const Offsets& offsets_of, const Sink& sink) {
    const std::size_t panel_bytes = groups * 64;
    const std::int8_t* block = panels + first_panel * panel_bytes;
    // In memory, not registers: the tile's 24 accumulators, 4 weights and a broadcast leave no
    // room for 4 more live vectors.
    alignas(64) std::int32_t init[Panels][16];
    for (std::size_t i = 0; i < Panels; ++i) _mm512_store_si512(init[i], offsets_of(first_panel + i).v);
    const auto tile_sink = [sink, first_panel](std::size_t i, std::size_t c, __m512i acc) __attribute__((always_inline)) {
      sink(first_panel + i, c, acc);
    };
    // Blocks of fewer panels take more samples per tile, to keep 16 to 24 accumulator chains.
    constexpr std::size_t samples = Panels >= 4 ? gemm_tile_samples : Panels == 2 ? 12 : 16;
    std::size_t c = 0;
    for (; c + samples <= columns; c += samples)
      gemm_tile<Panels, samples>(block, panel_bytes, groups, act + c * stride, stride, c, init, tile_sink);
    gemm_tile_tail<Panels, samples - 1>(block, panel_bytes, groups, act + c * stride, stride, c, columns - c, init,
                                        tile_sink);
  }
  template <std::size_t Panels, std::size_t Samples, class Sink>
  static inline __attribute__((always_inline)) void gemm_tile_tail(const std::int8_t* block, std::size_t panel_bytes,
                                                                   std::size_t groups, const std::uint8_t* act,
                                                                   std::size_t stride, std::size_t first,
                                                                   std::size_t count,
                                                                   const std::int32_t (&init)[Panels][16],
                                                                   const Sink& sink) {
    if constexpr (Samples > 0) {
      if (count == Samples) return gemm_tile<Panels, Samples>(block, panel_bytes, groups, act, stride, first, init, sink);
      gemm_tile_tail<Panels, Samples - 1>(block, panel_bytes, groups, act, stride, first, count, init, sink);
    }
  }
  /// Panels x Samples accumulators over every group; sink(panel in block, sample, sums). Out of
  /// line: inlined into the loops around it, GCC 12 kept the accumulators in memory.
  template <std::size_t Panels, std::size_t Samples, class Sink>
  [[gnu::noinline]] static void gemm_tile(const std::int8_t* block, std::size_t panel_bytes, std::size_t groups,
                                          const std::uint8_t* act, std::size_t stride, std::size_t first,
                                          const std::int32_t (&init)[Panels][16], Sink sink) {
    __m512i acc[Samples][Panels];
#pragma GCC unroll 16
    for (std::size_t c = 0; c < Samples; ++c)
#pragma GCC unroll 4
      for (std::size_t i = 0; i < Panels; ++i) acc[c][i] = _mm512_load_si512(init[i]);
    const std::int8_t* w = block;
    for (std::size_t g = 0; g < groups; ++g, w += 64) {
      __m512i weights[Panels];
#pragma GCC unroll 4
      for (std::size_t i = 0; i < Panels; ++i) weights[i] = _mm512_loadu_si512(w + i * panel_bytes);
#pragma GCC unroll 16
      for (std::size_t c = 0; c < Samples; ++c) {
        std::int32_t quad;
        std::memcpy(&quad, act + c * stride + 4 * g, sizeof(quad));
        const __m512i codes = _mm512_set1_epi32(quad);
#pragma GCC unroll 4
        for (std::size_t i = 0; i < Panels; ++i) acc[c][i] = _mm512_dpbusd_epi32(acc[c][i], codes, weights[i]);
      }
      // Pins each accumulator to one register across iterations (as AVX2's tiles).
#pragma GCC unroll 16
      for (std::size_t c = 0; c < Samples; ++c)
#pragma GCC unroll 4
        for (std::size_t i = 0; i < Panels; ++i) __asm__("" : "+v"(acc[c][i]));
    }
#pragma GCC unroll 16
    for (std::size_t c = 0; c < Samples; ++c)
#pragma GCC unroll 4
      for (std::size_t i = 0; i < Panels; ++i) sink(i, first + c, acc[c][i]);
  }
  static inline void quantize(const float* x, std::size_t n, const QuantParams& p, std::int32_t low,
                              std::int32_t high, Act* out) {
    const ::mote::simd::avx512::QuantizeCodes16 codes_of(p, low, high);
    std::size_t i = 0;
    if (low == 0 && high == 255) i = ::mote::simd::avx512::whole_range_codes(codes_of, x, n, out);
    for (; i + 16 <= n; i += 16)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm512_cvtusepi32_epi8(codes_of(x + i)));
    for (; i < n; ++i) out[i] = encode(::mote::quantize(x[i], p, low, high));
  }
};

}  // namespace mote::simd::avx512_vnni
#endif
