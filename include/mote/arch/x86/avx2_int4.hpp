// AVX2 int4 primitives (contract: kernels/dense/int4-inl.hpp). Offset-binary weight nibbles
// (w + 8 in [1, 15]) times signed activation codes with pmaddubsw: each int16 pair sum is at
// most 2 * 15 * 128 = 3840, and 8 of them (one 32-column block) at most 30720 < 32767, so the
// 16-bit accumulation is exact; pmaddwd by ones then widens to int32 once per block.
// Per 64 multiply-adds: an AND, a shift, an AND, two pmaddubsw and two adds (7 vector ALU
// operations, plus a load; one broadcast of 4 activation codes serves two panels). Zen 3 runs
// about 4 of them per cycle, so W3b1 (1024 x 1024) is bound by them, not by its 640 KB of
// weights and scales (about 8 us to stream). The epilogue (pmaddwd, subtract, convert, FMA: 8
// operations per 512 multiply-adds) runs per chunk of blocks, after the chunk's multiplies.
#if !defined(MOTE_ARCH_X86_AVX2_INT4)
#define MOTE_ARCH_X86_AVX2_INT4
namespace mote::simd::avx2 {

struct Int4Ops {
  /// s = quantize(x) - 128 for n values.
  static inline void centre(const float* x, std::size_t n, const QuantParams& p, std::int32_t low, std::int32_t high,
                            std::int8_t* out) {
    quantize_centred(x, n, p, low, high, out);
  }

  /// Two panels per pass: each broadcast of 4 activation codes serves 4 weight vectors (one
  /// panel: 8% slower on W3b1; three or four: slower, GCC 12 then spills).
  static constexpr std::size_t panels_per_pass = 2;
  /// Blocks whose int16 sums are kept (in L1) before they are widened and scaled.
  static constexpr std::size_t chunk_blocks = 8;

  /// F for `count` (1 to panels_per_pass) consecutive 16-row panels, a pair or one panel
  /// (Int4Packing: panel i's bytes and scales at panel_offset and scales_offset), its F at f + 16 i.
  static inline void panels(std::size_t count, const std::uint8_t* packed, const float* scales, std::size_t blocks,
                            std::size_t blocks_per_group, const std::int8_t* act, const std::int32_t* block_sums,
                            float* f, bool last_lone) {
    // A pass of 2 is a pair; a pass of 1 is an odd last panel (lone) or, from AVX-512's kernels,
    // either.
    const ::mote::Int4Packing::Strides& one = ::mote::Int4Packing::strides(last_lone);
    if (blocks_per_group == 1) {
      if (count == 2) return panels_impl<2, true>(packed, scales, blocks, 1, act, block_sums, f, ::mote::Int4Packing::paired);
      return panels_impl<1, true>(packed, scales, blocks, 1, act, block_sums, f, one);
    }
    if (count == 2)
      return panels_impl<2, false>(packed, scales, blocks, blocks_per_group, act, block_sums, f, ::mote::Int4Packing::paired);
    return panels_impl<1, false>(packed, scales, blocks, blocks_per_group, act, block_sums, f, one);
  }

