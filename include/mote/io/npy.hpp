#pragma once
// The .npy array format (numpy's NEP 1), versions 1.0, 2.0 and 3.0.
//
// The header is a Python dict literal; it is parsed strictly (exactly the keys 'descr',
// 'fortran_order' and 'shape', string/bool/tuple values, no expressions) rather than
// evaluated, so a malformed header is reported with its byte offset instead of being guessed at.
// Big-endian arrays ('>f4', ...) of numeric dtypes are converted to little-endian on load, so
// TensorData::bytes is always little-endian; big-endian arrays of other dtypes are rejected.

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mote/core/error.hpp"
#include "mote/io/file.hpp"

namespace mote::io {

namespace detail {

inline std::string shape_to_string(std::span<const std::size_t> shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i != 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

}  // namespace detail

/// Element type of a stored array. `other` covers dtypes mote loads as raw bytes but does not
/// interpret (complex, strings, datetimes, void/record-less bytes, long double).
enum class DType {
  f32,
  f64,
  f16,
  bf16_unused,
  i8,
  u8,
  i16,
  u16,
  i32,
  u32,
  i64,
  u64,
  boolean,
  other
};

/// Name of a DType as numpy spells it ("float32", "int8", "bool", ...).
inline const char* to_string(DType dtype) noexcept {
  switch (dtype) {
    case DType::f32: return "float32";
    case DType::f64: return "float64";
    case DType::f16: return "float16";
    case DType::bf16_unused: return "bfloat16";
    case DType::i8: return "int8";
    case DType::u8: return "uint8";
    case DType::i16: return "int16";
    case DType::u16: return "uint16";
    case DType::i32: return "int32";
    case DType::u32: return "uint32";
    case DType::i64: return "int64";
    case DType::u64: return "uint64";
    case DType::boolean: return "bool";
    case DType::other: return "other";
  }
  return "unknown";
}

/// An array read from a .npy file or an .npz entry.
struct TensorData {
  std::string name;  ///< npz entry name without ".npy" (file stem for .npy files)
  DType dtype = DType::other;
  std::string descr;               ///< the raw numpy descr, e.g. "<f4", for messages
  std::vector<std::size_t> shape;  ///< C order; empty for a 0-d scalar
  std::vector<std::byte> bytes;    ///< little-endian elements, C order, numel() * itemsize bytes
  std::size_t itemsize = 0;        ///< bytes per element

  /// Number of elements: 1 for a scalar, 0 when any dimension is 0.
  std::size_t numel() const noexcept {
    std::size_t n = 1;
    for (std::size_t d : shape) n *= d;  // cannot overflow: checked when the file was read
    return n;
  }

  /// The shape as "[256, 784]"; "[]" for a scalar.
  std::string shape_string() const { return detail::shape_to_string(shape); }

  /// Copies the elements into `out`, which must hold exactly numel() floats. Only float32
  /// tensors qualify (ErrorCode::unsupported names the tensor and its descr otherwise);
  /// a wrong-sized `out` gives ErrorCode::shape_mismatch.
  Status try_copy_to(std::span<float> out) const {
    if (dtype != DType::f32) {
      return make_error(ErrorCode::unsupported,
                        "tensor '" + name + "' has dtype " + to_string(dtype) + " ('" + descr +
                            "'); only float32 ('<f4') can be read as floats (convert with "
                            "astype(np.float32) before saving)");
    }
    if (out.size() != numel() || bytes.size() != numel() * sizeof(float)) {
      return make_error(ErrorCode::shape_mismatch,
                        "tensor '" + name + "' of shape " + shape_string() + " has " +
                            std::to_string(numel()) + " elements, the destination holds " +
                            std::to_string(out.size()));
    }
    if constexpr (std::endian::native == std::endian::little) {
      if (!out.empty()) std::memcpy(out.data(), bytes.data(), bytes.size());
    } else {
      for (std::size_t i = 0; i < out.size(); ++i) {
        out[i] = std::bit_cast<float>(detail::load_le32(bytes, i * 4));
      }
    }
    return {};
  }

  /// The elements as floats; see try_copy_to.
  Expected<std::vector<float>> try_to_floats() const {
    std::vector<float> out;
    if (dtype == DType::f32) out.resize(numel());
    Status status = try_copy_to(out);
    if (!status) return status.error();
    return out;
  }

#if MOTE_HAS_EXCEPTIONS
  /// Throwing form of try_to_floats.
  std::vector<float> to_floats() const { return value_or_throw(try_to_floats()); }
#endif
};

namespace detail {

// Recursive-descent parser for the header dict; `base` is the header's offset in the file so
// that messages point at real bytes.
class NpyHeaderParser {
 public:
  NpyHeaderParser(std::string_view text, std::size_t base, const std::string& where)
      : text_(text), base_(base), where_(where) {}

