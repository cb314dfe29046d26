#pragma once
// A reader of the protocol buffers wire format (https://protobuf.dev/programming-guides/encoding/),
// enough to decode ONNX files without libprotobuf or generated code.
//
// A message is a sequence of fields, each a tag (field number and wire type, one varint) followed
// by a payload whose size the wire type determines. `protobuf::Reader` is a cursor over a byte span
// that reads one such piece at a time; the caller knows the schema and decides, field by field,
// what to read and what to skip. Every read is bounds-checked and returns mote::Expected or
// mote::Status: input that ends too early gives ErrorCode::truncated, input that breaks the
// encoding (an 11-byte varint, wire type 7, field number 0, an unmatched group end, a packed run of
// floats whose length is not a multiple of 4) gives ErrorCode::corrupt. Messages name the input
// and the absolute byte offset. Nothing throws and no byte outside the span is touched.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mote/core/error.hpp"
#include "mote/io/file.hpp"

namespace mote::io::protobuf {

/// How a field's payload is encoded (the low 3 bits of its tag).
enum class WireType : std::uint8_t {
  varint = 0,            ///< int32, int64, uint32, uint64, sint*, bool, enum
  fixed64 = 1,           ///< fixed64, sfixed64, double: 8 little-endian bytes
  length_delimited = 2,  ///< string, bytes, embedded messages, packed repeated scalars
  start_group = 3,       ///< proto2 groups (deprecated): fields up to the matching end_group
  end_group = 4,
  fixed32 = 5,  ///< fixed32, sfixed32, float: 4 little-endian bytes
};

/// Name of a wire type as the protobuf documentation spells it ("VARINT", "I32", ...).
inline const char* to_string(WireType wire_type) noexcept {
  switch (wire_type) {
    case WireType::varint: return "VARINT";
    case WireType::fixed64: return "I64";
    case WireType::length_delimited: return "LEN";
    case WireType::start_group: return "SGROUP";
    case WireType::end_group: return "EGROUP";
    case WireType::fixed32: return "I32";
  }
  return "unknown";
}

/// A field's key: its number in the schema and the wire type of the payload that follows.
struct FieldTag {
  std::uint32_t number = 0;
  WireType wire_type = WireType::varint;
};

/// A bounds-checked cursor over one serialized message (or any run of protobuf fields).
///
/// Typical use, for a schema known to the caller:
/// ```
/// protobuf::Reader reader(bytes, "model.onnx");
/// while (!reader.at_end()) {
///   auto tag = reader.read_tag();
///   if (!tag) return tag.error();
///   switch (tag->number) {
///     case 1: /* reader.read_int64(), reader.read_repeated_int64(*tag, "dims", out), ... */ break;
///     case 8: /* reader.read_string() */ break;
///     default: if (Status s = reader.skip_field(*tag); !s) return s.error();
///   }
/// }
/// ```
/// A failed read leaves the cursor where it was. The reader views the bytes it is given, which
/// must outlive it. Cheap to copy (a span, an offset and the name of the input);
/// read_message() returns a reader confined to one embedded message.
class Reader {
 public:
  /// Nesting depth (embedded messages and groups) beyond which input is rejected as corrupt, so
  /// that a recursive caller cannot be driven into a stack overflow. libprotobuf's default.
  static constexpr int max_depth = 100;

  /// A reader of `bytes`. `where` names the input in error messages; `base_offset` is the offset
  /// of `bytes` within that input, so that messages point at the right byte of nested messages.
  explicit Reader(std::span<const std::byte> bytes, std::string where = "protobuf message",
                  std::size_t base_offset = 0, int depth = 0)
      : bytes_(bytes), where_(std::move(where)), base_(base_offset), depth_(depth) {}
  /// A reader only views its input: binding one to a temporary vector would leave it dangling.
  explicit Reader(std::vector<std::byte>&& bytes, std::string where = "protobuf message",
                  std::size_t base_offset = 0, int depth = 0) = delete;

  /// True when every byte has been consumed.
  bool at_end() const noexcept { return pos_ == bytes_.size(); }
  /// Bytes not yet consumed.
  std::size_t remaining() const noexcept { return bytes_.size() - pos_; }
  /// Offset of the cursor within the whole input (not just this message), for messages.
  std::size_t offset() const noexcept { return base_ + pos_; }
  /// Nesting depth of this reader: 0 for the top-level message.
  int depth() const noexcept { return depth_; }
  /// The name of the input given at construction.
  const std::string& where() const noexcept { return where_; }

