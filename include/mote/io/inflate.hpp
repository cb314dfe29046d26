#pragma once
// A DEFLATE (RFC 1951) decoder: stored, fixed-Huffman and dynamic-Huffman blocks.
//
// Validation follows zlib's and puff's rules: over-subscribed codes are rejected, incomplete
// codes are accepted only in the one case RFC 1951 allows (a single code of length one), and
// every length, distance and repeat count is checked before it is used. Output never grows past
// the caller's limit, so a hostile stream cannot make the decoder allocate without bound.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mote/core/error.hpp"
#include "mote/io/file.hpp"

namespace mote::io {

/// Default cap on decompressed sizes (gzip data, one ZIP entry): far above any dataset or model
/// mote reads, yet it stops a small hostile input from demanding many gigabytes.
inline constexpr std::size_t default_max_decompressed_size = std::size_t{1} << 30;

/// A decoded DEFLATE stream and where it ended in the input.
struct InflateResult {
  std::vector<std::byte> bytes;  ///< the decompressed data
  std::size_t consumed = 0;      ///< input bytes up to and including the final block's last byte
};

namespace detail {

// Least-significant-bit-first reader with a 64-bit buffer; bits above `count_` are always zero,
// so peeking past the end of the input yields zeros and callers compare lengths with available().
class BitReader {
 public:
  explicit BitReader(std::span<const std::byte> in) noexcept : in_(in) {}

  void refill() noexcept {
    if (count_ <= 56 && in_.size() - pos_ >= 8) {
      // Whole bytes that fit, in one 8-byte load; the mask restores the zero-above-count_ rule.
      const unsigned take = (63 - count_) / 8;
      buf_ |= load_le64(in_, pos_) << count_;
      count_ += take * 8;
      pos_ += take;
      buf_ &= (std::uint64_t{1} << count_) - 1;
      return;
    }
    while (count_ <= 56 && pos_ < in_.size()) {
      buf_ |= std::to_integer<std::uint64_t>(in_[pos_++]) << count_;
      count_ += 8;
    }
  }
  bool ensure(unsigned n) noexcept {
    if (count_ < n) refill();
    return count_ >= n;
  }
  unsigned available() const noexcept { return count_; }
  std::uint32_t peek(unsigned n) const noexcept {
    return static_cast<std::uint32_t>(buf_ & ((std::uint64_t{1} << n) - 1));
  }
  void drop(unsigned n) noexcept {
    buf_ >>= n;
    count_ -= n;
  }
  std::uint32_t take(unsigned n) noexcept {
    const std::uint32_t v = peek(n);
    drop(n);
    return v;
  }
  void align_to_byte() noexcept { drop(count_ % 8); }
  // Index of the byte holding the next unread bit.
  std::size_t byte_position() const noexcept { return pos_ - (count_ + 7) / 8; }
  void seek_byte(std::size_t position) noexcept {
    pos_ = position;
    buf_ = 0;
    count_ = 0;
  }

 private:
  std::span<const std::byte> in_;
  std::size_t pos_ = 0;
  std::uint64_t buf_ = 0;
  unsigned count_ = 0;
};

// Canonical Huffman code: a direct table for codes up to fast_bits long and puff's
// count/symbol arrays for the rare longer ones.
struct Huffman {
  static constexpr unsigned fast_bits = 10;
  static constexpr unsigned max_bits = 15;
  std::array<std::uint16_t, max_bits + 1> count{};
  std::array<std::uint16_t, 288> symbol{};
  std::array<std::uint16_t, 1u << fast_bits> fast{};  // (symbol << 4) | length; 0: slow path
  unsigned longest = 0;  // no code is longer, so reading further cannot find one

