#include <string>

#include "io_test_helpers.hpp"

using namespace mote_io_test;
using mote::ErrorCode;
using mote::io::try_gunzip;

namespace {

// A gzip member around plain.dynamic.deflate with every optional header field.
Bytes all_flags_member(bool break_header_crc = false) {
  const Bytes plain = fixture("plain.txt");
  Bytes g = {std::byte{0x1f}, std::byte{0x8b}, std::byte{8}, std::byte{0x02 | 0x04 | 0x08 | 0x10}};
  append_le(g, 0x12345678, 4);  // mtime
  g.push_back(std::byte{2});
  g.push_back(std::byte{3});
  append_le(g, 4, 2);
  append(g, to_bytes("ab12"));
  append(g, to_bytes(std::string("x.txt\0", 6)));
  append(g, to_bytes(std::string("a comment\0", 10)));
  append_le(g, (mote::io::crc32(g) & 0xFFFF) ^ (break_header_crc ? 1 : 0), 2);
  append(g, fixture("plain.dynamic.deflate"));
  append_le(g, mote::io::crc32(plain), 4);
  append_le(g, plain.size(), 4);
  return g;
}

}  // namespace

TEST_CASE("gunzip reads Python's gzip output", "[io][gzip]") {
  auto out = try_gunzip(fixture("small.idx.gz"), "small.idx.gz");
  REQUIRE(out.has_value());
  CHECK(*out == fixture("small.idx"));
  CHECK(mote::io::is_gzip(fixture("small.idx.gz")));
  CHECK_FALSE(mote::io::is_gzip(fixture("small.idx")));
}

TEST_CASE("gunzip handles every header flag and several members", "[io][gzip]") {
  const Bytes plain = fixture("plain.txt");
  auto one = try_gunzip(all_flags_member());
  REQUIRE(one.has_value());
  CHECK(*one == plain);

  Bytes two = all_flags_member();
  append(two, fixture("small.idx.gz"));
  auto both = try_gunzip(two);
  REQUIRE(both.has_value());
  Bytes expect = plain;
  append(expect, fixture("small.idx"));
  CHECK(*both == expect);
}

TEST_CASE("gunzip rejects damaged data", "[io][gzip]") {
  const Bytes good = fixture("small.idx.gz");
  SECTION("payload CRC") {
    Bytes bad = good;
    bad[bad.size() - 8] ^= std::byte{1};
    require_error(try_gunzip(bad, "f.gz"), ErrorCode::corrupt, {"f.gz", "CRC-32 mismatch"});
  }
  SECTION("length") {
    Bytes bad = good;
    bad[bad.size() - 4] ^= std::byte{1};
    require_error(try_gunzip(bad), ErrorCode::corrupt, {"length mismatch"});
  }
  SECTION("header CRC") {
    require_error(try_gunzip(all_flags_member(true)), ErrorCode::corrupt, {"header CRC"});
  }
  SECTION("magic") {
    require_error(try_gunzip(fixture("small.idx"), "raw"), ErrorCode::corrupt,
                  {"raw", "at byte 0", "1f 8b"});
  }
  SECTION("method") {
    Bytes bad = good;
    bad[2] = std::byte{7};
    require_error(try_gunzip(bad), ErrorCode::unsupported, {"method 7"});
  }
  SECTION("reserved flags") {
    Bytes bad = good;
    bad[3] |= std::byte{0x80};
    require_error(try_gunzip(bad), ErrorCode::corrupt, {"reserved"});
  }
  SECTION("trailing garbage") {
    Bytes bad = good;
    append(bad, to_bytes("xyz"));
    require_error(try_gunzip(bad), ErrorCode::corrupt, {"after gzip member 1"});
  }
  SECTION("output limit") {
    require_error(try_gunzip(all_flags_member(), "big", 100), ErrorCode::invalid_value,
                  {"big", "limit of 100"});
  }
  SECTION("corrupt deflate data names the member's offset") {
    Bytes bad = good;
    bad[20] ^= std::byte{0xFF};
    auto out = try_gunzip(bad, "g.gz");
    REQUIRE_FALSE(out.has_value());
    CHECK(out.error().message.find("g.gz") != std::string::npos);
  }
}

TEST_CASE("gunzip reports every truncation cleanly", "[io][gzip]") {
  for (const Bytes& data : {fixture("small.idx.gz"), all_flags_member()}) {
    for (std::size_t n = 0; n < data.size(); ++n) {
      INFO("cut to " << n << " bytes");
      auto out = try_gunzip(std::span<const std::byte>(data.data(), n));
      REQUIRE_FALSE(out.has_value());
      REQUIRE(out.error().code == ErrorCode::truncated);
    }
  }
}

TEST_CASE("file reading reports missing files", "[io][file]") {
  require_error(mote::io::try_read_file_bytes("/nonexistent/dir/x.bin"), ErrorCode::io,
                {"/nonexistent/dir/x.bin"});
  require_error(mote::io::try_read_gzip_file("/nonexistent/y.gz"), ErrorCode::io, {"y.gz"});
  require_error(mote::io::try_read_file_bytes(fixture_path("plain.txt"), 100),
                ErrorCode::invalid_value, {"plain.txt", "100"});
#if MOTE_HAS_EXCEPTIONS
  CHECK_THROWS_AS(mote::io::read_file_bytes("/nonexistent/z"), mote::Error);
#endif
}
