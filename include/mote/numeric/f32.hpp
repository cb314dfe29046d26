#pragma once
// IEEE binary32 weights: the reference number format, and the default of every layer.

#include <cstddef>

namespace mote {

/// 32-bit float weights, computed and accumulated in f32. 4 bytes per weight.
struct F32 {
  using storage_type = float;
  using accumulator_type = float;
  static constexpr const char* name = "f32";
  static constexpr std::size_t bits_per_weight = 32;
};

}  // namespace mote
