#include <cstring>
#include <string>

#include "io_test_helpers.hpp"

using namespace mote_io_test;
using mote::ErrorCode;
using mote::io::DType;
using mote::io::TensorArchive;
using mote::io::try_read_npz;

namespace {

template <class T>
std::vector<T> elements(const mote::io::TensorData& t) {
  REQUIRE(t.bytes.size() == t.numel() * sizeof(T));
  std::vector<T> out(t.numel());
  if (!out.empty()) std::memcpy(out.data(), t.bytes.data(), t.bytes.size());
  return out;
}

void check_arrays(const TensorArchive& a) {
  REQUIRE(a.size() == 8);
  const char* order[] = {"dense1_weight", "counts", "pixels", "mask",
                         "half",          "scale",  "empty",  "big_endian"};
  std::size_t i = 0;
  for (const auto& t : a) CHECK(t.name == order[i++]);

  const auto* w = a.find("dense1_weight");
  REQUIRE(w != nullptr);
  CHECK(w->dtype == DType::f32);
  CHECK(w->descr == "<f4");
  CHECK(w->shape_string() == "[2, 3]");
  auto floats = w->try_to_floats();
  REQUIRE(floats.has_value());
  CHECK(*floats == std::vector<float>{-0.5f, -0.25f, 0.0f, 0.25f, 0.5f, 0.75f});

  const auto* counts = a.find("counts");
  REQUIRE(counts != nullptr);
  CHECK(counts->dtype == DType::i32);
  CHECK(elements<std::int32_t>(*counts) == std::vector<std::int32_t>{1, -2, 3, 2147483647});
  require_error(counts->try_to_floats(), ErrorCode::unsupported, {"'counts'", "'<i4'", "int32"});

  const auto* pixels = a.find("pixels");
  REQUIRE(pixels != nullptr);
  CHECK(pixels->dtype == DType::u8);
  CHECK(pixels->descr == "|u1");
  CHECK(elements<std::uint8_t>(*pixels) == std::vector<std::uint8_t>{0, 7, 128, 255});

  const auto* mask = a.find("mask");
  REQUIRE(mask != nullptr);
  CHECK(mask->dtype == DType::boolean);
  CHECK(elements<std::uint8_t>(*mask) == std::vector<std::uint8_t>{1, 0, 1});

  const auto* half = a.find("half");
  REQUIRE(half != nullptr);
  CHECK(half->dtype == DType::f16);
  CHECK(elements<std::uint16_t>(*half) == std::vector<std::uint16_t>{0x3E00, 0xC000});

  const auto* scale = a.find("scale");
  REQUIRE(scale != nullptr);
  CHECK(scale->dtype == DType::f64);
  CHECK(scale->shape.empty());
  CHECK(scale->shape_string() == "[]");
  CHECK(scale->numel() == 1);
  CHECK(elements<double>(*scale) == std::vector<double>{0.125});

  const auto* empty = a.find("empty");
  REQUIRE(empty != nullptr);
  CHECK(empty->shape_string() == "[0, 3]");
  CHECK(empty->numel() == 0);
  CHECK(empty->bytes.empty());
  auto no_floats = empty->try_to_floats();
  REQUIRE(no_floats.has_value());
  CHECK(no_floats->empty());

  const auto* be = a.find("big_endian");
  REQUIRE(be != nullptr);
  CHECK(be->descr == ">f4");
  CHECK(be->dtype == DType::f32);
  auto be_floats = be->try_to_floats();
  REQUIRE(be_floats.has_value());
  CHECK(*be_floats == std::vector<float>{1.0f, -3.25f});

  CHECK(a.find("missing") == nullptr);
  CHECK(a.find("dense1_weight.npy") == nullptr);
}

}  // namespace

