#include <cstdio>
#include <string>

#include "io_test_helpers.hpp"

using namespace mote_io_test;
using mote::ErrorCode;
using mote::io::try_inflate;
using mote::io::try_inflate_prefix;

static_assert(mote::io::crc32({}) == 0, "CRC-32 must be usable in constant expressions");

TEST_CASE("crc32 matches the standard check value", "[io][crc32]") {
  const Bytes check = to_bytes("123456789");
  CHECK(mote::io::crc32(check) == 0xCBF43926u);
  const Bytes a = to_bytes("12345");
  const Bytes b = to_bytes("6789");
  CHECK(mote::io::crc32_update(mote::io::crc32(a), b) == 0xCBF43926u);
  CHECK(mote::io::crc32(Bytes{}) == 0u);
}

TEST_CASE("inflate decodes zlib's stored, fixed and dynamic blocks", "[io][inflate]") {
  const Bytes plain = fixture("plain.txt");
  REQUIRE(plain.size() == 1200);

  SECTION("stored") {
    auto out = try_inflate(fixture("short.stored.deflate"), 1 << 20);
    REQUIRE(out.has_value());
    CHECK(*out == Bytes(plain.begin(), plain.begin() + 200));
  }
  SECTION("fixed Huffman") {
    auto out = try_inflate(fixture("plain.fixed.deflate"), 1 << 20);
    REQUIRE(out.has_value());
    CHECK(*out == plain);
  }
  SECTION("dynamic Huffman") {
    auto out = try_inflate(fixture("plain.dynamic.deflate"), 1 << 20);
    REQUIRE(out.has_value());
    CHECK(*out == plain);
  }
  SECTION("dynamic Huffman with codes longer than the fast table") {
    unsigned long size = 0;
    unsigned long crc = 0;
    const std::string expect = to_text(fixture("skewed.txt"));
    REQUIRE(std::sscanf(expect.c_str(), "%lu %lu", &size, &crc) == 2);
    auto out = try_inflate(fixture("skewed.deflate"), 1 << 20);
    REQUIRE(out.has_value());
    CHECK(out->size() == size);
    CHECK(mote::io::crc32(*out) == crc);
  }
  SECTION("an exact output limit is enough") {
    CHECK(try_inflate(fixture("plain.dynamic.deflate"), plain.size()).has_value());
  }
}

TEST_CASE("inflate handles empty blocks", "[io][inflate]") {
  auto fixed = try_inflate(Bytes{std::byte{0x03}, std::byte{0x00}}, 10);
  REQUIRE(fixed.has_value());
  CHECK(fixed->empty());
  auto stored = try_inflate(to_bytes(std::string("\x01\x00\x00\xff\xff", 5)), 10);
  REQUIRE(stored.has_value());
  CHECK(stored->empty());
}

TEST_CASE("inflate reports trailing bytes and prefix consumption", "[io][inflate]") {
  Bytes stream = fixture("plain.dynamic.deflate");
  const std::size_t n = stream.size();
  stream.push_back(std::byte{0x42});
  require_error(try_inflate(stream, 1 << 20, "s"), ErrorCode::corrupt,
                {"s: ", "1 unexpected bytes"});
  auto prefix = try_inflate_prefix(stream, 1 << 20);
  REQUIRE(prefix.has_value());
  CHECK(prefix->consumed == n);
}

