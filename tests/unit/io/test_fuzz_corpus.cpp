// Replays the committed fuzz corpus (tests/data/fuzz/<target>/) through the checks the fuzz
// targets run (tests/fuzz/fuzz_checks.hpp): every file gives a value whose invariants hold or an
// error whose message names the file. Files named seed_* must be read without error, files named
// bad_* must be rejected; the others (bit flips that happen to stay valid, crash reproducers)
// may go either way.

#include <algorithm>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "../../fuzz/fuzz_checks.hpp"
#include "io_test_helpers.hpp"

using namespace mote_io_test;

namespace {

namespace fs = std::filesystem;

std::vector<fs::path> corpus_files(std::string_view target) {
  const fs::path dir = fs::path(MOTE_TEST_DATA_DIR) / "fuzz" / std::string(target);
  std::vector<fs::path> files;
  if (!fs::is_directory(dir)) FAIL(dir.string() + " is missing");
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

bool starts_with(const fs::path& file, std::string_view prefix) {
  return file.filename().string().rfind(prefix, 0) == 0;
}

// Runs `check` (one of mote_fuzz::check_*) and `read` (the target's main reader, returning an
// Expected or a Status) on every file of the target's corpus.
template <class Check, class Read>
void replay(std::string_view target, Check check, Read read) {
  std::size_t files = 0;
  std::size_t rejected = 0;
  for (const fs::path& file : corpus_files(target)) {
    const std::string where = file.string();
    INFO(where);
    auto read_bytes = mote::io::try_read_file_bytes(where);
    if (!read_bytes) FAIL(read_bytes.error().describe());
    const Bytes& bytes = *read_bytes;
    ++files;
    CHECK(check(bytes, where).empty());
    const mote::Status status = read(bytes, file, where);
    if (!status) {
      ++rejected;
      INFO(status.message());
      CHECK(status.error().message.rfind(where, 0) == 0);
      CHECK_FALSE(starts_with(file, "seed_"));
    } else {
      CHECK_FALSE(starts_with(file, "bad_"));
    }
  }
  WARN("fuzz corpus " << target << ": " << files << " files, " << rejected << " rejected");
  CHECK(files >= 10);
}

}  // namespace

TEST_CASE("fuzz corpus: onnx_model", "[io][fuzz_corpus][onnx_model]") {
  replay("onnx_model", mote_fuzz::check_onnx_model,
         [](const Bytes& bytes, const fs::path&, const std::string& where) {
           return mote::io::onnx::try_read_model(bytes, where).status();
         });
}

TEST_CASE("fuzz corpus: tensor_proto", "[io][fuzz_corpus][onnx]") {
  replay("tensor_proto", mote_fuzz::check_tensor_proto,
         [](const Bytes& bytes, const fs::path&, const std::string& where) {
           return mote::io::onnx::try_read_tensor_proto(bytes, where).status();
         });
}

TEST_CASE("fuzz corpus: npz, npy and deflate", "[io][fuzz_corpus][npz]") {
  // One directory for the archive and the formats inside it; the extension picks the reader.
  replay("npz", mote_fuzz::check_npz,
         [](const Bytes& bytes, const fs::path& file, const std::string& where) -> mote::Status {
           const std::string ext = file.extension().string();
           if (ext == ".npy") return mote::io::try_parse_npy(bytes, "x", where).status();
           if (ext == ".deflate") {
             return mote::io::try_inflate(bytes, std::size_t{1} << 20, where).status();
           }
           return mote::io::try_read_npz(bytes, where).status();
         });
}