TEST_CASE("npz reads np.savez and np.savez_compressed archives", "[io][npz]") {
  for (const char* name : {"arrays.npz", "arrays_compressed.npz"}) {
    INFO(name);
    auto from_file = try_read_npz(fixture_path(name));
    if (!from_file) FAIL(from_file.error().describe());
    CHECK(from_file->source == fixture_path(name));
    check_arrays(*from_file);

    auto from_memory = try_read_npz(fixture(name), "mem");
    REQUIRE(from_memory.has_value());
    CHECK(from_memory->source == "mem");
    check_arrays(*from_memory);
  }
}

TEST_CASE("npz reads archives with ZIP64 end records", "[io][zip]") {
  auto a = try_read_npz(fixture("zip64_eocd.npz"), "z64.npz");
  if (!a) FAIL(a.error().describe());
  REQUIRE(a->size() == 1);
  CHECK(a->find("b")->to_floats() == std::vector<float>{0.5f, 4.0f});
  Bytes bad = fixture("zip64_eocd.npz");
  bad[bad.size() - 22 - 20 + 8] ^= std::byte{0x40};  // the locator's record offset
  require_error(try_read_npz(bad, "z64.npz"), ErrorCode::corrupt, {"z64.npz", "ZIP64"});
}

TEST_CASE("zip listing takes sizes from the central directory", "[io][zip]") {
  const Bytes npz = fixture("arrays.npz");
  auto list = mote::io::try_list_zip(npz, "a.npz");
  REQUIRE(list.has_value());
  REQUIRE(list->size() == 8);
  for (const auto& e : *list) {
    CHECK(e.method == 0);
    CHECK(e.compressed_size == e.uncompressed_size);
    CHECK(e.compressed_size < 1000);
  }
  auto compressed = mote::io::try_read_zip(fixture("arrays_compressed.npz"));
  REQUIRE(compressed.has_value());
  CHECK(compressed->front().name == "dense1_weight.npy");
}

TEST_CASE("tensor copies check dtype and size", "[io][npz]") {
  auto a = try_read_npz(fixture("arrays.npz"), "a.npz");
  REQUIRE(a.has_value());
  std::vector<float> three(3);
  require_error(a->find("dense1_weight")->try_copy_to(three), ErrorCode::shape_mismatch,
                {"dense1_weight", "[2, 3]", "holds 3"});
  std::vector<float> six(6);
  CHECK(a->find("dense1_weight")->try_copy_to(six).is_ok());
  CHECK(six[5] == 0.75f);
#if MOTE_HAS_EXCEPTIONS
  CHECK_THROWS_AS(a->find("pixels")->to_floats(), mote::Error);
  CHECK(a->find("big_endian")->to_floats().size() == 2);
#endif
}