  /// A base-128 varint of at most 10 bytes. Fails with ErrorCode::truncated when the input ends
  /// inside it and ErrorCode::corrupt when it does not fit in 64 bits.
  Expected<std::uint64_t> read_varint() {
    std::uint64_t value = 0;
    std::size_t at = pos_;
    for (int i = 0; i < 10; ++i) {
      if (at == bytes_.size())
        return error(ErrorCode::truncated, pos_, "input ends inside a varint");
      const auto byte = std::to_integer<std::uint8_t>(bytes_[at++]);
      // The 10th byte holds bit 63 only; anything more is not a 64-bit value.
      if (i == 9 && byte > 1) return error(ErrorCode::corrupt, pos_, "varint overflows 64 bits");
      value |= static_cast<std::uint64_t>(byte & 0x7Fu) << (7 * i);
      if ((byte & 0x80u) == 0) {
        pos_ = at;
        return value;
      }
    }
    return error(ErrorCode::corrupt, pos_, "varint longer than 10 bytes");
  }

  /// A field key. Fails with ErrorCode::corrupt for field number 0, a key above 32 bits, or wire
  /// types 6 and 7, which do not exist.
  Expected<FieldTag> read_tag() {
    const std::size_t at = pos_;
    auto key = read_varint();
    if (!key) return key.error();
    if (*key > 0xFFFFFFFFu) {
      pos_ = at;
      return error(ErrorCode::corrupt, at,
                   "field key " + std::to_string(*key) + " exceeds 32 bits");
    }
    const auto wire = static_cast<unsigned>(*key & 7u);
    const auto number = static_cast<std::uint32_t>(*key >> 3);
    if (wire > 5) {
      pos_ = at;
      return error(
          ErrorCode::corrupt, at,
          "field " + std::to_string(number) + " has invalid wire type " + std::to_string(wire));
    }
    if (number == 0) {
      pos_ = at;
      return error(ErrorCode::corrupt, at, "field number 0 is not allowed");
    }
    return FieldTag{number, static_cast<WireType>(wire)};
  }

  /// 4 little-endian bytes (wire type I32).
  Expected<std::uint32_t> read_fixed32() {
    if (remaining() < 4)
      return error(ErrorCode::truncated, pos_, "input ends inside a 4-byte value");
    const std::uint32_t value = io::detail::load_le32(bytes_, pos_);
    pos_ += 4;
    return value;
  }

  /// 8 little-endian bytes (wire type I64).
  Expected<std::uint64_t> read_fixed64() {
    if (remaining() < 8)
      return error(ErrorCode::truncated, pos_, "input ends inside an 8-byte value");
    const std::uint64_t value = io::detail::load_le64(bytes_, pos_);
    pos_ += 8;
    return value;
  }

  /// The payload of a length-delimited field (wire type LEN): a varint length, then that many
  /// bytes, returned as a view into the input.
  Expected<std::span<const std::byte>> read_bytes() {
    const std::size_t at = pos_;
    auto length = read_varint();
    if (!length) return length.error();
    if (*length > remaining()) {
      const std::size_t available = remaining();
      pos_ = at;
      return error(ErrorCode::truncated, at,
                   "length-delimited field announces " + std::to_string(*length) + " bytes, only " +
                       std::to_string(available) + " remain");
    }
    const auto payload = bytes_.subspan(pos_, static_cast<std::size_t>(*length));
    pos_ += payload.size();
    return payload;
  }

  /// A length-delimited payload as a string (protobuf `string` or `bytes`). UTF-8 is not checked.
  Expected<std::string> read_string() {
    auto payload = read_bytes();
    if (!payload) return payload.error();
    return std::string(reinterpret_cast<const char*>(payload->data()), payload->size());
  }

  /// An embedded message: a reader confined to the next length-delimited payload, one level
  /// deeper. Fails with ErrorCode::corrupt beyond max_depth.
  Expected<Reader> read_message() {
    if (depth_ >= max_depth) {
      return error(ErrorCode::corrupt, pos_,
                   "messages nested deeper than " + std::to_string(max_depth) + " levels");
    }
    auto payload = read_bytes();
    if (!payload) return payload.error();
    const std::size_t payload_offset = base_ + pos_ - payload->size();
    return Reader(*payload, where_, payload_offset, depth_ + 1);
  }

