#pragma once
// gzip (RFC 1952) decoding: all header flags, CRC-32 and length checks, concatenated members.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mote/core/error.hpp"
#include "mote/io/crc32.hpp"
#include "mote/io/file.hpp"
#include "mote/io/inflate.hpp"

namespace mote::io {

/// True when `bytes` starts with the gzip magic number 1f 8b.
inline bool is_gzip(std::span<const std::byte> bytes) noexcept {
  return bytes.size() >= 2 && bytes[0] == std::byte{0x1f} && bytes[1] == std::byte{0x8b};
}

/// Decompresses gzip data (one member or several concatenated, as `cat a.gz b.gz` makes).
/// Header CRCs (FHCRC), the CRC-32 and the length of every member are verified; bytes after the
/// last member are an error. `source` names the data in messages; the result may hold at most
/// `max_output` bytes (ErrorCode::invalid_value beyond).
inline Expected<std::vector<std::byte>> try_gunzip(
    std::span<const std::byte> data, std::string_view source = "gzip data",
    std::size_t max_output = default_max_decompressed_size) {
  using detail::load_le16;
  using detail::load_le32;
  const std::string src(source);
  auto fail = [&](ErrorCode code, std::size_t offset, const std::string& why) {
    return make_error(code, src + ": at byte " + std::to_string(offset) + ": " + why);
  };

  std::vector<std::byte> out;
  std::size_t pos = 0;
  int member = 0;
  do {
    const std::size_t start = pos;
    // Judge the magic on whatever is there first, so that garbage shorter than a header is
    // called garbage rather than a truncated member.
    const std::size_t rest = data.size() - pos;
    const bool magic_ok =
        (rest == 0 && member == 0) || (rest >= 1 && data[pos] == std::byte{0x1f} &&
                                       (rest == 1 || data[pos + 1] == std::byte{0x8b}));
    if (!magic_ok) {
      return fail(ErrorCode::corrupt, pos,
                  member == 0 ? std::string("not gzip data (expected magic bytes 1f 8b)")
                              : "unexpected bytes after gzip member " + std::to_string(member));
    }
    if (rest < 10) {
      return fail(ErrorCode::truncated, pos,
                  "a gzip header needs 10 bytes, only " + std::to_string(rest) + " remain");
    }
    const unsigned method = std::to_integer<unsigned>(data[pos + 2]);
    const unsigned flags = std::to_integer<unsigned>(data[pos + 3]);
    if (method != 8) {
      return fail(ErrorCode::unsupported, pos + 2,
                  "compression method " + std::to_string(method) + " (only 8, deflate, exists)");
    }
    if ((flags & 0xE0u) != 0) {
      return fail(ErrorCode::corrupt, pos + 3,
                  "reserved header flag bits are set (flags " + std::to_string(flags) + ")");
    }
    pos += 10;
    if (flags & 0x04u) {  // FEXTRA
      if (data.size() - pos < 2)
        return fail(ErrorCode::truncated, pos, "input ends in FEXTRA length");
      const std::size_t xlen = load_le16(data, pos);
      pos += 2;
      if (data.size() - pos < xlen) {
        return fail(ErrorCode::truncated, pos,
                    "FEXTRA field of " + std::to_string(xlen) + " bytes runs past the end");
      }
      pos += xlen;
    }
    for (const unsigned flag : {0x08u, 0x10u}) {  // FNAME, FCOMMENT: zero-terminated strings
      if ((flags & flag) == 0) continue;
      while (pos < data.size() && data[pos] != std::byte{0}) ++pos;
      if (pos == data.size()) {
        return fail(ErrorCode::truncated, pos,
                    flag == 0x08u ? "unterminated file name" : "unterminated comment");
      }
      ++pos;
    }
    if (flags & 0x02u) {  // FHCRC: low 16 bits of the CRC-32 of the header so far
      if (data.size() - pos < 2) return fail(ErrorCode::truncated, pos, "input ends in header CRC");
      const std::uint32_t expected = load_le16(data, pos);
      const std::uint32_t actual = crc32(data.subspan(start, pos - start)) & 0xFFFFu;
      if (expected != actual) {
        return fail(ErrorCode::corrupt, pos,
                    "header CRC mismatch (stored " + std::to_string(expected) + ", computed " +
                        std::to_string(actual) + ")");
      }
      pos += 2;
    }

    auto inflated =
        try_inflate_prefix(data.subspan(pos), max_output - out.size(),
                           src + " (deflate data of gzip member " + std::to_string(member + 1) +
                               " starts at byte " + std::to_string(pos) + ")");
    if (!inflated) return inflated.error();
    pos += inflated->consumed;
    if (data.size() - pos < 8) {
      return fail(ErrorCode::truncated, pos,
                  "the 8-byte gzip trailer (CRC-32, length) is missing or cut short");
    }
    const std::uint32_t stored_crc = load_le32(data, pos);
    const std::uint32_t stored_size = load_le32(data, pos + 4);
    const std::uint32_t actual_crc = crc32(inflated->bytes);
    if (stored_crc != actual_crc) {
      return fail(ErrorCode::corrupt, pos,
                  "CRC-32 mismatch in gzip member " + std::to_string(member + 1) + " (stored " +
                      std::to_string(stored_crc) + ", computed " + std::to_string(actual_crc) +
                      ")");
    }
    const auto actual_size = static_cast<std::uint32_t>(inflated->bytes.size());
    if (stored_size != actual_size) {
      return fail(ErrorCode::corrupt, pos + 4,
                  "length mismatch in gzip member " + std::to_string(member + 1) +
                      " (stored size mod 2^32 is " + std::to_string(stored_size) +
                      ", decompressed " + std::to_string(inflated->bytes.size()) + " bytes)");
    }
    pos += 8;
    if (out.empty()) {
      out = std::move(inflated->bytes);
    } else {
      out.insert(out.end(), inflated->bytes.begin(), inflated->bytes.end());
    }
    ++member;
  } while (pos < data.size());
  return out;
}

/// Reads and decompresses a gzip file; see try_gunzip.
inline Expected<std::vector<std::byte>> try_read_gzip_file(
    const std::string& path, std::size_t max_output = default_max_decompressed_size) {
  auto bytes = try_read_file_bytes(path);
  if (!bytes) return bytes.error();
  return try_gunzip(*bytes, path, max_output);
}

#if MOTE_HAS_EXCEPTIONS
/// Throwing form of try_gunzip.
inline std::vector<std::byte> gunzip(std::span<const std::byte> data,
                                     std::string_view source = "gzip data",
                                     std::size_t max_output = default_max_decompressed_size) {
  return value_or_throw(try_gunzip(data, source, max_output));
}

/// Throwing form of try_read_gzip_file.
inline std::vector<std::byte> read_gzip_file(
    const std::string& path, std::size_t max_output = default_max_decompressed_size) {
  return value_or_throw(try_read_gzip_file(path, max_output));
}
#endif

}  // namespace mote::io