  struct Header {
    std::string descr;
    bool fortran_order = false;
    std::vector<std::size_t> shape;
  };

  Expected<Header> parse() {
    Header h;
    bool seen_descr = false;
    bool seen_fortran = false;
    bool seen_shape = false;
    skip_space();
    if (!consume('{')) return expected("'{' opening the header dict");
    skip_space();
    while (!peek_is('}')) {
      const std::size_t key_at = pos_;
      std::string key;
      if (auto st = parse_string(key); !st) return st.error();
      skip_space();
      if (!consume(':')) return expected("':' after key '" + key + "'");
      skip_space();
      if (key == "descr") {
        if (seen_descr) return error_at(key_at, "duplicate key 'descr'");
        seen_descr = true;
        if (peek_is('[')) {
          return make_error(ErrorCode::unsupported,
                            where_ + ": structured (record) dtypes are not supported");
        }
        if (auto st = parse_string(h.descr); !st) return st.error();
      } else if (key == "fortran_order") {
        if (seen_fortran) return error_at(key_at, "duplicate key 'fortran_order'");
        seen_fortran = true;
        if (auto st = parse_bool(h.fortran_order); !st) return st.error();
      } else if (key == "shape") {
        if (seen_shape) return error_at(key_at, "duplicate key 'shape'");
        seen_shape = true;
        if (auto st = parse_shape(h.shape); !st) return st.error();
      } else {
        return error_at(key_at, "unexpected key '" + key +
                                    "' (a .npy header has only 'descr', 'fortran_order', "
                                    "'shape')");
      }
      skip_space();
      if (consume(',')) {
        skip_space();
      } else if (!peek_is('}')) {
        return expected("',' or '}' after the value of '" + key + "'");
      }
    }
    ++pos_;
    skip_space();
    if (pos_ != text_.size()) return expected("only padding after the header dict");
    if (!seen_descr || !seen_fortran || !seen_shape) {
      return error_at(pos_, std::string("the header lacks key '") +
                                (!seen_descr     ? "descr"
                                 : !seen_fortran ? "fortran_order"
                                                 : "shape") +
                                "'");
    }
    return h;
  }

