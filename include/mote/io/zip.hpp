#pragma once
// A minimal ZIP reader for archives held in memory: what np.savez / np.savez_compressed and
// Python's zipfile write, plus ZIP64. Entry sizes come from the central directory, never from
// local headers (numpy writes local headers with 0xFFFFFFFF sizes and a ZIP64 extra field, and
// streamed entries leave them zero), and every entry's CRC-32 is verified.
// Not supported (ErrorCode::unsupported): multi-disk archives, encryption, methods other than
// stored (0) and deflate (8).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mote/core/error.hpp"
#include "mote/io/crc32.hpp"
#include "mote/io/file.hpp"
#include "mote/io/inflate.hpp"

namespace mote::io {

/// One central-directory record of a ZIP archive.
struct ZipEntryInfo {
  std::string name;
  std::uint16_t method = 0;  ///< 0 stored, 8 deflate
  std::uint16_t flags = 0;   ///< general purpose bit flags
  std::uint32_t crc32 = 0;
  std::uint64_t compressed_size = 0;
  std::uint64_t uncompressed_size = 0;
  std::uint64_t local_header_offset = 0;
};

/// A decompressed ZIP entry.
struct ZipFile {
  std::string name;
  std::vector<std::byte> data;
};

namespace detail {

inline constexpr std::uint32_t zip_local_sig = 0x04034b50;
inline constexpr std::uint32_t zip_central_sig = 0x02014b50;
inline constexpr std::uint32_t zip_eocd_sig = 0x06054b50;
inline constexpr std::uint32_t zip64_eocd_sig = 0x06064b50;
inline constexpr std::uint32_t zip64_locator_sig = 0x07064b50;
inline constexpr std::size_t zip_eocd_size = 22;
inline constexpr std::size_t zip_central_size = 46;
inline constexpr std::size_t zip_local_size = 30;

inline std::string zip_where(std::string_view source, std::uint64_t offset) {
  return std::string(source) + ": at byte " + std::to_string(offset) + ": ";
}

}  // namespace detail

/// Lists the entries of the ZIP archive in `bytes` in central-directory order, without
/// decompressing anything. `source` names the archive in messages.
inline Expected<std::vector<ZipEntryInfo>> try_list_zip(std::span<const std::byte> bytes,
                                                        std::string_view source = "zip archive") {
  using namespace detail;
  const std::uint64_t size = bytes.size();
  auto fail = [&](ErrorCode code, std::uint64_t offset, const std::string& why) {
    return make_error(code, zip_where(source, offset) + why);
  };

  // The end-of-central-directory record sits at the end, followed only by its comment
  // (at most 65535 bytes), so the backward search is bounded.
  if (size < zip_eocd_size) {
    return make_error(ErrorCode::truncated,
                      std::string(source) + ": " + std::to_string(size) +
                          " bytes is too short for a ZIP archive (no end of central directory)");
  }
  std::uint64_t eocd = size;
  const std::uint64_t lowest = size - zip_eocd_size > 0xFFFF ? size - zip_eocd_size - 0xFFFF : 0;
  for (std::uint64_t at = size - zip_eocd_size + 1; at-- > lowest;) {
    if (load_le32(bytes, at) == zip_eocd_sig &&
        zip_eocd_size + load_le16(bytes, at + 20) <= size - at) {
      eocd = at;
      break;
    }
  }
  if (eocd == size) {
    return make_error(ErrorCode::corrupt,
                      std::string(source) +
                          ": not a ZIP archive (no end-of-central-directory signature "
                          "50 4b 05 06 in the last 65557 bytes)");
  }
  const std::uint32_t disk = load_le16(bytes, eocd + 4);
  const std::uint32_t cd_disk = load_le16(bytes, eocd + 6);
  std::uint64_t entries_here = load_le16(bytes, eocd + 8);
  std::uint64_t entries = load_le16(bytes, eocd + 10);
  std::uint64_t cd_size = load_le32(bytes, eocd + 12);
  std::uint64_t cd_offset = load_le32(bytes, eocd + 16);

  // A ZIP64 locator, when present, sits right before the EOCD and points at the ZIP64 record
  // whose 64-bit fields replace the EOCD's.
  if (eocd >= 20 && load_le32(bytes, eocd - 20) == zip64_locator_sig) {
    const std::uint64_t loc = eocd - 20;
    const std::uint64_t rec = load_le64(bytes, loc + 8);
    if (load_le32(bytes, loc + 4) != 0 || load_le32(bytes, loc + 16) > 1) {
      return fail(ErrorCode::unsupported, loc, "multi-disk ZIP64 archives are not supported");
    }
    if (!in_bounds(size, rec, 56)) {
      return fail(ErrorCode::corrupt, loc,
                  "ZIP64 locator points at byte " + std::to_string(rec) +
                      ", outside the archive of " + std::to_string(size) + " bytes");
    }
    if (load_le32(bytes, rec) != zip64_eocd_sig) {
      return fail(ErrorCode::corrupt, rec, "expected the ZIP64 end-of-central-directory signature");
    }
    if (load_le32(bytes, rec + 16) != 0 || load_le32(bytes, rec + 20) != 0) {
      return fail(ErrorCode::unsupported, rec, "multi-disk ZIP64 archives are not supported");
    }
    entries_here = load_le64(bytes, rec + 24);
    entries = load_le64(bytes, rec + 32);
    cd_size = load_le64(bytes, rec + 40);
    cd_offset = load_le64(bytes, rec + 48);
  } else if (disk != 0 || cd_disk != 0) {
    return fail(ErrorCode::unsupported, eocd, "multi-disk ZIP archives are not supported");
  }
  if (entries_here != entries) {
    return fail(ErrorCode::unsupported, eocd, "multi-disk ZIP archives are not supported");
  }
  if (!in_bounds(size, cd_offset, cd_size)) {
    return fail(ErrorCode::corrupt, eocd,
                "central directory (" + std::to_string(cd_size) + " bytes at byte " +
                    std::to_string(cd_offset) + ") lies outside the archive of " +
                    std::to_string(size) + " bytes");
  }
  if (entries > cd_size / zip_central_size) {
    return fail(ErrorCode::corrupt, eocd,
                std::to_string(entries) + " entries cannot fit in a central directory of " +
                    std::to_string(cd_size) + " bytes");
  }

  std::vector<ZipEntryInfo> list;
  list.reserve(static_cast<std::size_t>(entries));
  std::uint64_t p = cd_offset;
  const std::uint64_t cd_end = cd_offset + cd_size;
  for (std::uint64_t i = 0; i < entries; ++i) {
    if (cd_end - p < zip_central_size) {
      return fail(ErrorCode::corrupt, p,
                  "central directory ends inside entry " + std::to_string(i + 1) + " of " +
                      std::to_string(entries));
    }
    if (load_le32(bytes, p) != zip_central_sig) {
      return fail(ErrorCode::corrupt, p,
                  "expected a central directory entry signature (50 4b 01 02) for entry " +
                      std::to_string(i + 1));
    }
    ZipEntryInfo e;
    e.flags = load_le16(bytes, p + 8);
    e.method = load_le16(bytes, p + 10);
    e.crc32 = load_le32(bytes, p + 16);
    e.compressed_size = load_le32(bytes, p + 20);
    e.uncompressed_size = load_le32(bytes, p + 24);
    const std::uint64_t name_len = load_le16(bytes, p + 28);
    const std::uint64_t extra_len = load_le16(bytes, p + 30);
    const std::uint64_t comment_len = load_le16(bytes, p + 32);
    const std::uint32_t start_disk = load_le16(bytes, p + 34);
    e.local_header_offset = load_le32(bytes, p + 42);
    const std::uint64_t var = p + zip_central_size;
    if (cd_end - var < name_len + extra_len + comment_len) {
      return fail(ErrorCode::corrupt, p,
                  "central directory entry " + std::to_string(i + 1) +
                      " runs past the end of the central directory");
    }
    e.name.assign(reinterpret_cast<const char*>(bytes.data() + var),
                  static_cast<std::size_t>(name_len));
    const std::string entry = "entry '" + e.name + "': ";

    // ZIP64 extended information: 64-bit values for exactly those fields saturated above, in
    // the order uncompressed, compressed, offset, disk.
    std::uint64_t x = var + name_len;
    const std::uint64_t x_end = x + extra_len;
    while (x_end - x >= 4) {
      const std::uint32_t id = load_le16(bytes, x);
      const std::uint64_t len = load_le16(bytes, x + 2);
      if (x_end - x - 4 < len) {
        return fail(ErrorCode::corrupt, x, entry + "extra field runs past its declared length");
      }
      if (id == 0x0001) {
        std::uint64_t f = x + 4;
        const std::uint64_t f_end = f + len;
        auto take64 = [&](std::uint64_t& field) {
          if (f_end - f < 8) return false;
          field = load_le64(bytes, f);
          f += 8;
          return true;
        };
        bool ok = true;
        if (e.uncompressed_size == 0xFFFFFFFFu) ok = ok && take64(e.uncompressed_size);
        if (e.compressed_size == 0xFFFFFFFFu) ok = ok && take64(e.compressed_size);
        if (e.local_header_offset == 0xFFFFFFFFu) ok = ok && take64(e.local_header_offset);
        if (!ok) {
          return fail(ErrorCode::corrupt, x,
                      entry + "ZIP64 extra field of " + std::to_string(len) +
                          " bytes lacks the 64-bit sizes/offset its entry needs");
        }
      }
      x += 4 + len;
    }
    if (start_disk != 0 && start_disk != 0xFFFF) {
      return fail(ErrorCode::unsupported, p,
                  entry + "lies on another disk of a multi-disk archive");
    }
    list.push_back(std::move(e));
    p = x_end + comment_len;
  }
  return list;
}

/// Decompresses one entry listed by try_list_zip and verifies its CRC-32 and size. An entry
/// declaring more than `max_size` uncompressed bytes is ErrorCode::invalid_value.
inline Expected<std::vector<std::byte>> try_extract_zip_entry(
    std::span<const std::byte> bytes, const ZipEntryInfo& e,
    std::string_view source = "zip archive", std::size_t max_size = default_max_decompressed_size) {
  using namespace detail;
  const std::uint64_t size = bytes.size();
  const std::string entry = "entry '" + e.name + "': ";
  auto fail = [&](ErrorCode code, std::uint64_t offset, const std::string& why) {
    return make_error(code, zip_where(source, offset) + entry + why);
  };

  if ((e.flags & 0x0001u) != 0 || (e.flags & 0x0040u) != 0) {
    return fail(ErrorCode::unsupported, e.local_header_offset,
                "encrypted entries are not supported");
  }
  if (e.method != 0 && e.method != 8) {
    return fail(ErrorCode::unsupported, e.local_header_offset,
                "compression method " + std::to_string(e.method) +
                    " is not supported (only 0, stored, and 8, deflate)");
  }
  const std::uint64_t lh = e.local_header_offset;
  if (e.uncompressed_size > max_size) {
    return fail(ErrorCode::invalid_value, lh,
                "declares " + std::to_string(e.uncompressed_size) +
                    " uncompressed bytes, above the limit of " + std::to_string(max_size));
  }
  if (!in_bounds(size, lh, zip_local_size)) {
    return fail(
        ErrorCode::corrupt, lh,
        "local header offset lies outside the archive of " + std::to_string(size) + " bytes");
  }
  if (load_le32(bytes, lh) != zip_local_sig) {
    return fail(ErrorCode::corrupt, lh, "expected a local file header signature (50 4b 03 04)");
  }
  const std::uint64_t name_len = load_le16(bytes, lh + 26);
  const std::uint64_t extra_len = load_le16(bytes, lh + 28);
  const std::uint64_t data_at = lh + zip_local_size + name_len + extra_len;
  if (!in_bounds(size, lh + zip_local_size, name_len + extra_len)) {
    return fail(ErrorCode::truncated, lh, "local header name/extra fields run past the end");
  }
  const std::string_view local_name(
      reinterpret_cast<const char*>(bytes.data() + lh + zip_local_size),
      static_cast<std::size_t>(name_len));
  if (local_name != e.name) {
    return fail(ErrorCode::corrupt, lh,
                "local header names '" + std::string(local_name) +
                    "', the central directory names '" + e.name + "'");
  }
  if (!in_bounds(size, data_at, e.compressed_size)) {
    return fail(ErrorCode::truncated, data_at,
                std::to_string(e.compressed_size) + " bytes of data run past the end of the " +
                    std::to_string(size) + "-byte archive");
  }
  const auto usize = static_cast<std::size_t>(e.uncompressed_size);
  const auto payload =
      bytes.subspan(static_cast<std::size_t>(data_at), static_cast<std::size_t>(e.compressed_size));

  std::vector<std::byte> data;
  if (e.method == 0) {
    if (e.compressed_size != e.uncompressed_size) {
      return fail(ErrorCode::corrupt, lh,
                  "stored entry with compressed size " + std::to_string(e.compressed_size) +
                      " != uncompressed size " + std::to_string(e.uncompressed_size));
    }
    data.assign(payload.begin(), payload.end());
  } else {
    // The central directory's size bounds the output, so a lying entry cannot inflate without
    // limit; trailing bytes after the final block are ignored, as zlib-based readers do.
    auto inflated = try_inflate_prefix(payload, usize,
                                       zip_where(source, data_at) + entry + "deflate data (" +
                                           std::to_string(e.compressed_size) + " bytes)");
    if (!inflated) {
      ErrorInfo err = inflated.error();
      if (err.code == ErrorCode::invalid_value) {
        return fail(ErrorCode::corrupt, data_at,
                    "decompresses to more than the " + std::to_string(usize) +
                        " bytes the central directory declares");
      }
      return err;
    }
    data = std::move(inflated->bytes);
  }
  if (data.size() != usize) {
    return fail(ErrorCode::corrupt, data_at,
                "decompressed to " + std::to_string(data.size()) +
                    " bytes, the central directory declares " + std::to_string(usize));
  }
  const std::uint32_t crc = crc32(data);
  if (crc != e.crc32) {
    return fail(ErrorCode::corrupt, data_at,
                "CRC-32 mismatch (central directory says " + std::to_string(e.crc32) +
                    ", data gives " + std::to_string(crc) + ")");
  }
  return data;
}

/// Lists and decompresses every entry of the ZIP archive in `bytes`, in central-directory order;
/// see try_extract_zip_entry for `max_entry_size`.
inline Expected<std::vector<ZipFile>> try_read_zip(
    std::span<const std::byte> bytes, std::string_view source = "zip archive",
    std::size_t max_entry_size = default_max_decompressed_size) {
  auto list = try_list_zip(bytes, source);
  if (!list) return list.error();
  std::vector<ZipFile> files;
  files.reserve(list->size());
  for (const ZipEntryInfo& e : *list) {
    auto data = try_extract_zip_entry(bytes, e, source, max_entry_size);
    if (!data) return data.error();
    files.push_back(ZipFile{e.name, std::move(*data)});
  }
  return files;
}

#if MOTE_HAS_EXCEPTIONS
/// Throwing form of try_read_zip.
inline std::vector<ZipFile> read_zip(std::span<const std::byte> bytes,
                                     std::string_view source = "zip archive",
                                     std::size_t max_entry_size = default_max_decompressed_size) {
  return value_or_throw(try_read_zip(bytes, source, max_entry_size));
}
#endif

}  // namespace mote::io
