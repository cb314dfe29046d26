#pragma once
// Shared helpers of the tests in tests/unit/io.

#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "mote/io.hpp"

#ifndef MOTE_TEST_DATA_DIR
#error "the build must define MOTE_TEST_DATA_DIR (a string literal: the path of tests/data)"
#endif

namespace mote_io_test {

using Bytes = std::vector<std::byte>;

inline std::string fixture_path(std::string_view name) {
  return std::string(MOTE_TEST_DATA_DIR) + "/io/" + std::string(name);
}

inline Bytes fixture(std::string_view name) {
  auto bytes = mote::io::try_read_file_bytes(fixture_path(name));
  if (!bytes) FAIL(bytes.error().describe());
  return std::move(*bytes);
}

inline Bytes to_bytes(std::string_view s) {
  Bytes b(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) b[i] = static_cast<std::byte>(s[i]);
  return b;
}

inline std::string to_text(const Bytes& b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

inline void append(Bytes& out, const Bytes& more) {
  out.insert(out.end(), more.begin(), more.end());
}

inline void append_le(Bytes& out, std::uint64_t value, int nbytes) {
  for (int i = 0; i < nbytes; ++i) out.push_back(static_cast<std::byte>((value >> (8 * i)) & 0xFF));
}

/// Checks that `result` failed with `code` and that its message contains every fragment.
template <class R>
void require_error(const R& result, mote::ErrorCode code,
                   std::initializer_list<std::string_view> fragments = {}) {
  REQUIRE_FALSE(static_cast<bool>(result));
  const std::string message = result.error().describe();
  INFO(message);
  CHECK(result.error().code == code);
  for (std::string_view f : fragments) CHECK(message.find(f) != std::string::npos);
}

/// Least-significant-bit-first writer for hand-made DEFLATE streams.
class BitWriter {
 public:
  void bits(std::uint32_t value, unsigned n) {
    for (unsigned i = 0; i < n; ++i) put((value >> i) & 1u);
  }
  /// Huffman codes are sent most significant bit first.
  void code(std::uint32_t code, unsigned n) {
    for (unsigned i = n; i-- > 0;) put((code >> i) & 1u);
  }
  Bytes finish() const { return out_; }

 private:
  void put(std::uint32_t bit) {
    if (count_ % 8 == 0) out_.push_back(std::byte{0});
    if (bit) out_.back() |= static_cast<std::byte>(1u << (count_ % 8));
    ++count_;
  }
  Bytes out_;
  unsigned count_ = 0;
};

/// A tiny deterministic generator for fuzz-style loops.
struct Lcg {
  std::uint32_t state = 1;
  std::uint32_t next() {
    state = state * 1664525u + 1013904223u;
    return state >> 8;
  }
};

}  // namespace mote_io_test