 private:
  ErrorInfo error_at(std::size_t at, const std::string& why) const {
    return make_error(ErrorCode::corrupt,
                      where_ + ": header at byte " + std::to_string(base_ + at) + ": " + why);
  }
  ErrorInfo expected(const std::string& what) const {
    std::string found = "the end of the header";
    if (pos_ < text_.size()) {
      const unsigned char c = static_cast<unsigned char>(text_[pos_]);
      found = (c >= 0x20 && c < 0x7f) ? "'" + std::string(1, static_cast<char>(c)) + "'"
                                      : "byte " + std::to_string(c);
    }
    return error_at(pos_, "expected " + what + ", found " + found);
  }
  bool peek_is(char c) const noexcept { return pos_ < text_.size() && text_[pos_] == c; }
  bool consume(char c) noexcept {
    if (!peek_is(c)) return false;
    ++pos_;
    return true;
  }
  void skip_space() noexcept {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  Status parse_string(std::string& out) {
    if (!peek_is('\'') && !peek_is('"')) return expected("a quoted string");
    const char quote = text_[pos_++];
    const std::size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      if (text_[pos_] == '\\') return error_at(pos_, "escape sequences are not supported");
      if (text_[pos_] == '\n') return error_at(pos_, "newline inside a string");
      ++pos_;
    }
    if (pos_ == text_.size()) return error_at(start - 1, "unterminated string");
    out.assign(text_.substr(start, pos_ - start));
    ++pos_;
    return {};
  }
  Status parse_bool(bool& out) {
    if (text_.substr(pos_, 4) == "True") {
      out = true;
      pos_ += 4;
    } else if (text_.substr(pos_, 5) == "False") {
      out = false;
      pos_ += 5;
    } else {
      return expected("True or False");
    }
    return {};
  }
  Status parse_shape(std::vector<std::size_t>& out) {
    if (!consume('(')) return expected("'(' opening the shape tuple");
    skip_space();
    bool trailing_comma = false;
    while (!peek_is(')')) {
      if (pos_ >= text_.size() || text_[pos_] < '0' || text_[pos_] > '9') {
        return expected("a non-negative integer in the shape tuple");
      }
      const std::size_t start = pos_;
      std::size_t value = 0;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
        const auto digit = static_cast<std::size_t>(text_[pos_] - '0');
        if (value > (SIZE_MAX - digit) / 10) return error_at(start, "dimension too large");
        value = value * 10 + digit;
        ++pos_;
      }
      consume('L');  // Python 2 era writers printed long integers as "3L"
      out.push_back(value);
      skip_space();
      trailing_comma = consume(',');
      if (!trailing_comma && !peek_is(')')) return expected("',' or ')' in the shape tuple");
      skip_space();
    }
    // "(5)" is the integer 5 in Python, not a tuple.
    if (out.size() == 1 && !trailing_comma) {
      return error_at(pos_, "a one-element shape must be written '(n,)'");
    }
    ++pos_;
    return {};
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t base_;
  const std::string& where_;
};

struct NpyDescr {
  DType dtype = DType::other;
  std::size_t itemsize = 0;
  bool big_endian = false;
};

inline Expected<NpyDescr> parse_npy_descr(std::string_view descr, const std::string& where) {
  auto bad = [&](ErrorCode code, const std::string& why) {
    return make_error(code, where + ": dtype descr '" + std::string(descr) + "' " + why);
  };
  if (descr.size() < 2) return bad(ErrorCode::corrupt, "is too short");
  const char order = descr[0];
  if (order != '<' && order != '>' && order != '|' && order != '=') {
    return bad(ErrorCode::corrupt, "does not start with a byte order ('<', '>', '|' or '=')");
  }
  const char kind = descr[1];
  if (kind == 'O') {
    return bad(ErrorCode::unsupported,
               "is a Python object array, which needs pickle; save numeric arrays instead");
  }
  std::size_t i = 2;
  std::size_t n = 0;
  const std::size_t digits_at = i;
  while (i < descr.size() && descr[i] >= '0' && descr[i] <= '9') {
    if (n > 1000000000) return bad(ErrorCode::corrupt, "has an absurd item size");
    n = n * 10 + static_cast<std::size_t>(descr[i] - '0');
    ++i;
  }
  if (i == digits_at) return bad(ErrorCode::corrupt, "lacks an item size");
  const std::string_view rest = descr.substr(i);
  if (!rest.empty() &&
      !((kind == 'M' || kind == 'm') && rest.front() == '[' && rest.back() == ']')) {
    return bad(ErrorCode::corrupt, "has unexpected trailing characters");
  }

  NpyDescr d;
  d.itemsize = n;
  d.big_endian = order == '>' || (order == '=' && std::endian::native == std::endian::big);
  auto pick = [&](std::initializer_list<std::pair<std::size_t, DType>> options) {
    for (const auto& [size, type] : options) {
      if (size == n) d.dtype = type;
    }
  };
  switch (kind) {
    case 'f': pick({{2, DType::f16}, {4, DType::f32}, {8, DType::f64}}); break;
    case 'i': pick({{1, DType::i8}, {2, DType::i16}, {4, DType::i32}, {8, DType::i64}}); break;
    case 'u': pick({{1, DType::u8}, {2, DType::u16}, {4, DType::u32}, {8, DType::u64}}); break;
    case 'b': pick({{1, DType::boolean}}); break;
    case 'c':
    case 'M':
    case 'm':
    case 'S':
    case 'V': break;
    case 'U':
      if (n > SIZE_MAX / 4) return bad(ErrorCode::corrupt, "has an absurd item size");
      d.itemsize = 4 * n;  // UCS-4 code units
      break;
    default: return bad(ErrorCode::unsupported, "has an unknown type kind");
  }
  // Sized kinds must use a size numpy produces; 'f' also allows long double (10, 12, 16).
  const bool sized = kind == 'f' || kind == 'i' || kind == 'u' || kind == 'b';
  if (sized && d.dtype == DType::other && !(kind == 'f' && (n == 10 || n == 12 || n == 16))) {
    return bad(ErrorCode::unsupported, "has an item size numpy does not use for this kind");
  }
  // Only dtypes whose elements are single numbers can be byte-swapped element-wise.
  if (d.big_endian && d.dtype == DType::other && d.itemsize > 1) {
    return bad(ErrorCode::unsupported,
               "is big-endian; only numeric dtypes are converted (save with a '<' dtype)");
  }
  return d;
}

}  // namespace detail

/// Parses a complete .npy file held in `bytes`. `name` becomes TensorData::name; `where` names
/// the file (or archive entry) in messages. Fails with ErrorCode::truncated, corrupt, or
/// unsupported (Fortran order, object or structured dtypes, unknown versions).
inline Expected<TensorData> try_parse_npy(std::span<const std::byte> bytes, std::string name,
                                          std::string_view where = "npy data") {
  const std::string w(where);
  auto fail = [&](ErrorCode code, const std::string& why) {
    return make_error(code, w + ": " + why);
  };
  static constexpr unsigned char magic[] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  for (std::size_t i = 0; i < 6; ++i) {
    if (i == bytes.size()) return fail(ErrorCode::truncated, "input ends inside the .npy magic");
    if (std::to_integer<unsigned char>(bytes[i]) != magic[i]) {
      return fail(ErrorCode::corrupt, "not a .npy file (expected magic \\x93NUMPY at byte 0)");
    }
  }
  if (bytes.size() < 10) return fail(ErrorCode::truncated, "input ends inside the .npy preamble");
  const unsigned major = std::to_integer<unsigned>(bytes[6]);
  const unsigned minor = std::to_integer<unsigned>(bytes[7]);
  if (major < 1 || major > 3 || minor != 0) {
    return fail(ErrorCode::unsupported, "format version " + std::to_string(major) + "." +
                                            std::to_string(minor) +
                                            " (known versions are 1.0, 2.0 and 3.0)");
  }
  std::size_t header_at = 10;
  std::size_t header_len = detail::load_le16(bytes, 8);
  if (major >= 2) {
    if (bytes.size() < 12) return fail(ErrorCode::truncated, "input ends inside the .npy preamble");
    header_at = 12;
    header_len = detail::load_le32(bytes, 8);
  }
  if (bytes.size() - header_at < header_len) {
    return fail(ErrorCode::truncated, "the header announces " + std::to_string(header_len) +
                                          " bytes at byte " + std::to_string(header_at) +
                                          ", only " + std::to_string(bytes.size() - header_at) +
                                          " remain");
  }
  const std::string_view text(reinterpret_cast<const char*>(bytes.data() + header_at), header_len);
  auto header = detail::NpyHeaderParser(text, header_at, w).parse();
  if (!header) return header.error();
  auto descr = detail::parse_npy_descr(header->descr, w);
  if (!descr) return descr.error();
  if (header->fortran_order) {
    return fail(ErrorCode::unsupported,
                "array of shape " + detail::shape_to_string(header->shape) +
                    " saved in Fortran order; save with np.ascontiguousarray");
  }

  std::size_t numel = 1;
  bool overflow = false;
  for (std::size_t d : header->shape) {
    if (d != 0 && numel > SIZE_MAX / d) overflow = true;
    numel *= d;
  }
  const std::size_t data_at = header_at + header_len;
  const std::size_t available = bytes.size() - data_at;
  if (overflow || (descr->itemsize != 0 && numel > SIZE_MAX / descr->itemsize)) {
    return fail(ErrorCode::corrupt, "shape overflows the address space");
  }
  const std::size_t nbytes = numel * descr->itemsize;
  if (nbytes != available) {
    return fail(nbytes > available ? ErrorCode::truncated : ErrorCode::corrupt,
                "shape " + detail::shape_to_string(header->shape) + " of '" + header->descr +
                    "' needs " + std::to_string(nbytes) + " data bytes after byte " +
                    std::to_string(data_at) + ", found " + std::to_string(available));
  }

  TensorData t;
  t.name = std::move(name);
  t.dtype = descr->dtype;
  t.descr = std::move(header->descr);
  t.shape = std::move(header->shape);
  t.itemsize = descr->itemsize;
  t.bytes.assign(bytes.begin() + static_cast<std::ptrdiff_t>(data_at), bytes.end());
  if (descr->big_endian && t.itemsize > 1) {
    for (std::size_t at = 0; at < t.bytes.size(); at += t.itemsize) {
      std::reverse(t.bytes.begin() + static_cast<std::ptrdiff_t>(at),
                   t.bytes.begin() + static_cast<std::ptrdiff_t>(at + t.itemsize));
    }
  }
  return t;
}

/// Reads a .npy file; the tensor is named after the file without directory and ".npy".
inline Expected<TensorData> try_read_npy(const std::string& path) {
  auto bytes = try_read_file_bytes(path);
  if (!bytes) return bytes.error();
  std::string_view stem(path);
  if (const auto slash = stem.find_last_of("/\\"); slash != std::string_view::npos) {
    stem.remove_prefix(slash + 1);
  }
  if (stem.size() > 4 && stem.substr(stem.size() - 4) == ".npy") stem.remove_suffix(4);
  return try_parse_npy(*bytes, std::string(stem), path);
}

#if MOTE_HAS_EXCEPTIONS
/// Throwing form of try_parse_npy.
inline TensorData parse_npy(std::span<const std::byte> bytes, std::string name,
                            std::string_view where = "npy data") {
  return value_or_throw(try_parse_npy(bytes, std::move(name), where));
}

/// Throwing form of try_read_npy.
inline TensorData read_npy(const std::string& path) { return value_or_throw(try_read_npy(path)); }
#endif

}  // namespace mote::io
