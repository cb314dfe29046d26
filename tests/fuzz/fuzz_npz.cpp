// libFuzzer target: the .npz reader (mote/io/npz.hpp) and the .npy, ZIP and DEFLATE parsers
// under it. Built and run by tools/fuzz.sh.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>

#include "fuzz_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  if (const std::string bad = mote_fuzz::check_npz(bytes, "fuzz.npz"); !bad.empty()) {
    std::fprintf(stderr, "fuzz_npz: %s\n", bad.c_str());
    __builtin_trap();
  }
  return 0;
}
