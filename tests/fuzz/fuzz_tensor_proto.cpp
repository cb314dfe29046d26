// libFuzzer target: the ONNX TensorProto reader (mote/io/onnx_tensor.hpp). Built and run by
// tools/fuzz.sh.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>

#include "fuzz_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  if (const std::string bad = mote_fuzz::check_tensor_proto(bytes, "fuzz.pb"); !bad.empty()) {
    std::fprintf(stderr, "fuzz_tensor_proto: %s\n", bad.c_str());
    __builtin_trap();
  }
  return 0;
}
