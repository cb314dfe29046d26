// AArch64 NEON codebook lookup primitives (contract: kernels/dense/codebook-inl.hpp).
// The table (zero-padded to 16 entries) is held as 4 byte planes (vld4q_u8: plane b = byte b of
// every entry); vqtbl1q_u8 looks up byte b of the chunk's 16 weights in plane b, and two rounds
// of vzip put the bytes back together as 4 vectors of 4 floats. Index bytes: each index's 16-bit
// window gathered by vqtbl1q_u8, shifted right per lane (vshlq_u16 by a negative count), low
// bytes kept (vuzp1q_u8) and masked.
#if !defined(MOTE_ARCH_ARM_NEON_CODEBOOK)
#define MOTE_ARCH_ARM_NEON_CODEBOOK
namespace mote::simd::neon {

template <std::size_t Bits>
struct CodebookOps {
  static constexpr std::size_t gemv_rows = 4;
  static constexpr std::size_t gemm_rows = 4;
  static constexpr std::size_t gemm_samples = 3;
  struct Table {
    uint8x16x4_t planes;
  };
  static inline __attribute__((always_inline)) Table prepare(const float* entries) {
    float padded[16] = {};
    std::memcpy(padded, entries, (std::size_t{1} << Bits) * sizeof(float));
    return {vld4q_u8(reinterpret_cast<const std::uint8_t*>(padded))};
  }
  /// The 16 weights of a chunk, in column order: w[j] columns 4j..4j+3.
  static inline __attribute__((always_inline)) void lookup(const Table& table, const std::uint8_t* chunk,
                                                           VecF32 (&w)[4]) {
    static constexpr Constants c = constants();
    const uint8x16_t bytes = vcombine_u8(vld1_u8(chunk), vdup_n_u8(0));
    const uint16x8_t low = vshlq_u16(vreinterpretq_u16_u8(vqtbl1q_u8(bytes, vld1q_u8(c.window))), vld1q_s16(c.shift));
    const uint16x8_t high =
        vshlq_u16(vreinterpretq_u16_u8(vqtbl1q_u8(bytes, vld1q_u8(c.window + 16))), vld1q_s16(c.shift + 8));
    const uint8x16_t index = vandq_u8(vuzp1q_u8(vreinterpretq_u8_u16(low), vreinterpretq_u8_u16(high)),
                                      vdupq_n_u8(static_cast<std::uint8_t>((1u << Bits) - 1u)));
    const uint8x16_t b0 = vqtbl1q_u8(table.planes.val[0], index), b1 = vqtbl1q_u8(table.planes.val[1], index);
    const uint8x16_t b2 = vqtbl1q_u8(table.planes.val[2], index), b3 = vqtbl1q_u8(table.planes.val[3], index);
    const uint16x8_t low01 = vreinterpretq_u16_u8(vzip1q_u8(b0, b1)), high01 = vreinterpretq_u16_u8(vzip2q_u8(b0, b1));
    const uint16x8_t low23 = vreinterpretq_u16_u8(vzip1q_u8(b2, b3)), high23 = vreinterpretq_u16_u8(vzip2q_u8(b2, b3));
    w[0] = {vreinterpretq_f32_u16(vzip1q_u16(low01, low23))};
    w[1] = {vreinterpretq_f32_u16(vzip2q_u16(low01, low23))};
    w[2] = {vreinterpretq_f32_u16(vzip1q_u16(high01, high23))};
    w[3] = {vreinterpretq_f32_u16(vzip2q_u16(high01, high23))};
  }

 private:
  /// Table lookup controls (16-bit lane i: the two bytes from the one holding index i) and the
  /// negative shift counts that bring each index down to bit 0.
  struct Constants {
    std::uint8_t window[32];
    std::int16_t shift[16];
  };
  static constexpr Constants constants() noexcept {
    Constants c{};
    for (int i = 0; i < 16; ++i) {
      const int byte = ::mote::detail::codebook_index_byte(Bits, i);
      c.window[2 * i] = static_cast<std::uint8_t>(byte);
      c.window[2 * i + 1] = static_cast<std::uint8_t>(byte + 1);
      c.shift[i] = static_cast<std::int16_t>(-::mote::detail::codebook_index_shift(Bits, i));
    }
    return c;
  }
};

}  // namespace mote::simd::neon
#endif
