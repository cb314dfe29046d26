#pragma once
// ONNX TensorProto (onnx/onnx.proto, proto2): the message ONNX uses for initializers, constant
// attributes and the input_N.pb / output_N.pb files of its backend tests.
//
// The elements of a TensorProto arrive either as `raw_data` (fixed-size little-endian elements,
// C order) or in a typed repeated field chosen by the data type: float_data (FLOAT, COMPLEX64),
// int32_data (INT32 and every narrower integer, BOOL, FLOAT16/BFLOAT16/FLOAT8 bit patterns: one
// element per int32), int64_data (INT64), double_data (DOUBLE, COMPLEX128), uint64_data (UINT32,
// UINT64); packed or not. Both forms are decoded to the same thing: TensorProto::bytes, the
// elements little-endian in C order, exactly as raw_data would have held them. Anything that
// does not add up (element count vs dims, two data fields, a field that cannot hold the data
// type, an int32_data value outside its type's range) is ErrorCode::corrupt; string tensors,
// 4-bit types, segments and external data are ErrorCode::unsupported.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "mote/core/error.hpp"
#include "mote/io/file.hpp"
#include "mote/io/protobuf.hpp"

namespace mote::io::onnx {

/// TensorProto.DataType: the element type of an ONNX tensor, with ONNX's numbering.
enum class DataType : std::int32_t {
  undefined = 0,
  float32 = 1,  ///< FLOAT
  uint8 = 2,
  int8 = 3,
  uint16 = 4,
  int16 = 5,
  int32 = 6,
  int64 = 7,
  string = 8,
  boolean = 9,   ///< BOOL
  float16 = 10,  ///< IEEE binary16
  float64 = 11,  ///< DOUBLE
  uint32 = 12,
  uint64 = 13,
  complex64 = 14,
  complex128 = 15,
  bfloat16 = 16,
  float8e4m3fn = 17,
  float8e4m3fnuz = 18,
  float8e5m2 = 19,
  float8e5m2fnuz = 20,
  uint4 = 21,
  int4 = 22,
  float4e2m1 = 23,
};

/// ONNX's name of a data type ("FLOAT", "UINT8", ...); "data type <n>" for numbers it does not
/// know.
inline std::string to_string(DataType type) {
  switch (type) {
    case DataType::undefined: return "UNDEFINED";
    case DataType::float32: return "FLOAT";
    case DataType::uint8: return "UINT8";
    case DataType::int8: return "INT8";
    case DataType::uint16: return "UINT16";
    case DataType::int16: return "INT16";
    case DataType::int32: return "INT32";
    case DataType::int64: return "INT64";
    case DataType::string: return "STRING";
    case DataType::boolean: return "BOOL";
    case DataType::float16: return "FLOAT16";
    case DataType::float64: return "DOUBLE";
    case DataType::uint32: return "UINT32";
    case DataType::uint64: return "UINT64";
    case DataType::complex64: return "COMPLEX64";
    case DataType::complex128: return "COMPLEX128";
    case DataType::bfloat16: return "BFLOAT16";
    case DataType::float8e4m3fn: return "FLOAT8E4M3FN";
    case DataType::float8e4m3fnuz: return "FLOAT8E4M3FNUZ";
    case DataType::float8e5m2: return "FLOAT8E5M2";
    case DataType::float8e5m2fnuz: return "FLOAT8E5M2FNUZ";
    case DataType::uint4: return "UINT4";
    case DataType::int4: return "INT4";
    case DataType::float4e2m1: return "FLOAT4E2M1";
  }
  return "data type " + std::to_string(static_cast<std::int32_t>(type));
}

/// Bytes per element of the data types mote decodes; 0 for the others (STRING, the 4-bit types,
/// UNDEFINED and numbers ONNX added after this list).
inline std::size_t element_size(DataType type) noexcept {
  switch (type) {
    case DataType::uint8:
    case DataType::int8:
    case DataType::boolean:
    case DataType::float8e4m3fn:
    case DataType::float8e4m3fnuz:
    case DataType::float8e5m2:
    case DataType::float8e5m2fnuz: return 1;
    case DataType::uint16:
    case DataType::int16:
    case DataType::float16:
    case DataType::bfloat16: return 2;
    case DataType::float32:
    case DataType::int32:
    case DataType::uint32: return 4;
    case DataType::int64:
    case DataType::uint64:
    case DataType::float64:
    case DataType::complex64: return 8;
    case DataType::complex128: return 16;
    default: return 0;
  }
}

/// The ONNX data type whose elements are the C++ type T; DataType::undefined when none is.
template <class T>
inline constexpr DataType data_type_of = DataType::undefined;
template <>
inline constexpr DataType data_type_of<float> = DataType::float32;
template <>
inline constexpr DataType data_type_of<double> = DataType::float64;
template <>
inline constexpr DataType data_type_of<std::uint8_t> = DataType::uint8;
template <>
inline constexpr DataType data_type_of<std::int8_t> = DataType::int8;
template <>
inline constexpr DataType data_type_of<std::uint16_t> = DataType::uint16;
template <>
inline constexpr DataType data_type_of<std::int16_t> = DataType::int16;
template <>
inline constexpr DataType data_type_of<std::int32_t> = DataType::int32;
template <>
inline constexpr DataType data_type_of<std::int64_t> = DataType::int64;
template <>
inline constexpr DataType data_type_of<std::uint32_t> = DataType::uint32;
template <>
inline constexpr DataType data_type_of<std::uint64_t> = DataType::uint64;

namespace detail {

// IEEE binary16 to float; exact, as every half value is a float.
inline float half_bits_to_float(std::uint16_t half) noexcept {
  const std::uint32_t sign = static_cast<std::uint32_t>(half & 0x8000u) << 16;
  const std::uint32_t exponent = (half >> 10) & 0x1Fu;
  std::uint32_t mantissa = half & 0x3FFu;
  if (exponent == 0x1F) return std::bit_cast<float>(sign | 0x7F800000u | (mantissa << 13));
  if (exponent != 0) {
    return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
  }
  if (mantissa == 0) return std::bit_cast<float>(sign);
  // Subnormal half: shift the mantissa up to an implicit leading 1, lowering the exponent.
  std::uint32_t float_exponent = 113;
  while ((mantissa & 0x400u) == 0) {
    mantissa <<= 1;
    --float_exponent;
  }
  return std::bit_cast<float>(sign | (float_exponent << 23) | ((mantissa & 0x3FFu) << 13));
}

inline void append_le(std::vector<std::byte>& out, std::uint64_t bits, std::size_t size) {
  for (std::size_t i = 0; i < size; ++i) out.push_back(static_cast<std::byte>(bits >> (8 * i)));
}

}  // namespace detail

/// The decoded contents of one ONNX TensorProto.
struct TensorProto {
  std::string name;
  std::vector<std::int64_t> dims;  ///< C order; empty for a scalar; never negative
  DataType data_type = DataType::undefined;
  std::vector<std::byte> bytes;  ///< numel() * element_size() bytes: little-endian, C order

