#include <cstring>
#include <string>

#include "io_test_helpers.hpp"

using namespace mote_io_test;
using mote::ErrorCode;
using mote::io::DType;
using mote::io::try_parse_npy;

namespace {

// A version 1.0 .npy file with `header` (padded like numpy does) and `payload`.
Bytes make_npy(const std::string& header, const Bytes& payload, int major = 1) {
  std::string h = header;
  const std::size_t pre = major == 1 ? 10 : 12;
  while ((pre + h.size() + 1) % 64 != 0) h += ' ';
  h += '\n';
  Bytes out = to_bytes("\x93NUMPY");
  out.push_back(static_cast<std::byte>(major));
  out.push_back(std::byte{0});
  append_le(out, h.size(), major == 1 ? 2 : 4);
  append(out, to_bytes(h));
  append(out, payload);
  return out;
}

Bytes zeros(std::size_t n) { return Bytes(n, std::byte{0}); }

}  // namespace

TEST_CASE("npy reads format versions 1, 2 and 3", "[io][npy]") {
  for (const char* name : {"v1.npy", "v2.npy", "v3.npy"}) {
    INFO(name);
    auto t = mote::io::try_read_npy(fixture_path(name));
    if (!t) FAIL(t.error().describe());
    CHECK(t->name == std::string(name).substr(0, 2));
    CHECK(t->shape_string() == "[3, 2]");
    auto f = t->try_to_floats();
    REQUIRE(f.has_value());
    CHECK(*f == std::vector<float>{0, 1, 2, 3, 4, 5});
  }
}

TEST_CASE("npy header parsing accepts what Python writes", "[io][npy]") {
  auto t = try_parse_npy(
      make_npy("{\"shape\": (2,),'fortran_order':False , 'descr' : '<f4'}", zeros(8)), "t");
  if (!t) FAIL(t.error().describe());
  CHECK(t->shape == std::vector<std::size_t>{2});
  auto big =
      try_parse_npy(make_npy("{'descr': '>i2', 'fortran_order': False, 'shape': (2, 1), }",
                             Bytes{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}}, 2),
                    "b");
  REQUIRE(big.has_value());
  CHECK(big->dtype == DType::i16);
  CHECK(big->bytes == Bytes{std::byte{2}, std::byte{1}, std::byte{4}, std::byte{3}});
  auto complex = try_parse_npy(
      make_npy("{'descr': '<c8', 'fortran_order': False, 'shape': (3L,), }", zeros(24)), "c");
  REQUIRE(complex.has_value());
  CHECK(complex->dtype == DType::other);
  CHECK(complex->itemsize == 8);
  require_error(complex->try_to_floats(), ErrorCode::unsupported, {"'c'", "<c8"});
  auto strings = try_parse_npy(
      make_npy("{'descr': '<U3', 'fortran_order': False, 'shape': (2,), }", zeros(24)), "s");
  REQUIRE(strings.has_value());
  CHECK(strings->itemsize == 12);
  auto dates = try_parse_npy(
      make_npy("{'descr': '<M8[ns]', 'fortran_order': False, 'shape': (), }", zeros(8)), "d");
  REQUIRE(dates.has_value());
  CHECK(dates->numel() == 1);
  auto fortran_1d = try_parse_npy(
      make_npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", zeros(8)), "f1");
  require_error(fortran_1d, ErrorCode::unsupported, {"Fortran"});
}

