#pragma once
// .npz archives (np.savez, np.savez_compressed): a ZIP of .npy entries, read whole into memory.

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mote/core/error.hpp"
#include "mote/io/file.hpp"
#include "mote/io/npy.hpp"
#include "mote/io/zip.hpp"

namespace mote::io {

/// Named tensors in the order their archive stores them; names are unique.
/// Lookup is a linear scan: archives of small nets hold tens of tensors.
class TensorArchive {
 public:
  std::string source;  ///< the path or source name the tensors came from, for messages

  TensorArchive() = default;
  explicit TensorArchive(std::string source_name) : source(std::move(source_name)) {}

  /// The tensor called `name`, or nullptr.
  const TensorData* find(std::string_view name) const noexcept {
    for (const TensorData& t : tensors_) {
      if (t.name == name) return &t;
    }
    return nullptr;
  }

  /// Appends `tensor`; a name already present is ErrorCode::corrupt.
  Status try_add(TensorData tensor) {
    if (find(tensor.name) != nullptr) {
      return make_error(ErrorCode::corrupt, source + ": duplicate tensor '" + tensor.name + "'");
    }
    tensors_.push_back(std::move(tensor));
    return {};
  }

  std::size_t size() const noexcept { return tensors_.size(); }
  bool empty() const noexcept { return tensors_.empty(); }
  const TensorData& operator[](std::size_t i) const noexcept { return tensors_[i]; }
  auto begin() const noexcept { return tensors_.begin(); }
  auto end() const noexcept { return tensors_.end(); }
  const std::vector<TensorData>& tensors() const noexcept { return tensors_; }

 private:
  std::vector<TensorData> tensors_;
};

/// Parses an .npz archive held in memory; `source_name` names it in messages and becomes
/// TensorArchive::source. Every entry must be a ".npy" file (ErrorCode::unsupported otherwise);
/// duplicate names are ErrorCode::corrupt; ZIP and .npy errors pass through with the entry named.
/// An entry declaring more than `max_entry_size` bytes is ErrorCode::invalid_value.
inline Expected<TensorArchive> try_read_npz(
    std::span<const std::byte> bytes, std::string source_name,
    std::size_t max_entry_size = default_max_decompressed_size) {
  auto entries = try_list_zip(bytes, source_name);
  if (!entries) return entries.error();
  TensorArchive archive(std::move(source_name));
  for (const ZipEntryInfo& e : *entries) {
    const std::string where = archive.source + ": entry '" + e.name + "'";
    constexpr std::string_view suffix = ".npy";
    if (e.name.size() <= suffix.size() ||
        std::string_view(e.name).substr(e.name.size() - suffix.size()) != suffix) {
      return make_error(ErrorCode::unsupported,
                        where + " is not a .npy array (an .npz may hold only .npy entries)");
    }
    std::string name = e.name.substr(0, e.name.size() - suffix.size());
    // Fail before decompressing anything more when the archive repeats a name.
    if (archive.find(name) != nullptr) {
      return make_error(ErrorCode::corrupt,
                        where + ": duplicate tensor name '" + name + "' in the archive");
    }
    auto data = try_extract_zip_entry(bytes, e, archive.source, max_entry_size);
    if (!data) return data.error();
    auto tensor = try_parse_npy(*data, std::move(name), where);
    if (!tensor) return tensor.error();
    if (Status st = archive.try_add(std::move(*tensor)); !st) return st.error();
  }
  return archive;
}

/// Reads an .npz file; see the in-memory overload.
inline Expected<TensorArchive> try_read_npz(
    const std::string& path, std::size_t max_entry_size = default_max_decompressed_size) {
  auto bytes = try_read_file_bytes(path);
  if (!bytes) return bytes.error();
  return try_read_npz(*bytes, path, max_entry_size);
}

#if MOTE_HAS_EXCEPTIONS
/// Throwing form of try_read_npz (in memory).
inline TensorArchive read_npz(std::span<const std::byte> bytes, std::string source_name,
                              std::size_t max_entry_size = default_max_decompressed_size) {
  return value_or_throw(try_read_npz(bytes, std::move(source_name), max_entry_size));
}

/// Throwing form of try_read_npz (file).
inline TensorArchive read_npz(const std::string& path,
                              std::size_t max_entry_size = default_max_decompressed_size) {
  return value_or_throw(try_read_npz(path, max_entry_size));
}
#endif

}  // namespace mote::io