  /// Number of elements: 1 for a scalar, 0 when any dimension is 0.
  std::size_t numel() const noexcept {
    std::size_t n = 1;
    for (std::int64_t d : dims) n *= static_cast<std::size_t>(d);  // checked when decoded
    return n;
  }

  /// Bytes per element.
  std::size_t element_size() const noexcept { return onnx::element_size(data_type); }

  /// The dims as "[1, 3, 224, 224]"; "[]" for a scalar.
  std::string dims_string() const {
    std::string s = "[";
    for (std::size_t i = 0; i < dims.size(); ++i) {
      if (i != 0) s += ", ";
      s += std::to_string(dims[i]);
    }
    return s + "]";
  }

  /// "'name' (UINT8 [3])", how messages name this tensor.
  std::string describe() const {
    return "'" + name + "' (" + to_string(data_type) + " " + dims_string() + ")";
  }

  /// The elements as a vector of T, which must be the C++ type of data_type (data_type_of<T>):
  /// float for FLOAT, std::uint8_t for UINT8, ... Another type fails with
  /// ErrorCode::unsupported naming both; nothing is converted. Costs one copy.
  template <class T>
  Expected<std::vector<T>> try_as() const {
    static_assert(data_type_of<T> != DataType::undefined,
                  "TensorProto::as<T> reads float, double and the fixed-width integer types; "
                  "read FLOAT16 and BFLOAT16 with try_to_floats() and other types from bytes");
    if (data_type != data_type_of<T>) {
      return make_error(ErrorCode::unsupported, "tensor " + describe() + " cannot be read as " +
                                                    to_string(data_type_of<T>) + " elements");
    }
    std::vector<T> out(bytes.size() / sizeof(T));
    if constexpr (std::endian::native == std::endian::little) {
      if (!out.empty()) std::memcpy(out.data(), bytes.data(), bytes.size());
    } else {
      using Bits = std::conditional_t<
          sizeof(T) == 1, std::uint8_t,
          std::conditional_t<sizeof(T) == 2, std::uint16_t,
                             std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>>;
      for (std::size_t i = 0; i < out.size(); ++i) {
        Bits bits = 0;
        for (std::size_t b = 0; b < sizeof(T); ++b) {
          bits |= static_cast<Bits>(std::to_integer<Bits>(bytes[i * sizeof(T) + b]) << (8 * b));
        }
        out[i] = std::bit_cast<T>(bits);
      }
    }
    return out;
  }