  /// Scalar fields as protobuf decodes them: int32 and uint32 keep the low 32 bits of the varint
  /// (negative int32 values are sent sign-extended to 10 bytes), bool is any non-zero varint,
  /// float and double are the bits of I32 and I64 payloads.
  Expected<std::int64_t> read_int64() { return map(read_varint(), as_int64); }
  Expected<std::uint64_t> read_uint64() { return read_varint(); }
  Expected<std::int32_t> read_int32() { return map(read_varint(), as_int32); }
  Expected<std::uint32_t> read_uint32() { return map(read_varint(), as_uint32); }
  Expected<bool> read_bool() { return map(read_varint(), as_bool); }
  Expected<float> read_float() { return map(read_fixed32(), as_float); }
  Expected<double> read_double() { return map(read_fixed64(), as_double); }

  /// Skips the payload of the field whose tag was just read, whatever its wire type: the way to
  /// ignore fields the caller does not know. A group is skipped up to its matching end tag; an
  /// end-group tag without a group is ErrorCode::corrupt.
  Status skip_field(FieldTag tag) { return skip_field(tag, depth_); }

  /// Checks that a known field arrived with the wire type its schema implies; the message names
  /// the field as `field_name`.
  Status expect_wire_type(FieldTag tag, WireType expected, std::string_view field_name) const {
    if (tag.wire_type == expected) return {};
    return wire_type_error(tag, std::string(to_string(expected)), field_name);
  }

  /// Reads one occurrence of a repeated scalar field into `out`, which it appends to: either a
  /// single element (wire type `element_wire_type`) or a packed run of them (wire type LEN).
  /// Writers may mix both forms for the same field, as the protobuf specification allows.
  /// `read_one` is called as `read_one(Reader&) -> Expected<T>` for each element.
  template <class T, class ReadOne>
  Status read_repeated(FieldTag tag, WireType element_wire_type, std::string_view field_name,
                       std::vector<T>& out, ReadOne&& read_one) {
    if (tag.wire_type == element_wire_type) {
      auto value = read_one(*this);
      if (!value) return value.error();
      out.push_back(std::move(*value));
      return {};
    }
    if (tag.wire_type != WireType::length_delimited) {
      return wire_type_error(tag, std::string(to_string(element_wire_type)) + " or packed LEN",
                             field_name);
    }
    const std::size_t at = pos_;
    auto packed = read_message();
    if (!packed) return packed.error();
    const std::size_t element_size = element_wire_type == WireType::fixed32   ? 4
                                     : element_wire_type == WireType::fixed64 ? 8
                                                                              : 0;
    if (element_size != 0) {
      if (packed->remaining() % element_size != 0) {
        pos_ = at;
        return error(ErrorCode::corrupt, at,
                     "packed field '" + std::string(field_name) + "' (number " +
                         std::to_string(tag.number) + ") holds " +
                         std::to_string(packed->remaining()) + " bytes, not a multiple of " +
                         std::to_string(element_size));
      }
      out.reserve(out.size() + packed->remaining() / element_size);
    }
    while (!packed->at_end()) {
      auto value = read_one(*packed);
      if (!value) {
        pos_ = at;
        return value.error();
      }
      out.push_back(std::move(*value));
    }
    return {};
  }

  /// read_repeated for the scalar types ONNX uses.
  Status read_repeated_int64(FieldTag tag, std::string_view field_name,
                             std::vector<std::int64_t>& out) {
    return read_repeated(tag, WireType::varint, field_name, out,
                         [](Reader& r) { return r.read_int64(); });
  }
  Status read_repeated_uint64(FieldTag tag, std::string_view field_name,
                              std::vector<std::uint64_t>& out) {
    return read_repeated(tag, WireType::varint, field_name, out,
                         [](Reader& r) { return r.read_uint64(); });
  }
  Status read_repeated_int32(FieldTag tag, std::string_view field_name,
                             std::vector<std::int32_t>& out) {
    return read_repeated(tag, WireType::varint, field_name, out,
                         [](Reader& r) { return r.read_int32(); });
  }
  Status read_repeated_float(FieldTag tag, std::string_view field_name, std::vector<float>& out) {
    return read_repeated(tag, WireType::fixed32, field_name, out,
                         [](Reader& r) { return r.read_float(); });
  }
  Status read_repeated_double(FieldTag tag, std::string_view field_name, std::vector<double>& out) {
    return read_repeated(tag, WireType::fixed64, field_name, out,
                         [](Reader& r) { return r.read_double(); });
  }