  // Returns 0 for a complete code, > 0 for an incomplete one, < 0 for an over-subscribed one.
  int build(const std::uint8_t* lengths, unsigned n) noexcept {
    count.fill(0);
    fast.fill(0);
    longest = 0;
    for (unsigned s = 0; s < n; ++s) {
      ++count[lengths[s]];
      longest = std::max<unsigned>(longest, lengths[s]);
    }
    if (count[0] == n) return 0;  // no codes: complete, but every decode fails
    int left = 1;
    for (unsigned len = 1; len <= max_bits; ++len) {
      left <<= 1;
      left -= count[len];
      if (left < 0) return left;
    }
    std::array<std::uint16_t, max_bits + 1> offset{};
    for (unsigned len = 1; len < max_bits; ++len) offset[len + 1] = offset[len] + count[len];
    for (unsigned s = 0; s < n; ++s) {
      if (lengths[s] != 0) symbol[offset[lengths[s]]++] = static_cast<std::uint16_t>(s);
    }
    // Codes are assigned MSB-first but arrive LSB-first, hence the bit reversal.
    std::array<std::uint32_t, max_bits + 1> next{};
    std::uint32_t code = 0;
    for (unsigned len = 1; len <= max_bits; ++len) {
      code = (code + count[len - 1] * (len > 1 ? 1u : 0u)) << 1;
      next[len] = code;
    }
    for (unsigned s = 0; s < n; ++s) {
      const unsigned len = lengths[s];
      if (len == 0 || len > fast_bits) continue;
      const std::uint32_t c = next[len]++;
      std::uint32_t reversed = 0;
      for (unsigned i = 0; i < len; ++i) reversed |= ((c >> i) & 1u) << (len - 1 - i);
      for (std::uint32_t i = reversed; i < (1u << fast_bits); i += 1u << len) {
        fast[i] = static_cast<std::uint16_t>((s << 4) | len);
      }
    }
    return left;
  }
};

inline constexpr int decode_truncated = -1;
inline constexpr int decode_invalid = -2;

inline int decode_symbol(BitReader& br, const Huffman& h) noexcept {
  br.ensure(Huffman::max_bits);
  const unsigned avail = br.available();
  const std::uint16_t entry = h.fast[br.peek(Huffman::fast_bits)];
  if (entry != 0) {
    const unsigned len = entry & 15u;
    if (len > avail) return decode_truncated;
    br.drop(len);
    return entry >> 4;
  }
  // puff's decode(): walk the lengths, comparing the code read so far with the first code of
  // each length.
  int code = 0;
  int first = 0;
  int index = 0;
  const std::uint32_t bits = br.peek(Huffman::max_bits);
  for (unsigned len = 1; len <= h.longest; ++len) {
    if (len > avail) return decode_truncated;
    code |= static_cast<int>((bits >> (len - 1)) & 1u);
    const int count = h.count[len];
    if (code - count < first) {
      br.drop(len);
      return h.symbol[static_cast<std::size_t>(index + (code - first))];
    }
    index += count;
    first += count;
    first <<= 1;
    code <<= 1;
  }
  return decode_invalid;
}

inline constexpr std::array<std::uint16_t, 29> length_base = {
    3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
    31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
inline constexpr std::array<std::uint8_t, 29> length_extra = {
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
inline constexpr std::array<std::uint16_t, 30> distance_base = {
    1,   2,   3,   4,   5,   7,    9,    13,   17,   25,   33,   49,   65,    97,    129,
    193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
inline constexpr std::array<std::uint8_t, 30> distance_extra = {
    0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
    6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

}  // namespace detail

/// Decodes the DEFLATE stream at the start of `input`; bytes after its final block are left
/// unread and reported through InflateResult::consumed. Fails with ErrorCode::truncated,
/// ErrorCode::corrupt (the message gives the byte offset in `input`), or
/// ErrorCode::invalid_value when the output would exceed `max_output` bytes. `source` names the
/// stream in messages.
inline Expected<InflateResult> try_inflate_prefix(std::span<const std::byte> input,
                                                  std::size_t max_output,
                                                  std::string_view source = "deflate stream") {
  using namespace detail;
  BitReader br(input);
  auto fail = [&](ErrorCode code, const std::string& why) {
    return make_error(code, std::string(source) + ": at byte " +
                                std::to_string(br.byte_position()) +
                                " of the deflate data: " + why);
  };
  auto truncated = [&](const char* what) {
    return fail(ErrorCode::truncated, std::string("input ends inside ") + what);
  };
  auto too_big = [&]() {
    return fail(ErrorCode::invalid_value,
                "decompressed data exceeds the limit of " + std::to_string(max_output) + " bytes");
  };

  // `out` is grown ahead of `used` (the bytes decoded so far) so that the hot loop writes through
  // a pointer instead of push_back; the first size is a guess for typical ratios that trusts
  // nothing in the input.
  std::vector<std::byte> out(std::min(max_output, std::min(input.size(), SIZE_MAX / 4) * 2 + 1024));
  std::size_t used = 0;
  auto make_room = [&](std::size_t need) {
    if (need > max_output - used) return false;
    if (out.size() - used < need) {
      const std::size_t doubled = out.size() > max_output / 2 ? max_output : out.size() * 2;
      out.resize(std::max(doubled, used + need));
    }
    return true;
  };

  Huffman lit;
  Huffman dist;
  bool final_block = false;
  do {
    if (!br.ensure(3)) return truncated("a block header");
    final_block = br.take(1) != 0;
    const std::uint32_t type = br.take(2);
    if (type == 0) {
      br.align_to_byte();
      std::size_t p = br.byte_position();
      if (input.size() - p < 4) return truncated("a stored block's length fields");
      const std::uint16_t len = load_le16(input, p);
      const std::uint16_t nlen = load_le16(input, p + 2);
      if (static_cast<std::uint16_t>(~nlen) != len) {
        return fail(ErrorCode::corrupt, "stored block length " + std::to_string(len) +
                                            " does not match its complement " +
                                            std::to_string(nlen));
      }
      p += 4;
      if (input.size() - p < len) {
        br.seek_byte(input.size());
        return truncated(("a stored block of " + std::to_string(len) + " bytes").c_str());
      }
      if (!make_room(len)) return too_big();
      std::copy(input.begin() + static_cast<std::ptrdiff_t>(p),
                input.begin() + static_cast<std::ptrdiff_t>(p + len),
                out.begin() + static_cast<std::ptrdiff_t>(used));
      used += len;
      br.seek_byte(p + len);
      continue;
    }
    if (type == 3) return fail(ErrorCode::corrupt, "invalid block type 3");

    if (type == 1) {
      std::array<std::uint8_t, 288> lengths{};
      std::fill(lengths.begin(), lengths.begin() + 144, std::uint8_t{8});
      std::fill(lengths.begin() + 144, lengths.begin() + 256, std::uint8_t{9});
      std::fill(lengths.begin() + 256, lengths.begin() + 280, std::uint8_t{7});
      std::fill(lengths.begin() + 280, lengths.end(), std::uint8_t{8});
      lit.build(lengths.data(), 288);
      // 30 codes of 5 bits leave codes 30 and 31 unassigned, so decoding them fails below.
      std::fill(lengths.begin(), lengths.begin() + 30, std::uint8_t{5});
      dist.build(lengths.data(), 30);
    } else {
      if (!br.ensure(14)) return truncated("a dynamic block header");
      const unsigned nlen = br.take(5) + 257;
      const unsigned ndist = br.take(5) + 1;
      const unsigned ncode = br.take(4) + 4;
      if (nlen > 286 || ndist > 30) {
        return fail(ErrorCode::corrupt, "dynamic block declares " + std::to_string(nlen) +
                                            " literal/length and " + std::to_string(ndist) +
                                            " distance codes (at most 286 and 30)");
      }
      static constexpr std::array<std::uint8_t, 19> order = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                                             11, 4,  12, 3, 13, 2, 14, 1, 15};
      std::array<std::uint8_t, 320> lengths{};
      for (unsigned i = 0; i < ncode; ++i) {
        if (!br.ensure(3)) return truncated("the code length code");
        lengths[order[i]] = static_cast<std::uint8_t>(br.take(3));
      }
      Huffman lencode;
      if (lencode.build(lengths.data(), 19) != 0) {
        return fail(ErrorCode::corrupt, "the code length code is incomplete or over-subscribed");
      }
      unsigned index = 0;
      while (index < nlen + ndist) {
        const int sym = decode_symbol(br, lencode);
        if (sym == decode_truncated) return truncated("the code lengths");
        if (sym < 0) return fail(ErrorCode::corrupt, "invalid code length code");
        if (sym < 16) {
          lengths[index++] = static_cast<std::uint8_t>(sym);
          continue;
        }
        if (sym == 16 && index == 0) {
          return fail(ErrorCode::corrupt, "code length repeat with no previous length");
        }
        const std::uint8_t value = sym == 16 ? lengths[index - 1] : std::uint8_t{0};
        const unsigned extra = sym == 16 ? 2 : sym == 17 ? 3 : 7;
        if (!br.ensure(extra)) return truncated("a code length repeat count");
        const unsigned repeat = (sym == 18 ? 11 : 3) + br.take(extra);
        if (repeat > nlen + ndist - index) {
          return fail(ErrorCode::corrupt, "code length repeat of " + std::to_string(repeat) +
                                              " runs past the " + std::to_string(nlen + ndist) +
                                              " declared lengths");
        }
        for (unsigned i = 0; i < repeat; ++i) lengths[index++] = value;
      }
      if (lengths[256] == 0) return fail(ErrorCode::corrupt, "no end-of-block code");
      // An incomplete code is allowed only as a single code of length one (RFC 1951 3.2.7).
      int err = lit.build(lengths.data(), nlen);
      if (err < 0 || (err > 0 && nlen != lit.count[0] + lit.count[1])) {
        return fail(ErrorCode::corrupt, "invalid literal/length code lengths");
      }
      err = dist.build(lengths.data() + nlen, ndist);
      if (err < 0 || (err > 0 && ndist != dist.count[0] + dist.count[1])) {
        return fail(ErrorCode::corrupt, "invalid distance code lengths");
      }
    }

    for (;;) {
      int sym = decode_symbol(br, lit);
      if (sym == decode_truncated) return truncated("a compressed block");
      if (sym < 0) return fail(ErrorCode::corrupt, "invalid literal/length code");
      if (sym < 256) {
        if (used == out.size() && !make_room(1)) return too_big();
        out[used++] = static_cast<std::byte>(sym);
        continue;
      }
      if (sym == 256) break;
      sym -= 257;
      if (sym >= 29) {
        return fail(ErrorCode::corrupt, "invalid length symbol " + std::to_string(sym + 257));
      }
      if (!br.ensure(length_extra[sym])) return truncated("a match length");
      const std::size_t len = length_base[sym] + br.take(length_extra[sym]);
      const int dsym = decode_symbol(br, dist);
      if (dsym == decode_truncated) return truncated("a match distance");
      if (dsym < 0 || dsym >= 30) return fail(ErrorCode::corrupt, "invalid distance code");
      if (!br.ensure(distance_extra[dsym])) return truncated("a match distance");
      const std::size_t distance = distance_base[dsym] + br.take(distance_extra[dsym]);
      if (distance > used) {
        return fail(ErrorCode::corrupt, "match distance " + std::to_string(distance) +
                                            " reaches back before the start of the output (" +
                                            std::to_string(used) + " bytes so far)");
      }
      if (!make_room(len)) return too_big();
      std::byte* dst = out.data() + used;
      used += len;
      const std::byte* src = dst - distance;
      // Byte by byte on purpose: a match may overlap the bytes it produces.
      for (std::size_t i = 0; i < len; ++i) dst[i] = src[i];
    }
  } while (!final_block);

  br.align_to_byte();
  InflateResult result;
  result.consumed = br.byte_position();
  out.resize(used);
  if (out.capacity() - used > used / 8 + 4096) out.shrink_to_fit();  // don't hand back slack
  result.bytes = std::move(out);
  return result;
}

/// Decodes a raw DEFLATE stream that must fill `input` exactly (trailing bytes are an error).
/// See try_inflate_prefix for the error cases.
inline Expected<std::vector<std::byte>> try_inflate(std::span<const std::byte> input,
                                                    std::size_t max_output,
                                                    std::string_view source = "deflate stream") {
  auto result = try_inflate_prefix(input, max_output, source);
  if (!result) return result.error();
  if (result->consumed != input.size()) {
    return make_error(ErrorCode::corrupt,
                      std::string(source) + ": " + std::to_string(input.size() - result->consumed) +
                          " unexpected bytes after the final deflate block (which ends at byte " +
                          std::to_string(result->consumed) + ")");
  }
  return std::move(result->bytes);
}

#if MOTE_HAS_EXCEPTIONS
/// Throwing form of try_inflate.
inline std::vector<std::byte> inflate(std::span<const std::byte> input, std::size_t max_output,
                                      std::string_view source = "deflate stream") {
  return value_or_throw(try_inflate(input, max_output, source));
}
#endif

}  // namespace mote::io