  /// The elements as floats: FLOAT as is, FLOAT16 and BFLOAT16 widened (exactly). Other types
  /// fail with ErrorCode::unsupported (DOUBLE would round; integers need a scale).
  Expected<std::vector<float>> try_to_floats() const {
    if (data_type == DataType::float32) return try_as<float>();
    if (data_type != DataType::float16 && data_type != DataType::bfloat16) {
      return make_error(ErrorCode::unsupported,
                        "tensor " + describe() +
                            " cannot be read as floats (only FLOAT, FLOAT16 and BFLOAT16 can)");
    }
    std::vector<float> out(bytes.size() / 2);
    for (std::size_t i = 0; i < out.size(); ++i) {
      const std::uint16_t bits = io::detail::load_le16(bytes, 2 * i);
      out[i] = data_type == DataType::float16
                   ? detail::half_bits_to_float(bits)
                   : std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16);
    }
    return out;
  }

#if MOTE_HAS_EXCEPTIONS
  /// Throwing form of try_as.
  template <class T>
  std::vector<T> as() const {
    return value_or_throw(try_as<T>());
  }
  /// Throwing form of try_to_floats.
  std::vector<float> to_floats() const { return value_or_throw(try_to_floats()); }
#endif
};

namespace detail {

// TensorProto field numbers (onnx.proto).
enum TensorProtoField : std::uint32_t {
  dims_field = 1,
  data_type_field = 2,
  segment_field = 3,
  float_data_field = 4,
  int32_data_field = 5,
  string_data_field = 6,
  int64_data_field = 7,
  name_field = 8,
  raw_data_field = 9,
  double_data_field = 10,
  uint64_data_field = 11,
  external_data_field = 13,
  data_location_field = 14,
};

// Range of the values one int32_data entry may hold for `type`: the type's own range, or its
// bit patterns for the float types stored there.
struct Int32DataRange {
  std::int64_t min = 0;
  std::int64_t max = -1;  // empty: the field cannot hold this type
};

inline Int32DataRange int32_data_range(DataType type) noexcept {
  switch (type) {
    case DataType::int32: return {INT32_MIN, INT32_MAX};
    case DataType::int16: return {INT16_MIN, INT16_MAX};
    case DataType::int8: return {INT8_MIN, INT8_MAX};
    case DataType::uint16:
    case DataType::float16:
    case DataType::bfloat16: return {0, UINT16_MAX};
    case DataType::uint8:
    case DataType::float8e4m3fn:
    case DataType::float8e4m3fnuz:
    case DataType::float8e5m2:
    case DataType::float8e5m2fnuz: return {0, UINT8_MAX};
    case DataType::boolean: return {0, 1};
    default: return {};
  }
}

// The key/value list of external_data; returns the "location" value (empty when absent).
inline Expected<std::string> read_external_location(protobuf::Reader entry) {
  std::string key;
  std::string value;
  while (!entry.at_end()) {
    auto tag = entry.read_tag();
    if (!tag) return tag.error();
    if ((tag->number == 1 || tag->number == 2) &&
        tag->wire_type == protobuf::WireType::length_delimited) {
      auto text = entry.read_string();
      if (!text) return text.error();
      (tag->number == 1 ? key : value) = std::move(*text);
    } else if (Status skipped = entry.skip_field(*tag); !skipped) {
      return skipped.error();
    }
  }
  return key == "location" ? value : std::string();
}

}  // namespace detail

