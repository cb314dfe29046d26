// The protobuf wire-format reader (mote/io/protobuf.hpp) and the ONNX TensorProto decoder
// (mote/io/onnx_tensor.hpp) on hand-built messages.

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "io_test_helpers.hpp"

using namespace mote_io_test;
using mote::ErrorCode;
using mote::io::onnx::DataType;
using mote::io::onnx::try_read_tensor_proto;
using mote::io::protobuf::FieldTag;
using mote::io::protobuf::Reader;
using mote::io::protobuf::WireType;

namespace {

Bytes bytes_of(std::initializer_list<unsigned> values) {
  Bytes out;
  for (unsigned v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

// Writes protobuf fields; checked against the specification's own examples below, then used to
// build the larger messages.
class Encoder {
 public:
  Encoder& varint(std::uint64_t value) {
    while (value >= 0x80) {
      bytes_.push_back(static_cast<std::byte>((value & 0x7F) | 0x80));
      value >>= 7;
    }
    bytes_.push_back(static_cast<std::byte>(value));
    return *this;
  }
  Encoder& tag(std::uint32_t number, WireType wire) {
    return varint((std::uint64_t{number} << 3) | static_cast<std::uint64_t>(wire));
  }
  Encoder& field_varint(std::uint32_t number, std::uint64_t value) {
    return tag(number, WireType::varint).varint(value);
  }
  Encoder& field_fixed32(std::uint32_t number, std::uint32_t value) {
    tag(number, WireType::fixed32);
    append_le(bytes_, value, 4);
    return *this;
  }
  Encoder& field_fixed64(std::uint32_t number, std::uint64_t value) {
    tag(number, WireType::fixed64);
    append_le(bytes_, value, 8);
    return *this;
  }
  Encoder& field_float(std::uint32_t number, float value) {
    return field_fixed32(number, std::bit_cast<std::uint32_t>(value));
  }
  Encoder& field_bytes(std::uint32_t number, const Bytes& payload) {
    tag(number, WireType::length_delimited).varint(payload.size());
    append(bytes_, payload);
    return *this;
  }
  Encoder& field_string(std::uint32_t number, std::string_view text) {
    return field_bytes(number, to_bytes(text));
  }
  Encoder& raw(const Bytes& more) {
    append(bytes_, more);
    return *this;
  }
  const Bytes& bytes() const { return bytes_; }

 private:
  Bytes bytes_;
};

Bytes packed_varints(std::initializer_list<std::uint64_t> values) {
  Encoder e;
  for (std::uint64_t v : values) e.varint(v);
  return e.bytes();
}

Bytes packed_floats(std::initializer_list<float> values) {
  Bytes out;
  for (float v : values) append_le(out, std::bit_cast<std::uint32_t>(v), 4);
  return out;
}

// A Reader with the bytes it reads (a Reader only views its input, which must outlive it).
class OwningReader {
 public:
  explicit OwningReader(Bytes bytes, std::string where = "protobuf message")
      : bytes_(std::move(bytes)), reader_(bytes_, std::move(where)) {}
  OwningReader(const OwningReader&) = delete;
  OwningReader& operator=(const OwningReader&) = delete;
  Reader* operator->() { return &reader_; }

 private:
  Bytes bytes_;
  Reader reader_;
};

template <class T>
T value_of(mote::Expected<T> result) {
  if (!result) FAIL(result.error().describe());
  return std::move(*result);
}

// A message of a small schema with one field of every wire type, decoded field by field:
// 1 int64, 2 float, 3 double, 4 string, 5 embedded message {1 int32}, 6 packed int64.
struct Sample {
  std::int64_t id = 0;
  float ratio = 0;
  double precise = 0;
  std::string label;
  std::int32_t inner = 0;
  std::vector<std::int64_t> values;
  int fields = 0;  // how many fields were read
};

mote::Expected<Sample> read_sample(Reader reader) {
  Sample s;
  while (!reader.at_end()) {
    auto tag = reader.read_tag();
    if (!tag) return tag.error();
    mote::Status status;
    switch (tag->number) {
      case 1: {
        auto v = reader.read_int64();
        if (!v) return v.error();
        s.id = *v;
        break;
      }
      case 2: {
        auto v = reader.read_float();
        if (!v) return v.error();
        s.ratio = *v;
        break;
      }
      case 3: {
        auto v = reader.read_double();
        if (!v) return v.error();
        s.precise = *v;
        break;
      }
      case 4: {
        auto v = reader.read_string();
        if (!v) return v.error();
        s.label = *v;
        break;
      }
      case 5: {
        auto inner = reader.read_message();
        if (!inner) return inner.error();
        while (!inner->at_end()) {
          auto t = inner->read_tag();
          if (!t) return t.error();
          auto v = inner->read_int32();
          if (!v) return v.error();
          s.inner = *v;
        }
        break;
      }
      case 6: status = reader.read_repeated_int64(*tag, "values", s.values); break;
      default: status = reader.skip_field(*tag); --s.fields;
    }
    if (!status) return status.error();
    ++s.fields;
  }
  return s;
}

Encoder sample_message() {
  Encoder e;
  e.field_varint(1, static_cast<std::uint64_t>(-42))  // negative int64: ten bytes
      .field_float(2, 0.25f)
      .field_fixed64(3, std::bit_cast<std::uint64_t>(-1.5))
      .field_string(4, "hello")
      .field_bytes(5, Encoder().field_varint(1, 7).bytes())
      .field_bytes(6, packed_varints({1, 300, 1u << 20}));
  return e;
}

}  // namespace

TEST_CASE("protobuf encoder matches the specification's examples", "[io][protobuf]") {
  // https://protobuf.dev/programming-guides/encoding/: field 1 = 150 is 08 96 01, and the
  // string "testing" in field 2 is 12 07 74 65 73 74 69 6e 67.
  CHECK(Encoder().field_varint(1, 150).bytes() == bytes_of({0x08, 0x96, 0x01}));
  CHECK(Encoder().field_string(2, "testing").bytes() ==
        bytes_of({0x12, 0x07, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6e, 0x67}));
}

TEST_CASE("protobuf reads varints", "[io][protobuf]") {
  struct Case {
    Bytes bytes;
    std::uint64_t value;
  };
  const Case cases[] = {
      {bytes_of({0x00}), 0},
      {bytes_of({0x01}), 1},
      {bytes_of({0x7F}), 127},
      {bytes_of({0x80, 0x01}), 128},
      {bytes_of({0x96, 0x01}), 150},
      {bytes_of({0xAC, 0x02}), 300},
      {bytes_of({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}), 1ull << 63},
      {bytes_of({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}), UINT64_MAX},
      // Non-minimal encodings are valid (0 in two bytes).
      {bytes_of({0x80, 0x00}), 0},
  };
  for (const Case& c : cases) {
    INFO("value " << c.value);
    Reader reader(c.bytes);
    CHECK(value_of(reader.read_varint()) == c.value);
    CHECK(reader.at_end());
    CHECK(reader.offset() == c.bytes.size());
  }

  // int32 -1 is sent sign-extended to ten bytes; int32 keeps the low 32 bits, int64 all 64.
  const Bytes minus_one = bytes_of({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01});
  CHECK(value_of(Reader(minus_one).read_int32()) == -1);
  CHECK(value_of(Reader(minus_one).read_int64()) == -1);
  CHECK(value_of(Reader(minus_one).read_uint32()) == UINT32_MAX);
  CHECK(value_of(OwningReader(bytes_of({0x02}))->read_bool()));
  CHECK_FALSE(value_of(OwningReader(bytes_of({0x00}))->read_bool()));

  // Malformed: an 11th byte, bits above 63, and the input ending inside the varint.
  OwningReader too_long(
      bytes_of({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}), "long.pb");
  require_error(too_long->read_varint(), ErrorCode::corrupt, {"long.pb", "byte 0", "varint"});
  CHECK(too_long->offset() == 0);  // a failed read leaves the cursor where it was
  require_error(OwningReader(bytes_of({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02}))
                    ->read_varint(),
                ErrorCode::corrupt, {"overflows 64 bits"});
  require_error(OwningReader(bytes_of({0x96}))->read_varint(), ErrorCode::truncated,
                {"inside a varint"});
  require_error(OwningReader(Bytes{})->read_varint(), ErrorCode::truncated);
}

TEST_CASE("protobuf reads tags", "[io][protobuf]") {
  OwningReader reader(bytes_of({0x08, 0x12, 0x1D, 0xF8, 0xFF, 0xFF, 0xFF, 0x0F}));
  const FieldTag expected[] = {{1, WireType::varint},
                               {2, WireType::length_delimited},
                               {3, WireType::fixed32},
                               {(1u << 29) - 1, WireType::varint}};  // the largest field number
  for (const FieldTag& e : expected) {
    const FieldTag tag = value_of(reader->read_tag());
    CHECK(tag.number == e.number);
    CHECK(tag.wire_type == e.wire_type);
  }
  CHECK(reader->at_end());

  require_error(OwningReader(bytes_of({0x00}))->read_tag(), ErrorCode::corrupt, {"field number 0"});
  require_error(OwningReader(bytes_of({0x0E}))->read_tag(), ErrorCode::corrupt, {"wire type 6"});
  require_error(OwningReader(bytes_of({0x0F}))->read_tag(), ErrorCode::corrupt, {"wire type 7"});
  require_error(OwningReader(bytes_of({0x80, 0x80, 0x80, 0x80, 0x10}))->read_tag(),
                ErrorCode::corrupt, {"exceeds 32 bits"});
  require_error(OwningReader(bytes_of({0x88}))->read_tag(), ErrorCode::truncated);
}

TEST_CASE("protobuf reads fixed-size and length-delimited payloads", "[io][protobuf]") {
  Bytes data;
  append_le(data, std::bit_cast<std::uint32_t>(1.5f), 4);
  append_le(data, std::bit_cast<std::uint64_t>(-0.125), 8);
  append_le(data, 0xDEADBEEFu, 4);
  append_le(data, 0x0123456789ABCDEFull, 8);
  append(data, bytes_of({0x03, 'a', 'b', 'c', 0x00}));
  Reader reader(data);
  CHECK(value_of(reader.read_float()) == 1.5f);
  CHECK(value_of(reader.read_double()) == -0.125);
  CHECK(value_of(reader.read_fixed32()) == 0xDEADBEEFu);
  CHECK(value_of(reader.read_fixed64()) == 0x0123456789ABCDEFull);
  CHECK(value_of(reader.read_string()) == "abc");
  CHECK(value_of(reader.read_bytes()).empty());  // a zero length is a valid empty payload
  CHECK(reader.at_end());

  require_error(OwningReader(bytes_of({1, 2, 3}))->read_fixed32(), ErrorCode::truncated,
                {"4-byte"});
  require_error(OwningReader(bytes_of({1, 2, 3, 4, 5, 6, 7}))->read_fixed64(), ErrorCode::truncated,
                {"8-byte"});
  OwningReader short_string(bytes_of({0x05, 'a', 'b'}), "s.pb");
  require_error(short_string->read_bytes(), ErrorCode::truncated,
                {"s.pb", "byte 0", "announces 5 bytes", "only 2 remain"});
  CHECK(short_string->offset() == 0);
  // A length near 2^64 must not wrap the bounds check.
  require_error(
      OwningReader(bytes_of({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 'x'}))
          ->read_bytes(),
      ErrorCode::truncated);
}

TEST_CASE("protobuf embedded messages report offsets in the whole input", "[io][protobuf]") {
  // Field 1 = {field 1 = 150, then a truncated varint}: the error points at byte 5 of the file.
  const Bytes data = bytes_of({0x0A, 0x04, 0x08, 0x96, 0x01, 0x80});
  Reader outer(data, "nested.pb");
  value_of(outer.read_tag());
  Reader inner = value_of(outer.read_message());
  CHECK(outer.at_end());
  CHECK(inner.depth() == 1);
  CHECK(inner.offset() == 2);
  CHECK(inner.where() == "nested.pb");
  CHECK(value_of(inner.read_tag()).number == 1);
  CHECK(value_of(inner.read_varint()) == 150);
  require_error(inner.read_varint(), ErrorCode::truncated, {"nested.pb", "byte 5"});

  // Nesting deeper than max_depth is refused rather than followed.
  Bytes deep = bytes_of({0x08, 0x01});
  for (int i = 0; i <= Reader::max_depth; ++i) deep = Encoder().field_bytes(1, deep).bytes();
  Reader level(deep);
  mote::Status status;
  for (int i = 0; i <= Reader::max_depth + 1 && status; ++i) {
    auto tag = level.read_tag();
    REQUIRE(tag.has_value());
    auto next = level.read_message();
    if (!next) {
      status = next.error();
      break;
    }
    level = std::move(*next);
  }
  require_error(status, ErrorCode::corrupt, {"nested deeper than 100"});
}

TEST_CASE("protobuf skips unknown fields of every wire type", "[io][protobuf]") {
  // Known fields of the Sample schema interleaved with unknown ones, including a group holding
  // a nested group (proto2), and checked to decode as the known fields alone.
  Encoder with_unknown;
  with_unknown.field_varint(99, 12345)
      .field_varint(1, 7)
      .field_fixed32(100, 0xFFFFFFFFu)
      .field_float(2, 0.5f)
      .field_fixed64(101, 1)
      .field_string(4, "x")
      .field_string(102, "ignored")
      .tag(103, WireType::start_group)
      .field_varint(1, 5)
      .tag(104, WireType::start_group)
      .field_string(2, "deep")
      .tag(104, WireType::end_group)
      .tag(103, WireType::end_group)
      .field_bytes(6, packed_varints({3, 4}))
      .field_varint(536870911, 1);
  const Sample s = value_of(read_sample(Reader(with_unknown.bytes())));
  CHECK(s.id == 7);
  CHECK(s.ratio == 0.5f);
  CHECK(s.label == "x");
  CHECK(s.values == std::vector<std::int64_t>{3, 4});
  CHECK(s.fields == 4);

  auto skip_all = [](const Bytes& bytes) -> mote::Status {
    Reader r(bytes);
    while (!r.at_end()) {
      auto tag = r.read_tag();
      if (!tag) return tag.error();
      if (mote::Status st = r.skip_field(*tag); !st) return st;
    }
    return {};
  };
  require_error(skip_all(Encoder().tag(5, WireType::end_group).bytes()), ErrorCode::corrupt,
                {"without a start"});
  require_error(
      skip_all(Encoder().tag(5, WireType::start_group).tag(6, WireType::end_group).bytes()),
      ErrorCode::corrupt, {"group 5 closed by the end of group 6"});
  require_error(skip_all(Encoder().tag(5, WireType::start_group).field_varint(1, 1).bytes()),
                ErrorCode::truncated, {"inside group 5"});
  Encoder deep_groups;
  for (int i = 0; i < 200; ++i) deep_groups.tag(1, WireType::start_group);
  require_error(skip_all(deep_groups.bytes()), ErrorCode::corrupt, {"groups nested deeper"});
}

TEST_CASE("protobuf repeated scalars: packed, unpacked and mixed", "[io][protobuf]") {
  Encoder e;
  e.field_varint(6, 1)
      .field_bytes(6, packed_varints({2, 3}))
      .field_varint(6, static_cast<std::uint64_t>(-4))
      .field_bytes(6, Bytes{});  // an empty packed run adds nothing
  CHECK(value_of(read_sample(Reader(e.bytes()))).values == std::vector<std::int64_t>{1, 2, 3, -4});

  std::vector<float> floats;
  OwningReader packed(
      Encoder().field_bytes(4, packed_floats({1.0f, -2.0f})).field_float(4, 3.0f).bytes());
  for (int i = 0; i < 2; ++i) {
    const FieldTag tag = value_of(packed->read_tag());
    REQUIRE(packed->read_repeated_float(tag, "float_data", floats).is_ok());
  }
  CHECK(floats == std::vector<float>{1.0f, -2.0f, 3.0f});

  OwningReader ragged(Encoder().field_bytes(4, bytes_of({0, 0, 0x80, 0x3F, 0})).bytes(), "r.pb");
  const FieldTag ragged_tag = value_of(ragged->read_tag());
  require_error(ragged->read_repeated_float(ragged_tag, "float_data", floats), ErrorCode::corrupt,
                {"r.pb", "'float_data'", "5 bytes", "multiple of 4"});
  OwningReader wrong(Encoder().field_fixed64(4, 0).bytes());
  const FieldTag wrong_tag = value_of(wrong->read_tag());
  require_error(wrong->read_repeated_float(wrong_tag, "float_data", floats), ErrorCode::corrupt,
                {"'float_data' (number 4) has wire type I64, expected I32 or packed LEN"});
  OwningReader cut_packed(Encoder().field_bytes(1, bytes_of({0x96})).bytes());
  std::vector<std::int64_t> ints;
  const FieldTag cut_tag = value_of(cut_packed->read_tag());
  require_error(cut_packed->read_repeated_int64(cut_tag, "dims", ints), ErrorCode::truncated);
  CHECK(ints.empty());
}

TEST_CASE("protobuf truncation at every byte is an error or a shorter message", "[io][protobuf]") {
  const Bytes full = sample_message().bytes();
  const Sample complete = value_of(read_sample(Reader(full)));
  CHECK(complete.id == -42);
  CHECK(complete.ratio == 0.25f);
  CHECK(complete.precise == -1.5);
  CHECK(complete.label == "hello");
  CHECK(complete.inner == 7);
  CHECK(complete.values == std::vector<std::int64_t>{1, 300, 1 << 20});
  CHECK(complete.fields == 6);

  // Field boundaries of the sample: a prefix ending there is a valid message with fewer fields
  // (protobuf has no end marker); a prefix ending anywhere else must fail as truncated.
  std::vector<std::size_t> boundaries{0};
  {
    Reader r(full);
    while (!r.at_end()) {
      REQUIRE(r.skip_field(value_of(r.read_tag())).is_ok());
      boundaries.push_back(r.offset());
    }
  }
  for (std::size_t n = 0; n < full.size(); ++n) {
    INFO("prefix of " << n << " bytes");
    const Bytes prefix(full.begin(), full.begin() + static_cast<long>(n));  // exact size for ASan
    auto result = read_sample(Reader(prefix));
    const auto boundary = std::find(boundaries.begin(), boundaries.end(), n);
    if (boundary != boundaries.end()) {
      REQUIRE(result.has_value());
      CHECK(result->fields == boundary - boundaries.begin());
    } else {
      require_error(result, ErrorCode::truncated);
    }
  }
}

TEST_CASE("protobuf reader survives random bytes", "[io][protobuf]") {
  // No expectation on the outcome, only that every path returns without touching memory it
  // must not (build with -fsanitize=address,undefined to check that).
  Lcg rng;
  for (int round = 0; round < 2000; ++round) {
    Bytes junk(rng.next() % 40);
    for (std::byte& b : junk) b = static_cast<std::byte>(rng.next() & 0xFF);
    (void)read_sample(Reader(junk));
    (void)try_read_tensor_proto(junk);
  }
}

namespace {

// TensorProto field numbers (onnx.proto).
constexpr std::uint32_t dims = 1, data_type = 2, float_data = 4, int32_data = 5, int64_data = 7,
                        name = 8, raw_data = 9, double_data = 10, uint64_data = 11,
                        data_location = 14;

Encoder tensor_header(std::initializer_list<std::uint64_t> shape, DataType type,
                      std::string_view tensor_name = "t") {
  Encoder e;
  for (std::uint64_t d : shape) e.field_varint(dims, d);
  e.field_varint(data_type, static_cast<std::uint64_t>(type));
  e.field_string(name, tensor_name);
  return e;
}

mote::io::onnx::TensorProto decode(const Bytes& bytes) {
  return value_of(try_read_tensor_proto(bytes, "tensor.pb"));
}

}  // namespace

TEST_CASE("TensorProto with raw_data", "[io][protobuf][onnx]") {
  Bytes raw;
  for (float v : {1.0f, -2.5f, 0.0f, 1e30f, -0.0f, 3.25f}) {
    append_le(raw, std::bit_cast<std::uint32_t>(v), 4);
  }
  const Bytes bytes = tensor_header({2, 3}, DataType::float32, "weights")
                          .field_string(12, "a doc_string, skipped")
                          .field_bytes(raw_data, raw)
                          .bytes();
  const auto t = decode(bytes);
  CHECK(t.name == "weights");
  CHECK(t.data_type == DataType::float32);
  CHECK(t.dims == std::vector<std::int64_t>{2, 3});
  CHECK(t.numel() == 6);
  CHECK(t.bytes == raw);
  CHECK(t.describe() == "'weights' (FLOAT [2, 3])");
  CHECK(t.as<float>() == std::vector<float>{1.0f, -2.5f, 0.0f, 1e30f, -0.0f, 3.25f});
  CHECK(t.to_floats() == t.as<float>());
  require_error(t.try_as<std::uint8_t>(), ErrorCode::unsupported,
                {"'weights' (FLOAT [2, 3])", "cannot be read as UINT8"});

  // Every proper prefix fails: either the framing is cut or the data does not match the dims.
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    INFO("prefix of " << n << " bytes");
    const Bytes prefix(bytes.begin(), bytes.begin() + static_cast<long>(n));
    CHECK_FALSE(try_read_tensor_proto(prefix).has_value());
  }

  const auto scalar =
      decode(Encoder().field_varint(data_type, 2).field_bytes(raw_data, bytes_of({200})).bytes());
  CHECK(scalar.dims.empty());
  CHECK(scalar.as<std::uint8_t>() == std::vector<std::uint8_t>{200});
  const auto empty = decode(tensor_header({0, 4}, DataType::int64).bytes());
  CHECK(empty.numel() == 0);
  CHECK(empty.as<std::int64_t>().empty());
}

TEST_CASE("TensorProto with float_data, packed or not", "[io][protobuf][onnx]") {
  const std::vector<float> expected{0.5f, -1.0f, 2.0f};
  const Bytes packed = tensor_header({3}, DataType::float32)
                           .field_bytes(float_data, packed_floats({0.5f, -1.0f, 2.0f}))
                           .bytes();
  CHECK(decode(packed).as<float>() == expected);
  const Bytes unpacked = tensor_header({3}, DataType::float32)
                             .field_float(float_data, 0.5f)
                             .field_float(float_data, -1.0f)
                             .field_float(float_data, 2.0f)
                             .bytes();
  const auto t = decode(unpacked);
  CHECK(t.as<float>() == expected);
  CHECK(t.bytes == packed_floats({0.5f, -1.0f, 2.0f}));  // the same bytes raw_data would hold
  for (std::size_t n = 0; n < unpacked.size(); ++n) {
    const Bytes prefix(unpacked.begin(), unpacked.begin() + static_cast<long>(n));
    CHECK_FALSE(try_read_tensor_proto(prefix).has_value());
  }
}

TEST_CASE("TensorProto typed fields of the other types", "[io][protobuf][onnx]") {
  // int32_data holds one narrow element per int32, and float16/bfloat16 bit patterns.
  const auto u8 = decode(tensor_header({3}, DataType::uint8)
                             .field_bytes(int32_data, packed_varints({0, 128, 255}))
                             .bytes());
  CHECK(u8.as<std::uint8_t>() == std::vector<std::uint8_t>{0, 128, 255});
  const auto i8 = decode(tensor_header({2}, DataType::int8)
                             .field_varint(int32_data, static_cast<std::uint64_t>(-128))
                             .field_varint(int32_data, 127)
                             .bytes());
  CHECK(i8.as<std::int8_t>() == std::vector<std::int8_t>{-128, 127});
  const auto i16 = decode(tensor_header({1}, DataType::int16)
                              .field_varint(int32_data, static_cast<std::uint64_t>(-300))
                              .bytes());
  CHECK(i16.as<std::int16_t>() == std::vector<std::int16_t>{-300});
  CHECK(i16.bytes == bytes_of({0xD4, 0xFE}));
  const auto half = decode(
      tensor_header({7}, DataType::float16)
          .field_bytes(int32_data,
                       packed_varints({0x3C00, 0xC000, 0x0001, 0x03FF, 0x7C00, 0x8000, 0x7E00}))
          .bytes());
  const std::vector<float> h = half.to_floats();
  CHECK(h[0] == 1.0f);
  CHECK(h[1] == -2.0f);
  CHECK(h[2] == std::ldexp(1.0f, -24));  // smallest subnormal
  CHECK(h[3] == std::ldexp(1023.0f, -24));
  CHECK(h[4] == std::numeric_limits<float>::infinity());
  CHECK(std::bit_cast<std::uint32_t>(h[5]) == 0x80000000u);  // -0
  CHECK(std::isnan(h[6]));
  const auto bf16 =
      decode(tensor_header({1}, DataType::bfloat16).field_varint(int32_data, 0xC040).bytes());
  CHECK(bf16.to_floats() == std::vector<float>{-3.0f});
  require_error(u8.try_to_floats(), ErrorCode::unsupported, {"cannot be read as floats"});

  const auto i32 =
      decode(tensor_header({2}, DataType::int32)
                 .field_bytes(int32_data, packed_varints({static_cast<std::uint64_t>(-1), 7}))
                 .bytes());
  CHECK(i32.as<std::int32_t>() == std::vector<std::int32_t>{-1, 7});
  const auto i64 = decode(
      tensor_header({2}, DataType::int64)
          .field_bytes(int64_data, packed_varints({static_cast<std::uint64_t>(INT64_MIN), 5}))
          .bytes());
  CHECK(i64.as<std::int64_t>() == std::vector<std::int64_t>{INT64_MIN, 5});
  const auto f64 = decode(tensor_header({1}, DataType::float64)
                              .field_fixed64(double_data, std::bit_cast<std::uint64_t>(0.1))
                              .bytes());
  CHECK(f64.as<double>() == std::vector<double>{0.1});
  const auto u32 =
      decode(tensor_header({1}, DataType::uint32).field_varint(uint64_data, UINT32_MAX).bytes());
  CHECK(u32.as<std::uint32_t>() == std::vector<std::uint32_t>{UINT32_MAX});
  const auto u64 =
      decode(tensor_header({1}, DataType::uint64).field_varint(uint64_data, UINT64_MAX).bytes());
  CHECK(u64.as<std::uint64_t>() == std::vector<std::uint64_t>{UINT64_MAX});
  const auto c64 = decode(tensor_header({1}, DataType::complex64)
                              .field_bytes(float_data, packed_floats({1.0f, -1.0f}))
                              .bytes());
  CHECK(c64.bytes == packed_floats({1.0f, -1.0f}));
}

TEST_CASE("TensorProto rejects inconsistent and unsupported contents", "[io][protobuf][onnx]") {
  struct Case {
    const char* what;
    Bytes bytes;
    ErrorCode code;
    std::vector<std::string_view> fragments;
  };
  const Case cases[] = {
      {"no data_type",
       Encoder().field_string(name, "t").bytes(),
       ErrorCode::corrupt,
       {"tensor.pb", "TensorProto 't'", "data_type is missing"}},
      {"fewer raw bytes than dims need",
       tensor_header({2}, DataType::float32).field_bytes(raw_data, Bytes(7)).bytes(),
       ErrorCode::corrupt,
       {"raw_data holds 7 bytes, FLOAT [2] needs 8"}},
      {"more values than dims need",
       tensor_header({1}, DataType::float32).field_bytes(float_data, packed_floats({1, 2})).bytes(),
       ErrorCode::corrupt,
       {"float_data holds 2 values, FLOAT [1] needs 1"}},
      {"no data at all",
       tensor_header({2}, DataType::int8).bytes(),
       ErrorCode::corrupt,
       {"INT8 [2] has 2 elements but no data field"}},
      {"two data fields",
       tensor_header({1}, DataType::float32)
           .field_float(float_data, 1)
           .field_bytes(raw_data, Bytes(4))
           .bytes(),
       ErrorCode::corrupt,
       {"both in float_data and in raw_data"}},
      {"a field that cannot hold the type",
       tensor_header({1}, DataType::int8).field_float(float_data, 1).bytes(),
       ErrorCode::corrupt,
       {"float_data cannot hold INT8 elements"}},
      {"int32_data out of range",
       tensor_header({2}, DataType::uint8)
           .field_bytes(int32_data, packed_varints({1, 256}))
           .bytes(),
       ErrorCode::corrupt,
       {"int32_data[1] = 256 is outside the range of UINT8 [0, 255]"}},
      {"uint64_data out of UINT32 range",
       tensor_header({1}, DataType::uint32).field_varint(uint64_data, 1ull << 32).bytes(),
       ErrorCode::corrupt,
       {"uint64_data[0]", "UINT32"}},
      {"negative dimension",
       tensor_header({2, static_cast<std::uint64_t>(-1)}, DataType::float32).bytes(),
       ErrorCode::corrupt,
       {"negative dimension at index 1"}},
      {"dims overflowing",
       tensor_header({1ull << 40, 1ull << 40}, DataType::float32).bytes(),
       ErrorCode::corrupt,
       {"overflow"}},
      {"a wrong wire type for data_type",
       Encoder().field_fixed32(data_type, 1).bytes(),
       ErrorCode::corrupt,
       {"'data_type' (number 2) has wire type I32, expected VARINT"}},
      {"STRING tensors",
       tensor_header({1}, DataType::string).field_string(6, "s").bytes(),
       ErrorCode::unsupported,
       {"STRING tensors are not supported"}},
      {"4-bit tensors",
       tensor_header({2}, DataType::int4).field_bytes(raw_data, Bytes(1)).bytes(),
       ErrorCode::unsupported,
       {"INT4"}},
      {"unknown data types",
       tensor_header({1}, DataType{77}).bytes(),
       ErrorCode::unsupported,
       {"data type 77"}},
      {"external data",
       tensor_header({1}, DataType::float32)
           .field_bytes(13, Encoder().field_string(1, "location").field_string(2, "w.bin").bytes())
           .field_varint(data_location, 1)
           .bytes(),
       ErrorCode::unsupported,
       {"external_data location 'w.bin'"}},
      {"segments",
       tensor_header({1}, DataType::float32)
           .field_bytes(3, Bytes{})
           .field_float(float_data, 1)
           .bytes(),
       ErrorCode::unsupported,
       {"segments"}},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    auto result = try_read_tensor_proto(c.bytes, "tensor.pb");
    REQUIRE_FALSE(result.has_value());
    const std::string message = result.error().describe();
    INFO(message);
    CHECK(result.error().code == c.code);
    for (std::string_view f : c.fragments) CHECK(message.find(f) != std::string::npos);
  }
}

TEST_CASE("TensorProto embedded in another message", "[io][protobuf][onnx]") {
  // As an importer meets initializers: GraphProto field 5, read through read_message().
  const Bytes tensor =
      tensor_header({1}, DataType::uint8, "w").field_bytes(raw_data, bytes_of({9})).bytes();
  const Bytes graph = Encoder().field_string(2, "graph").field_bytes(5, tensor).bytes();
  Reader reader(graph, "model.onnx");
  CHECK(value_of(reader.read_tag()).number == 2);
  value_of(reader.read_string());
  CHECK(value_of(reader.read_tag()).number == 5);
  const auto t = value_of(try_read_tensor_proto(value_of(reader.read_message())));
  CHECK(t.name == "w");
  CHECK(t.as<std::uint8_t>() == std::vector<std::uint8_t>{9});

  // A content error names the file and the embedded message's offset.
  const Bytes bad =
      Encoder().field_bytes(5, tensor_header({2}, DataType::uint8, "w").bytes()).bytes();
  Reader bad_reader(bad, "model.onnx");
  value_of(bad_reader.read_tag());
  require_error(try_read_tensor_proto(value_of(bad_reader.read_message())), ErrorCode::corrupt,
                {"model.onnx: TensorProto 'w' at byte 2"});
}
