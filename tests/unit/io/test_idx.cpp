#include <algorithm>
#include <cstdio>

#include "io_test_helpers.hpp"

using namespace mote_io_test;
using mote::ErrorCode;
using mote::io::try_parse_idx;

TEST_CASE("idx reads raw and gzip-compressed files", "[io][idx]") {
  for (const char* name : {"small.idx", "small.idx.gz"}) {
    INFO(name);
    auto idx = mote::io::try_read_idx(fixture_path(name));
    REQUIRE(idx.has_value());
    CHECK(idx->dims == std::vector<std::size_t>{3, 2, 2});
    REQUIRE(idx->values.size() == 12);
    for (std::size_t i = 0; i < 12; ++i) CHECK(idx->values[i] == (i * 23) % 256);
  }
}

namespace {

// A gzip member holding `data` in one stored deflate block.
Bytes gzip_stored(const Bytes& data) {
  Bytes g = {std::byte{0x1f}, std::byte{0x8b}, std::byte{8}, std::byte{0}};
  append_le(g, 0, 6);
  g.push_back(std::byte{1});
  append_le(g, data.size(), 2);
  append_le(g, ~data.size() & 0xFFFF, 2);
  append(g, data);
  append_le(g, mote::io::crc32(data), 4);
  append_le(g, data.size(), 4);
  return g;
}

}  // namespace

TEST_CASE("idx decompresses once only", "[io][idx]") {
  const Bytes raw = fixture("small.idx");
  auto once = try_parse_idx(gzip_stored(raw), "s.gz");
  REQUIRE(once.has_value());
  CHECK(once->values.size() == 12);
  require_error(try_parse_idx(gzip_stored(gzip_stored(raw)), "s.gz.gz"), ErrorCode::corrupt,
                {"s.gz.gz (decompressed)", "not an IDX file"});
}

TEST_CASE("idx rejects malformed files", "[io][idx]") {
  const Bytes good = fixture("small.idx");
  SECTION("short payload") {
    Bytes bad(good.begin(), good.end() - 1);
    require_error(try_parse_idx(bad, "s.idx"), ErrorCode::truncated,
                  {"s.idx", "[3, 2, 2]", "need 12", "found 11"});
  }
  SECTION("long payload") {
    Bytes bad = good;
    bad.push_back(std::byte{0});
    require_error(try_parse_idx(bad), ErrorCode::corrupt, {"found 13"});
  }
  SECTION("other element types") {
    Bytes bad = good;
    bad[2] = std::byte{0x0D};
    require_error(try_parse_idx(bad), ErrorCode::unsupported, {"type code 13"});
    bad[2] = std::byte{0x42};
    require_error(try_parse_idx(bad), ErrorCode::corrupt, {"type code 66"});
  }
  SECTION("magic") {
    Bytes bad = good;
    bad[0] = std::byte{1};
    require_error(try_parse_idx(bad), ErrorCode::corrupt, {"not an IDX file"});
  }
  SECTION("overflowing dimensions") {
    Bytes bad = {std::byte{0}, std::byte{0}, std::byte{8}, std::byte{3}};
    for (int i = 0; i < 12; ++i) bad.push_back(std::byte{0xFF});
    auto r = try_parse_idx(bad);
    REQUIRE_FALSE(r.has_value());
  }
  SECTION("every truncation") {
    for (const Bytes& data : {good, fixture("small.idx.gz")}) {
      for (std::size_t n = 0; n < data.size(); ++n) {
        INFO("cut to " << n);
        REQUIRE_FALSE(try_parse_idx(std::span<const std::byte>(data.data(), n)).has_value());
      }
    }
  }
  SECTION("missing file") {
    require_error(mote::io::try_read_idx("/nonexistent/t.idx"), ErrorCode::io, {"t.idx"});
  }
}

TEST_CASE("idx reads the Fashion-MNIST test labels when installed", "[io][idx][dataset]") {
  const char* path = "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz";
  if (std::FILE* f = std::fopen(path, "rb")) {
    std::fclose(f);
  } else {
    WARN("skipped: " << path << " is not installed");
    return;
  }
  auto labels = mote::io::try_read_idx(path);
  INFO((labels ? std::string() : labels.error().describe()));
  REQUIRE(labels.has_value());
  CHECK(labels->dims == std::vector<std::size_t>{10000});
  REQUIRE(labels->values.size() == 10000);
  CHECK(*std::max_element(labels->values.begin(), labels->values.end()) < 10);
}