/// Decodes one TensorProto from the fields `message` holds: a whole .pb file, or an embedded
/// message (e.g. a GraphProto initializer) handed over by protobuf::Reader::read_message().
/// Unknown fields are skipped; see the file comment for what fails and how.
inline Expected<TensorProto> try_read_tensor_proto(protobuf::Reader message) {
  using protobuf::WireType;
  const std::size_t message_offset = message.offset();
  TensorProto tensor;
  std::optional<std::int32_t> data_type;
  std::optional<std::span<const std::byte>> raw_data;
  std::vector<float> float_data;
  std::vector<std::int32_t> int32_data;
  std::vector<std::int64_t> int64_data;
  std::vector<double> double_data;
  std::vector<std::uint64_t> uint64_data;
  std::size_t string_count = 0;
  bool has_segment = false;
  std::int32_t data_location = 0;
  std::optional<std::string> external_location;

  while (!message.at_end()) {
    auto tag = message.read_tag();
    if (!tag) return tag.error();
    Status status;
    switch (tag->number) {
      case detail::dims_field:
        status = message.read_repeated_int64(*tag, "dims", tensor.dims);
        break;
      case detail::data_type_field:
        status = message.expect_wire_type(*tag, WireType::varint, "data_type");
        if (status) {
          auto value = message.read_int32();
          if (!value) return value.error();
          data_type = *value;
        }
        break;
      case detail::float_data_field:
        status = message.read_repeated_float(*tag, "float_data", float_data);
        break;
      case detail::int32_data_field:
        status = message.read_repeated_int32(*tag, "int32_data", int32_data);
        break;
      case detail::int64_data_field:
        status = message.read_repeated_int64(*tag, "int64_data", int64_data);
        break;
      case detail::double_data_field:
        status = message.read_repeated_double(*tag, "double_data", double_data);
        break;
      case detail::uint64_data_field:
        status = message.read_repeated_uint64(*tag, "uint64_data", uint64_data);
        break;
      case detail::name_field:
        status = message.expect_wire_type(*tag, WireType::length_delimited, "name");
        if (status) {
          auto value = message.read_string();
          if (!value) return value.error();
          tensor.name = std::move(*value);
        }
        break;
      case detail::raw_data_field:
        status = message.expect_wire_type(*tag, WireType::length_delimited, "raw_data");
        if (status) {
          auto value = message.read_bytes();
          if (!value) return value.error();
          raw_data = *value;  // proto2: a repeated optional field keeps its last value
        }
        break;
      case detail::string_data_field:
        ++string_count;
        status = message.skip_field(*tag);
        break;
      case detail::segment_field:
        has_segment = true;
        status = message.skip_field(*tag);
        break;
      case detail::data_location_field:
        status = message.expect_wire_type(*tag, WireType::varint, "data_location");
        if (status) {
          auto value = message.read_int32();
          if (!value) return value.error();
          data_location = *value;
        }
        break;
      case detail::external_data_field:
        status = message.expect_wire_type(*tag, WireType::length_delimited, "external_data");
        if (status) {
          auto entry = message.read_message();
          if (!entry) return entry.error();
          auto location = detail::read_external_location(std::move(*entry));
          if (!location) return location.error();
          if (!location->empty() || !external_location) external_location = std::move(*location);
        }
        break;
      default: status = message.skip_field(*tag);
    }
    if (!status) return status.error();
  }

  // Content checks. Messages name the tensor once its name is known, and the message's offset.
  const std::string prefix = message.where() + ": TensorProto '" + tensor.name + "' at byte " +
                             std::to_string(message_offset) + ": ";
  auto fail = [&](ErrorCode code, const std::string& why) {
    return make_error(code, prefix + why);
  };

  if (!data_type || *data_type == 0) return fail(ErrorCode::corrupt, "data_type is missing");
  tensor.data_type = static_cast<DataType>(*data_type);
  const std::string type_name = to_string(tensor.data_type);
  const std::size_t size = element_size(tensor.data_type);
  if (size == 0) {
    return fail(ErrorCode::unsupported,
                type_name + " tensors are not supported (mote reads fixed-size numbers)");
  }
  if (string_count != 0) {
    return fail(ErrorCode::corrupt, "string_data cannot hold " + type_name + " elements");
  }
  if (data_location == 1 || external_location) {
    return fail(ErrorCode::unsupported,
                "the data is stored outside the file (external_data location '" +
                    external_location.value_or("") + "'); mote reads embedded data only");
  }
  if (data_location != 0) {
    return fail(ErrorCode::corrupt, "data_location " + std::to_string(data_location) +
                                        " is neither DEFAULT (0) nor EXTERNAL (1)");
  }
  if (has_segment) {
    return fail(ErrorCode::unsupported, "tensors split into segments are not supported");
  }

  std::size_t numel = 1;
  bool overflow = false;
  for (std::size_t i = 0; i < tensor.dims.size(); ++i) {
    const std::int64_t d = tensor.dims[i];
    if (d < 0) {
      return fail(ErrorCode::corrupt, "dims " + tensor.dims_string() +
                                          " has a negative dimension at index " +
                                          std::to_string(i));
    }
    const auto extent = static_cast<std::uint64_t>(d);
    if (extent > SIZE_MAX || (extent != 0 && numel > SIZE_MAX / extent)) overflow = true;
    numel *= static_cast<std::size_t>(extent);
  }
  if (overflow || numel > SIZE_MAX / size) {
    return fail(ErrorCode::corrupt, "dims " + tensor.dims_string() + " overflow the address space");
  }
  const std::string shape = type_name + " " + tensor.dims_string();

  // Exactly one source of elements (an empty typed field counts as absent, like in protobuf).
  struct Source {
    const char* field;
    std::size_t count;
  };
  const Source sources[] = {
      {"float_data", float_data.size()},   {"int32_data", int32_data.size()},
      {"int64_data", int64_data.size()},   {"double_data", double_data.size()},
      {"uint64_data", uint64_data.size()}, {"raw_data", raw_data ? 1u : 0u}};
  const Source* source = nullptr;
  for (const Source& s : sources) {
    if (s.count == 0) continue;
    if (source != nullptr) {
      return fail(ErrorCode::corrupt, std::string("holds its elements both in ") + source->field +
                                          " and in " + s.field);
    }
    source = &s;
  }
  if (source == nullptr) {
    if (numel != 0) {
      return fail(ErrorCode::corrupt, shape + " has " + std::to_string(numel) +
                                          " elements but no data field holds them");
    }
    return tensor;
  }

  // Each typed field holds its own types, `per_element` values per element (complex: 2).
  auto check_count = [&](std::size_t count, std::size_t per_element) -> Status {
    if (count == numel * per_element) return {};
    return fail(ErrorCode::corrupt, std::string(source->field) + " holds " + std::to_string(count) +
                                        " values, " + shape + " needs " +
                                        std::to_string(numel * per_element));
  };
  auto wrong_field = [&](const char* holds) {
    return fail(ErrorCode::corrupt, std::string(source->field) + " cannot hold " + type_name +
                                        " elements (it holds " + holds + ")");
  };
  const DataType type = tensor.data_type;
  std::vector<std::byte>& out = tensor.bytes;
  if (raw_data) {
    if (raw_data->size() != numel * size) {
      return fail(ErrorCode::corrupt, "raw_data holds " + std::to_string(raw_data->size()) +
                                          " bytes, " + shape + " needs " +
                                          std::to_string(numel * size));
    }
    out.assign(raw_data->begin(), raw_data->end());
  } else if (!float_data.empty()) {
    if (type != DataType::float32 && type != DataType::complex64) {
      return wrong_field("FLOAT and COMPLEX64");
    }
    if (Status s = check_count(float_data.size(), type == DataType::complex64 ? 2 : 1); !s) {
      return s.error();
    }
    out.reserve(float_data.size() * 4);
    for (float v : float_data) detail::append_le(out, std::bit_cast<std::uint32_t>(v), 4);
  } else if (!double_data.empty()) {
    if (type != DataType::float64 && type != DataType::complex128) {
      return wrong_field("DOUBLE and COMPLEX128");
    }
    if (Status s = check_count(double_data.size(), type == DataType::complex128 ? 2 : 1); !s) {
      return s.error();
    }
    out.reserve(double_data.size() * 8);
    for (double v : double_data) detail::append_le(out, std::bit_cast<std::uint64_t>(v), 8);
  } else if (!int64_data.empty()) {
    if (type != DataType::int64) return wrong_field("INT64");
    if (Status s = check_count(int64_data.size(), 1); !s) return s.error();
    out.reserve(int64_data.size() * 8);
    for (std::int64_t v : int64_data) detail::append_le(out, static_cast<std::uint64_t>(v), 8);
  } else if (!uint64_data.empty()) {
    if (type != DataType::uint64 && type != DataType::uint32) {
      return wrong_field("UINT32 and UINT64");
    }
    if (Status s = check_count(uint64_data.size(), 1); !s) return s.error();
    out.reserve(uint64_data.size() * size);
    for (std::size_t i = 0; i < uint64_data.size(); ++i) {
      if (type == DataType::uint32 && uint64_data[i] > UINT32_MAX) {
        return fail(ErrorCode::corrupt, "uint64_data[" + std::to_string(i) +
                                            "] = " + std::to_string(uint64_data[i]) +
                                            " is outside the range of UINT32");
      }
      detail::append_le(out, uint64_data[i], size);
    }
  } else {
    const detail::Int32DataRange range = detail::int32_data_range(type);
    if (range.min > range.max) {
      return wrong_field(
          "INT32, INT16, INT8, UINT16, UINT8, BOOL and the bits of FLOAT16, "
          "BFLOAT16 and FLOAT8 types");
    }
    if (Status s = check_count(int32_data.size(), 1); !s) return s.error();
    out.reserve(int32_data.size() * size);
    for (std::size_t i = 0; i < int32_data.size(); ++i) {
      const std::int32_t v = int32_data[i];
      if (v < range.min || v > range.max) {
        return fail(ErrorCode::corrupt,
                    "int32_data[" + std::to_string(i) + "] = " + std::to_string(v) +
                        " is outside the range of " + type_name + " [" + std::to_string(range.min) +
                        ", " + std::to_string(range.max) + "]");
      }
      // Two's complement truncation keeps the low `size` bytes, i.e. the value itself.
      detail::append_le(out, static_cast<std::uint64_t>(static_cast<std::uint32_t>(v)), size);
    }
  }
  return tensor;
}

/// Decodes a serialized TensorProto held in `bytes` (e.g. the contents of an ONNX test's
/// input_0.pb); `where` names it in messages.
inline Expected<TensorProto> try_read_tensor_proto(std::span<const std::byte> bytes,
                                                   std::string where = "TensorProto") {
  return try_read_tensor_proto(protobuf::Reader(bytes, std::move(where)));
}

/// Reads and decodes a file holding one serialized TensorProto.
inline Expected<TensorProto> try_read_tensor_proto_file(const std::string& path) {
  auto bytes = try_read_file_bytes(path);
  if (!bytes) return bytes.error();
  return try_read_tensor_proto(*bytes, path);
}

#if MOTE_HAS_EXCEPTIONS
/// Throwing form of try_read_tensor_proto.
inline TensorProto read_tensor_proto(std::span<const std::byte> bytes,
                                     std::string where = "TensorProto") {
  return value_or_throw(try_read_tensor_proto(bytes, std::move(where)));
}

/// Throwing form of try_read_tensor_proto_file.
inline TensorProto read_tensor_proto_file(const std::string& path) {
  return value_or_throw(try_read_tensor_proto_file(path));
}
#endif

}  // namespace mote::io::onnx