  /// An ErrorInfo of `code` naming the input and the absolute offset of `at` (a position in this
  /// reader's span), for callers that find the bytes well-formed but the content wrong.
  ErrorInfo error(ErrorCode code, std::size_t at, const std::string& why) const {
    return make_error(code, where_ + ": byte " + std::to_string(base_ + at) + ": " + why);
  }
  /// error() at the cursor.
  ErrorInfo error_here(ErrorCode code, const std::string& why) const {
    return error(code, pos_, why);
  }

 private:
  static std::int64_t as_int64(std::uint64_t v) noexcept { return static_cast<std::int64_t>(v); }
  static std::int32_t as_int32(std::uint64_t v) noexcept {
    return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
  }
  static std::uint32_t as_uint32(std::uint64_t v) noexcept { return static_cast<std::uint32_t>(v); }
  static bool as_bool(std::uint64_t v) noexcept { return v != 0; }
  static float as_float(std::uint32_t bits) noexcept { return std::bit_cast<float>(bits); }
  static double as_double(std::uint64_t bits) noexcept { return std::bit_cast<double>(bits); }

  template <class T, class F>
  static auto map(Expected<T>&& raw, F convert) -> Expected<decltype(convert(std::declval<T>()))> {
    if (!raw) return raw.error();
    return convert(*raw);
  }

  ErrorInfo wire_type_error(FieldTag tag, const std::string& expected,
                            std::string_view field_name) const {
    // The tag has been consumed already; point at the payload that follows it.
    return error(ErrorCode::corrupt, pos_,
                 "field '" + std::string(field_name) + "' (number " + std::to_string(tag.number) +
                     ") has wire type " + to_string(tag.wire_type) + ", expected " + expected);
  }

  Status skip_bytes(std::size_t count, const char* what) {
    if (remaining() < count) {
      return error(ErrorCode::truncated, pos_, std::string("input ends inside ") + what);
    }
    pos_ += count;
    return {};
  }

  Status skip_field(FieldTag tag, int depth) {
    switch (tag.wire_type) {
      case WireType::varint: return read_varint().status();
      case WireType::fixed64: return skip_bytes(8, "an 8-byte value");
      case WireType::fixed32: return skip_bytes(4, "a 4-byte value");
      case WireType::length_delimited: return read_bytes().status();
      case WireType::start_group: return skip_group(tag.number, depth + 1);
      case WireType::end_group:
        return error(ErrorCode::corrupt, pos_,
                     "end of group " + std::to_string(tag.number) + " without a start");
    }
    return error(ErrorCode::corrupt, pos_, "invalid wire type");
  }

  // Skips the fields of a group whose start tag was just read, and its end tag.
  Status skip_group(std::uint32_t number, int depth) {
    const std::size_t start = pos_;
    if (depth > max_depth) {
      return error(ErrorCode::corrupt, start,
                   "groups nested deeper than " + std::to_string(max_depth) + " levels");
    }
    for (;;) {
      if (at_end()) {
        pos_ = start;
        return error(ErrorCode::truncated, start,
                     "input ends inside group " + std::to_string(number));
      }
      auto tag = read_tag();
      if (!tag) {
        pos_ = start;
        return tag.error();
      }
      if (tag->wire_type == WireType::end_group) {
        if (tag->number == number) return {};
        const std::size_t at = pos_;
        pos_ = start;
        return error(ErrorCode::corrupt, at,
                     "group " + std::to_string(number) + " closed by the end of group " +
                         std::to_string(tag->number));
      }
      if (Status skipped = skip_field(*tag, depth); !skipped) {
        pos_ = start;
        return skipped;
      }
    }
  }

  std::span<const std::byte> bytes_;
  std::string where_;
  std::size_t base_ = 0;
  std::size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace mote::io::protobuf