  /// P panels; OneBlockGroups: Int4<32>, one block per scale group (no int32 group sums).
  template <std::size_t P, bool OneBlockGroups>
  static inline __attribute__((always_inline)) void panels_impl(const std::uint8_t* packed, const float* scales,
                                                                std::size_t blocks, std::size_t blocks_per_group,
                                                                const std::int8_t* act, const std::int32_t* block_sums,
                                                                float* f,
                                                                const ::mote::Int4Packing::Strides& step) {
    const __m256i nibble = _mm256_set1_epi8(0x0F);
    const __m256i ones = _mm256_set1_epi16(1);
    using Packing = ::mote::Int4Packing;
    const std::size_t groups = (blocks + blocks_per_group - 1) / blocks_per_group;
    __m256 sums[P][2];
    __m256i group[P][2];
#pragma GCC unroll 4
    for (std::size_t i = 0; i < P; ++i) {
      sums[i][0] = sums[i][1] = _mm256_setzero_ps();
      group[i][0] = group[i][1] = _mm256_setzero_si256();
    }
    __m256i pending[chunk_blocks][P][2];
    std::size_t in_group = 0;
    for (std::size_t first = 0; first < blocks; first += chunk_blocks) {
      const std::size_t count = std::min(chunk_blocks, blocks - first);
      // The int16 sums of `count` blocks, P panels at a time.
      for (std::size_t c = 0; c < count; ++c) {
        // Fetches the scales of the next chunk (about 0.5 us of W3b1's 13). Past a panel's last
        // group that is the next panels' (or, at the end, no object: a prefetch never faults,
        // and the address is computed as an integer, not as a pointer past the array).
#pragma GCC unroll 4
        for (std::size_t i = 0; i < P; ++i)
          _mm_prefetch(reinterpret_cast<const char*>(reinterpret_cast<std::uintptr_t>(scales) +
                                                     (Packing::scales_offset(i, groups) + (chunk_blocks + c) * step.scale_group) * sizeof(float)),
                       _MM_HINT_T0);
        const std::uint8_t* block = packed + (first + c) * step.block;
        const std::int8_t* x_codes = act + (first + c) * 32;
        __m256i acc[P][2];
#pragma GCC unroll 8
        for (std::size_t q = 0; q < 8; ++q) {
          std::int32_t pattern;
          std::memcpy(&pattern, x_codes + q * 4, sizeof(pattern));
          const __m256i x = _mm256_set1_epi32(pattern);
#pragma GCC unroll 4
          for (std::size_t i = 0; i < P; ++i) {
            const __m256i bytes = _mm256_loadu_si256(
                reinterpret_cast<const __m256i*>(block + Packing::panel_offset(i, blocks) + q * step.quad));
            const __m256i low = _mm256_maddubs_epi16(_mm256_and_si256(bytes, nibble), x);
            const __m256i high = _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(bytes, 4), nibble), x);
            acc[i][0] = q == 0 ? low : _mm256_add_epi16(acc[i][0], low);
            acc[i][1] = q == 0 ? high : _mm256_add_epi16(acc[i][1], high);
          }
          // Keeps GCC 12 from hoisting every load of the block ahead of the arithmetic (16
          // live vectors, spilled to the stack: 30% slower).
          if constexpr (P == 2)
            __asm__ volatile("" : "+x"(acc[0][0]), "+x"(acc[0][1]), "+x"(acc[1][0]), "+x"(acc[1][1]), "+r"(block));
          else
            __asm__ volatile("" : "+x"(acc[0][0]), "+x"(acc[0][1]), "+r"(block));
        }
#pragma GCC unroll 4
        for (std::size_t i = 0; i < P; ++i) {
          pending[c][i][0] = acc[i][0];
          pending[c][i][1] = acc[i][1];
        }
      }
      // Widened to int32, less 8 * (the block's activation sum), summed per group, and added
      // to F per group, in group order: after the chunk's multiplies rather than after each
      // block, where these dependency chains held up the next block's (7% on W3b1).
      for (std::size_t c = 0; c < count; ++c) {
        // 8 * sum as a broadcast load and a shift (not a scalar multiply, a move and a broadcast).
        const __m256i offset = _mm256_slli_epi32(_mm256_set1_epi32(block_sums[first + c]), 3);
#pragma GCC unroll 4
        for (std::size_t i = 0; i < P; ++i)
#pragma GCC unroll 2
          for (std::size_t h = 0; h < 2; ++h) {
            const __m256i dot = _mm256_sub_epi32(_mm256_madd_epi16(pending[c][i][h], ones), offset);
            group[i][h] = OneBlockGroups ? dot : _mm256_add_epi32(group[i][h], dot);
          }
        if (OneBlockGroups || ++in_group == blocks_per_group || first + c + 1 == blocks) {
#pragma GCC unroll 4
          for (std::size_t i = 0; i < P; ++i)
#pragma GCC unroll 2
            for (std::size_t h = 0; h < 2; ++h) {
              sums[i][h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(group[i][h]),
                                           _mm256_loadu_ps(scales + Packing::scales_offset(i, groups) + h * step.high_rows),
                                           sums[i][h]);
              group[i][h] = _mm256_setzero_si256();
            }
          scales += step.scale_group;
          in_group = 0;
        }
      }
    }
#pragma GCC unroll 4
    for (std::size_t i = 0; i < P; ++i) {
      _mm256_storeu_ps(f + 16 * i, sums[i][0]);
      _mm256_storeu_ps(f + 16 * i + 8, sums[i][1]);
    }
  }
};

}  // namespace mote::simd::avx2
#endif