TEST_CASE("inflate rejects malformed streams", "[io][inflate]") {
  SECTION("block type 3") {
    require_error(try_inflate(Bytes{std::byte{0x07}}, 10, "blk"), ErrorCode::corrupt,
                  {"blk", "invalid block type 3", "at byte 0"});
  }
  SECTION("stored length complement") {
    require_error(try_inflate(to_bytes(std::string("\x01\x05\x00\x00\x00", 5)), 10),
                  ErrorCode::corrupt, {"complement"});
  }
  SECTION("stored block longer than the input") {
    require_error(try_inflate(to_bytes(std::string("\x01\x05\x00\xfa\xff"
                                                   "ab",
                                                   7)),
                              10),
                  ErrorCode::truncated, {"stored block of 5 bytes"});
  }
  SECTION("distance before the start of the output") {
    BitWriter w;
    w.bits(1, 1);
    w.bits(1, 2);            // fixed Huffman
    w.code(0x61 + 0x30, 8);  // literal 'a'
    w.code(2, 7);            // length symbol 258: length 4
    w.code(1, 5);            // distance code 1: distance 2, one byte too far
    require_error(try_inflate(w.finish(), 100), ErrorCode::corrupt,
                  {"distance 2", "1 bytes so far"});
  }
  SECTION("distance codes 30 and 31 do not exist") {
    BitWriter w;
    w.bits(1, 1);
    w.bits(1, 2);
    w.code(0x61 + 0x30, 8);
    w.code(1, 7);  // length 3
    w.code(30, 5);
    require_error(try_inflate(w.finish(), 100), ErrorCode::corrupt, {"invalid distance code"});
  }
  SECTION("length symbols 286 and 287 do not exist") {
    BitWriter w;
    w.bits(1, 1);
    w.bits(1, 2);
    w.code(0xC0 + 6, 8);  // symbol 286
    require_error(try_inflate(w.finish(), 100), ErrorCode::corrupt, {"286"});
  }
  SECTION("over-subscribed code length code") {
    BitWriter w;
    w.bits(1, 1);
    w.bits(2, 2);  // dynamic Huffman
    w.bits(0, 5);
    w.bits(0, 5);
    w.bits(0, 4);                              // 4 code length codes...
    for (int i = 0; i < 4; ++i) w.bits(1, 3);  // ...all of length 1
    require_error(try_inflate(w.finish(), 100), ErrorCode::corrupt, {"code length code"});
  }
  // Code length codes: 16 and 17 of length 1 (16 -> 0, 17 -> 1).
  auto dynamic_16_17 = [] {
    BitWriter w;
    w.bits(1, 1);
    w.bits(2, 2);
    w.bits(0, 5);
    w.bits(0, 5);
    w.bits(0, 4);
    w.bits(1, 3);  // 16
    w.bits(1, 3);  // 17
    w.bits(0, 3);  // 18
    w.bits(0, 3);  // 0
    return w;
  };
  SECTION("repeat of a previous length with none") {
    BitWriter w = dynamic_16_17();
    w.code(0, 1);
    w.bits(0, 2);
    require_error(try_inflate(w.finish(), 100), ErrorCode::corrupt, {"no previous length"});
  }
  SECTION("repeat past the declared lengths") {
    BitWriter w;
    w.bits(1, 1);
    w.bits(2, 2);
    w.bits(0, 5);
    w.bits(0, 5);
    w.bits(0, 4);
    w.bits(0, 3);  // 16
    w.bits(1, 3);  // 17 -> code 0
    w.bits(1, 3);  // 18 -> code 1
    w.bits(0, 3);
    w.code(1, 1);
    w.bits(127, 7);  // 138 zeros
    w.code(1, 1);
    w.bits(127, 7);  // 138 more: 276 > 258
    require_error(try_inflate(w.finish(), 100), ErrorCode::corrupt, {"runs past"});
  }
  SECTION("no end-of-block code") {
    BitWriter w;
    w.bits(1, 1);
    w.bits(2, 2);
    w.bits(0, 5);
    w.bits(0, 5);
    w.bits(0, 4);
    w.bits(0, 3);
    w.bits(1, 3);
    w.bits(1, 3);
    w.bits(0, 3);
    w.code(1, 1);
    w.bits(127, 7);  // 138 zeros
    w.code(1, 1);
    w.bits(109, 7);  // 120 zeros: all 258 lengths are zero
    require_error(try_inflate(w.finish(), 100), ErrorCode::corrupt, {"end-of-block"});
  }
  SECTION("output limit") {
    require_error(try_inflate(fixture("plain.dynamic.deflate"), 1199, "lim"),
                  ErrorCode::invalid_value, {"lim", "limit of 1199 bytes"});
    require_error(try_inflate(fixture("short.stored.deflate"), 199), ErrorCode::invalid_value,
                  {"limit"});
  }
}

TEST_CASE("inflate reports every truncation cleanly", "[io][inflate]") {
  for (const char* name :
       {"short.stored.deflate", "plain.fixed.deflate", "plain.dynamic.deflate", "skewed.deflate"}) {
    const Bytes stream = fixture(name);
    for (std::size_t n = 0; n < stream.size(); ++n) {
      INFO(name << " cut to " << n << " bytes");
      auto out = try_inflate(std::span<const std::byte>(stream.data(), n), 1 << 20);
      REQUIRE_FALSE(out.has_value());
      REQUIRE(out.error().code == ErrorCode::truncated);
    }
  }
}

TEST_CASE("inflate survives corrupted and random input", "[io][inflate]") {
  const Bytes stream = fixture("plain.dynamic.deflate");
  std::size_t failures = 0;
  for (std::size_t bit = 0; bit < stream.size() * 8; ++bit) {
    Bytes damaged = stream;
    damaged[bit / 8] ^= static_cast<std::byte>(1u << (bit % 8));
    auto out = try_inflate(damaged, 1 << 16);
    if (!out) ++failures;
  }
  CHECK(failures > 0);
  Lcg rng;
  for (int round = 0; round < 3000; ++round) {
    Bytes noise(rng.next() % 80);
    for (auto& b : noise) b = static_cast<std::byte>(rng.next());
    if (!noise.empty() && round % 2) noise[0] = static_cast<std::byte>(0x05);  // dynamic block
    auto out = try_inflate(noise, 1 << 16);
    if (out) CHECK(out->size() <= (1u << 16));
  }
}