TEST_CASE("npy header parsing is strict", "[io][npy]") {
  struct Case {
    const char* header;
    std::size_t payload;
    ErrorCode code;
    const char* fragment;
  };
  const Case cases[] = {
      {"{'descr': '<f4', 'fortran_order': False}", 4, ErrorCode::corrupt, "lacks key 'shape'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", 4, ErrorCode::corrupt,
       "unexpected key 'x'"},
      {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", 4,
       ErrorCode::corrupt, "duplicate key 'descr'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (5)}", 20, ErrorCode::corrupt, "'(n,)'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1)}", 4, ErrorCode::corrupt,
       "non-negative integer"},
      {"{'descr': '<f4', 'fortran_order': false, 'shape': (1,)}", 4, ErrorCode::corrupt,
       "True or False"},
      {"{'descr': '<f4, 'fortran_order': False, 'shape': (1,)}", 4, ErrorCode::corrupt,
       "byte 27: expected ',' or '}' after the value of 'descr', found 'f'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x", 4, ErrorCode::corrupt,
       "only padding"},
      {"{'descr': '<f4' 'fortran_order': False, 'shape': (1,)}", 4, ErrorCode::corrupt,
       "',' or '}'"},
      {"['descr', '<f4']", 4, ErrorCode::corrupt, "'{'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", 4, ErrorCode::corrupt,
       "found the end of the header"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape' (1,)}", 4, ErrorCode::corrupt,
       "expected ':' after key 'shape'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 7: 1}", 4, ErrorCode::corrupt,
       "a quoted string"},
      {"{'descr': 'f4', 'fortran_order': False, 'shape': (1,)}", 4, ErrorCode::corrupt,
       "byte order"},
      {"{'descr': '<f3', 'fortran_order': False, 'shape': (1,)}", 3, ErrorCode::unsupported,
       "item size"},
      {"{'descr': '<f', 'fortran_order': False, 'shape': (1,)}", 4, ErrorCode::corrupt,
       "lacks an item size"},
      {"{'descr': '|O', 'fortran_order': False, 'shape': (1,)}", 8, ErrorCode::unsupported,
       "pickle"},
      {"{'descr': '|O8', 'fortran_order': False, 'shape': (1,)}", 8, ErrorCode::unsupported,
       "pickle"},
      {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}", 4,
       ErrorCode::unsupported, "structured"},
      {"{'descr': '>c8', 'fortran_order': False, 'shape': (1,)}", 8, ErrorCode::unsupported,
       "big-endian"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}", 20, ErrorCode::truncated,
       "needs 24 data bytes"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}", 28, ErrorCode::corrupt,
       "found 28"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16)}", 0,
       ErrorCode::corrupt, "overflows"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,)}", 0,
       ErrorCode::corrupt, "too large"},
      {"{'descr': 'a\\'b', 'fortran_order': False, 'shape': (1,)}", 4, ErrorCode::corrupt,
       "escape"},
  };
  for (const Case& c : cases) {
    INFO(c.header);
    require_error(try_parse_npy(make_npy(c.header, zeros(c.payload)), "t", "where.npy"), c.code,
                  {"where.npy", c.fragment});
  }
}

TEST_CASE("npy preamble errors", "[io][npy]") {
  const Bytes good = fixture("v1.npy");
  Bytes bad = good;
  bad[1] = std::byte{'X'};
  require_error(try_parse_npy(bad, "t", "m.npy"), ErrorCode::corrupt, {"m.npy", "magic"});
  bad = good;
  bad[6] = std::byte{4};
  require_error(try_parse_npy(bad, "t"), ErrorCode::unsupported, {"version 4.0"});
  bad = good;
  bad[8] = std::byte{0xFF};
  bad[9] = std::byte{0xFF};
  require_error(try_parse_npy(bad, "t"), ErrorCode::truncated, {"65535"});
  for (const char* name : {"v1.npy", "v2.npy", "v3.npy"}) {
    const Bytes npy = fixture(name);
    for (std::size_t n = 0; n < npy.size(); ++n) {
      INFO(name << " cut to " << n);
      REQUIRE_FALSE(try_parse_npy(std::span<const std::byte>(npy.data(), n), "t").has_value());
    }
  }
  CHECK(std::string(mote::io::to_string(DType::f32)) == "float32");
  CHECK(std::string(mote::io::to_string(DType::boolean)) == "bool");
  require_error(mote::io::try_read_npy("/nonexistent/q.npy"), ErrorCode::io, {"q.npy"});
}
