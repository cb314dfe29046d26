// libFuzzer target: the ONNX model reader (mote/io/onnx_model.hpp). Built and run by tools/fuzz.sh.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>

#include "fuzz_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  if (const std::string bad = mote_fuzz::check_onnx_model(bytes, "fuzz.onnx"); !bad.empty()) {
    std::fprintf(stderr, "fuzz_onnx_model: %s\n", bad.c_str());
    __builtin_trap();
  }
  return 0;
}