TEST_CASE("npz rejects unsupported and malformed archives", "[io][npz]") {
  SECTION("Fortran order") {
    require_error(try_read_npz(fixture("fortran.npz"), "f.npz"), ErrorCode::unsupported,
                  {"f.npz", "'w.npy'", "Fortran order", "np.ascontiguousarray"});
  }
  SECTION("duplicate entries") {
    require_error(try_read_npz(fixture("duplicate.npz"), "d.npz"), ErrorCode::corrupt,
                  {"d.npz", "duplicate", "'a'"});
  }
  SECTION("entries that are not arrays") {
    require_error(try_read_npz(fixture("not_npy.npz"), "n.npz"), ErrorCode::unsupported,
                  {"n.npz", "'readme.txt'", ".npy"});
  }
  SECTION("not a zip file") {
    require_error(try_read_npz(fixture("plain.txt"), "p.txt"), ErrorCode::corrupt,
                  {"p.txt", "not a ZIP archive"});
    require_error(try_read_npz(Bytes{}, "e"), ErrorCode::truncated, {"e"});
  }
  SECTION("missing file") {
    require_error(try_read_npz(std::string("/nonexistent/m.npz")), ErrorCode::io, {"m.npz"});
#if MOTE_HAS_EXCEPTIONS
    try {
      (void)mote::io::read_npz(std::string("/nonexistent/m.npz"));
      FAIL("read_npz did not throw");
    } catch (const mote::Error& e) {
      CHECK(e.code() == ErrorCode::io);
    }
#endif
  }
  SECTION("flipped payload byte gives a CRC error") {
    Bytes npz = fixture("arrays.npz");
    const Bytes magic = to_bytes("\x93NUMPY");
    auto at = std::search(npz.begin(), npz.end(), magic.begin(), magic.end());
    REQUIRE(at != npz.end());
    at[20] ^= std::byte{0x20};
    require_error(try_read_npz(npz, "x.npz"), ErrorCode::corrupt,
                  {"x.npz", "'dense1_weight.npy'", "CRC-32 mismatch", "at byte"});
  }
  SECTION("unknown method and encryption") {
    const Bytes npz = fixture("arrays.npz");
    auto list = mote::io::try_list_zip(npz);
    REQUIRE(list.has_value());
    auto e = list->front();
    e.method = 12;
    require_error(mote::io::try_extract_zip_entry(npz, e, "z"), ErrorCode::unsupported,
                  {"method 12"});
    e = list->front();
    e.flags |= 1;
    require_error(mote::io::try_extract_zip_entry(npz, e, "z"), ErrorCode::unsupported,
                  {"encrypted"});
    e = list->front();
    e.local_header_offset = npz.size() - 10;
    require_error(mote::io::try_extract_zip_entry(npz, e, "z"), ErrorCode::corrupt, {"outside"});
    e = list->front();
    e.crc32 ^= 1;
    require_error(mote::io::try_extract_zip_entry(npz, e, "z"), ErrorCode::corrupt, {"CRC-32"});
    require_error(try_read_npz(npz, "lim.npz", 10), ErrorCode::invalid_value,
                  {"lim.npz", "'dense1_weight.npy'", "limit of 10"});
    e = list->front();
    e.uncompressed_size = e.compressed_size = 0xFFFFFFFFFFFFull;
    require_error(mote::io::try_extract_zip_entry(npz, e, "z"), ErrorCode::invalid_value,
                  {"limit"});
  }
  SECTION("lying sizes in a compressed entry") {
    const Bytes npz = fixture("arrays_compressed.npz");
    auto list = mote::io::try_list_zip(npz);
    REQUIRE(list.has_value());
    auto e = list->front();
    REQUIRE(e.method == 8);
    e.uncompressed_size -= 1;
    require_error(mote::io::try_extract_zip_entry(npz, e, "z"), ErrorCode::corrupt,
                  {"more than the"});
    e.uncompressed_size += 2;
    require_error(mote::io::try_extract_zip_entry(npz, e, "z"), ErrorCode::corrupt,
                  {"decompressed to"});
  }
}

TEST_CASE("npz reports every truncation cleanly", "[io][npz]") {
  for (const char* name :
       {"arrays.npz", "arrays_compressed.npz", "fortran.npz", "zip64_eocd.npz"}) {
    const Bytes npz = fixture(name);
    for (std::size_t n = 0; n < npz.size(); ++n) {
      INFO(name << " cut to " << n << " bytes");
      auto a = try_read_npz(std::span<const std::byte>(npz.data(), n), name);
      REQUIRE_FALSE(a.has_value());
      REQUIRE(a.error().message.find(name) != std::string::npos);
    }
  }
}

TEST_CASE("npz survives every flipped byte", "[io][npz]") {
  for (const char* name : {"arrays.npz", "arrays_compressed.npz", "zip64_eocd.npz"}) {
    const Bytes npz = fixture(name);
    std::size_t failures = 0;
    for (std::size_t i = 0; i < npz.size(); ++i) {
      for (unsigned char mask : {0x01, 0x80, 0xFF}) {
        Bytes damaged = npz;
        damaged[i] ^= std::byte{mask};
        auto a = try_read_npz(damaged, name);
        if (!a) {
          ++failures;
          CHECK_FALSE(a.error().message.empty());
        }
      }
    }
    // Timestamps, version fields and padding may change without harm; most bytes may not.
    CHECK(failures > npz.size());
  }
}
