#pragma once
// Whole-file reading and the bounds-checked little/big-endian field access every reader uses.

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "mote/core/error.hpp"

namespace mote::io {

namespace detail {

// Callers check `offset + N <= bytes.size()` first; these only assemble the value so that the
// result does not depend on the host's byte order.
inline std::uint16_t load_le16(std::span<const std::byte> b, std::size_t offset) noexcept {
  return static_cast<std::uint16_t>(std::to_integer<unsigned>(b[offset]) |
                                    (std::to_integer<unsigned>(b[offset + 1]) << 8));
}

inline std::uint32_t load_le32(std::span<const std::byte> b, std::size_t offset) noexcept {
  return static_cast<std::uint32_t>(load_le16(b, offset)) |
         (static_cast<std::uint32_t>(load_le16(b, offset + 2)) << 16);
}

inline std::uint64_t load_le64(std::span<const std::byte> b, std::size_t offset) noexcept {
  return static_cast<std::uint64_t>(load_le32(b, offset)) |
         (static_cast<std::uint64_t>(load_le32(b, offset + 4)) << 32);
}

inline std::uint32_t load_be32(std::span<const std::byte> b, std::size_t offset) noexcept {
  return (std::to_integer<std::uint32_t>(b[offset]) << 24) |
         (std::to_integer<std::uint32_t>(b[offset + 1]) << 16) |
         (std::to_integer<std::uint32_t>(b[offset + 2]) << 8) |
         std::to_integer<std::uint32_t>(b[offset + 3]);
}

// True when [offset, offset + length) lies inside a buffer of `size` bytes; written so that
// attacker-controlled 64-bit values cannot overflow the check.
inline bool in_bounds(std::uint64_t size, std::uint64_t offset, std::uint64_t length) noexcept {
  return offset <= size && length <= size - offset;
}

}  // namespace detail

/// Reads a whole file into memory. Fails with ErrorCode::io naming `path` and the OS reason,
/// or with ErrorCode::invalid_value when the file is larger than `max_size` bytes.
inline Expected<std::vector<std::byte>> try_read_file_bytes(const std::string& path,
                                                            std::size_t max_size = SIZE_MAX) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    const int err = errno;
    return make_error(ErrorCode::io, "cannot open '" + path + "': " +
                                         std::error_code(err, std::generic_category()).message());
  }
  // Read in chunks rather than asking for the size first: works for pipes and special files,
  // and needs no 64-bit ftell.
  std::vector<std::byte> bytes;
  constexpr std::size_t chunk = std::size_t{1} << 16;
  for (;;) {
    const std::size_t old_size = bytes.size();
    bytes.resize(old_size + chunk);
    const std::size_t got = std::fread(bytes.data() + old_size, 1, chunk, file);
    bytes.resize(old_size + got);
    if (bytes.size() > max_size) {
      std::fclose(file);
      return make_error(ErrorCode::invalid_value, "'" + path + "' is larger than the limit of " +
                                                      std::to_string(max_size) + " bytes");
    }
    if (got < chunk) break;
  }
  const bool failed = std::ferror(file) != 0;
  const int err = errno;
  std::fclose(file);
  if (failed) {
    return make_error(ErrorCode::io,
                      "cannot read '" + path + "' (after " + std::to_string(bytes.size()) +
                          " bytes): " + std::error_code(err, std::generic_category()).message());
  }
  return bytes;
}

#if MOTE_HAS_EXCEPTIONS
/// Throwing form of try_read_file_bytes.
inline std::vector<std::byte> read_file_bytes(const std::string& path,
                                              std::size_t max_size = SIZE_MAX) {
  return value_or_throw(try_read_file_bytes(path, max_size));
}
#endif

}  // namespace mote::io
