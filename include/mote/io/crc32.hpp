#pragma once
// CRC-32 as used by zip, gzip and PNG (reflected polynomial 0xEDB88320).

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace mote::io {

namespace detail {

// Table k maps a byte to its CRC contribution k bytes further on, so the main loop can fold
// eight bytes per step ("slicing-by-8"): about 5x faster than one table lookup per byte, which
// matters when verifying tens of megabytes of decompressed data.
inline constexpr std::array<std::array<std::uint32_t, 256>, 8> make_crc32_tables() noexcept {
  std::array<std::array<std::uint32_t, 256>, 8> t{};
  for (std::uint32_t n = 0; n < 256; ++n) {
    std::uint32_t c = n;
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[0][n] = c;
  }
  for (std::size_t k = 1; k < 8; ++k) {
    for (std::size_t n = 0; n < 256; ++n) t[k][n] = (t[k - 1][n] >> 8) ^ t[0][t[k - 1][n] & 0xFFu];
  }
  return t;
}

inline constexpr std::array<std::array<std::uint32_t, 256>, 8> crc32_tables = make_crc32_tables();

}  // namespace detail

/// Extends `crc` (the CRC-32 of earlier bytes, 0 for none) with `data`; same convention as
/// zlib's crc32(), so crc32_update(crc32_update(0, a), b) == crc32 of a followed by b.
inline constexpr std::uint32_t crc32_update(std::uint32_t crc,
                                            std::span<const std::byte> data) noexcept {
  const auto& t = detail::crc32_tables;
  crc = ~crc;
  std::size_t i = 0;
  for (; i + 8 <= data.size(); i += 8) {
    auto b = [&](std::size_t k) { return std::to_integer<std::uint32_t>(data[i + k]); };
    const std::uint32_t lo = crc ^ (b(0) | (b(1) << 8) | (b(2) << 16) | (b(3) << 24));
    crc = t[7][lo & 0xFFu] ^ t[6][(lo >> 8) & 0xFFu] ^ t[5][(lo >> 16) & 0xFFu] ^ t[4][lo >> 24] ^
          t[3][b(4)] ^ t[2][b(5)] ^ t[1][b(6)] ^ t[0][b(7)];
  }
  for (; i < data.size(); ++i) {
    crc = t[0][(crc ^ std::to_integer<std::uint32_t>(data[i])) & 0xFFu] ^ (crc >> 8);
  }
  return ~crc;
}

/// CRC-32 of `data`.
inline constexpr std::uint32_t crc32(std::span<const std::byte> data) noexcept {
  return crc32_update(0, data);
}

}  // namespace mote::io
