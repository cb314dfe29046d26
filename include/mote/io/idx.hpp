#pragma once
// The IDX format of MNIST and Fashion-MNIST: a big-endian header (two zero bytes, a type code,
// a dimension count, 32-bit dimensions) followed by the values. Only unsigned bytes (type 0x08)
// are read; gzip-compressed files are decompressed transparently.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mote/core/error.hpp"
#include "mote/io/file.hpp"
#include "mote/io/gzip.hpp"

namespace mote::io {

/// An IDX array of unsigned bytes: `values` holds the product of `dims` elements in C order.
struct IdxData {
  std::vector<std::size_t> dims;
  std::vector<std::uint8_t> values;
};

namespace detail {

inline Expected<IdxData> parse_raw_idx(std::span<const std::byte> bytes, const std::string& src) {
  auto fail = [&](ErrorCode code, const std::string& why) {
    return make_error(code, src + ": " + why);
  };
  if (bytes.size() < 4) return fail(ErrorCode::truncated, "shorter than the 4-byte IDX magic");
  if (bytes[0] != std::byte{0} || bytes[1] != std::byte{0}) {
    return fail(ErrorCode::corrupt, "not an IDX file (bytes 0-1 must be zero)");
  }
  const unsigned type = std::to_integer<unsigned>(bytes[2]);
  const std::size_t ndims = std::to_integer<std::size_t>(bytes[3]);
  if (type != 0x08) {
    const bool known = type == 0x09 || type == 0x0B || type == 0x0C || type == 0x0D || type == 0x0E;
    return fail(known ? ErrorCode::unsupported : ErrorCode::corrupt,
                "element type code " + std::to_string(type) + " at byte 2" +
                    (known ? " is not supported (only 8, unsigned byte)" : " is not an IDX type"));
  }
  if (bytes.size() - 4 < 4 * ndims) {
    return fail(ErrorCode::truncated, "input ends inside the " + std::to_string(ndims) +
                                          " dimension sizes that start at byte 4");
  }
  IdxData out;
  out.dims.reserve(ndims);
  std::size_t count = 1;
  for (std::size_t i = 0; i < ndims; ++i) {
    const std::size_t d = detail::load_be32(bytes, 4 + 4 * i);
    if (d != 0 && count > SIZE_MAX / d) return fail(ErrorCode::corrupt, "dimensions overflow");
    count *= d;
    out.dims.push_back(d);
  }
  const std::size_t data_at = 4 + 4 * ndims;
  const std::size_t available = bytes.size() - data_at;
  if (count != available) {
    std::string dims = "[";
    for (std::size_t i = 0; i < ndims; ++i) dims += (i ? ", " : "") + std::to_string(out.dims[i]);
    return fail(count > available ? ErrorCode::truncated : ErrorCode::corrupt,
                "dimensions " + dims + "] need " + std::to_string(count) +
                    " bytes of data after byte " + std::to_string(data_at) + ", found " +
                    std::to_string(available));
  }
  out.values.resize(count);
  if (count != 0) std::memcpy(out.values.data(), bytes.data() + data_at, count);
  return out;
}

}  // namespace detail

/// Parses IDX data held in memory (gzip-compressed or raw); `source` names it in messages.
inline Expected<IdxData> try_parse_idx(std::span<const std::byte> bytes,
                                       std::string_view source = "idx data") {
  const std::string src(source);
  if (!is_gzip(bytes)) return detail::parse_raw_idx(bytes, src);
  // Decompress once only: gzip data can decompress to itself (gzip quines), so recursing on
  // the result could never end.
  auto raw = try_gunzip(bytes, source);
  if (!raw) return raw.error();
  return detail::parse_raw_idx(*raw, src + " (decompressed)");
}

/// Reads an IDX file, gunzipping it first when it starts with the gzip magic.
inline Expected<IdxData> try_read_idx(const std::string& path) {
  auto bytes = try_read_file_bytes(path);
  if (!bytes) return bytes.error();
  return try_parse_idx(*bytes, path);
}

#if MOTE_HAS_EXCEPTIONS
/// Throwing form of try_parse_idx.
inline IdxData parse_idx(std::span<const std::byte> bytes, std::string_view source = "idx data") {
  return value_or_throw(try_parse_idx(bytes, source));
}

/// Throwing form of try_read_idx.
inline IdxData read_idx(const std::string& path) { return value_or_throw(try_read_idx(path)); }
#endif

}  // namespace mote::io
